"""Small helpers shared by the flow tests."""

from __future__ import annotations

from typing import Any

from zhengwu.flow import services
from zhengwu.flow.models import SampleCase, Task, TaskStatus


def new_case(unit: Any, title: str = "测试办件") -> SampleCase:
    return SampleCase.objects.create(title=title, applicant="张三", unit=unit)


def start(
    actor: Any, key: str, unit: Any, *, title: str = "测试办件", units: dict[str, int] | None = None
) -> Any:
    case = new_case(unit, title)
    return services.process_start(actor=actor, key=key, business=case, unit=unit, title=title, units=units)


def open_tasks(instance: Any, step: str | None = None) -> list[Task]:
    qs = Task.objects.filter(instance=instance, status=TaskStatus.OPEN).order_by("id")
    if step:
        qs = qs.filter(step_id=step)
    return list(qs)


def only_open(instance: Any, step: str) -> Task:
    rows = open_tasks(instance, step)
    assert len(rows) == 1, (
        f"expected one open {step}, got {[(t.step_id, t.assignee_id) for t in open_tasks(instance)]}"
    )
    return rows[0]


def complete(actor: Any, task: Task, data: dict[str, Any] | None = None, opinion: str = "同意") -> Task:
    return services.task_complete(actor=actor, task=task, data=data or {}, opinion=opinion)
