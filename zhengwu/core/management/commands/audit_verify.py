from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand, CommandError

from zhengwu.core.audit import audit_verify


class Command(BaseCommand):
    help = (
        "校验留痕链条，指出第一条被修改、插入或删除的记录 / verify the trail and name the first broken record"
    )

    def handle(self, *args: Any, **options: Any) -> None:
        result = audit_verify()
        if result.ok:
            self.stdout.write(self.style.SUCCESS(result.message()))
            return
        raise CommandError(result.message())
