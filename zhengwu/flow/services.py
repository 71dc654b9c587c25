"""Writes for processes and to-do items. Each function is one transaction: the engine step, the
instance's serialised state, the to-do rows, the business object's change, the trail record and the
notices (sent on commit) all commit together or not at all.

Locking: the instance row first (``select_for_update``), then its task rows — always in that order, so
two people acting on the same instance queue instead of deadlocking, and a stale page cannot complete a
task someone else already completed.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Iterable, Sequence
from typing import Any

from django.contrib.contenttypes.models import ContentType
from django.db import models, transaction
from django.db.models import F, OuterRef, Q, Subquery
from django.db.models.signals import post_save
from django.dispatch import receiver
from django.utils import timezone
from django.utils.translation import gettext as _

from zhengwu.core import access
from zhengwu.core.audit import audit_record
from zhengwu.core.models import AccountKind, Post, Unit, User
from zhengwu.flow import engine, selectors, timing
from zhengwu.flow.engine import FlowError
from zhengwu.flow.forms import clean_step_data
from zhengwu.flow.models import (
    AssignKind,
    ClockStop,
    Delegation,
    InstanceEvent,
    InstanceStatus,
    ProcessDefinition,
    ProcessInstance,
    ReadItem,
    SampleCase,
    SampleCaseStatus,
    SignMode,
    Task,
    TaskStatus,
)
from zhengwu.lib.gmcrypto import sm3_hex
from zhengwu.lib.rows import row_insert, row_update, rows_select, rows_update

URGE_INTERVAL = dt.timedelta(minutes=30)
MAX_DELEGATION_DAYS = 366
MAX_REASON = 500

# Business objects follow their process through a handler per model ("app_label.model"), called inside
# the step's transaction: handler(instance, event, task) with event in started / step / completed / cancelled.
BusinessHandler = Callable[[ProcessInstance, str, Task | None], None]
_business_handlers: dict[str, BusinessHandler] = {}


def business_handler_register(model_label: str, handler: BusinessHandler) -> None:
    _business_handlers[model_label.lower()] = handler


# A business app may refuse a step before it runs (e.g. a step that needs choices only its own page
# collects): guard(instance, task, process_data) raises FlowError with the reason.
BusinessGuard = Callable[[ProcessInstance, Task, dict[str, Any]], None]
_business_guards: dict[str, BusinessGuard] = {}


def business_guard_register(model_label: str, guard: BusinessGuard) -> None:
    _business_guards[model_label.lower()] = guard


def _business_guard(instance: ProcessInstance, task: Task, process_data: dict[str, Any]) -> None:
    guard = _business_guards.get(f"{instance.business_type.app_label}.{instance.business_type.model}")
    if guard is not None:
        guard(instance, task, process_data)


def _business_changed(instance: ProcessInstance, event: str, task: Task | None) -> None:
    handler = _business_handlers.get(f"{instance.business_type.app_label}.{instance.business_type.model}")
    if handler is not None:
        handler(instance, event, task)


def _notify(
    *,
    recipients: Iterable[Any],
    title: str,
    body: str = "",
    url: str = "",
    key: str = "",
    urgent: bool = False,
) -> None:
    ids = sorted({getattr(r, "pk", r) for r in recipients if r})
    if not ids:
        return
    try:
        from zhengwu.notify.services import notification_send
    except ImportError:  # the foundation's in-app notices
        from zhengwu.notify.services import notice_send

        notice_send(recipients=ids, title=title, body=body, url=url, level="warning" if urgent else "info")
        return
    notification_send(
        recipients=ids,
        title=title,
        body=body,
        url=url,
        key=key,
        urgent=urgent,
        level="warning" if urgent else "info",
    )


def _notify_new_task(row: Task) -> None:
    """新待办 to the task's holder, or to every holder of its post / role: for those, one
    ``INSERT … SELECT`` from the holders instead of reading them, then inserting their notices."""
    title = _("新待办：%(title)s") % {"title": row.title}
    url, key = row.get_absolute_url(), f"flow.task.{row.pk}.new"
    if not row.assignee_id:
        try:
            from zhengwu.notify.services import notices_send_select
        except ImportError:  # the foundation's in-app notices
            pass
        else:
            sql, params = selectors.task_holders_sql(row)
            notices_send_select(recipients=sql, params=params, title=title, body=row.name, url=url, key=key)
            return
    _notify(recipients=selectors.task_candidates(row), title=title, body=row.name, url=url, key=key)


def _user_id(value: User | int) -> int:
    return int(value.pk if isinstance(value, User) else value)


def _require(cond: bool, message: str) -> None:
    if not cond:
        raise PermissionError(message)


def _event(
    instance: ProcessInstance,
    action: str,
    actor: Any,
    *,
    task: Task | None = None,
    note: str = "",
    step: str = "",
) -> None:
    row_insert(
        InstanceEvent(
            instance=instance,
            task=task,
            action=action,
            step_name=step or (task.name if task else ""),
            actor=actor if getattr(actor, "pk", None) else None,
            actor_label=str(actor)[:128] if actor else "",
            note=note,
        )
    )


# --- Definitions ------------------------------------------------------------------------------------


def definition_checksum(bpmn_xml: str, dmn_files: dict[str, str]) -> str:
    parts = [bpmn_xml] + [f"\n--dmn {name}\n{dmn_files[name]}" for name in sorted(dmn_files)]
    return sm3_hex("".join(parts))


@transaction.atomic
def definition_publish(
    *,
    actor: Any,
    bpmn_xml: str,
    dmn_files: dict[str, str] | None = None,
    filename: str = "",
    source: str = "upload",
    from_command: bool = False,
) -> tuple[ProcessDefinition, bool]:
    """Publish a BPMN file as the next version of its process (or return the same content's version).

    Only platform system administrators publish: BPMN scripts and conditions run as Python on the
    server. The ``load_processes`` command (operator shell access) publishes the repository's files.
    Returns (definition, created).
    """
    _require(
        access.is_system_admin(actor) or (from_command and actor is None),
        _("只有平台系统管理员可以发布流程定义"),
    )
    parsed = engine.definition_parse(bpmn_xml, dmn_files or {})
    checksum = definition_checksum(bpmn_xml, parsed.dmn_files)
    latest = ProcessDefinition.objects.select_for_update().filter(key=parsed.key).order_by("-version").first()
    if latest is not None and latest.checksum == checksum:
        return latest, False
    definition = ProcessDefinition.objects.create(
        key=parsed.key,
        version=(latest.version + 1) if latest else 1,
        name=parsed.name,
        bpmn_xml=bpmn_xml,
        dmn_files=parsed.dmn_files,
        filename=filename[:200],
        checksum=checksum,
        steps=parsed.steps,
        properties=parsed.properties,
        loaded_by=actor,
        source=source,
    )
    audit_record(
        action="flow.definition.publish",
        obj=definition,
        after={
            "key": definition.key,
            "version": definition.version,
            "checksum": checksum,
            "dmn": sorted(parsed.dmn_files),
            "source": source,
        },
        actor=actor,
    )
    return definition, True


# --- Assignment -------------------------------------------------------------------------------------


def _belongs(user_id: int, unit_id: int) -> bool:
    from zhengwu.core.models import PostAssignment, UnitRole

    return (
        PostAssignment.objects.filter(user_id=user_id, post__unit_id=unit_id).exists()
        or UnitRole.objects.filter(user_id=user_id, unit_id=unit_id).exists()
    )


def _active_delegation(user_id: int, on: dt.date) -> Delegation | None:
    return (
        Delegation.objects.filter(
            delegator_id=user_id, starts_on__lte=on, ends_on__gte=on, cancelled_at__isnull=True
        )
        .select_related("delegate")
        .order_by("-created_at")
        .first()
    )


def _resolve_unit(instance: ProcessInstance, step: dict[str, Any], data: dict[str, Any]) -> int:
    key = step["props"].get("unit")
    if not key:
        return instance.unit_id
    unit_id = (data.get("units") or {}).get(key)
    if not isinstance(unit_id, int):
        raise FlowError(
            _("流程数据中没有“%(key)s”对应的单位（环节：%(step)s）") % {"key": key, "step": step["name"]}
        )
    return unit_id


def _task_create(
    instance: ProcessInstance,
    spiff_task: Any,
    now: dt.datetime,
    *,
    case_stops: list[ClockStop],
    returned: frozenset[Any] = frozenset(),
) -> Task:
    """The to-do row for a ready user task: where it lands, for whom, and the time it is held to.

    ``case_stops`` are the instance's open clock stops (read once per engine step); ``returned`` the Spiff
    task ids a 退回 has just reopened (those go back to whoever completed them).
    """
    definition = instance.definition
    sid = engine.step_id(spiff_task)
    step = definition.step(sid)
    props = step["props"]
    data = spiff_task.data
    unit_id = _resolve_unit(instance, step, data)
    row = Task(
        instance=instance,
        spiff_task_id=spiff_task.id,
        step_id=sid,
        name=step["name"][:128],
        title=f"{step['name']}：{instance.title}"[:300],
        unit_id=unit_id,
        sign_mode=step.get("sign_mode") or SignMode.SINGLE,
        started_at=now,
        limit=props.get("limit") or props.get("promised_limit") or props.get("legal_limit") or "",
        legal_limit=props.get("legal_limit", ""),
        promised_limit=props.get("promised_limit", ""),
    )
    if props.get("limit_from"):
        # A limit chosen at run time (e.g. per department at 批办), checked like a published one.
        text = engine.data_value(data, props["limit_from"])
        if not isinstance(text, str) or timing.parse_limit(text) is None:
            raise FlowError(
                _("环节“%(step)s”的时限变量“%(v)s”没有有效的值")
                % {"step": step["name"], "v": props["limit_from"]}
            )
        row.limit = text
    person: int | None = None
    if spiff_task.id in returned:
        # 退回: a step sent back to goes to whoever completed it before (if still of that unit).
        previous = (
            Task.objects.filter(instance=instance, spiff_task_id=spiff_task.id, status=TaskStatus.COMPLETED)
            .order_by("-completed_at", "-id")
            .values_list("completed_by_id", "unit_id")
            .first()
        )
        if previous is not None and previous[0] and previous[1] == unit_id:
            person = previous[0]
    if person is None and props.get("assignee"):
        value = engine.data_value(data, props["assignee"])
        if isinstance(value, bool) or not isinstance(value, int):
            raise FlowError(
                _("环节“%(step)s”的办理人变量“%(v)s”没有值") % {"step": step["name"], "v": props["assignee"]}
            )
        person = value
    if person is not None:
        # One query: the person is active staff of the unit, and whom they delegate to today (委托), if anyone.
        today = timezone.localdate(now)
        delegate = (
            Delegation.objects.filter(
                delegator_id=OuterRef("pk"),
                starts_on__lte=today,
                ends_on__gte=today,
                cancelled_at__isnull=True,
            )
            .order_by("-created_at")
            .values("delegate_id")[:1]
        )
        member = Q(post_assignments__post__unit_id=unit_id) | Q(unit_roles__unit_id=unit_id)
        found = list(
            User.objects.filter(member, pk=person, is_active=True, kind=AccountKind.STAFF)
            .annotate(delegate=Subquery(delegate))
            .values_list("delegate", flat=True)[:1]
        )
        if not found:
            raise FlowError(_("环节“%(step)s”的办理人不属于办理单位或已停用") % {"step": step["name"]})
        row.assign_kind = AssignKind.PERSON
        row.assignee_id = person
        if found[0] is not None:
            row.assignee_id = found[0]
            row.delegated_from_id = person
    elif props.get("assignee_post"):
        post = Post.objects.filter(unit_id=unit_id, name=props["assignee_post"]).first()
        if post is None:
            raise FlowError(
                _("办理单位没有岗位“%(post)s”（环节：%(step)s）")
                % {"post": props["assignee_post"], "step": step["name"]}
            )
        row.assign_kind = AssignKind.POST
        row.post = post
    else:
        row.assign_kind = AssignKind.ROLE
        row.role = props.get("assignee_role") or "handler"
    stops: list[ClockStop] = list(case_stops)
    own_stop = None
    if props.get("clock_stop"):
        # A step that stops the clock (补正 …): the case's clock and the step's own stand still while it is open.
        own_stop = ClockStop(
            instance=instance, reason=props["clock_stop"], note=step["name"], started_at=now, automatic=True
        )
        stops.append(own_stop)
    row.clock_stopped = bool(stops)
    if row.limit or row.legal_limit or row.promised_limit:
        timing.task_apply_timing(
            row,
            warning_before=props.get("warning_before") or definition.properties.get("warning_before", ""),
            stops=timing.periods(stops, not_before=row.started_at),
            now=now,
            red_after=props.get("red_after") or definition.properties.get("red_after", ""),
        )
    row_insert(row)
    if own_stop is not None:
        own_stop.task = row
        own_stop.save(force_insert=True)
    return row


# --- Running ------------------------------------------------------------------------------------------


_definitions: dict[int, ProcessDefinition] = {}


@receiver(post_save, sender=ProcessDefinition)
def _definition_saved(sender: Any, instance: ProcessDefinition, **kwargs: Any) -> None:
    # Rows are never changed once published; a save is a new row (whose id a rolled-back test may reuse).
    _definitions.pop(instance.pk, None)


def definition_cached(definition_id: int) -> ProcessDefinition:
    """A definition row from the process's memory: published versions never change, so one read lasts."""
    definition = _definitions.get(definition_id)
    if definition is None:
        definition = ProcessDefinition.objects.get(pk=definition_id)
        _definitions[definition_id] = definition
    return definition


# The rows a step reads and writes go through zhengwu.lib.rows: the same SQL the ORM would send, built
# once instead of at every step (see docs/decisions/0005-process-engine.md, "Speed").


# Read with the instance lock, so that a step opening new to-dos reads the case's stops only when its
# clock is stopped (the usual case saves a statement). Case stops are opened only by clock_stop_start,
# which never runs between a lock and the engine step of the same service call.
def _case_clock_stopped(instance_id: str) -> dict[str, str]:
    return {
        "case_clock_stopped": (
            f"EXISTS (SELECT 1 FROM {ClockStop._meta.db_table} s"
            f" WHERE s.instance_id = {instance_id} AND s.task_id IS NULL AND s.ended_at IS NULL)"
        )
    }


_CASE_CLOCK_STOPPED = _case_clock_stopped("t.id")  # the instance is the row ``t``
_TASK_CASE_CLOCK_STOPPED = _case_clock_stopped("t.instance_id")  # read with a task ``t``


def _instance_ready(instance: ProcessInstance) -> ProcessInstance:
    instance.definition = definition_cached(instance.definition_id)
    # Content types and definitions are cached in-process; neither changes under a running instance.
    instance.business_type = ContentType.objects.get_for_id(instance.business_type_id)
    return instance


def _lock_instance(instance_id: int) -> ProcessInstance:
    found = rows_select(ProcessInstance, "t.id = %s", [instance_id], extra=_CASE_CLOCK_STOPPED, lock=True)
    if not found:
        raise ProcessInstance.DoesNotExist(f"process instance {instance_id} does not exist")
    return _instance_ready(found[0])


def _lock_task(task: Task | int) -> tuple[Task, ProcessInstance]:
    """Lock the task's instance, then the task (always in this order), in one statement: PostgreSQL
    locks the rows of ``FOR UPDATE OF r1, t`` in that order, the instance (``r1``) first."""
    pk = task.pk if isinstance(task, Task) else task
    found = rows_select(
        Task,
        "t.id = %s",
        [pk],
        related=["instance", "unit"],
        extra=_TASK_CASE_CLOCK_STOPPED,
        lock=True,
        lock_related=["instance"],
    )
    if not found:
        raise FlowError(_("待办事项不存在"))
    locked = found[0]
    instance = _instance_ready(locked.instance)
    instance.case_clock_stopped = locked.case_clock_stopped  # type: ignore[attr-defined]
    return locked, instance


def _open_rows(instance: ProcessInstance) -> list[Task]:
    """The instance's open to-do rows, locked (the instance is already locked), newest first."""
    return rows_select(
        Task,
        "t.instance_id = %s AND t.status = %s ORDER BY t.started_at DESC, t.id DESC",
        [instance.pk, TaskStatus.OPEN.value],
        lock=True,
    )


def _load(instance: ProcessInstance) -> Any:
    return engine.workflow_load(instance.definition, instance.state, instance.serializer_version)


def _close_auto_stops(task: Task, actor: Any, now: dt.datetime) -> bool:
    """End the clock stop a step made by itself (补正 …) when the step closes; True if one ended."""
    from zhengwu.workdays.calendar import StoppedPeriod, stopped_working_days

    if not task.instance.definition.step(task.step_id)["props"].get("clock_stop"):
        return False
    closed = False
    for stop in ClockStop.objects.filter(task=task, ended_at__isnull=True, automatic=True):
        stop.ended_at = now
        stop.ended_by = actor if getattr(actor, "pk", None) else None
        stop.stopped_working_days = stopped_working_days(
            StoppedPeriod(stop.started_at, now, stop.reason), now=now
        )
        stop.save(update_fields=["ended_at", "ended_by", "stopped_working_days"])
        closed = True
    return closed


def _advance(
    instance: ProcessInstance,
    workflow: Any,
    actor: Any,
    *,
    now: dt.datetime,
    finished: Task | None = None,
    finished_fields: Sequence[str] = (),
    returned: frozenset[Any] = frozenset(),
    open_before: set[Any] | None = None,
) -> tuple[list[Task], list[Task]]:
    """Run the engine, then make the to-do rows match the ready user tasks; persist the state.

    Returns (new tasks, tasks closed because the engine cancelled them — 或签 siblings, branches dropped
    by a return). Everything happens in the caller's transaction, under the instance lock.

    The open to-do rows are always exactly the ready user tasks of the stored state (both change only
    here, together). A caller that read the ready tasks before its step passes them as ``open_before``,
    which saves reading the open rows back unless the engine closed some of them.

    ``finished_fields``: the fields of ``finished`` (the task just completed) still to be written. They are
    written with the state (one statement on PostgreSQL) unless this step reads its open rows back, which
    must not find the finished one open: then at once.
    """
    engine.run_engine(workflow)
    ready = {t.id: t for t in engine.ready_user_tasks(workflow)}
    if (
        finished is not None
        and finished_fields
        and (
            open_before is None
            or set(open_before) - {finished.spiff_task_id} - set(ready)  # the open rows are read back
            or finished.spiff_task_id in ready
        )
    ):
        row_update(finished, finished_fields)
        finished_fields = ()
    if open_before is None:
        open_rows = _open_rows(instance)
    else:
        still_open = set(open_before) - ({finished.spiff_task_id} if finished is not None else set())
        gone = still_open - set(ready)
        open_rows = _open_rows(instance) if gone else []
        if not gone:
            known_ids = still_open
    closed: list[Task] = []
    stops_changed = finished is not None and _close_auto_stops(finished, actor, now)
    for row in open_rows:
        if row.spiff_task_id not in ready:
            row.instance = instance
            row.status = TaskStatus.CANCELLED
            row.completed_at = now
            row.clock_stopped = False
            row_update(row, ["status", "completed_at", "clock_stopped"])
            stops_changed = _close_auto_stops(row, actor, now) or stops_changed
            closed.append(row)
    known = {row.spiff_task_id for row in open_rows} if open_before is None or open_rows else known_ids
    fresh = [t for tid, t in ready.items() if tid not in known]
    created: list[Task] = []
    if fresh:
        case_stops = (
            rows_select(
                ClockStop,
                "t.instance_id = %s AND t.task_id IS NULL AND t.ended_at IS NULL ORDER BY t.started_at, t.id",
                [instance.pk],
            )
            if getattr(instance, "case_clock_stopped", True)
            else []
        )
        created = [_task_create(instance, t, now, case_stops=case_stops, returned=returned) for t in fresh]
        stops_changed = stops_changed or any(
            instance.definition.step(row.step_id)["props"].get("clock_stop") for row in created
        )

    names = list(dict.fromkeys(instance.definition.step(engine.step_id(t))["name"] for t in ready.values()))
    instance.current_steps = "、".join(names)[:200]
    fields = ["state", "serializer_version", "revision", "current_steps", "updated_at"]
    if workflow.completed and instance.status == InstanceStatus.RUNNING:
        instance.status = InstanceStatus.COMPLETED
        instance.ended_at = now
        fields += ["status", "ended_at"]
    if stops_changed:
        _instance_recompute(instance, now=now)
        fields += ["legal_due_at", "promised_due_at", "warning_at", "red_at"]
    # BPMN timers fire only when refreshed: zhengwu.flow.deadlines refreshes the instance at this moment.
    instance.timer_due_at = (
        engine.timer_next_at(workflow, now=now) if instance.status == InstanceStatus.RUNNING else None
    )
    fields.append("timer_due_at")
    instance.state = engine.workflow_state(workflow)
    instance.serializer_version = engine.CURRENT_VERSION
    instance.revision += 1
    instance.updated_at = now
    if finished is not None and finished_fields:
        rows_update(finished, finished_fields, instance, fields)
    else:
        row_update(instance, fields)
    if stops_changed:
        _tasks_recompute(instance, now=now)

    for row in created:
        _notify_new_task(row)
        if row.delegated_from_id:
            _event(instance, "delegated", None, task=row, note=_("委托办理"))
    if instance.status == InstanceStatus.COMPLETED and "status" in fields:
        _event(instance, "finished", actor, step=_("办结"))
        # The case page is for staff; a public applicant (依申请公开 …) hears from the business app's
        # own notice, which links to their account.
        if User.objects.filter(pk=instance.started_by_id or 0, kind=AccountKind.STAFF).exists():
            _notify(
                recipients=[instance.started_by_id],
                title=_("已办结：%(title)s") % {"title": instance.title},
                url=instance.get_absolute_url(),
                key=f"flow.instance.{instance.pk}.completed",
            )
    return created, closed


def _instance_recompute(instance: ProcessInstance, *, now: dt.datetime | None = None) -> None:
    stops = ClockStop.objects.filter(instance=instance)
    timing.instance_apply_timing(instance, stops=timing.periods(stops), now=now)


def _tasks_recompute(instance: ProcessInstance, *, now: dt.datetime | None = None) -> None:
    """Recompute the due dates of the instance's open tasks after a clock stopped or restarted."""
    warning_default = instance.definition.properties.get("warning_before", "")
    instance_stops = list(ClockStop.objects.filter(instance=instance))
    for row in Task.objects.select_for_update().filter(instance=instance, status=TaskStatus.OPEN):
        _task_recompute(row, instance, instance_stops, warning_default, now)


def _task_recompute(
    row: Task, instance: ProcessInstance, instance_stops: list[ClockStop], warning_default: str, now: Any
) -> None:
    own = list(ClockStop.objects.filter(task=row, instance__isnull=True))
    stops = {s.pk: s for s in [*instance_stops, *own]}.values()
    step = instance.definition.step(row.step_id)
    timing.task_apply_timing(
        row,
        warning_before=step["props"].get("warning_before") or warning_default,
        stops=timing.periods(sorted(stops, key=lambda s: s.started_at), not_before=row.started_at),
        now=now,
        red_after=step["props"].get("red_after") or instance.definition.properties.get("red_after", ""),
    )
    row.clock_stopped = any(s.ended_at is None for s in stops)
    row.save(
        update_fields=["due_at", "legal_due_at", "promised_due_at", "warning_at", "red_at", "clock_stopped"]
    )


@transaction.atomic
def process_start(
    *,
    actor: Any,
    key: str,
    business: models.Model,
    unit: Unit,
    title: str,
    units: dict[str, int] | None = None,
    data: dict[str, Any] | None = None,
    applicant: bool = False,
) -> ProcessInstance:
    """Start the newest version of process ``key`` for a business object, led by ``unit``.

    ``units`` names the other units the process routes to (dept_1 …); ``lead`` is always ``unit``.
    ``applicant``: a public account's own application (依申请公开 …) starts its process itself, so the
    statutory clock runs from the moment it arrives; its first steps land in the unit's to-dos.
    """
    if applicant:
        _require(
            bool(actor and actor.is_authenticated and actor.is_active and actor.kind != AccountKind.STAFF),
            _("只有公众账号可以提交申请"),
        )
    else:
        _require(access.is_staff_user(actor), _("只有工作人员可以发起流程"))
        _require(access.can_view_unit_work(actor, unit), _("只能以本单位名义发起流程"))
    definition = selectors.definition_latest(key)
    if definition is None:
        raise FlowError(_("流程“%(key)s”尚未发布") % {"key": key})
    title = title.strip()
    if not title or len(title) > 200:
        raise FlowError(_("标题不能为空，且不超过 200 字"))
    mapping = {"lead": unit.pk, **(units or {})}
    mapping["lead"] = unit.pk
    found = set(Unit.objects.filter(pk__in=mapping.values(), is_active=True).values_list("pk", flat=True))
    missing = [k for k, v in mapping.items() if v not in found]
    if missing:
        raise FlowError(_("办理单位不存在或已停用：%(keys)s") % {"keys": ", ".join(missing)})
    business_type = ContentType.objects.get_for_model(business)
    now = timezone.now()
    process_data = {
        **(data or {}),
        "units": mapping,
        "starter": actor.pk,
        "title": title,
        "business": {"type": business_type.natural_key(), "id": str(business.pk)},
    }
    workflow = engine.workflow_new(definition, process_data)
    instance = ProcessInstance(
        definition=definition,
        business_type=business_type,
        business_id=str(business.pk),
        title=title,
        unit=unit,
        started_by=actor,
        started_at=now,
        updated_at=now,
        legal_limit=definition.properties.get("legal_limit", ""),
        promised_limit=definition.properties.get("promised_limit", ""),
        serializer_version=engine.CURRENT_VERSION,
    )
    timing.instance_apply_timing(instance, stops=[], now=now)
    row_insert(instance)
    _event(instance, "started", actor, step=_("发起"))
    created, _closed = _advance(instance, workflow, actor, now=now)
    _business_changed(instance, "started", None)
    audit_record(
        action="flow.instance.start",
        obj=instance,
        after={
            "definition": f"{definition.key} v{definition.version}",
            "business": f"{business_type.app_label}.{business_type.model}:{business.pk}",
            "units": mapping,
            "next": [t.name for t in created],
        },
        actor=actor,
        unit=unit,
    )
    return instance


def _ensure_holder(actor: Any, task: Task, now: dt.datetime) -> list[str]:
    """The actor holds the task, or may claim it (then it is claimed now, unsaved: the changed fields are
    returned for the caller's one save)."""
    if task.status != TaskStatus.OPEN:
        raise FlowError(_("该事项已办理或已关闭，不能再操作"))
    if task.assignee_id == actor.pk:
        return []
    if task.assignee_id is None and selectors.is_candidate(actor, task):
        task.assignee = actor
        task.claimed_at = now
        return ["assignee", "claimed_at"]
    if task.assignee_id is not None and selectors.may_hold(actor, task):
        raise FlowError(_("该事项已由%(name)s签收") % {"name": task.assignee.name})
    raise PermissionError(_("您不是该事项的办理人"))


@transaction.atomic
def task_claim(*, actor: Any, task: Task) -> Task:
    """签收任务: take an unclaimed post or role task; from now on only you hold it."""
    task, instance = _lock_task(task)
    now = timezone.now()
    if task.status != TaskStatus.OPEN:
        raise FlowError(_("该事项已办理或已关闭，不能再签收"))
    if task.assignee_id is not None:
        if task.assignee_id == actor.pk:
            raise FlowError(_("您已签收该事项"))
        _require(selectors.may_hold(actor, task), _("您不能签收该事项"))
        raise FlowError(_("该事项已由%(name)s签收") % {"name": task.assignee.name})
    _require(selectors.is_candidate(actor, task), _("您不能签收该事项"))
    task.assignee = actor
    task.claimed_at = now
    task.save(update_fields=["assignee", "claimed_at"])
    _event(instance, "claimed", actor, task=task)
    audit_record(
        action="flow.task.claim", obj=task, after={"assignee": actor.pk}, actor=actor, unit=task.unit
    )
    others = [uid for uid in selectors.task_candidates(task) if uid != actor.pk]
    _notify(
        recipients=others,
        title=_("已由%(name)s签收：%(title)s") % {"name": actor.name, "title": task.title},
        url=instance.get_absolute_url(),
        key=f"flow.task.{task.pk}.claimed",
    )
    return task


@transaction.atomic
def task_complete(
    *,
    actor: Any,
    task: Task,
    data: dict[str, Any] | None = None,
    opinion: str = "",
    process_data: dict[str, Any] | None = None,
) -> Task:
    """Complete a task with its form (办理); an unclaimed post/role task is claimed on the way.

    ``process_data`` is set by a business service, never from a form: variables its own page collected
    and checked (the departments and limits chosen at 批办 …); it may not overwrite the step's fields.
    """
    task, instance = _lock_task(task)
    now = timezone.now()
    claimed = _ensure_holder(actor, task, now)
    step = instance.definition.step(task.step_id)
    cleaned = clean_step_data(step, data or {}, opinion)
    extra = dict(process_data or {})
    clash = set(extra) & (set(cleaned) | engine.RESERVED_FIELDS)
    if clash:
        raise FlowError(_("流程变量不能覆盖表单字段或保留名：%(f)s") % {"f": ", ".join(sorted(clash))})
    _business_guard(instance, task, extra)
    cleaned_all = {**cleaned, **extra}
    workflow = _load(instance)
    open_before = {t.id for t in engine.ready_user_tasks(workflow)}
    spiff_task = engine.task_by_id(workflow, task.spiff_task_id)
    if spiff_task is None or not spiff_task.task_spec.manual or spiff_task.state != engine.TaskState.READY:
        raise FlowError(_("该事项已不在办理中，请刷新页面"))
    spiff_task.set_data(**cleaned_all)
    try:
        spiff_task.run()
    except engine.SpiffWorkflowException as exc:
        raise FlowError(_("流程执行出错：%(err)s") % {"err": exc}) from exc
    task.status = TaskStatus.COMPLETED
    task.completed_at = now
    task.completed_by = actor
    task.opinion = opinion.strip()
    task.form_data = cleaned
    choice = next((f["id"] for f in step.get("fields", []) if f["type"] == "choice"), None)
    task.outcome = str(cleaned.get(choice) or "")[:32] if choice else ""
    task.clock_stopped = False
    # Written with the state by _advance. The history shows this completion from the task row itself
    # (no separate event row is written).
    created, closed = _advance(
        instance,
        workflow,
        actor,
        now=now,
        finished=task,
        finished_fields=[
            *claimed,
            "status",
            "completed_at",
            "completed_by",
            "opinion",
            "form_data",
            "outcome",
            "clock_stopped",
        ],
        open_before=open_before,
    )
    _business_changed(instance, "step", task)
    audit_record(
        action="flow.task.complete",
        obj=task,
        after={
            "instance": instance.pk,
            "step": task.step_id,
            "outcome": task.outcome,
            "next": [t.name for t in created],
            "closed": [t.pk for t in closed],
        },
        actor=actor,
        unit=task.unit,
    )
    if instance.status == InstanceStatus.COMPLETED:
        _business_changed(instance, "completed", task)
    return task


def send_back_targets(task: Task) -> list[tuple[str, str]]:
    """Where a task may be sent back to (退回): earlier completed user steps on its path."""
    instance = task.instance
    workflow = _load(instance)
    spiff_task = engine.task_by_id(workflow, task.spiff_task_id)
    if spiff_task is None:
        return []
    return [
        (str(t.id), instance.definition.step(engine.step_id(t))["name"])
        for t in engine.returnable_steps(workflow, spiff_task)
    ]


@transaction.atomic
def task_send_back(*, actor: Any, task: Task, target: str, reason: str) -> Task:
    """退回: return the case to an earlier step, with a reason; branches opened since then are closed."""
    reason = (reason or "").strip()
    if not reason:
        raise FlowError(_("请填写退回理由"))
    if len(reason) > MAX_REASON:
        raise FlowError(_("退回理由不能超过 %(n)d 字") % {"n": MAX_REASON})
    task, instance = _lock_task(task)
    now = timezone.now()
    claimed = _ensure_holder(actor, task, now)
    workflow = _load(instance)
    spiff_task = engine.task_by_id(workflow, task.spiff_task_id)
    if spiff_task is None or spiff_task.state != engine.TaskState.READY:
        raise FlowError(_("该事项已不在办理中，请刷新页面"))
    targets = {str(t.id): t for t in engine.returnable_steps(workflow, spiff_task)}
    goal = targets.get(str(target))
    if goal is None:
        raise FlowError(_("不能退回到所选环节"))
    goal_name = instance.definition.step(engine.step_id(goal))["name"]
    task.status = TaskStatus.SENT_BACK
    task.completed_at = now
    task.completed_by = actor
    task.opinion = reason
    task.outcome = "sent_back"
    task.clock_stopped = False
    task.save(
        update_fields=[
            *claimed,
            "status",
            "completed_at",
            "completed_by",
            "opinion",
            "outcome",
            "clock_stopped",
        ]
    )
    workflow.reset_from_task_id(goal.id)
    _event(
        instance,
        "sent_back",
        actor,
        task=task,
        note=_("退回到“%(step)s”：%(reason)s") % {"step": goal_name, "reason": reason},
    )
    created, closed = _advance(
        instance, workflow, actor, now=now, finished=task, returned=frozenset({goal.id})
    )
    _business_changed(instance, "sent_back", task)
    audit_record(
        action="flow.task.send_back",
        obj=task,
        after={
            "instance": instance.pk,
            "to": engine.step_id(goal),
            "reason": reason,
            "closed": [t.pk for t in closed],
        },
        actor=actor,
        unit=task.unit,
    )
    for row in created:
        _notify(
            recipients=selectors.task_candidates(row),
            title=_("退回：%(title)s") % {"title": row.title},
            body=reason,
            url=row.get_absolute_url(),
            key=f"flow.task.{row.pk}.returned",
        )
    return task


@transaction.atomic
def task_transfer(*, actor: Any, task: Task, to_user: User | int, reason: str = "") -> Task:
    """转办: hand a task you hold to another person of the same unit."""
    reason = (reason or "").strip()
    if len(reason) > MAX_REASON:
        raise FlowError(_("转办说明不能超过 %(n)d 字") % {"n": MAX_REASON})
    task, instance = _lock_task(task)
    now = timezone.now()
    _ensure_holder(actor, task, now)  # a claim on the way is saved with the transfer below
    target_id = _user_id(to_user)
    target = User.objects.filter(pk=target_id, is_active=True, kind=AccountKind.STAFF).first()
    if target is None or not _belongs(target.pk, task.unit_id):
        raise FlowError(_("只能转办给本单位在岗的工作人员"))
    if target.pk == actor.pk:
        raise FlowError(_("不能转办给自己"))
    before = {"assignee": task.assignee_id}
    task.transferred_from = actor
    task.assignee = target
    task.assign_kind = AssignKind.PERSON
    task.claimed_at = now
    task.save(update_fields=["transferred_from", "assignee", "assign_kind", "claimed_at"])
    _event(
        instance,
        "transferred",
        actor,
        task=task,
        note=_("转办给%(name)s。%(reason)s") % {"name": target.name, "reason": reason},
    )
    audit_record(
        action="flow.task.transfer",
        obj=task,
        before=before,
        after={"assignee": target.pk, "reason": reason},
        actor=actor,
        unit=task.unit,
    )
    _notify(
        recipients=[target],
        title=_("转办给您：%(title)s") % {"title": task.title},
        body=_("%(name)s 转办。%(reason)s") % {"name": actor.name, "reason": reason},
        url=task.get_absolute_url(),
        key=f"flow.task.{task.pk}.transfer.{target.pk}.{now.timestamp():.0f}",
    )
    return task


@transaction.atomic
def task_urge(*, actor: Any, task: Task, note: str = "") -> Task:
    """催办: remind whoever holds an open task; recorded, at most once every 30 minutes per task."""
    note = (note or "").strip()
    if len(note) > MAX_REASON:
        raise FlowError(_("催办说明不能超过 %(n)d 字") % {"n": MAX_REASON})
    task, instance = _lock_task(task)
    selectors.instance_get_for_user(actor, instance.pk)  # 404 for those who may not see the case
    now = timezone.now()
    if task.status != TaskStatus.OPEN:
        raise FlowError(_("该事项已办理或已关闭，无需催办"))
    if task.assignee_id == actor.pk:
        raise FlowError(_("不能催办自己的事项"))
    if task.last_urged_at and now - task.last_urged_at < URGE_INTERVAL:
        raise FlowError(_("该事项刚刚催办过，请稍后再催"))
    Task.objects.filter(pk=task.pk).update(urge_count=F("urge_count") + 1, last_urged_at=now)
    task.refresh_from_db(fields=["urge_count", "last_urged_at"])
    _event(instance, "urged", actor, task=task, note=note)
    audit_record(
        action="flow.task.urge",
        obj=task,
        after={"count": task.urge_count, "note": note},
        actor=actor,
        unit=task.unit,
    )
    _notify(
        recipients=selectors.task_candidates(task),
        title=_("催办：%(title)s") % {"title": task.title},
        body=_("%(name)s 催办。%(note)s") % {"name": actor.name, "note": note},
        url=task.get_absolute_url(),
        key=f"flow.task.{task.pk}.urge.{task.urge_count}",
        urgent=True,
    )
    return task


@transaction.atomic
def task_circulate(
    *, actor: Any, task: Task, recipients: Iterable[User | int], note: str = ""
) -> list[ReadItem]:
    """传阅: send the case to colleagues to read (待阅); each read leaves a receipt."""
    note = (note or "").strip()
    if len(note) > MAX_REASON:
        raise FlowError(_("传阅说明不能超过 %(n)d 字") % {"n": MAX_REASON})
    task, instance = _lock_task(task)
    _require(
        selectors.is_holder(actor, task) or task.completed_by_id == actor.pk,
        _("只有办理人可以传阅该事项"),
    )
    ids = sorted({_user_id(r) for r in recipients} - {actor.pk})
    if not ids:
        raise FlowError(_("请选择传阅对象"))
    allowed = {u.pk for u in selectors.colleagues_of(actor)}
    outside = [i for i in ids if i not in allowed]
    if outside:
        raise FlowError(_("只能传阅给本单位的工作人员"))
    already = set(
        ReadItem.objects.filter(instance=instance, recipient_id__in=ids, read_at__isnull=True).values_list(
            "recipient_id", flat=True
        )
    )
    items = [
        ReadItem(instance=instance, task=task, recipient_id=i, sent_by=actor, title=instance.title, note=note)
        for i in ids
        if i not in already
    ]
    ReadItem.objects.bulk_create(items)
    _event(instance, "circulated", actor, task=task, note=note)
    audit_record(
        action="flow.task.circulate",
        obj=task,
        after={"recipients": ids, "note": note},
        actor=actor,
        unit=task.unit,
    )
    for item in items:
        _notify(
            recipients=[item.recipient_id],
            title=_("待阅：%(title)s") % {"title": instance.title},
            body=note,
            url=instance.get_absolute_url(),
            key=f"flow.read.{instance.pk}.{item.recipient_id}.{task.pk}",
        )
    return items


@transaction.atomic
def instance_circulate(
    *,
    actor: Any,
    instance: ProcessInstance,
    recipients: Iterable[User | int],
    note: str = "",
    task: Task | None = None,
) -> list[ReadItem]:
    """传阅 from a business page (a leader or clerk circulating a received document): 待阅 items for
    staff of the case's unit, each with its read receipt. The caller decides who may circulate; reading
    never holds up the steps. Someone with an unread item of the case is not sent a second one."""
    note = (note or "").strip()
    if len(note) > MAX_REASON:
        raise FlowError(_("传阅说明不能超过 %(n)d 字") % {"n": MAX_REASON})
    instance = _lock_instance(instance.pk)
    try:
        ids = sorted({_user_id(r) for r in recipients} - {actor.pk})
    except (TypeError, ValueError):
        raise FlowError(_("传阅对象无效")) from None
    if not ids:
        raise FlowError(_("请选择传阅对象"))
    allowed = {u.pk for u in selectors.unit_colleagues(instance.unit_id)}
    if any(i not in allowed for i in ids):
        raise FlowError(_("只能传阅给本单位在岗的工作人员"))
    already = set(
        ReadItem.objects.filter(instance=instance, recipient_id__in=ids, read_at__isnull=True).values_list(
            "recipient_id", flat=True
        )
    )
    items = [
        ReadItem(instance=instance, task=task, recipient_id=i, sent_by=actor, title=instance.title, note=note)
        for i in ids
        if i not in already
    ]
    if not items:
        raise FlowError(_("所选人员都已有未阅的传阅件"))
    ReadItem.objects.bulk_create(items)
    _event(instance, "circulated", actor, task=task, note=note)
    audit_record(
        action="flow.instance.circulate",
        obj=instance,
        after={"recipients": [i.recipient_id for i in items], "note": note},
        actor=actor,
        unit=instance.unit,
    )
    saved = ReadItem.objects.filter(instance=instance, recipient_id__in=[i.recipient_id for i in items])
    for item in saved.filter(read_at__isnull=True):
        _notify(
            recipients=[item.recipient_id],
            title=_("待阅：%(title)s") % {"title": instance.title},
            body=note,
            url=item.get_absolute_url(),
            key=f"flow.read.{instance.pk}.{item.recipient_id}.{item.pk}",
        )
    return list(saved.filter(read_at__isnull=True).order_by("id"))


@transaction.atomic
def read_item_mark_read(*, actor: Any, item: ReadItem) -> ReadItem:
    """Open a 待阅 item: the first opening is the read receipt (阅读回执)."""
    item = ReadItem.objects.select_for_update().get(pk=item.pk, recipient=actor)
    if item.read_at is None:
        item.read_at = timezone.now()
        item.save(update_fields=["read_at"])
        audit_record(action="flow.read", obj=item, after={"instance": item.instance_id}, actor=actor)
    return item


# --- Delegation -----------------------------------------------------------------------------------


@transaction.atomic
def delegation_create(
    *, actor: Any, delegate: User | int, starts_on: dt.date, ends_on: dt.date, reason: str = ""
) -> Delegation:
    """委托: from starts_on to ends_on, person tasks arriving for you go to a colleague of your unit."""
    _require(access.is_staff_user(actor), _("只有工作人员可以委托"))
    delegate_id = _user_id(delegate)
    target = User.objects.filter(pk=delegate_id, is_active=True, kind=AccountKind.STAFF).first()
    if target is None or target.pk not in {u.pk for u in selectors.colleagues_of(actor)}:
        raise FlowError(_("只能委托给本单位在岗的工作人员"))
    if ends_on < starts_on:
        raise FlowError(_("结束日期不能早于开始日期"))
    if starts_on < timezone.localdate():
        raise FlowError(_("开始日期不能早于今天"))
    if (ends_on - starts_on).days >= MAX_DELEGATION_DAYS:
        raise FlowError(_("委托期限不能超过一年"))
    if len(reason) > 200:
        raise FlowError(_("事由不能超过 200 字"))
    overlapping = Delegation.objects.filter(
        delegator=actor, cancelled_at__isnull=True, starts_on__lte=ends_on, ends_on__gte=starts_on
    ).exists()
    if overlapping:
        raise FlowError(_("该期间已有委托，请先撤销原委托"))
    delegation = Delegation.objects.create(
        delegator=actor, delegate=target, starts_on=starts_on, ends_on=ends_on, reason=reason.strip()
    )
    audit_record(
        action="flow.delegation.create",
        obj=delegation,
        after={"delegate": target.pk, "starts_on": starts_on, "ends_on": ends_on, "reason": reason},
        actor=actor,
    )
    _notify(
        recipients=[target],
        title=_("%(name)s 委托您代办（%(a)s 至 %(b)s）") % {"name": actor.name, "a": starts_on, "b": ends_on},
        body=reason,
        key=f"flow.delegation.{delegation.pk}",
    )
    return delegation


@transaction.atomic
def delegation_cancel(*, actor: Any, delegation: Delegation) -> Delegation:
    delegation = Delegation.objects.select_for_update().get(pk=delegation.pk)
    _require(delegation.delegator_id == actor.pk, _("只能撤销自己的委托"))
    if delegation.cancelled_at is not None:
        raise FlowError(_("该委托已撤销"))
    delegation.cancelled_at = timezone.now()
    delegation.save(update_fields=["cancelled_at"])
    audit_record(action="flow.delegation.cancel", obj=delegation, actor=actor)
    return delegation


# --- Stopped clocks ---------------------------------------------------------------------------------


def _may_stop_clock(actor: Any, instance: ProcessInstance, task: Task | None) -> bool:
    """A step's clock: its holder. The case's clock: whoever holds one of its open steps, or a leader of
    the lead unit (the clock decides legal time limits, so not every colleague may stop it)."""
    if task is not None:
        return selectors.is_holder(actor, task)
    return Task.objects.filter(
        instance=instance, status=TaskStatus.OPEN, assignee_id=actor.pk
    ).exists() or access.has_unit_role(actor, instance.unit_id, "leader")


@transaction.atomic
def clock_stop_start(
    *,
    actor: Any,
    reason: str,
    note: str = "",
    task: Task | None = None,
    instance: ProcessInstance | None = None,
) -> ClockStop:
    """暂停计时: stop a step's clock (task) or the whole case's clock (instance) for a statutory reason."""
    from zhengwu.workdays.calendar import StopReason

    if (task is None) == (instance is None):
        raise FlowError(_("请指定暂停计时的环节或流程"))
    if reason not in StopReason.values:
        raise FlowError(_("暂停计时事由无效"))
    note = (note or "").strip()
    if len(note) > MAX_REASON:
        raise FlowError(_("说明不能超过 %(n)d 字") % {"n": MAX_REASON})
    if task is not None:
        task, locked_instance = _lock_task(task)
        if task.status != TaskStatus.OPEN:
            raise FlowError(_("该事项已办理或已关闭"))
    else:
        assert instance is not None
        locked_instance = _lock_instance(instance.pk)
        if locked_instance.status != InstanceStatus.RUNNING:
            raise FlowError(_("流程已结束，不能暂停计时"))
    _require(_may_stop_clock(actor, locked_instance, task), _("您不能暂停该计时"))
    target = (
        Q(task=task, instance__isnull=True)
        if task is not None
        else Q(instance=locked_instance, task__isnull=True)
    )
    if ClockStop.objects.filter(target, ended_at__isnull=True).exists():
        raise FlowError(_("计时已处于暂停状态"))
    now = timezone.now()
    stop = ClockStop.objects.create(
        task=task,
        instance=None if task is not None else locked_instance,
        reason=reason,
        note=note,
        started_at=now,
        started_by=actor,
    )
    _instance_recompute(locked_instance, now=now)
    locked_instance.save(update_fields=["legal_due_at", "promised_due_at", "warning_at", "red_at"])
    _tasks_recompute(locked_instance, now=now)
    _event(
        locked_instance, "clock_stopped", actor, task=task, note=f"{stop.get_reason_display()} {note}".strip()
    )
    audit_record(
        action="flow.clock.stop",
        obj=stop,
        after={
            "reason": reason,
            "note": note,
            "task": getattr(task, "pk", None),
            "instance": locked_instance.pk,
        },
        actor=actor,
        unit=locked_instance.unit,
    )
    return stop


@transaction.atomic
def clock_stop_end(*, actor: Any, stop: ClockStop) -> ClockStop:
    """恢复计时: restart a stopped clock; the record keeps how many working days it took out."""
    from zhengwu.workdays.calendar import StoppedPeriod, stopped_working_days

    owner_instance_id = (
        stop.instance_id
        or Task.objects.filter(pk=stop.task_id or 0).values_list("instance_id", flat=True).first()
    )
    if owner_instance_id is None:
        raise FlowError(_("暂停记录不存在"))
    instance = _lock_instance(owner_instance_id)
    stop = ClockStop.objects.select_for_update(of=("self",)).select_related("task").get(pk=stop.pk)
    if stop.ended_at is not None:
        raise FlowError(_("计时已经恢复"))
    if stop.automatic:
        raise FlowError(_("该暂停随“%(step)s”环节结束自动恢复") % {"step": stop.note})
    task = stop.task
    if task is not None:
        task.instance = instance
    # The applicant who started the case answers a supplement request (补正) and so restarts the clock.
    answered = (
        stop.reason == "supplement" and task is None and getattr(actor, "pk", None) == instance.started_by_id
    )
    _require(answered or _may_stop_clock(actor, instance, task), _("您不能恢复该计时"))
    now = timezone.now()
    stop.ended_at = now
    stop.ended_by = actor
    stop.stopped_working_days = stopped_working_days(
        StoppedPeriod(stop.started_at, now, stop.reason), now=now
    )
    stop.save(update_fields=["ended_at", "ended_by", "stopped_working_days"])
    _instance_recompute(instance, now=now)
    instance.save(update_fields=["legal_due_at", "promised_due_at", "warning_at", "red_at"])
    _tasks_recompute(instance, now=now)
    _event(
        instance,
        "clock_resumed",
        actor,
        task=task,
        note=_("%(reason)s，暂停 %(n)d 个工作日")
        % {"reason": stop.get_reason_display(), "n": stop.stopped_working_days},
    )
    audit_record(
        action="flow.clock.resume",
        obj=stop,
        after={"stopped_working_days": stop.stopped_working_days},
        actor=actor,
        unit=instance.unit,
    )
    return stop


def instance_legal_limit_extend(
    *, actor: Any, instance: ProcessInstance, legal_limit: str, note: str
) -> None:
    """延长期限: an approved extension gives the case a longer legal limit (依申请公开: 20 → 40 working
    days), still counted from its start and with every stopped period; the due dates of the case and its
    open steps are recomputed. Runs inside the caller's step transaction (the instance is locked)."""
    if timing.parse_limit(legal_limit) is None:
        raise FlowError(_("时限格式无效"))
    locked = _lock_instance(instance.pk)
    if locked.status != InstanceStatus.RUNNING:
        raise FlowError(_("流程已结束，不能延长期限"))
    before = {"legal_limit": locked.legal_limit, "legal_due_at": locked.legal_due_at}
    now = timezone.now()
    locked.legal_limit = legal_limit
    _instance_recompute(locked, now=now)
    locked.save(update_fields=["legal_limit", "legal_due_at", "promised_due_at", "warning_at", "red_at"])
    _tasks_recompute(locked, now=now)
    _event(locked, "extended", actor, note=note[:MAX_REASON], step=_("延长期限"))
    audit_record(
        action="flow.instance.extend",
        obj=locked,
        before=before,
        after={"legal_limit": legal_limit, "legal_due_at": locked.legal_due_at, "note": note[:MAX_REASON]},
        actor=actor,
        unit=locked.unit,
    )
    instance.legal_limit, instance.legal_due_at = locked.legal_limit, locked.legal_due_at


# --- The sample case -------------------------------------------------------------------------------

SAMPLE_KEY = "sample_parallel_approval"


@transaction.atomic
def sample_case_start(
    *, actor: Any, title: str, applicant: str, lead: Unit, departments: list[Unit]
) -> SampleCase:
    """Open a demonstration case and start the sample parallel approval on it."""
    if len(departments) != 3 or len({d.pk for d in departments}) != 3:
        raise FlowError(_("请选择三个不同的并联部门"))
    title = title.strip()
    applicant = applicant.strip()
    if not title or not applicant:
        raise FlowError(_("事项名称和申请人不能为空"))
    case = SampleCase.objects.create(
        title=title[:200], applicant=applicant[:100], unit=lead, created_by=actor, status=SampleCaseStatus.NEW
    )
    process_start(
        actor=actor,
        key=SAMPLE_KEY,
        business=case,
        unit=lead,
        title=case.title,
        units={f"dept_{i}": d.pk for i, d in enumerate(departments, start=1)},
    )
    return case


def _sample_case_changed(instance: ProcessInstance, event: str, task: Task | None) -> None:
    """The sample case follows its process: status, the current step and how many steps are done."""
    updates: dict[str, Any] = {"current_step": instance.current_steps, "updated_at": timezone.now()}
    if event == "completed":
        updates["status"] = SampleCaseStatus.DONE
    elif event in {"started", "step", "sent_back"}:
        updates["status"] = SampleCaseStatus.IN_PROGRESS
    if event == "step":
        updates["steps_done"] = F("steps_done") + 1
    SampleCase.objects.filter(pk=instance.business_id).update(**updates)


business_handler_register("flow.samplecase", _sample_case_changed)
