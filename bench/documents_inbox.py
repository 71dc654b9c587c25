"""A unit's inbox (收文) with 100,000 documents: list and filter, p95.

Target (../shared/TARGETS.md): a list page under 30 ms at p95. The database holds ``--docs`` documents
sent to the measured unit and to two other units each (so the receipt table holds 3× as many rows), of
mixed types and states over a year. Measured through ``selectors.inbox`` (what the page runs), each query
``--repeat`` times:

* the pending list (待签收, the default page), all copies, one type, a state, title words, a document
  number, and the second page (keyset: before the last row of the first).

SQLite file (WAL) by default, PostgreSQL with ``DATABASE_URL`` (a scratch ``test_…`` database). Usage::

    .venv/bin/python bench/documents_inbox.py [--docs 100000] [--repeat 200]
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

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "zhengwu.settings")
os.environ.setdefault("ZHENGWU_DATA_DIR", "/tmp/zw-bench-documents-inbox")
os.environ.setdefault("ZHENGWU_TEST_SQLITE_FILE", "1")
os.environ.setdefault("LOG_LEVEL", "WARNING")

WORDS = [
    "森林防火",
    "安全生产",
    "防汛抗旱",
    "乡村振兴",
    "营商环境",
    "疫情防控",
    "财政预算",
    "人事任免",
    "会议纪要",
    "信访维稳",
]


def p95(values: list[float]) -> float:
    return statistics.quantiles(values, n=20)[18]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--docs", type=int, default=100_000)
    parser.add_argument("--repeat", type=int, default=200)
    args = parser.parse_args()

    import django

    django.setup()
    from django.db import connection, transaction
    from django.test.utils import setup_test_environment
    from django.utils import timezone

    setup_test_environment(debug=False)
    db_name = connection.creation.create_test_db(verbosity=0, autoclobber=True, serialize=False)

    from zhengwu.core.models import AccountKind, Region, Unit, User
    from zhengwu.documents import selectors
    from zhengwu.documents.models import DocType, Document, DocumentReceipt, DocumentStatus, ReceiptState

    rng = random.Random("zhengwu-bench-inbox")
    region = Region.objects.create(code="620800", name="平凉市", level="city")
    sender = Unit.objects.create(code="C-GOV", name="平凉市人民政府", kind="government", region=region)
    target = Unit.objects.create(code="A-GOV", name="崆峒区人民政府", kind="government", region=region)
    others = [
        Unit.objects.create(code=f"O{i}", name=f"其他单位{i}", kind="department", region=region)
        for i in range(2)
    ]
    me = User.objects.create(username="sender", name="孙秘书", kind=AccountKind.STAFF, primary_unit=sender)
    types = DocType.values
    states = [ReceiptState.RECEIVED] * 16 + [ReceiptState.DELIVERED, ReceiptState.READ, ReceiptState.REFUSED]
    start = timezone.now() - dt.timedelta(days=365)
    t0 = time.perf_counter()
    chunk = 5000
    with transaction.atomic():
        for base in range(0, args.docs, chunk):
            docs = []
            for i in range(base, min(base + chunk, args.docs)):
                docs.append(
                    Document(
                        unit=sender,
                        doc_type=rng.choice(types),
                        status=DocumentStatus.SENT,
                        number_code="平政发",
                        number_year=2026,
                        number_seq=i + 1,
                        document_number=f"平政发〔2026〕{i + 1}号",
                        title=f"关于{rng.choice(WORDS)}工作的第{i + 1}号文件",
                        created_by=me,
                    )
                )
            Document.objects.bulk_create(docs)
            receipts = []
            for d in docs:
                sent = start + dt.timedelta(seconds=d.number_seq * 300)  # type: ignore[operator]
                for unit in (target, *others):
                    receipts.append(
                        DocumentReceipt(
                            document=d,
                            unit=unit,
                            state=rng.choice(states),
                            title=d.title,
                            document_number=d.document_number,
                            doc_type=d.doc_type,
                            sender_name=sender.name,
                            sent_at=sent,
                            first_sent_at=sent,
                        )
                    )
            DocumentReceipt.objects.bulk_create(receipts, batch_size=2000)
    with connection.cursor() as cur:
        # What autovacuum does on a live PostgreSQL (the visibility map lets counts use the index alone).
        cur.execute("VACUUM ANALYZE" if connection.vendor == "postgresql" else "ANALYZE")
    print(
        f"database: {connection.vendor}; documents: {args.docs}; receipts: {args.docs * 3} ({time.perf_counter() - t0:.0f} s to load)"
    )
    first = selectors.inbox(target, state="")
    cases = {
        "待签收 (pending list)": lambda: selectors.inbox(target, state="pending"),
        "全部 (all copies)": lambda: selectors.inbox(target),
        "文种 = 通知": lambda: selectors.inbox(target, doc_type="notice"),
        "状态 = 已退文": lambda: selectors.inbox(target, state=ReceiptState.REFUSED),
        "标题含“营商环境”": lambda: selectors.inbox(target, query="营商环境"),
        "文号 平政发〔2026〕4242号": lambda: selectors.inbox(target, state="", query="平政发〔2026〕4242号"),
        "second page (keyset)": lambda: selectors.inbox(target, before=first[-1]["sent_at"]),
        "待签收 count": lambda: selectors.inbox_pending_count(target),
    }
    try:
        worst = 0.0
        for label, fn in cases.items():
            fn()
            times = []
            for _ in range(args.repeat):
                t = time.perf_counter()
                fn()
                times.append((time.perf_counter() - t) * 1000)
            value = p95(times)
            worst = max(worst, value)
            print(f"  {label:<28} p95 {value:7.2f} ms   median {statistics.median(times):6.2f} ms")
        print(f"worst p95: {worst:.2f} ms (target < 30 ms)")
    finally:
        connection.creation.destroy_test_db(db_name, verbosity=0)


if __name__ == "__main__":
    main()
