"""Reads for processes and to-do items, and every access check on them.

The one rule: a task is reachable through `task_get_for_user`, which raises 404 — the same answer for a
task that does not exist and for one that is not the user's — so guessing ids tells nobody anything.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from django.db.models import Exists, OuterRef, Q, QuerySet
from django.http import Http404
from django.utils.translation import gettext as _

from zhengwu.core import access
from zhengwu.core.models import PostAssignment, UnitRole, User
from zhengwu.flow.models import (
    AssignKind,
    ClockStop,
    EventAction,
    InstanceEvent,
    ProcessDefinition,
    ProcessInstance,
    ReadItem,
    Task,
    TaskStatus,
)
from zhengwu.lib.rows import values_select


def user_post_ids(user: Any) -> frozenset[int]:
    cached = getattr(user, "_zw_post_ids", None)
    if cached is None:
        cached = frozenset(PostAssignment.objects.filter(user=user).values_list("post_id", flat=True))
        user._zw_post_ids = cached
    return cached


def _candidate_q(user: Any) -> Q:
    """Unclaimed post/role tasks the user may claim (签收)."""
    cond = Q(pk__in=[])
    for unit_id, roles in access.user_roles(user).items():
        cond |= Q(assign_kind=AssignKind.ROLE, unit_id=unit_id, role__in=sorted(roles))
    posts = user_post_ids(user)
    if posts:
        cond |= Q(assign_kind=AssignKind.POST, post_id__in=sorted(posts))
    return Q(assignee__isnull=True) & cond


def is_candidate(user: Any, task: Task) -> bool:
    """May claim: an open, unclaimed post or role task of the user's post or role in that unit."""
    if not access.is_staff_user(user) or task.assignee_id is not None or task.status != TaskStatus.OPEN:
        return False
    if task.assign_kind == AssignKind.ROLE:
        return access.has_unit_role(user, task.unit_id, task.role)
    if task.assign_kind == AssignKind.POST:
        return task.post_id in user_post_ids(user)
    return False


def may_hold(user: Any, task: Task) -> bool:
    """Holds the task's post or role in its unit (whether or not someone has claimed it)."""
    if task.assign_kind == AssignKind.ROLE:
        return access.has_unit_role(user, task.unit_id, task.role)
    if task.assign_kind == AssignKind.POST:
        return task.post_id in user_post_ids(user)
    return False


def is_holder(user: Any, task: Task) -> bool:
    return task.status == TaskStatus.OPEN and task.assignee_id == getattr(user, "pk", None)


def todos_for(user: Any) -> QuerySet[Task]:
    """待办: open tasks assigned to me, and unclaimed ones for my posts and roles."""
    if not access.is_staff_user(user):
        return Task.objects.none()
    return (
        Task.objects.filter(status=TaskStatus.OPEN)
        .filter(Q(assignee=user) | _candidate_q(user))
        .select_related("unit", "instance")
        .order_by("due_at", "started_at", "id")
    )


def done_for(user: Any) -> QuerySet[Task]:
    """已办: what I completed or sent back, newest first."""
    if not access.is_staff_user(user):
        return Task.objects.none()
    return (
        Task.objects.filter(completed_by=user, status__in=[TaskStatus.COMPLETED, TaskStatus.SENT_BACK])
        .select_related("unit", "instance")
        .order_by("-completed_at", "-id")
    )


def to_read_for(user: Any, *, unread_only: bool = True) -> QuerySet[ReadItem]:
    """待阅: items circulated to me (unread by default)."""
    if not access.is_staff_user(user):
        return ReadItem.objects.none()
    qs = ReadItem.objects.filter(recipient=user).select_related("instance", "sent_by")
    if unread_only:
        qs = qs.filter(read_at__isnull=True)
    return qs.order_by("-created_at", "-id")


def task_get_for_user(user: Any, task_id: Any, *, act: bool = False, case_reader: bool = False) -> Task:
    """The task if it is the user's; 404 otherwise (whether it exists or not).

    ``act=True`` (claim, complete, send back, transfer …): the open task's holder, or — while unclaimed —
    a holder of its post or role in its unit. Reading (``act=False``) also lets in whoever completed it,
    the one it was transferred or delegated away from, and staff of the task's own unit.
    ``case_reader=True`` (催办 from the case page): anyone who may read the task's case.
    """
    try:
        pk = int(task_id)
    except (TypeError, ValueError):
        raise Http404(_("待办事项不存在或无权访问")) from None
    if not access.is_staff_user(user):
        raise Http404(_("待办事项不存在或无权访问"))
    task = (
        Task.objects.select_related("unit", "assignee", "post", "instance", "instance__definition")
        .filter(pk=pk)
        .first()
    )
    if task is None:
        raise Http404(_("待办事项不存在或无权访问"))
    allowed = is_holder(user, task) or is_candidate(user, task)
    if not allowed and case_reader:
        allowed = access.is_system_admin(user) or (
            ProcessInstance.objects.filter(pk=task.instance_id).filter(instance_visible_q(user)).exists()
        )
    if not allowed and not act:
        allowed = user.pk in {task.completed_by_id, task.delegated_from_id, task.transferred_from_id} or (
            task.unit_id in access.user_unit_ids(user)
        )
    if not allowed:
        raise Http404(_("待办事项不存在或无权访问"))
    return task


def instance_visible_q(user: Any) -> Q:
    """Instances a staff member may read: their units', those they worked on or were sent to read."""
    unit_ids = sorted(access.user_unit_ids(user))
    worked = Task.objects.filter(instance=OuterRef("pk")).filter(
        Q(unit_id__in=unit_ids) | Q(assignee=user) | Q(completed_by=user)
    )
    reading = ReadItem.objects.filter(instance=OuterRef("pk"), recipient=user)
    cond = Q(unit_id__in=unit_ids) | Q(started_by=user) | Q(Exists(worked)) | Q(Exists(reading))
    supervised = access.supervised_units(user)
    if supervised.exists():
        cond |= Q(unit__in=supervised)
    return cond


def instance_get_for_user(user: Any, instance_id: Any) -> ProcessInstance:
    """The instance if the user may read it (see instance_visible_q; system admins read all); 404 otherwise."""
    try:
        pk = int(instance_id)
    except (TypeError, ValueError):
        raise Http404(_("流程实例不存在或无权访问")) from None
    if not access.is_staff_user(user):
        raise Http404(_("流程实例不存在或无权访问"))
    qs = ProcessInstance.objects.select_related("definition", "unit", "started_by").filter(pk=pk)
    if not access.is_system_admin(user):
        qs = qs.filter(instance_visible_q(user))
    instance = qs.first()
    if instance is None:
        raise Http404(_("流程实例不存在或无权访问"))
    return instance


def instances_for(user: Any) -> QuerySet[ProcessInstance]:
    if not access.is_staff_user(user):
        return ProcessInstance.objects.none()
    qs = ProcessInstance.objects.select_related("definition", "unit")
    if not access.is_system_admin(user):
        qs = qs.filter(instance_visible_q(user))
    return qs.order_by("-started_at", "-id")


def read_item_get_for_user(user: Any, item_id: Any) -> ReadItem:
    try:
        item = ReadItem.objects.select_related("instance").get(pk=int(item_id), recipient=user)
    except (ReadItem.DoesNotExist, TypeError, ValueError):
        raise Http404(_("待阅事项不存在或无权访问")) from None
    return item


def definitions_latest() -> list[ProcessDefinition]:
    """The newest version of every process key."""
    rows = ProcessDefinition.objects.defer("bpmn_xml", "dmn_files").order_by("key", "-version")
    seen: set[str] = set()
    out = []
    for row in rows:
        if row.key not in seen:
            seen.add(row.key)
            out.append(row)
    return out


def definition_latest(key: str) -> ProcessDefinition | None:
    return ProcessDefinition.objects.filter(key=key).order_by("-version").first()


def definition_get(definition_id: Any) -> ProcessDefinition:
    try:
        return ProcessDefinition.objects.get(pk=int(definition_id))
    except (ProcessDefinition.DoesNotExist, TypeError, ValueError):
        raise Http404(_("流程定义不存在")) from None


def task_candidates(task: Task) -> list[int]:
    """Who is told about a new or urged task: its holder, or every holder of its post / role."""
    if task.assignee_id:
        return [task.assignee_id]
    sql, params = task_holders_sql(task)
    return sorted(row[0] for row in values_select(sql, params))


def task_holders_sql(task: Task) -> tuple[str, list[Any]]:
    """A statement selecting the active holders of an unclaimed task's post or role (one column of
    distinct user ids), for ``task_candidates`` and to insert their notices with ``INSERT … SELECT``.
    Plain statements: this runs inside every step that opens a post or role task (see zhengwu.lib.rows)."""
    users = User._meta.db_table
    if task.assign_kind == AssignKind.POST and task.post_id:
        return (
            f"SELECT DISTINCT a.user_id FROM {PostAssignment._meta.db_table} a JOIN {users} u ON u.id = a.user_id"
            " WHERE a.post_id = %s AND u.is_active = %s",
            [task.post_id, True],
        )
    return (
        f"SELECT DISTINCT r.user_id FROM {UnitRole._meta.db_table} r JOIN {users} u ON u.id = r.user_id"
        " WHERE r.unit_id = %s AND r.role = %s AND u.is_active = %s",
        [task.unit_id, task.role, True],
    )


def unit_colleagues(unit_id: int, *, exclude: Any = None) -> list[User]:
    """Active staff of a unit (by post or role), for transfer and delegation choices."""
    qs = (
        User.objects.filter(is_active=True, kind="staff")
        .filter(Q(post_assignments__post__unit_id=unit_id) | Q(unit_roles__unit_id=unit_id))
        .distinct()
        .order_by("name", "id")
    )
    if exclude is not None:
        qs = qs.exclude(pk=getattr(exclude, "pk", exclude))
    return list(qs)


def colleagues_of(user: Any) -> list[User]:
    """Active staff sharing at least one unit with the user (not the user)."""
    unit_ids = sorted(access.user_unit_ids(user))
    return list(
        User.objects.filter(is_active=True, kind="staff")
        .filter(Q(post_assignments__post__unit_id__in=unit_ids) | Q(unit_roles__unit_id__in=unit_ids))
        .exclude(pk=user.pk)
        .distinct()
        .order_by("name", "id")
    )


def outcome_label(definition: ProcessDefinition, task: Task) -> str:
    """The chosen option's label for the task's outcome (同意 / 材料不齐全 …), or 退回."""
    if task.status == TaskStatus.SENT_BACK:
        return str(_("退回"))
    for spec in definition.step(task.step_id).get("fields", []):
        for value, label in spec.get("options", []):
            if value == task.outcome:
                return label
    return task.outcome


@dataclass
class HistoryEntry:
    at: Any
    actor_label: str
    step_name: str
    action: str
    action_label: str
    note: str
    task_id: int | None


def instance_history(instance: ProcessInstance) -> list[HistoryEntry]:
    """What happened, in order: the recorded events, and each step's completion read from its to-do row
    (a completion writes no separate event row; the row holds who, when and the opinion)."""
    entries = [
        HistoryEntry(e.at, e.actor_label, e.step_name, e.action, e.action_label, e.note, e.task_id)
        for e in InstanceEvent.objects.filter(instance=instance).order_by("at", "id")
    ]
    done = Task.objects.filter(instance=instance, status=TaskStatus.COMPLETED).select_related("completed_by")
    label = str(EventAction.COMPLETED.label)
    entries += [
        HistoryEntry(
            t.completed_at,
            str(t.completed_by) if t.completed_by_id else "",
            t.name,
            EventAction.COMPLETED,
            label,
            t.opinion,
            t.pk,
        )
        for t in done
    ]
    entries.sort(key=lambda e: e.at)
    return entries


def instance_tasks(instance: ProcessInstance) -> QuerySet[Task]:
    return instance.tasks.select_related(
        "unit", "assignee", "completed_by", "post", "delegated_from"
    ).order_by("started_at", "id")


def clock_stops_for_task(task: Task) -> QuerySet[ClockStop]:
    return ClockStop.objects.filter(Q(task=task) | Q(instance_id=task.instance_id)).order_by(
        "started_at", "id"
    )


def instance_progress(instance: ProcessInstance, *, workflow: Any = None) -> dict[str, Any]:
    """What the flowchart highlights: completed steps, current steps and who holds them."""
    from zhengwu.flow import engine

    wf = workflow or engine.workflow_load(instance.definition, instance.state, instance.serializer_version)
    done, current = engine.progress(wf)
    holders: dict[str, list[str]] = {}
    for task in instance.tasks.filter(status=TaskStatus.OPEN).select_related("assignee", "unit", "post"):
        label = f"{task.unit.display_name} · {task.assignee.name}" if task.assignee_id else task.holder_label
        holders.setdefault(task.step_id, []).append(label)
    return {"done": done, "current": current, "holders": holders}
