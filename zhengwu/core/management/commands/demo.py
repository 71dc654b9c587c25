"""`zhengwu demo`: build the demo city (演示城市) — see zhengwu.core.demo."""

from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand, CommandError

from zhengwu.core.demo import SCALES, DemoError, demo_build, demo_built_scale, demo_exists
from zhengwu.core.demo_accounts import demo_accounts_text


class Command(BaseCommand):
    help = (
        "生成演示城市（平凉市：7 个县区、102 个乡镇、约 880 个单位、约 3,000 名工作人员） / "
        "build the demo city (平凉: 7 counties, 102 townships, ~880 units, ~3,000 staff)"
    )

    def add_arguments(self, parser: Any) -> None:
        parser.add_argument(
            "--scale",
            choices=SCALES,
            default="small",
            help="small: 演示规模 demo size; seed: 种子文件规模（基准测试用） seed scale for benchmarks",
        )
        parser.add_argument(
            "--reset",
            action="store_true",
            help="先清空演示数据再生成 / empty the demo data first, then build",
        )
        parser.add_argument(
            "--check",
            action="store_true",
            help="只检查：已生成退出码 0，否则 1 / only check: exit 0 if the demo city exists, 1 otherwise",
        )

    def handle(self, *args: Any, **opts: Any) -> None:
        if opts["check"]:
            if demo_exists():
                scale = demo_built_scale() or "?"
                self.stdout.write(f"演示城市已生成（规模 {scale}） / the demo city exists (scale {scale})")
                return
            raise CommandError("演示城市尚未生成 / the demo city has not been built", returncode=1)
        if demo_exists() and not opts["reset"]:
            self.stdout.write(
                "演示城市已存在，未做改动；重建请加 --reset / "
                "the demo city already exists, nothing changed; add --reset to rebuild it"
            )
            self.stdout.write(demo_accounts_text())
            return
        self.stdout.write(f"生成演示城市 / building the demo city (scale {opts['scale']}) …")
        try:
            report = demo_build(scale=opts["scale"], reset=opts["reset"], log=self.stdout.write)
        except DemoError as exc:
            raise CommandError(str(exc)) from exc
        self.stdout.write(
            self.style.SUCCESS(
                f"完成 / done: {report.rows:,} 行 rows in {report.seconds:.1f} s "
                f"({report.rows / max(report.seconds, 1e-9):,.0f} rows/s)"
            )
        )
        self.stdout.write(demo_accounts_text())
