"""The rows a step writes in fewer statements: the new to-do's notices inserted straight from the holders
of its role or post (``INSERT … SELECT``), and the completed to-do written with the state — the same rows
as before, in the same transaction."""

from __future__ import annotations

import uuid
from typing import Any

import pytest

from zhengwu.core.models import AuditEvent, Post, PostAssignment, UnitRole
from zhengwu.flow import services
from zhengwu.flow.models import AssignKind, ProcessInstance, SampleCase, Task, TaskStatus
from zhengwu.flow.tests.helpers import complete, only_open, start
from zhengwu.notify.models import Notice

pytestmark = pytest.mark.django_db


def _holders(unit_id: int, role: str) -> set[int]:
    return set(
        UnitRole.objects.filter(unit_id=unit_id, role=role, user__is_active=True).values_list(
            "user_id", flat=True
        )
    )


def test_a_role_task_notifies_each_active_holder_once(processes: Any, people: Any) -> None:
    people.reviewer2.is_active = False
    people.reviewer2.save(update_fields=["is_active"])
    instance = start(people.starter, "simple_approval", people.starter.primary_unit)
    complete(people.starter, only_open(instance, "register"))
    review = only_open(instance, "review")
    assert review.assign_kind == AssignKind.ROLE and review.assignee_id is None
    notices = Notice.objects.filter(key=f"flow.task.{review.pk}.new")
    expected = _holders(review.unit_id, "reviewer")
    assert people.reviewer.pk in expected and people.reviewer2.pk not in expected
    assert sorted(n.recipient_id for n in notices) == sorted(expected)
    notice = notices.get(recipient=people.reviewer)
    assert (notice.title, notice.body, notice.url, notice.level, notice.read_at) == (
        f"新待办：{review.title}",
        review.name,
        review.get_absolute_url(),
        "info",
        None,
    )
    # Sent again with the same key (a retried action): nobody is notified twice.
    services._notify_new_task(review)
    assert notices.count() == len(expected)


def test_a_post_task_notifies_the_posts_active_holders(processes: Any, people: Any, cast: Any) -> None:
    unit = people.starter.primary_unit
    post = Post.objects.create(unit=unit, name="收发岗")
    for user in (people.colleague, people.reviewer2):
        PostAssignment.objects.create(user=user, post=post)
    people.reviewer2.is_active = False
    people.reviewer2.save(update_fields=["is_active"])
    instance = start(people.starter, "simple_approval", unit)
    task = only_open(instance, "register")
    task.pk = None
    task.spiff_task_id = uuid.uuid4()
    task.assign_kind, task.assignee_id, task.post = AssignKind.POST, None, post
    task.save(force_insert=True)
    services._notify_new_task(task)
    assert list(
        Notice.objects.filter(key=f"flow.task.{task.pk}.new").values_list("recipient_id", flat=True)
    ) == [people.colleague.pk]


def test_a_person_task_notifies_its_holder(processes: Any, people: Any) -> None:
    instance = start(people.starter, "simple_approval", people.starter.primary_unit)
    task = only_open(instance, "register")
    assert list(
        Notice.objects.filter(key=f"flow.task.{task.pk}.new").values_list("recipient_id", flat=True)
    ) == [people.starter.pk]


def test_a_failed_step_leaves_the_completed_todo_the_state_and_the_notices_as_they_were(
    processes: Any, people: Any
) -> None:
    instance = start(people.starter, "simple_approval", people.starter.primary_unit)
    task = only_open(instance, "register")
    before = ProcessInstance.objects.get(pk=instance.pk)
    notices, trail = Notice.objects.count(), AuditEvent.objects.count()

    def broken(instance: Any, event: str, task: Any) -> None:
        raise RuntimeError("business row refused")

    label = "flow.samplecase"
    saved = services._business_handlers[label]
    services.business_handler_register(label, broken)
    try:
        with pytest.raises(RuntimeError):
            complete(people.starter, task)
    finally:
        services.business_handler_register(label, saved)
    after = ProcessInstance.objects.get(pk=instance.pk)
    assert (after.revision, after.state, after.current_steps) == (
        before.revision,
        before.state,
        before.current_steps,
    )
    task.refresh_from_db()
    assert task.status == TaskStatus.OPEN and task.completed_at is None
    assert list(Task.objects.filter(instance=instance).values_list("step_id", flat=True)) == ["register"]
    assert (Notice.objects.count(), AuditEvent.objects.count()) == (notices, trail)
    assert SampleCase.objects.get(pk=instance.business_id).steps_done == 0
    # … and the step goes through once the business row accepts it.
    complete(people.starter, task)
    task.refresh_from_db()
    after = ProcessInstance.objects.get(pk=instance.pk)
    assert task.status == TaskStatus.COMPLETED and after.revision == before.revision + 1
    assert only_open(instance, "review").status == TaskStatus.OPEN
