"""Benchmark: build the demo city (`zhengwu demo`) in a fresh temporary SQLite database.

Target (../shared/TARGETS.md): the demo city builds in < 60 s. Baseline measured in the same run: the
same kinds of rows written one `save()` at a time (the ORM's ordinary path), on a sample, extrapolated.

    .venv/bin/python bench/demo_build.py                 # small scale
    .venv/bin/python bench/demo_build.py --scale seed    # 10,000 public accounts, every village
"""

from __future__ import annotations

import argparse
import os
import sys
import tempfile
import time
from pathlib import Path

TARGET_SECONDS = 60.0


def main() -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--scale", choices=["small", "seed"], default="small")
    parser.add_argument("--sample", type=int, default=400, help="rows per model in the one-by-one baseline")
    ns = parser.parse_args()

    tmp = tempfile.TemporaryDirectory(prefix="zw-bench-demo-")
    os.environ["ZHENGWU_DATA_DIR"] = tmp.name
    os.environ.pop("DATABASE_URL", None)
    os.environ.pop("REDIS_URL", None)
    os.environ["DJANGO_SETTINGS_MODULE"] = "zhengwu.settings"
    sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
    import django

    django.setup()
    from django.core.management import call_command
    from django.db import connection

    started = time.perf_counter()
    call_command("migrate", verbosity=0, interactive=False)
    migrate_seconds = time.perf_counter() - started
    print(f"database: {connection.settings_dict['NAME']} (SQLite {connection.Database.sqlite_version})")
    print(f"migrate: {migrate_seconds:.1f} s (not counted)")

    from zhengwu.core.demo import demo_build

    report = demo_build(scale=ns.scale, log=lambda line: print(line))
    rows = report.rows
    print(f"\nbuild ({ns.scale}): {report.seconds:.2f} s, {rows:,} rows, {rows / report.seconds:,.0f} rows/s")

    baseline_rate = _one_by_one_rate(ns.sample)
    print(
        f"baseline (one save() per row, {ns.sample} per model): {baseline_rate:,.0f} rows/s → "
        f"{rows / baseline_rate:.1f} s extrapolated for the same rows"
    )
    print(f"ratio: {rows / report.seconds / baseline_rate:.1f}× the one-by-one rate")
    verdict = "OK" if report.seconds < TARGET_SECONDS else "TOO SLOW"
    print(
        f"target: < {TARGET_SECONDS:.0f} s — {verdict} ({report.seconds / TARGET_SECONDS:.1%} of the budget)"
    )
    tmp.cleanup()
    return 0 if report.seconds < TARGET_SECONDS else 1


def _one_by_one_rate(sample: int) -> float:
    """Rows per second writing regions, units, posts and accounts through `save()` one at a time."""
    from django.contrib.auth.hashers import make_password
    from django.db import transaction

    from zhengwu.core.models import AccountKind, Post, Region, RegionLevel, Unit, UnitKind, User

    password = make_password("Zw#Bench-2026-pl")
    started = time.perf_counter()
    with transaction.atomic():
        root = Region(code="990000", name="基准市", level=RegionLevel.CITY)
        root.save()
        gov = Unit(code="990000-ZF", name="基准市人民政府", kind=UnitKind.GOVERNMENT, region=root)
        gov.save()
        for i in range(sample):
            Region(code=f"990000{i:04d}", name=f"基准镇{i}", level=RegionLevel.TOWNSHIP, parent=root).save()
            unit = Unit(
                code=f"990000-B{i:04d}", name=f"基准局{i}", kind=UnitKind.DEPARTMENT, region=root, parent=gov
            )
            unit.save()
            Post(unit=unit, name="科员").save()
            User(
                username=f"bench{i:05d}",
                name="基准",
                kind=AccountKind.STAFF,
                password=password,
                mobile=f"1390000{i:04d}",
                primary_unit=unit,
            ).save()
        transaction.set_rollback(True)
    return (4 * sample + 2) / (time.perf_counter() - started)


if __name__ == "__main__":
    sys.exit(main())
