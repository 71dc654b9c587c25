"""Shared by the portal benchmarks: a site cluster of ``--items`` published articles, built once into the
benchmark's own data directory and reused by the next run (and by the other portal benchmarks).

The articles are the demo portal's (zhengwu.portal.demo: ~1,600 Chinese characters each, titles and
bodies from its generator), spread over leaf columns of a main site (in a tree of 24 leaves per top
column, like the demo's seed scale) and a department sub-site. They go online through
``services.items_bulk_publish`` (items, versions, placements, search index) and then the static pages
are written by ``publishing.rebuild`` — the bulk publishing path of the demo and of a migration from an
old CMS. Both times are measured and kept next to the data (``portal-<database>.json``).
"""

from __future__ import annotations

import datetime as dt
import json
import os
import random
import shutil
import sys
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
LEAVES_PER_TOP = 24
ARTICLE_CHARS = 1600
BATCH = 2000


@dataclass
class Seed:
    items: int
    columns: int
    bulk_seconds: float  # items, versions, placements, search index
    pages_seconds: float  # every static page
    pages: int
    reused: bool

    @property
    def rate(self) -> float:
        """Items per second, search index and static pages included."""
        return self.items / (self.bulk_seconds + self.pages_seconds)


def setup(data_dir: str, database: str | None = None) -> None:
    """Point Django at the benchmark's own data directory (and database) and set it up."""
    sys.path.insert(0, str(ROOT))
    os.environ["ZHENGWU_DATA_DIR"] = data_dir
    os.environ["DJANGO_SETTINGS_MODULE"] = "zhengwu.settings"
    os.environ.setdefault("LOG_LEVEL", "WARNING")
    os.environ["DEBUG"] = "0"
    os.environ.pop("REDIS_URL", None)
    if database:
        os.environ["DATABASE_URL"] = database
    else:
        os.environ.pop("DATABASE_URL", None)
    Path(data_dir).mkdir(parents=True, exist_ok=True)
    import django

    django.setup()


def _marker(data_dir: str) -> Path:
    from django.db import connection

    tag = "sqlite" if connection.vendor == "sqlite" else f"pg-{connection.settings_dict['NAME']}"
    return Path(data_dir) / f"portal-{tag}.json"


def _fresh_database(data_dir: str) -> None:
    """Start from an empty database: the SQLite file is removed, a PostgreSQL database recreated."""
    from django.db import connection

    name = connection.settings_dict["NAME"]
    connection.close()
    if connection.vendor == "sqlite":
        for suffix in ("", "-wal", "-shm"):
            Path(f"{name}{suffix}").unlink(missing_ok=True)
    else:
        import psycopg

        params = connection.get_connection_params()
        params["dbname"] = "postgres"
        with psycopg.connect(**params, autocommit=True) as admin:
            admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
            admin.execute(f'CREATE DATABASE "{name}"')
    from django.conf import settings

    shutil.rmtree(Path(settings.PUBLISH_ROOT), ignore_errors=True)
    from django.core.management import call_command

    call_command("migrate", verbosity=0, interactive=False)


def ensure(
    data_dir: str,
    items: int,
    columns: int,
    *,
    pages: bool = True,
    page_sample: tuple[int, int] | None = None,
    log: Any = print,
) -> Seed:
    """The cluster with ``items`` articles in ``columns`` leaf columns: reused when the data directory
    already holds exactly that, built otherwise. With ``page_sample`` (n, columns) only the item pages of
    ``article_sample(n, columns)`` are written (and every column and home page); the whole tree's time
    is extrapolated."""
    marker = _marker(data_dir)
    if marker.exists():
        info = json.loads(marker.read_text())
        if info["items"] == items and info["columns"] == columns and (info["pages"] or not pages):
            log(f"data: reusing {items:,} items in {columns} columns built {info['built']} in {data_dir}")
            return Seed(
                items, columns, info["bulk_seconds"], info["pages_seconds"], info["pages"], reused=True
            )
        marker.unlink()
    log(f"data: building {items:,} items in {columns} columns into {data_dir} …")
    _fresh_database(data_dir)
    seed = _build(items, columns, pages=pages, page_sample=page_sample, log=log)
    from django.utils import timezone

    marker.write_text(
        json.dumps(
            {
                "items": items,
                "columns": columns,
                "bulk_seconds": seed.bulk_seconds,
                "pages_seconds": seed.pages_seconds,
                "pages": seed.pages,
                "built": timezone.now().isoformat(timespec="seconds"),
            }
        )
    )
    return seed


def _build(items: int, columns: int, *, pages: bool, page_sample: tuple[int, int] | None, log: Any) -> Seed:
    from django.db import connection

    from zhengwu.core.models import AccountKind, Post, PostAssignment, Region, Unit, UnitRole, User
    from zhengwu.portal import demo, publishing, services
    from zhengwu.portal.models import Column, Site, SiteKind

    rng = random.Random("zhengwu-bench-portal")
    region = Region.objects.create(code="620800", name="平凉市", level="city")
    info = Unit.objects.create(
        code="C-INFO", name="平凉市信息化办公室", short_name="市信息办", kind="department", region=region
    )
    dept = Unit.objects.create(
        code="C-WLJ", name="平凉市文化和旅游局", short_name="市文旅局", kind="department", region=region
    )

    def staff(username: str, name: str, unit: Unit, role: str) -> User:
        user = User.objects.create(username=username, name=name, kind=AccountKind.STAFF, primary_unit=unit)
        PostAssignment.objects.create(user=user, post=Post.objects.create(unit=unit, name="网站编辑"))
        UnitRole.objects.create(user=user, unit=unit, role=role)
        return user

    staff("wl_editor", "周编辑", dept, "handler")
    staff("wl_reviewer", "冯审核", dept, "reviewer")
    staff("info_editor", "何编辑", info, "handler")
    admin = staff("info_reviewer", "吕审核", info, "reviewer")

    main = Site.objects.create(code="pl", name="平凉市人民政府", kind=SiteKind.MAIN, unit=info, sort=0)
    sub = Site.objects.create(
        code="wlj", name="平凉市文化和旅游局", kind=SiteKind.DEPARTMENT, unit=dept, sort=1, theme="blue"
    )
    sub_count = max(1, columns // 60)
    main_count = max(1, columns - sub_count)
    leaves: list[tuple[Site, Column]] = []
    tops: list[Column] = []
    for n in range(main_count):
        if n % LEAVES_PER_TOP == 0:
            i = len(tops)
            tops.append(
                Column.objects.create(
                    site=main,
                    name=f"{demo.TOPICS[i % len(demo.TOPICS)]}{i // len(demo.TOPICS) or ''}",
                    slug=f"c{i + 1}",
                    sort=i,
                    show_on_home=i < 6,
                )
            )
        top = tops[-1]
        leaf = Column.objects.create(
            site=main,
            parent=top,
            name=f"{top.name}·{n % LEAVES_PER_TOP + 1}",
            slug=f"{top.slug}-{n % LEAVES_PER_TOP + 1}",
            sort=n % LEAVES_PER_TOP,
            accepts_pushes=n == 0,  # 部门动态: sub-sites' news is pushed here
        )
        leaves.append((main, leaf))
    for n in range(sub_count):
        leaves.append(
            (sub, Column.objects.create(site=sub, name=f"工作动态{n + 1}", slug=f"gzdt{n + 1}", sort=n))
        )
    now = dt.datetime.now(dt.UTC).replace(microsecond=0)
    start = now - dt.timedelta(days=365 * 3)
    step = (now - start) / max(1, items)
    rows: list[dict[str, Any]] = []
    t_bulk = 0.0
    done = 0
    for n in range(items):
        site, column = leaves[n % len(leaves)]
        topic = rng.choice(demo.TOPICS)
        place = site.name if site.pk == sub.pk else rng.choice(demo.UNITS)
        when = start + step * n  # list order follows publishing time, as it would live
        rows.append(
            {
                "site": site,
                "column": column,
                "kind": "article",
                "title": demo._title(rng, topic, place, when.year),
                "body": demo._text(rng, topic, place, ARTICLE_CHARS),
                "source": site.name,
                "published_at": when,
                "display_date": when.date(),
            }
        )
        if len(rows) == BATCH or n == items - 1:
            t = time.perf_counter()
            services.items_bulk_publish(actor=admin, rows=rows, note="基准测试", regenerate=False)
            t_bulk += time.perf_counter() - t
            done += len(rows)
            rows = []
            if done % 50_000 < BATCH:
                log(f"  {done:,} items online ({done / t_bulk:,.0f} items/s, search index included)")
    with connection.cursor() as cur:
        cur.execute("VACUUM ANALYZE" if connection.vendor == "postgresql" else "ANALYZE")
    t_pages = 0.0
    written = 0
    if pages and page_sample:
        t_pages, written = write_sample_pages(items, *page_sample, log=log)
    elif pages:
        t = time.perf_counter()
        report = publishing.rebuild()
        t_pages = time.perf_counter() - t
        written = len(report.written)
        log(f"  {written:,} static pages written in {t_pages:.0f} s ({written / t_pages:,.0f} pages/s)")
    return Seed(items, columns, t_bulk, t_pages, written, reused=False)


def write_sample_pages(items: int, n: int, columns: int, *, log: Any = print) -> tuple[float, int]:
    """Every column, home and directory page, and the item pages of ``article_sample(n, columns)``;
    the time for all ``items`` item pages is extrapolated from the measured rate. Returns (seconds for
    the whole tree, files written)."""
    from zhengwu.portal import publishing
    from zhengwu.portal.models import Column, Site

    ids = [a["id"] for a in article_sample(n, columns)]
    w = publishing._Writer()
    with publishing._locked():
        publishing.write_assets(w)
        t = time.perf_counter()
        publishing.write_items(w, ids)
        t_items = time.perf_counter() - t
        t = time.perf_counter()
        for cid in Column.objects.order_by("pk").values_list("pk", flat=True):
            publishing.write_column(w, cid, full=True)
        for sid in Site.objects.order_by("pk").values_list("pk", flat=True):
            publishing.write_home(w, sid)
        publishing.write_cluster(w)
        t_rest = time.perf_counter() - t
    whole = t_rest + t_items * items / max(1, len(ids))
    written = len(w.report.written)
    log(
        f"  static pages: {len(ids):,} item pages in {t_items:.0f} s ({len(ids) / t_items:,.0f}/s); every column "
        f"block, feed, sitemap and home page ({written - len(ids):,} files) in {t_rest:.0f} s; the whole tree "
        f"with all {items:,} item pages ≈ {whole:,.0f} s (extrapolated)"
    )
    return whole, written


def article_sample(n: int, columns: int, site_code: str = "pl") -> list[dict[str, Any]]:
    """The first ``n`` articles of the first ``columns`` leaf columns of a site (n / columns each),
    with everything another CMS needs to hold the same content."""
    from zhengwu.portal.models import Column, Item

    leaves = list(
        Column.objects.filter(site__code=site_code, children__isnull=True)
        .select_related("parent")
        .order_by("pk")[:columns]
    )
    per = max(1, n // max(1, len(leaves)))
    out: list[dict[str, Any]] = []
    for column in leaves:
        for item in (
            Item.objects.filter(column=column)
            .exclude(live_version=None)
            .select_related("live_version")
            .order_by("published_at", "pk")[:per]
        ):
            data = item.live_version.data  # type: ignore[union-attr]
            out.append(
                {
                    "id": item.pk,
                    "column": column.slug,
                    "column_name": column.name,
                    "top": column.parent.slug if column.parent else "",
                    "top_name": column.parent.name if column.parent else "",
                    "title": data["title"],
                    "body": data["body"],
                    "source": data.get("source", ""),
                    "published_at": item.published_at.isoformat() if item.published_at else None,
                }
            )
    return out
