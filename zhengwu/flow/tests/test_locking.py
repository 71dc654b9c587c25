"""Lock order of a step on PostgreSQL: the instance row first, then the task row — also now that both are
locked by one statement (``SELECT … FOR UPDATE OF`` instance, task). A step waiting for a task row that
someone else holds already holds the instance, so whoever locks instance-first everywhere else queues
behind it instead of deadlocking."""

from __future__ import annotations

import threading
import time
from typing import Any

import pytest
from django.db import DatabaseError, close_old_connections, connection, transaction

from zhengwu.flow.models import ProcessInstance, Task, TaskStatus
from zhengwu.flow.tests.helpers import complete, only_open, start

pytestmark = [
    pytest.mark.django_db(transaction=True),
    pytest.mark.skipif(connection.vendor != "postgresql", reason="row locks: PostgreSQL only"),
]


def _in_thread(fn: Any, errors: list[BaseException]) -> threading.Thread:
    def run() -> None:
        try:
            fn()
        except BaseException as exc:  # reported by the test
            errors.append(exc)
        finally:
            close_old_connections()
            connection.close()

    thread = threading.Thread(target=run)
    thread.start()
    return thread


def test_a_step_locks_the_instance_before_the_task(processes: Any, people: Any) -> None:
    instance = start(people.starter, "simple_approval", people.starter.primary_unit)
    task = only_open(instance, "register")
    errors: list[BaseException] = []
    holding, release = threading.Event(), threading.Event()

    def hold_task() -> None:
        with transaction.atomic():
            Task.objects.select_for_update().get(pk=task.pk)
            holding.set()
            release.wait(timeout=30)

    holder = _in_thread(hold_task, errors)
    assert holding.wait(timeout=30)
    stepper = _in_thread(lambda: complete(people.starter, task), errors)
    try:
        time.sleep(1)  # the step is waiting for the task row now
        assert stepper.is_alive()
        with pytest.raises(DatabaseError), transaction.atomic():
            ProcessInstance.objects.select_for_update(nowait=True).get(pk=instance.pk)
    finally:
        release.set()
        holder.join(timeout=30)
        stepper.join(timeout=30)
    assert not errors, errors
    task.refresh_from_db()
    assert task.status == TaskStatus.COMPLETED
