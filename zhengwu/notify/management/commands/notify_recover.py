from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand


class Command(BaseCommand):
    help = "重新排队中断或未入队的短信/邮件 / re-queue deliveries left by a dead worker or never queued"

    def handle(self, *args: Any, **options: Any) -> None:
        from zhengwu.notify.services import deliveries_recover

        queued = deliveries_recover()
        self.stdout.write(f"已重新排队 / re-queued: {queued}")
