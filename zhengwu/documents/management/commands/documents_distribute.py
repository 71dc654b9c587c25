"""Distribute (分发) a sealed document, or finish an interrupted distribution, from the operator's shell.

With the 分发 step still open it completes that step as the given clerk (the normal path); once the step
is done it adds only the recipient rows still missing. Either way all new rows commit together or not at
all, and running it again never writes a second row for a unit.
"""

from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from zhengwu.core.models import User
from zhengwu.documents import services
from zhengwu.documents.models import Document, DocumentReceipt


class Command(BaseCommand):
    help = "分发公文或补齐中断的分发 / distribute a document or finish an interrupted fan-out"

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("document_id", type=int)
        parser.add_argument(
            "--as", dest="username", required=True, help="发文单位的文书 / a clerk of the sender"
        )

    def handle(self, *args: Any, **options: Any) -> None:
        doc = Document.objects.filter(pk=options["document_id"]).select_related("unit").first()
        actor = User.objects.filter(username=options["username"]).first()
        if doc is None or actor is None:
            raise CommandError("公文或用户不存在 / no such document or user")
        try:
            task = services.document_open_task(doc)
            if task is not None and task.step_id == "distribute":
                services.document_step_complete(actor=actor, document=doc)
            else:
                services.document_distribute(actor=actor, document=doc)
        except (services.DocumentError, PermissionError) as exc:
            raise CommandError(str(exc)) from exc
        self.stdout.write(f"receipts {DocumentReceipt.objects.filter(document=doc).count()}")
