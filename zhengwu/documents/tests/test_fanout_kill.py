"""Killing the process in the middle of a fan-out leaves all recipients or none; a retry completes it
with exactly one row per unit."""

from __future__ import annotations

import os
import re
import signal
import subprocess
import sys
import time

import pytest

from zhengwu.documents.tests.conftest import ROOT, run_manage

SETUP = """
from zhengwu.documents.tests.conftest import draft_notice, office_build, walk
from zhengwu.testing.cast import build_cast
office = office_build(build_cast())
everyone = office.cast.groups["everyone"].pk
doc = walk(office, draft_notice(office, body=None, main_groups=[everyone]), until="distribute")
print("document", doc.pk, doc.status)
"""

COUNT = """
from zhengwu.documents.models import DocumentReceipt
rows = DocumentReceipt.objects.filter(document_id={pk})
print("rows", rows.count(), len(set(rows.values_list("unit_id", flat=True))))
"""


def _count(env: dict[str, str], pk: int) -> tuple[int, int]:
    out = run_manage(env, "shell", "-c", COUNT.format(pk=pk))
    m = re.search(r"rows (\d+) (\d+)", out)
    assert m, out
    return int(m.group(1)), int(m.group(2))


def test_it_leaves_none_after_a_kill_mid_fanout_and_a_retry_sends_once_to_each(
    file_db: dict[str, str],
) -> None:
    out = run_manage(file_db, "shell", "-c", SETUP)
    m = re.search(r"document (\d+) distribute", out)
    assert m, out
    pk = int(m.group(1))
    slow = {**file_db, "ZHENGWU_DOCUMENTS_FANOUT_DELAY": "0.5"}
    proc = subprocess.Popen(
        [sys.executable, "manage.py", "documents_distribute", str(pk), "--as", "city_clerk"],
        cwd=ROOT,
        env=slow,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
        start_new_session=True,
    )
    assert proc.stdout is not None
    seen = 0
    deadline = time.monotonic() + 120
    while seen < 3 and time.monotonic() < deadline:
        line = proc.stdout.readline()
        if not line:
            break
        seen += line.startswith("fanout row")
    assert seen == 3, "the fan-out did not start"
    os.killpg(proc.pid, signal.SIGKILL)  # a crash: nothing flushed, no handler runs
    proc.wait(timeout=10)
    assert _count(file_db, pk) == (0, 0)  # none: the rows written so far were never committed
    out = run_manage(file_db, "documents_distribute", str(pk), "--as", "city_clerk")
    assert "receipts 9" in out
    assert _count(file_db, pk) == (9, 9)  # all: every active unit but the sender
    run_manage(file_db, "documents_distribute", str(pk), "--as", "city_clerk")
    assert _count(file_db, pk) == (9, 9)  # a second retry adds nothing


@pytest.mark.django_db(transaction=True)
def test_it_refuses_to_distribute_from_the_shell_as_someone_who_is_not_the_senders_clerk(
    file_db: dict[str, str],
) -> None:
    out = run_manage(file_db, "shell", "-c", SETUP)
    pk = int(re.search(r"document (\d+)", out).group(1))  # type: ignore[union-attr]
    done = subprocess.run(
        [sys.executable, "manage.py", "documents_distribute", str(pk), "--as", "kd_clerk"],
        cwd=ROOT,
        env=file_db,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert done.returncode != 0
    assert _count(file_db, pk) == (0, 0)
