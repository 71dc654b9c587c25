"""Receiving (收文): the cost of 批办 to D departments in parallel and of one department's 承办 step.

In one run on one machine, for D = 1, 3 and 10 departments, this script registers N received documents,
completes 拟办, and measures:

* baseline: one transaction writing the same business rows bare — the D ``IncomingPart`` rows and the
  record's update — with no engine, no to-do rows, no trail, no notices;
* 批办: ``incoming_instruct`` (checks, the parts, the engine's multi-instance step making D to-dos, each
  with its own due date, the state, the trail, the notices), one transaction per document;
* 承办: ``incoming_step_complete`` of one department's part (the last one closes the multi-instance step
  and opens 归档);

and prints milliseconds per operation, the per-department share and the ratio to the baseline. The
database is the one the settings name: the embedded SQLite file in WAL mode by default (a scratch file
under the data dir), PostgreSQL with ``DATABASE_URL`` (a scratch ``test_…`` database). Usage::

    .venv/bin/python bench/documents_receiving.py [--n 200] [--departments 1,3,10]
    DATABASE_URL=postgres://postgres@127.0.0.1:5432/zhengwu .venv/bin/python bench/documents_receiving.py
"""

from __future__ import annotations

import argparse
import os
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "zhengwu.settings")
os.environ.setdefault("ZHENGWU_DATA_DIR", "/tmp/zw-bench-receiving")
os.environ.setdefault("ZHENGWU_TEST_SQLITE_FILE", "1")  # a real file in WAL mode, as deployed
os.environ.setdefault("LOG_LEVEL", "WARNING")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--n", type=int, default=200, help="documents per department count (default 200)")
    parser.add_argument("--departments", default="1,3,10", help="department counts (default 1,3,10)")
    args = parser.parse_args()
    counts = [int(x) for x in args.departments.split(",")]

    import django

    django.setup()
    from django.db import connection, transaction
    from django.test.utils import setup_test_environment
    from django.utils import timezone

    setup_test_environment(debug=False)  # as served: DEBUG would log every statement
    db_name = connection.creation.create_test_db(verbosity=0, autoclobber=True, serialize=False)

    from zhengwu.core.models import (
        AccountKind,
        Department,
        Post,
        PostAssignment,
        Region,
        Unit,
        UnitRole,
        User,
    )
    from zhengwu.documents import services
    from zhengwu.documents.models import (
        Document,
        DocumentReceipt,
        IncomingPart,
        IncomingRecord,
        ReceiptState,
    )
    from zhengwu.flow.models import Task, TaskStatus

    region = Region.objects.create(code="620800", name="平凉市", level="city")
    sender = Unit.objects.create(code="SEND", name="平凉市人民政府", kind="government", region=region)
    unit = Unit.objects.create(
        code="RECV", name="基准测试区政府", kind="government", region=region, parent=sender
    )

    def staff(username: str, roles: list[str], department: Department | None = None) -> User:
        user = User.objects.create(
            username=username, name=username, kind=AccountKind.STAFF, primary_unit=unit
        )
        post = Post.objects.create(unit=unit, name=username, department=department)
        PostAssignment.objects.create(user=user, post=post)
        for role in roles:
            UnitRole.objects.create(user=user, unit=unit, role=role)
        return user

    clerk = staff("clerk", ["clerk"])
    leader = staff("leader", ["leader"])
    departments = [Department.objects.create(unit=unit, name=f"第{i}科", sort=i) for i in range(max(counts))]
    handlers = [staff(f"handler{i}", ["handler"], d) for i, d in enumerate(departments)]
    now = timezone.now()
    serial = iter(range(10**9))

    def registered(k: int) -> list[IncomingRecord]:
        """k received copies, registered, with 拟办 done (not timed)."""
        records = []
        for _ in range(k):
            i = next(serial)
            doc = Document.objects.create(
                unit=sender,
                doc_type="notice",
                status="sent",
                number_code="平政发",
                title=f"通知{i}",
                created_by=clerk,
                sent_at=now,
            )
            receipt = DocumentReceipt.objects.create(
                document=doc,
                unit=unit,
                title=doc.title,
                doc_type="notice",
                sender_name=sender.name,
                sent_at=now,
                first_sent_at=now,
                state=ReceiptState.RECEIVED,
                received_at=now,
                received_by=clerk,
            )
            record = services.incoming_register(actor=clerk, receipt=receipt)
            task = Task.objects.get(instance_id=record.instance_id, status=TaskStatus.OPEN)
            services.incoming_step_complete(
                actor=clerk, record=record, task_id=task.pk, opinion="拟请各科办理"
            )
            records.append(record)
        return records

    def parts_for(d: int) -> list[dict[str, object]]:
        return [
            {"department": dept.pk, "role": "lead" if i == 0 else "co", "days": 5, "handler": handlers[i].pk}
            for i, dept in enumerate(departments[:d])
        ]

    def baseline(records: list[IncomingRecord], d: int) -> float:
        t0 = time.perf_counter()
        for record in records:
            with transaction.atomic():
                IncomingPart.objects.bulk_create(
                    [
                        IncomingPart(
                            record=record,
                            round=99,
                            department=departments[i],
                            role="lead" if i == 0 else "co",
                            handler=handlers[i],
                            limit_days=5,
                        )
                        for i in range(d)
                    ]
                )
                IncomingRecord.objects.filter(pk=record.pk).update(status="handle", needs_reply=False)
        return (time.perf_counter() - t0) / len(records)

    for record in registered(10):  # warm up: spec parsing, first queries
        services.incoming_instruct(
            actor=leader, record=record, parts=parts_for(1), needs_reply=False, opinion="预热"
        )

    vendor = connection.vendor
    print(f"database: {vendor} ({db_name if vendor == 'sqlite' else connection.settings_dict['NAME']})")
    print(f"documents per row: {args.n:,}")
    print(
        f"{'departments':>11} {'bare write':>11} {'批办':>10} {'per dept':>9} {'ratio':>7} {'承办 (one part)':>15}"
    )
    for d in counts:
        records = registered(args.n)
        base = baseline(records, d)
        t0 = time.perf_counter()
        for record in records:
            services.incoming_instruct(
                actor=leader, record=record, parts=parts_for(d), needs_reply=False, opinion="批办"
            )
        instruct = (time.perf_counter() - t0) / args.n
        open_parts = list(
            Task.objects.filter(
                instance_id__in=[r.instance_id for r in records], step_id="handle", status=TaskStatus.OPEN
            ).select_related("assignee")
        )
        assert len(open_parts) == d * args.n, (len(open_parts), d * args.n)
        by_record = {r.instance_id: r for r in records}
        t0 = time.perf_counter()
        for task in open_parts:
            services.incoming_step_complete(
                actor=task.assignee, record=by_record[task.instance_id], task_id=task.pk, opinion="办结"
            )
        handle = (time.perf_counter() - t0) / len(open_parts)
        archived = Task.objects.filter(
            instance_id__in=list(by_record), step_id="archive", status=TaskStatus.OPEN
        ).count()
        assert archived == args.n, archived
        print(
            f"{d:>11} {base * 1000:>8.2f} ms {instruct * 1000:>7.1f} ms {instruct * 1000 / d:>6.1f} ms"
            f" {instruct / base:>6.1f}× {handle * 1000:>12.1f} ms"
        )
    connection.creation.destroy_test_db(db_name, verbosity=0)


if __name__ == "__main__":
    main()
