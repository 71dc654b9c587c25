from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class PortalConfig(AppConfig):
    name = "zhengwu.portal"
    label = "portal"
    verbose_name = _("门户网站")

    def ready(self) -> None:
        from django.db.models.signals import post_delete, post_migrate, post_save

        from zhengwu.core.models import Unit
        from zhengwu.portal.models import Column, Site
        from zhengwu.portal.signals import clear_orphan_index, drop_render_cache

        post_migrate.connect(clear_orphan_index, sender=self, dispatch_uid="portal_clear_orphan_index")
        post_migrate.connect(drop_render_cache, sender=self, dispatch_uid="portal_render_migrate")
        # Pages rendered on request keep sites, columns and units per process (publishing._shared).
        for model in (Site, Column, Unit):
            for signal in (post_save, post_delete):
                signal.connect(
                    drop_render_cache, sender=model, dispatch_uid=f"portal_render_{model.__name__}"
                )
