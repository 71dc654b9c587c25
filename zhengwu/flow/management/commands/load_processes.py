"""Publish the repository's process definitions (zhengwu/flow/processes/*.bpmn with their DMN tables).

A file whose content matches the newest published version is left alone; a changed file becomes a new
version (running instances stay on theirs). Runs with the operator's shell access; ``--as`` records a
platform system administrator as the publisher.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from zhengwu.core import access
from zhengwu.core.models import User
from zhengwu.flow import services
from zhengwu.flow.engine import FlowError

PROCESS_DIR = Path(__file__).resolve().parents[2] / "processes"


class Command(BaseCommand):
    help = "发布仓库中的流程定义 / Publish the repository's BPMN process definitions"

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--as", dest="username", default="", help="发布人（平台系统管理员）/ publisher")
        parser.add_argument("--dir", default=str(PROCESS_DIR), help="流程文件目录 / directory of .bpmn files")

    def handle(self, *args: Any, **options: Any) -> None:
        actor = None
        if options["username"]:
            actor = User.objects.filter(username=options["username"]).first()
            if actor is None or not access.is_system_admin(actor):
                raise CommandError("--as 必须是平台系统管理员 / --as must name a platform system admin")
        directory = Path(options["dir"])
        files = sorted(directory.glob("*.bpmn"))
        if not files:
            raise CommandError(f"没有找到流程文件 / no .bpmn files in {directory}")
        dmn = {p.name: p.read_text(encoding="utf-8") for p in sorted(directory.glob("*.dmn"))}
        failed = 0
        for path in files:
            try:
                definition, created = services.definition_publish(
                    actor=actor,
                    bpmn_xml=path.read_text(encoding="utf-8"),
                    dmn_files=dmn,
                    filename=path.name,
                    source="repository",
                    from_command=actor is None,
                )
            except (FlowError, PermissionError) as exc:
                failed += 1
                self.stderr.write(f"✗ {path.name}: {exc}")
                continue
            state = "新版本 / published" if created else "未变 / unchanged"
            if options["verbosity"] > 0:
                self.stdout.write(f"{definition.key} v{definition.version}  {state}")
        if failed:
            raise CommandError(f"{failed} 个文件未能发布 / {failed} file(s) failed")
