from __future__ import annotations

from typing import Any

from django.conf import settings
from django.core.management.base import BaseCommand

from zhengwu.core.audit import audit_purge


class Command(BaseCommand):
    help = (
        "清除超过保存期限的留痕记录（链条以锚点接续） / remove trail records past retention (chain anchored)"
    )

    def handle(self, *args: Any, **options: Any) -> None:
        count = audit_purge()
        self.stdout.write(f"removed {count} records older than {settings.AUDIT_RETENTION_DAYS} days")
