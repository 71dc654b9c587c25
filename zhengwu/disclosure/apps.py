from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class DisclosureConfig(AppConfig):
    name = "zhengwu.disclosure"
    label = "disclosure"
    verbose_name = _("政府信息公开")

    def ready(self) -> None:
        # Registers the disclosure request's business handler with the process engine.
        from zhengwu.disclosure import services  # noqa: F401
