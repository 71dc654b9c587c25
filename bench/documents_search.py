"""1.1 million documents in the database: find by title words and by document number, p95.

Target (../shared/TARGETS.md, Chinese search): p95 < 50 ms, and every document ``LIKE`` finds is found.
The database holds ``--documents`` documents (default 1,100,000) sent between 880 units over ten years,
each to one or two units, with titles built from a vocabulary of common and rare words, and a
document number each (receipts ≈ 1.6 × documents). Two staff members search, as the page does
(``zhengwu.documents.search.document_search``: the first page of 20 and the hit count, within their
unit's documents):

* a township (乡镇) that received 1,200 documents a year — about 12,000 at full size;
* the city government, which sent one document in 37 — about 30,000 at full size — and received some.

Each query is compared with the baseline measured in the same run: the same page (and count) with
``LIKE '%word%'`` on the titles and numbers of the same unit's documents, the way a page without the index
would ask. Recall: for every title-word query, every id the ``LIKE`` query finds must be found (all pages).

SQLite file (WAL) by default, PostgreSQL with ``DATABASE_URL`` (a scratch ``test_…`` database). Usage::

    .venv/bin/python bench/documents_search.py [--documents 1100000] [--repeat 100] [--baseline-repeat 15]
"""

from __future__ import annotations

import argparse
import datetime as dt
import os
import random
import statistics
import sys
import time
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "zhengwu.settings")
os.environ.setdefault("ZHENGWU_DATA_DIR", "/tmp/zw-bench-documents-search")
os.environ.setdefault("ZHENGWU_TEST_SQLITE_FILE", "1")
os.environ.setdefault("LOG_LEVEL", "WARNING")

UNITS = 880
# (word, weight): a few words in many titles, most in some, a few rare.
VOCAB = [
    ("安全生产", 60), ("森林防火", 30), ("防汛抗旱", 30), ("乡村振兴", 40), ("营商环境", 25),
    ("疫情防控", 20), ("财政预算", 20), ("人事任免", 15), ("信访维稳", 15), ("政务公开", 20),
    ("环境保护", 20), ("耕地保护", 10), ("教育培训", 15), ("医疗保障", 12), ("养老服务", 10),
    ("招商引资", 12), ("项目建设", 25), ("统计调查", 8), ("档案管理", 6), ("机关党建", 12),
    ("全市", 50), ("各县区", 30), ("春季", 15), ("秋季", 15), ("年度", 30), ("专项", 25),
    ("检查", 30), ("考核", 20), ("整治", 20), ("督查", 15), ("实施方案", 25), ("工作要点", 15),
    ("地震应急", 2), ("雪灾防御", 1), ("文物普查", 1), ("古树名木", 1),
]  # fmt: skip
TYPES = [("通知", 50), ("意见", 10), ("报告", 12), ("请示", 10), ("批复", 6), ("通报", 6), ("函", 6)]


class _Template:
    """A model instance's column values in database form; ``row`` replaces the ones that vary."""

    def __init__(self, columns: list[str], values: list[Any]) -> None:
        self.columns = columns
        self.values = values
        self.at = {c: i for i, c in enumerate(columns)}

    def row(self, **changes: Any) -> tuple[Any, ...]:
        values = list(self.values)
        for column, value in changes.items():
            values[self.at[column]] = value
        return tuple(values)


def _template(connection: Any, obj: Any) -> _Template:
    columns, values = ["id"], [None]
    for field in obj._meta.concrete_fields:
        if field.primary_key:
            continue
        columns.append(field.column)
        values.append(field.get_db_prep_save(field.pre_save(obj, True), connection))
    return _Template(columns, values)


def _insert(connection: Any, table: str, columns: list[str], rows: list[tuple[Any, ...]]) -> None:
    if not rows:
        return
    cols = ", ".join(columns)
    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            with cursor.cursor.copy(f"COPY {table} ({cols}) FROM STDIN") as copy:
                for row in rows:
                    copy.write_row(row)
            return
        cursor.executemany(f"INSERT INTO {table} ({cols}) VALUES ({', '.join(['%s'] * len(columns))})", rows)


def p95(values: list[float]) -> float:
    return statistics.quantiles(values, n=20)[18] if len(values) >= 20 else max(values)


def timed(fn: Any, repeat: int) -> list[float]:
    fn()
    out = []
    for _ in range(repeat):
        t = time.perf_counter()
        fn()
        out.append((time.perf_counter() - t) * 1000)
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--documents", type=int, default=1_100_000)
    parser.add_argument("--repeat", type=int, default=100)
    parser.add_argument("--baseline-repeat", type=int, default=15)
    parser.add_argument("--keep", action="store_true", help="keep the scratch database")
    parser.add_argument("--reuse", action="store_true", help="measure the database a --keep run left")
    args = parser.parse_args()

    import django

    django.setup()
    from django.db import connection, transaction
    from django.db.models import Q
    from django.test.utils import setup_test_environment
    from django.utils import timezone

    setup_test_environment(debug=False)
    if args.reuse:
        db_name = connection.creation._get_test_db_name()
        connection.close()
        connection.settings_dict["NAME"] = db_name
    else:
        db_name = connection.creation.create_test_db(verbosity=0, autoclobber=True, serialize=False)

    from zhengwu.core.models import AccountKind, Region, Unit, User
    from zhengwu.documents import search
    from zhengwu.documents.models import Document, DocumentReceipt, DocumentStatus, ReceiptState

    try:
        rng = random.Random("zhengwu-bench-documents-search")
        t0 = time.perf_counter()
        if args.reuse:  # the database a --keep run left: measure again without loading
            city, township = Unit.objects.get(code="C-GOV"), Unit.objects.get(code="T-KT")
            unit_ids = list(Unit.objects.values_list("pk", flat=True))
            n = Document.objects.count()
        else:
            region = Region.objects.create(code="620800", name="平凉市", level="city")
            city = Unit.objects.create(code="C-GOV", name="平凉市人民政府", kind="government", region=region)
            township = Unit.objects.create(
                code="T-KT", name="崆峒镇人民政府", kind="township", region=region, parent=city
            )
            Unit.objects.bulk_create(
                [
                    Unit(
                        code=f"U{i:04d}",
                        name=f"单位{i}",
                        kind="department",
                        region=region,
                        parent=city,
                        path=f"{city.path}U{i:04d}/",
                    )
                    for i in range(UNITS - 2)
                ]
            )
            unit_ids = list(Unit.objects.values_list("pk", flat=True))
            others = [u for u in unit_ids if u not in (city.pk, township.pk)]
            me = User.objects.create(
                username="sender", name="孙秘书", kind=AccountKind.STAFF, primary_unit=city
            )
            words, weights = zip(*VOCAB, strict=True)
            types, type_weights = zip(*TYPES, strict=True)
            start = timezone.now() - dt.timedelta(days=3650)
            step = dt.timedelta(days=3650) / max(1, args.documents)
            n = args.documents
            # Rows go in through COPY (PostgreSQL) or executemany (SQLite) in database form: the ORM's
            # bulk_create would spend most of the load preparing 35 field values per row in Python.
            doc_tpl = _template(
                connection,
                Document(
                    unit=city,
                    doc_type="notice",
                    status=DocumentStatus.SENT,
                    number_code="",
                    title="",
                    created_by=me,
                ),
            )
            receipt_tpl = _template(
                connection,
                DocumentReceipt(
                    document_id=0, unit=city, state=ReceiptState.RECEIVED, title="", document_number="",
                    doc_type="notice", sender_name="", sent_at=start, first_sent_at=start,
                ),
            )  # fmt: skip
            chunk = 20_000
            receipt_id = 0
            for base in range(0, n, chunk):
                with transaction.atomic():
                    docs, receipts, index = [], [], []
                    for i in range(base, min(base + chunk, n)):
                        doc_id = i + 1
                        if i % 37 == 0:
                            sender = city.pk
                        elif i % 500 == 1:
                            sender = township.pk
                        else:
                            sender = others[rng.randrange(len(others))]
                        sent = start + step * i
                        sent_db = connection.ops.adapt_datetimefield_value(sent)
                        title_words = dict.fromkeys(rng.choices(words, weights, k=rng.randint(1, 3)))
                        title = f"关于{''.join(title_words)}工作的{rng.choices(types, type_weights)[0]}"
                        number = f"平{sender}发〔{sent.year}〕{doc_id}号"
                        docs.append(
                            doc_tpl.row(
                                id=doc_id, unit_id=sender, number_code=f"平{sender}发", number_year=sent.year,
                                number_seq=doc_id, document_number=number, title=title, sent_at=sent_db,
                            )
                        )  # fmt: skip
                        targets = {others[rng.randrange(len(others))] for _ in range(1 + i % 2)}
                        if i % 92 == 0:
                            targets.add(township.pk)
                        if i % 150 == 7:
                            targets.add(city.pk)
                        targets.discard(sender)
                        for unit in sorted(targets):
                            receipt_id += 1
                            receipts.append(
                                receipt_tpl.row(
                                    id=receipt_id, document_id=doc_id, unit_id=unit, title=title,
                                    document_number=number, sent_at=sent_db, first_sent_at=sent_db,
                                )
                            )  # fmt: skip
                        index.append((doc_id, title, number, [sender, *targets]))
                    _insert(connection, Document._meta.db_table, doc_tpl.columns, docs)
                    _insert(connection, DocumentReceipt._meta.db_table, receipt_tpl.columns, receipts)
                    if connection.vendor == "postgresql":
                        _insert(
                            connection, search.PG_TABLE, ["document_id", "doc"], search.index_values(index)
                        )
                    else:
                        _insert(
                            connection,
                            search.FTS_TABLE,
                            ["rowid", "title", "number", "units"],
                            search.index_values(index),
                        )
                if base and base % 100_000 == 0:
                    print(f"  … {base:,} documents ({time.perf_counter() - t0:.0f} s)", flush=True)
            if connection.vendor == "postgresql":
                with connection.cursor() as cur:
                    for table in (Document._meta.db_table, DocumentReceipt._meta.db_table):
                        cur.execute(
                            f"SELECT setval(pg_get_serial_sequence('{table}', 'id'), (SELECT MAX(id) FROM {table}))"
                        )
            with connection.cursor() as cur:
                cur.execute("VACUUM ANALYZE" if connection.vendor == "postgresql" else "ANALYZE")
        receipts_n = DocumentReceipt.objects.count()
        print(
            f"database: {connection.vendor}; documents: {n:,}; receipts: {receipts_n:,}; "
            f"units: {len(unit_ids)} ({time.perf_counter() - t0:.0f} s to load and index)"
        )

        def like_page(units: list[int], q: str) -> tuple[list[int], int]:
            """What the page would run without the index: LIKE on the unit's documents, page + count."""
            visible = Document.objects.filter(
                Q(unit_id__in=units)
                | Q(
                    pk__in=DocumentReceipt.objects.filter(unit_id__in=units)
                    .exclude(state=ReceiptState.RECALLED)
                    .values("document_id")
                )
            )
            for word in q.split():
                visible = visible.filter(Q(title__contains=word) | Q(document_number__contains=word))
            page = list(visible.order_by("-pk").values_list("pk", flat=True)[:21])
            return page, visible.count()

        def like_all(units: list[int], q: str) -> set[int]:
            visible = Document.objects.filter(
                Q(unit_id__in=units)
                | Q(pk__in=DocumentReceipt.objects.filter(unit_id__in=units).values("document_id"))
            )
            for word in q.split():
                visible = visible.filter(Q(title__contains=word) | Q(document_number__contains=word))
            return set(visible.values_list("pk", flat=True))

        def index_all(units: list[int], q: str) -> set[int]:
            found: set[int] = set()
            before = None
            while True:
                page = search.document_search(units, q, before=before, per_page=1000, with_count=False)
                found |= {h.document.pk for h in page.hits}
                if page.next_before is None:
                    return found
                before = page.next_before

        def number_of(unit: int) -> str:
            doc = (
                Document.objects.filter(Q(unit_id=unit) | Q(receipts__unit_id=unit))
                .order_by("pk")
                .values_list("document_number", flat=True)[n // 3000 if n > 3000 else 0 :][:1]
            )
            return doc[0]

        worst = 0.0
        recall_checked = 0
        recall_missed = 0
        for label, unit in (("township 崆峒镇", township.pk), ("city government", city.pk)):
            scope = [unit]
            visible_n = len(like_all(scope, ""))
            print(f"\n{label}: {visible_n:,} documents sent or received")
            number = number_of(unit)
            first = search.document_search(scope, "全市")
            cases = [
                ("common word 安全生产", "安全生产", True),
                ("two words 全市 检查", "全市 检查", True),
                ("single character 防", "防", True),
                ("rare word 雪灾防御", "雪灾防御", True),
                ("no such word 量子计算", "量子计算", True),
                (f"whole number {number}", number, False),
            ]
            for case_label, q, words_query in cases:
                times = timed(lambda q=q, scope=scope: search.document_search(scope, q), args.repeat)
                base = timed(lambda q=q, scope=scope: like_page(scope, q), args.baseline_repeat)
                got = search.document_search(scope, q)
                value, base_value = p95(times), p95(base)
                worst = max(worst, value)
                recall = ""
                if words_query:
                    expected = like_all(scope, q)
                    found = index_all(scope, q)
                    missed = len(expected - found)
                    recall_checked += len(expected)
                    recall_missed += missed
                    recall = f"  recall {100.0 * (len(expected) - missed) / max(1, len(expected)):.1f}% of {len(expected):,}"
                    if found - expected:
                        recall += f" (+{len(found - expected)} not in LIKE)"
                count = f"{'>' if got.count_capped else ''}{min(got.count, search.COUNT_CAP):,}"
                print(
                    f"  {case_label:<36} p95 {value:7.2f} ms  (LIKE {base_value:8.2f} ms, {base_value / max(value, 0.001):6.1f}×)"
                    f"  hits {count}{recall}"
                )
            if first.next_before:
                times = timed(
                    lambda scope=scope, nb=first.next_before: search.document_search(
                        scope, "全市", before=nb
                    ),
                    args.repeat,
                )
                worst = max(worst, p95(times))
                print(f"  {'second page of 全市 (keyset)':<36} p95 {p95(times):7.2f} ms")
        print(
            f"\nworst p95: {worst:.2f} ms (target < 50 ms); recall {recall_checked - recall_missed:,} of "
            f"{recall_checked:,} LIKE hits ({100.0 * (recall_checked - recall_missed) / max(1, recall_checked):.2f}%)"
        )
    finally:
        if not args.keep:
            connection.creation.destroy_test_db(db_name, verbosity=0)


if __name__ == "__main__":
    main()
