"""The disclosure catalogue's cost on publishing: index numbers and entries, next to bare inserts.

Every published 主动公开 item gets a catalogue entry with an index number taken from a locked counter
(docs/decisions/0010). In one run on one machine this script measures:

* bulk: ``catalogue_entries_bulk_publish`` for N items just published in bulk (a block of numbers per
  unit, scope and year, one ``bulk_create``, one trail record) vs a bare ``bulk_create`` of the same N
  entry rows with their numbers already made (baseline) — and the catalogue's share of the whole
  ``items_bulk_publish`` call (items, versions, placements, search index);
* one by one: ``catalogue_entry_publish`` for M items, each in its own transaction as a publish would
  (counter lock, category, number, entry, trail record) vs a bare single-row insert of the same entry in
  its own transaction (baseline);

and prints the figures and the ratios. The database is the one the settings name: the embedded SQLite
file in WAL mode by default (a scratch file under the data dir), PostgreSQL with ``DATABASE_URL`` (a
scratch ``test_…`` database). Usage::

    .venv/bin/python bench/disclosure_catalogue.py [--n 20000] [--m 1000]
    DATABASE_URL=postgres://postgres@127.0.0.1:5432/zhengwu .venv/bin/python bench/disclosure_catalogue.py
"""

from __future__ import annotations

import argparse
import os
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "zhengwu.settings")
os.environ.setdefault("ZHENGWU_DATA_DIR", "/tmp/zw-bench-disclosure")
os.environ.setdefault("ZHENGWU_TEST_SQLITE_FILE", "1")  # a real file in WAL mode, as deployed
os.environ.setdefault("LOG_LEVEL", "WARNING")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--n", type=int, default=20_000, help="items published in bulk (default 20,000)")
    parser.add_argument("--m", type=int, default=1_000, help="items catalogued one by one (default 1,000)")
    args = parser.parse_args()

    import django

    django.setup()
    from django.db import connection, transaction
    from django.test.utils import setup_test_environment

    setup_test_environment(debug=False)
    db_name = connection.creation.create_test_db(verbosity=0, autoclobber=True, serialize=False)

    from zhengwu.core.models import AccountKind, Region, Unit, User
    from zhengwu.disclosure import services
    from zhengwu.disclosure.models import CatalogueEntry, SequenceCounter
    from zhengwu.portal import services as portal_services
    from zhengwu.portal.models import Column, Item, Site

    region = Region.objects.create(code="620800", name="平凉市", level="city")
    units = [
        Unit.objects.create(code=f"B{i:02d}", name=f"基准单位{i}", kind="department", region=region)
        for i in range(10)
    ]
    actor = User.objects.create(username="bench", name="基准", kind=AccountKind.STAFF, primary_unit=units[0])
    slugs = ("gzdt", "tzgg", "zcwj", "czxx")
    columns = []
    for i, unit in enumerate(units):
        site = Site.objects.create(code=f"s{i}", name=unit.name, kind="department", unit=unit)
        columns += [Column.objects.create(site=site, name=s, slug=s) for s in slugs]
    services.categories_ensure()

    def rows(count: int, prefix: str) -> list[dict[str, object]]:
        return [
            {
                "site": columns[i % len(columns)].site,
                "column": columns[i % len(columns)],
                "kind": "article",
                "title": f"{prefix}关于做好第{i}项工作的通知",
                "body": "为进一步做好相关工作，现将有关事项通知如下。",
            }
            for i in range(count)
        ]

    n, m = args.n, args.m
    t0 = time.perf_counter()
    ids = portal_services.items_bulk_publish(actor=actor, rows=rows(n, "批量"), regenerate=False)
    whole = time.perf_counter() - t0
    items = list(Item.objects.filter(pk__in=ids).select_related("site", "live_version"))
    made = {e.item_id: e for e in CatalogueEntry.objects.filter(item_id__in=ids)}
    assert len(made) == n, f"{len(made)} of {n} items catalogued"
    snapshot = [
        CatalogueEntry(**{f.attname: getattr(e, f.attname) for f in CatalogueEntry._meta.concrete_fields})
        for e in made.values()
    ]

    def reset() -> None:
        CatalogueEntry.objects.all().delete()
        SequenceCounter.objects.all().delete()

    reset()
    t0 = time.perf_counter()
    with transaction.atomic():
        services.catalogue_entries_bulk_publish(items=items, actor=actor)
    bulk = time.perf_counter() - t0
    reset()
    for e in snapshot:
        e.pk = None
    t0 = time.perf_counter()
    with transaction.atomic():
        CatalogueEntry.objects.bulk_create(snapshot, batch_size=1000)
    bulk_base = time.perf_counter() - t0

    single_items = items[:m]
    reset()
    t0 = time.perf_counter()
    for item in single_items:
        with transaction.atomic():
            services.catalogue_entry_publish(item=item, actor=actor)
    single = (time.perf_counter() - t0) / m
    single_rows = [
        CatalogueEntry(**{f.attname: getattr(e, f.attname) for f in CatalogueEntry._meta.concrete_fields})
        for e in CatalogueEntry.objects.filter(item_id__in=[i.pk for i in single_items])
    ]
    reset()
    t0 = time.perf_counter()
    for e in single_rows:
        e.pk = None
        with transaction.atomic():
            e.save(force_insert=True)
    single_base = (time.perf_counter() - t0) / m
    numbers = CatalogueEntry.objects.values_list("index_number", flat=True)
    assert len(set(numbers)) == m

    vendor = connection.vendor
    print(f"database: {vendor} ({db_name if vendor == 'sqlite' else connection.settings_dict['NAME']})")
    print(f"bulk      items_bulk_publish of {n:,} items, catalogue included : {whole:8.2f} s")
    print(
        f"bulk      catalogue_entries_bulk_publish ({n:,})              : {bulk:8.2f} s  "
        f"({bulk / whole:.0%} of the whole publish)"
    )
    print(f"bulk      bare bulk_create of the same rows (baseline)        : {bulk_base:8.2f} s")
    print(f"ratio     bulk catalogue / bare insert                        : {bulk / bulk_base:8.2f}×")
    print(f"single    catalogue_entry_publish, own transaction ({m:,})     : {single * 1000:8.3f} ms")
    print(f"single    bare one-row insert, own transaction (baseline)     : {single_base * 1000:8.3f} ms")
    print(f"ratio     single catalogue / bare insert                      : {single / single_base:8.2f}×")
    connection.creation.destroy_test_db(db_name, verbosity=0)


if __name__ == "__main__":
    main()
