"""Concurrent sign-offs never produce a duplicate or a missing document number: several threads, each on
its own database connection, number at the same moment (PostgreSQL: the counter row is locked with
select_for_update; SQLite: IMMEDIATE transactions serialise the writers)."""

from __future__ import annotations

import re
import threading
from collections.abc import Callable
from typing import Any

import pytest
from django.db import close_old_connections, connection, transaction
from django.utils import timezone

from zhengwu.documents import services
from zhengwu.documents.models import Document, DocumentStatus
from zhengwu.documents.tests.conftest import Office, draft_notice, run_manage, walk

THREADS = 6


def _hammer(work: list[Callable[[], Any]]) -> list[BaseException]:
    barrier = threading.Barrier(len(work))
    errors: list[BaseException] = []

    def run(fn: Callable[[], Any]) -> None:
        try:
            barrier.wait(timeout=30)
            fn()
        except BaseException as exc:  # collected and reported by the test
            errors.append(exc)
        finally:
            close_old_connections()
            connection.close()

    threads = [threading.Thread(target=run, args=(fn,)) for fn in work]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=120)
    return errors


def sign_offs_in_parallel(office: Office) -> tuple[list[BaseException], list[int], set[str]]:
    """THREADS documents wait at 编号; one thread each completes the step at the same moment."""
    docs = [
        walk(office, draft_notice(office, title=f"并发编号{i}", body=None), until="number")
        for i in range(THREADS)
    ]
    assert all(d.status == DocumentStatus.NUMBER for d in docs)

    def number(doc: Document) -> Callable[[], Any]:
        return lambda: services.document_step_complete(actor=office.drafter, document=doc)

    errors = _hammer([number(d) for d in docs])
    rows = Document.objects.filter(pk__in=[d.pk for d in docs])
    return (
        errors,
        sorted(rows.values_list("number_seq", flat=True)),
        set(rows.values_list("document_number", flat=True)),
    )


# On SQLite the threads run in a child process on a real file database (WAL, IMMEDIATE transactions): the
# in-memory test database is shared-cache, where writers fail at once instead of queueing.
SQLITE_SCRIPT = """
from zhengwu.documents.tests.conftest import office_build
from zhengwu.documents.tests.test_numbering_concurrency import sign_offs_in_parallel
from zhengwu.testing.cast import build_cast
errors, seqs, numbers = sign_offs_in_parallel(office_build(build_cast()))
print("errors", [repr(e) for e in errors])
print("seqs", ",".join(map(str, seqs)))
print("numbers", ",".join(sorted(numbers)))
"""


@pytest.mark.django_db(transaction=True)
def test_it_gives_concurrent_sign_offs_consecutive_numbers_without_gaps_or_doubles(
    office: Office, file_db: dict[str, str]
) -> None:
    year = timezone.localdate().year
    expected = {f"平政发〔{year}〕{i}号" for i in range(1, THREADS + 1)}
    if connection.vendor == "sqlite":
        out = run_manage(file_db, "shell", "-c", SQLITE_SCRIPT)
        assert "errors []" in out, out
        seqs = [int(x) for x in re.search(r"seqs ([\d,]+)", out).group(1).split(",")]  # type: ignore[union-attr]
        numbers = set(re.search(r"numbers (\S+)", out).group(1).split(","))  # type: ignore[union-attr]
    else:
        errors, seqs, numbers = sign_offs_in_parallel(office)
        assert errors == []
    assert seqs == list(range(1, THREADS + 1))
    assert numbers == expected


def take_in_parallel(unit: int) -> tuple[list[BaseException], list[int]]:
    taken: list[int] = []
    lock = threading.Lock()

    def take() -> None:
        for _ in range(8):
            with transaction.atomic():
                n = services.number_take(unit=unit, code="平政函", year=2031)
            with lock:
                taken.append(n)

    return _hammer([take for _ in range(THREADS)]), sorted(taken)


TAKE_SCRIPT = """
from zhengwu.core.models import Unit
from zhengwu.documents.tests.test_numbering_concurrency import take_in_parallel
errors, taken = take_in_parallel(Unit.objects.get(code="C-GOV").pk)
print("errors", [repr(e) for e in errors])
print("taken", ",".join(map(str, taken)))
"""


@pytest.mark.django_db(transaction=True)
def test_it_hands_out_each_number_once_when_many_threads_take_from_a_new_counter(
    office: Office, file_db: dict[str, str]
) -> None:
    if connection.vendor == "sqlite":
        run_manage(file_db, "shell", "-c", "from zhengwu.testing.cast import build_cast; build_cast()")
        out = run_manage(file_db, "shell", "-c", TAKE_SCRIPT)
        assert "errors []" in out, out
        taken = [int(x) for x in re.search(r"taken ([\d,]+)", out).group(1).split(",")]  # type: ignore[union-attr]
    else:
        errors, taken = take_in_parallel(office.cast.city_gov.pk)
        assert errors == []
    assert taken == list(range(1, THREADS * 8 + 1))
