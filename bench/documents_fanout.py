"""One document to all ~880 units: the fan-out (分发) against a bare bulk insert of the same rows.

Target (../shared/TARGETS.md): every inbox shows the document within 0.5 s, at most 3× a bare bulk insert
of the same receipt rows measured in the same run. The database holds a city of ``--units`` units (one
clerk each, as in the demo city). Per round:

* baseline: ``bulk_create`` of one receipt row per unit in one transaction (nothing else);
* fan-out: ``document_distribute`` — expand the "everyone" group, write every receipt row (with paper
  flags), the clerks' in-app notices and the trail record, in one transaction. When it commits every
  unit's inbox shows the document.

Prints the median milliseconds of each and the ratio. SQLite file (WAL) by default, PostgreSQL with
``DATABASE_URL`` (a scratch ``test_…`` database). Usage::

    .venv/bin/python bench/documents_fanout.py [--units 880] [--rounds 7]
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "zhengwu.settings")
os.environ.setdefault("ZHENGWU_DATA_DIR", "/tmp/zw-bench-documents")
os.environ.setdefault("ZHENGWU_TEST_SQLITE_FILE", "1")
os.environ.setdefault("LOG_LEVEL", "WARNING")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--units", type=int, default=880)
    parser.add_argument("--rounds", type=int, default=7)
    args = parser.parse_args()

    import django

    django.setup()
    from django.db import connection, transaction
    from django.test.utils import setup_test_environment
    from django.utils import timezone

    setup_test_environment(debug=False)
    db_name = connection.creation.create_test_db(verbosity=0, autoclobber=True, serialize=False)

    from zhengwu.core.models import AccountKind, Region, Unit, UnitGroup, UnitRole, User
    from zhengwu.documents import services
    from zhengwu.documents.models import Document, DocumentReceipt, DocumentRecipient, DocumentStatus

    region = Region.objects.create(code="620800", name="平凉市", level="city")
    sender = Unit.objects.create(code="C-GOV", name="平凉市人民政府", kind="government", region=region)
    units = [
        Unit(code=f"U{i:04d}", name=f"单位{i:04d}", kind="department", region=region, path=f"/{i:04d}/")
        for i in range(args.units - 1)
    ]
    Unit.objects.bulk_create(units)
    units = list(Unit.objects.exclude(pk=sender.pk))
    for u in units[::9]:
        u.receives_paper = True
    Unit.objects.bulk_update(units[::9], ["receives_paper"])
    clerks = User.objects.bulk_create(
        [User(username=f"clerk{u.pk}", name="文书", kind=AccountKind.STAFF, primary_unit=u) for u in units]
    )
    UnitRole.objects.bulk_create([UnitRole(user=c, unit_id=c.primary_unit_id, role="clerk") for c in clerks])
    me = User.objects.create(username="sender", name="孙秘书", kind=AccountKind.STAFF, primary_unit=sender)
    UnitRole.objects.create(user=me, unit=sender, role="clerk")
    everyone = UnitGroup.objects.create(code="everyone", name="全部单位", match_all=True)

    def new_document(i: int) -> Document:
        doc = Document.objects.create(
            unit=sender,
            doc_type="notice",
            status=DocumentStatus.DISTRIBUTE,
            number_code="平政发",
            number_year=2026,
            number_seq=i,
            document_number=f"平政发〔2026〕{i}号",
            title=f"关于做好第{i}批工作的通知",
            created_by=me,
        )
        DocumentRecipient.objects.create(document=doc, role="main", group=everyone)
        return doc

    def bare(doc: Document) -> float:
        now = timezone.now()
        rows = [
            DocumentReceipt(
                document=doc,
                unit_id=u.pk,
                title=doc.title,
                document_number=doc.document_number,
                doc_type=doc.doc_type,
                sender_name=sender.name,
                sent_at=now,
                first_sent_at=now,
            )
            for u in units
        ]
        t = time.perf_counter()
        with transaction.atomic():
            DocumentReceipt.objects.bulk_create(rows, batch_size=1000)
        return time.perf_counter() - t

    def fanout(doc: Document) -> float:
        t = time.perf_counter()
        n = services.document_distribute(actor=me, document=doc)
        elapsed = time.perf_counter() - t
        assert n == len(units), n
        return elapsed

    bare_times, fan_times = [], []
    seq = 0
    try:
        for _ in range(args.rounds):
            seq += 1
            bare_times.append(bare(new_document(seq)))
            seq += 1
            fan_times.append(fanout(new_document(seq)))
        inboxes = (
            DocumentReceipt.objects.filter(document__number_seq=seq).values("unit_id").distinct().count()
        )
        b, f = statistics.median(bare_times), statistics.median(fan_times)
        print(
            f"database: {connection.vendor}; units: {args.units} (recipients {len(units)}); rounds: {args.rounds}"
        )
        print(f"bare bulk insert of the receipt rows: {b * 1000:8.1f} ms (median)")
        print(
            f"fan-out until every inbox shows it:  {f * 1000:8.1f} ms (median; max {max(fan_times) * 1000:.1f})"
        )
        print(
            f"ratio fan-out / bare: {f / b:.2f}×   (target < 500 ms and ≤ 3×); inboxes holding the last: {inboxes}"
        )
    finally:
        connection.creation.destroy_test_db(db_name, verbosity=0)


if __name__ == "__main__":
    main()
