from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class CoreConfig(AppConfig):
    name = "zhengwu.core"
    label = "core"
    verbose_name = _("组织机构、人员与留痕")
