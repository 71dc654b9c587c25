from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class FlowConfig(AppConfig):
    name = "zhengwu.flow"
    label = "flow"
    verbose_name = _("流程引擎与时限")

    def ready(self) -> None:
        # Registers the sample case's business handler (other apps register theirs the same way).
        from zhengwu.flow import services  # noqa: F401
