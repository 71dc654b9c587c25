"""Concurrent publications never get the same index number or leave a gap: several threads, each on its
own database connection, approve an item at the same moment (PostgreSQL: the counter row is locked with
select_for_update; SQLite: IMMEDIATE transactions serialise the writers)."""

from __future__ import annotations

import re
import threading
from collections.abc import Callable
from typing import Any

import pytest
from django.db import close_old_connections, connection
from django.utils import timezone

from zhengwu.disclosure.models import CatalogueEntry
from zhengwu.documents.tests.conftest import run_manage
from zhengwu.portal import services as portal_services
from zhengwu.portal.tests.factories import Cluster, build_cluster, draft

pytestmark = pytest.mark.django_db(transaction=True)
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


def publish_in_parallel(cluster: Cluster) -> tuple[list[BaseException], list[str]]:
    """THREADS items wait for review; one thread each approves (publishes) one at the same moment."""
    items = []
    for i in range(THREADS):
        item = draft(cluster.dept_editor, cluster.dept, cluster.dept_news, f"并发发布的工作动态{i}")
        portal_services.item_submit(actor=cluster.dept_editor, item=item)
        items.append(item)

    def approve(item: Any) -> Callable[[], Any]:
        return lambda: portal_services.item_approve(actor=cluster.dept_reviewer, item=item)

    errors = _hammer([approve(i) for i in items])
    return errors, sorted(CatalogueEntry.objects.values_list("index_number", flat=True))


# On SQLite the threads run in a child process on a real file database (WAL, IMMEDIATE transactions): the
# in-memory test database is shared-cache, where writers fail at once instead of queueing.
SQLITE_SCRIPT = """
from zhengwu.disclosure.tests.test_index_concurrency import publish_in_parallel
from zhengwu.portal.tests.factories import build_cluster
from zhengwu.testing.cast import build_cast
errors, numbers = publish_in_parallel(build_cluster(build_cast()))
print("errors", [repr(e) for e in errors])
print("numbers", ",".join(numbers))
"""


def test_it_numbers_concurrent_publications_without_gaps_or_doubles(
    cast: Any, file_db: dict[str, str], publish_root: Any
) -> None:
    year = timezone.localdate().year
    if connection.vendor == "sqlite":
        out = run_manage(file_db, "shell", "-c", SQLITE_SCRIPT)
        assert "errors []" in out, out
        numbers = re.search(r"numbers (\S+)", out).group(1).split(",")  # type: ignore[union-attr]
    else:
        errors, numbers = publish_in_parallel(build_cluster(cast))
        assert errors == []
    assert numbers == [f"C-TOUR/GZDT-{year}-{n:05d}" for n in range(1, THREADS + 1)]
