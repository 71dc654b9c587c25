from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class WorkdaysConfig(AppConfig):
    """工作日历: the government calendar and time-limit arithmetic."""

    name = "zhengwu.workdays"
    label = "workdays"
    verbose_name = _("工作日历")
