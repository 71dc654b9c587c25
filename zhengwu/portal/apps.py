from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class PortalConfig(AppConfig):
    name = "zhengwu.portal"
    label = "portal"
    verbose_name = _("门户网站")

    def ready(self) -> None:
        from django.db.models.signals import post_migrate

        from zhengwu.portal.signals import clear_orphan_index

        post_migrate.connect(clear_orphan_index, sender=self, dispatch_uid="portal_clear_orphan_index")
