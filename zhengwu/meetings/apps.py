from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class MeetingsConfig(AppConfig):
    name = "zhengwu.meetings"
    label = "meetings"
    verbose_name = _("会议通知报名")
