from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class IdentityConfig(AppConfig):
    name = "zhengwu.identity"
    label = "identity"
    verbose_name = _("统一身份认证")

    def ready(self) -> None:
        from zhengwu.identity import handlers  # noqa: F401  (sign-in events → the trail)
