"""Regenerate the published tree (and, on request, the search index) from the database."""

from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from zhengwu.portal import publishing, services
from zhengwu.portal.models import Site


class Command(BaseCommand):
    help = "重新生成静态发布的网站页面 / regenerate the published site files (all sites, or --site CODE)"

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--site", action="append", default=[], help="站点代码 / site code (repeatable)")
        parser.add_argument(
            "--reindex", action="store_true", help="同时重建全文检索索引 / rebuild the search index too"
        )

    def handle(self, *args: Any, **options: Any) -> None:
        ids: list[int] | None = None
        if options["site"]:
            found = dict(Site.objects.filter(code__in=options["site"]).values_list("code", "pk"))
            missing = sorted(set(options["site"]) - set(found))
            if missing:
                raise CommandError(f"站点不存在 / no such site: {', '.join(missing)}")
            ids = list(found.values())
        if options["reindex"]:
            count = services.search_rebuild()
            self.stdout.write(f"检索索引已重建 / search index rebuilt: {count} item(s)")
        report = publishing.rebuild(ids)
        self.stdout.write(
            f"已写入 {len(report.written)} 个文件，删除 {len(report.deleted)} 个 / "
            f"{len(report.written)} file(s) written, {len(report.deleted)} removed"
        )
