from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class DocumentsConfig(AppConfig):
    name = "zhengwu.documents"
    label = "documents"
    verbose_name = _("公文交换")

    def ready(self) -> None:
        # Registers the outgoing document's business handler with the process engine.
        from zhengwu.documents import services  # noqa: F401
