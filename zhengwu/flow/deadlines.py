"""Watching deadlines (预警): the sweep that moves every open, timed step — and every running case — from
正常 → 预警 → 黄牌 → 红牌, records each change for supervision, tells the people concerned, applies a
process's behaviour on breach, and fires the BPMN timers that are due.

The rules (docs/decisions/0007-deadline-watch.md)
    * A step is watched while it is open, has a due date and its clock runs (``clock_stopped`` false).
      预警 at ``warning_at`` (one working day before due unless ``warning_before`` says otherwise), 黄牌 once
      ``now > due_at``, 红牌 once ``now > red_at`` (``red_after`` past due, three working days by default).
      Both properties are read per step, then per process (zhengwu.flow.timing computes the moments).
    * A case is watched against its own limits: 预警 before its first due date, 黄牌 past the promised (or,
      without one, the legal) due date, 红牌 past the legal one (or ``red_after`` past the single one).
    * States only move forward. A step that crossed two thresholds between two sweeps moves once, to the
      furthest state, with one event. A card is a recorded fact: a later stopped clock that moves the due
      date does not withdraw it (the next threshold is then counted from the new dates).
    * Each change writes a DeadlineEvent and a trail record ``flow.deadline.<state>``. The holders are told
      in-app (and by SMS on red); on red the leaders of the step's unit too. Whoever gets more than
      ``DIGEST_AFTER`` changes of one state in one sweep gets one digest notice instead of many.

Speed
    The sweep is set-based: per state, one conditional query selects (and on PostgreSQL locks, skipping
    rows a person is working on) a chunk of rows past the threshold, one UPDATE moves them, and the events
    and trail records are inserted in bulk. Notices go out per recipient, not per step. 100,000 open
    steps are swept in a few seconds (bench/deadline_sweep.py); a sweep with nothing to do is a handful of
    indexed queries.
"""

from __future__ import annotations

import datetime as dt
import json
import logging
import time
from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from types import SimpleNamespace
from typing import Any

from django.db import connection, models, transaction
from django.db.models import Exists, OuterRef, Q, QuerySet
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _

from zhengwu.core import access
from zhengwu.core.audit import audit_record, compute_digest, current_context
from zhengwu.core.models import AuditEvent, PostAssignment, Unit, UnitRole, UnitRoleKind
from zhengwu.flow import engine
from zhengwu.flow.engine import FlowError
from zhengwu.flow.models import (
    AssignKind,
    ClockStop,
    DeadlineEvent,
    DeadlineState,
    InstanceStatus,
    ProcessDefinition,
    ProcessInstance,
    Task,
    TaskStatus,
)
from zhengwu.lib.gmcrypto import sm3_hex

logger = logging.getLogger(__name__)

CHUNK = 2000  # rows moved per transaction (short row locks on PostgreSQL)
DIGEST_AFTER = 3  # more changes than this for one person in one sweep: one digest notice
DIGEST_LINES = 10
BREACH_BATCH = 200  # breach actions per sweep (each runs the engine); the rest wait a minute
TIMER_BATCH = 200
TIMER_RETRY = dt.timedelta(minutes=5)

NORMAL, WARNING, YELLOW, RED = (
    DeadlineState.NORMAL.value,
    DeadlineState.WARNING.value,
    DeadlineState.YELLOW.value,
    DeadlineState.RED.value,
)
CARDS = (YELLOW, RED)

# (to state, from states): the furthest threshold first, so a step that crossed two moves once.
_ORDER = ((RED, (NORMAL, WARNING, YELLOW)), (YELLOW, (NORMAL, WARNING)), (WARNING, (NORMAL,)))

BREACH_LABELS = {
    "auto_advance": ("auto_advanced", "auto"),
    "deemed_approve": ("deemed_approved", "approve"),
    "deemed_reject": ("deemed_rejected", "reject"),
}


def breach_opinion(kind: str) -> str:
    """What the history and the step's opinion say when the system completes an overdue step."""
    return {
        "auto_advance": _("逾期自动流转"),
        "deemed_approve": _("逾期视为同意"),
        "deemed_reject": _("逾期视为不同意"),
    }[kind]


@dataclass
class SweepResult:
    """What one sweep did (also what the periodic job logs)."""

    now: dt.datetime
    watched: int = 0  # open, timed steps with a running clock
    tasks: dict[str, int] = field(default_factory=lambda: {WARNING: 0, YELLOW: 0, RED: 0})
    instances: dict[str, int] = field(default_factory=lambda: {WARNING: 0, YELLOW: 0, RED: 0})
    notices: int = 0  # notification_send calls (one per step or per digest)
    breaches: int = 0
    breach_failures: int = 0
    timers: int = 0
    seconds: float = 0.0

    @property
    def changed(self) -> int:
        return sum(self.tasks.values())

    def as_dict(self) -> dict[str, Any]:
        return {
            "now": self.now.isoformat(),
            "watched": self.watched,
            "tasks": dict(self.tasks),
            "instances": dict(self.instances),
            "notices": self.notices,
            "breaches": self.breaches,
            "breach_failures": self.breach_failures,
            "timers": self.timers,
            "seconds": round(self.seconds, 3),
        }


def watched_tasks() -> QuerySet[Task]:
    """Steps the sweep watches: open, with a due date, clock running."""
    return Task.objects.filter(status=TaskStatus.OPEN, clock_stopped=False, due_at__isnull=False)


def watched_instances() -> QuerySet[ProcessInstance]:
    """Cases the sweep watches: running, with a limit, no stopped clock on the case."""
    stopped = ClockStop.objects.filter(instance_id=OuterRef("pk"), ended_at__isnull=True)
    return ProcessInstance.objects.filter(status=InstanceStatus.RUNNING).filter(
        Q(legal_due_at__isnull=False) | Q(promised_due_at__isnull=False), ~Exists(stopped)
    )


def _task_threshold(state: str, now: dt.datetime) -> Q:
    if state == RED:
        return Q(red_at__lt=now)
    if state == YELLOW:
        return Q(due_at__lt=now)
    return Q(warning_at__lte=now)


def _instance_threshold(state: str, now: dt.datetime) -> Q:
    if state == RED:
        return Q(red_at__lt=now)
    if state == YELLOW:
        return Q(promised_due_at__lt=now) | Q(promised_due_at__isnull=True, legal_due_at__lt=now)
    return Q(warning_at__lte=now)


# --- The sweep ------------------------------------------------------------------------------------------


def deadline_sweep(*, now: dt.datetime | None = None) -> SweepResult:
    """Evaluate every watched step and case at ``now`` (default: the current time); see the module doc.

    BPMN timers follow the real clock (SpiffWorkflow reads it), so they are refreshed only when ``now``
    is not given or not in the future.
    """
    started = time.perf_counter()
    real_now = timezone.now()
    now = now or real_now
    result = SweepResult(now=now)
    if now <= real_now:
        result.timers = timers_refresh(now=now)
    result.watched = watched_tasks().count()
    for state, froms in _ORDER:
        result.tasks[state] += _move_tasks(state, froms, now)
    for state, froms in _ORDER:
        result.instances[state] += _move_instances(state, froms, now)
    result.notices = notify_pending(now=now)
    result.breaches, result.breach_failures = breaches_apply(now=now)
    result.seconds = time.perf_counter() - started
    if result.changed or any(result.instances.values()) or result.breaches or result.timers:
        logger.info("deadline sweep: %s", result.as_dict())
    return result


def _move_tasks(state: str, froms: Sequence[str], now: dt.datetime) -> int:
    """Move every watched step past ``state``'s threshold into it, a chunk per transaction."""
    moved = 0
    last = 0
    base = watched_tasks().filter(_task_threshold(state, now), deadline_state__in=froms)
    while True:
        with transaction.atomic():
            rows = list(
                base.filter(pk__gt=last)
                .order_by("pk")
                .select_for_update(skip_locked=True)
                .values_list(
                    "pk",
                    "deadline_state",
                    "instance_id",
                    "unit_id",
                    "title",
                    "due_at",
                    "warning_at",
                    "red_at",
                )[:CHUNK]
            )
            if not rows:
                return moved
            last = rows[-1][0]
            ids = [r[0] for r in rows]
            Task.objects.filter(pk__in=ids).update(deadline_state=state)
            _record_task_changes(rows, state, now)
            moved += len(rows)
        if len(rows) < CHUNK:
            return moved


def _move_instances(state: str, froms: Sequence[str], now: dt.datetime) -> int:
    moved = 0
    last = 0
    base = watched_instances().filter(_instance_threshold(state, now), deadline_state__in=froms)
    while True:
        with transaction.atomic():
            rows = list(
                base.filter(pk__gt=last)
                .order_by("pk")
                .select_for_update(skip_locked=True)
                .values_list(
                    "pk",
                    "deadline_state",
                    "unit_id",
                    "title",
                    "promised_due_at",
                    "legal_due_at",
                    "warning_at",
                    "red_at",
                )[:CHUNK]
            )
            if not rows:
                return moved
            last = rows[-1][0]
            ProcessInstance.objects.filter(pk__in=[r[0] for r in rows]).update(deadline_state=state)
            _record_instance_changes(rows, state, now)
            moved += len(rows)
        if len(rows) < CHUNK:
            return moved


def _local(moment: dt.datetime | None) -> str:
    return timezone.localtime(moment).strftime("%Y-%m-%d %H:%M") if moment else "—"


def _note(state: str, due: dt.datetime | None, warning: dt.datetime | None, red: dt.datetime | None) -> str:
    if state == WARNING:
        return _("将于 %(due)s 到期（预警时间 %(w)s）") % {"due": _local(due), "w": _local(warning)}
    if state == YELLOW:
        return _("已超过到期时间 %(due)s") % {"due": _local(due)}
    return _("到期时间 %(due)s，已超过红牌时间 %(red)s") % {"due": _local(due), "red": _local(red)}


def _unit_labels(unit_ids: Iterable[int]) -> dict[int, str]:
    return dict(Unit.objects.filter(pk__in=sorted(set(unit_ids))).values_list("pk", "name"))


def _record_task_changes(rows: list[tuple[Any, ...]], state: str, now: dt.datetime) -> None:
    units = _unit_labels(r[3] for r in rows)
    events = []
    trail = []
    for pk, before, instance_id, unit_id, title, due, warning, red in rows:
        note = _note(state, due, warning, red)
        events.append((pk, instance_id, before, state, now, note))
        trail.append(
            {
                "action": f"flow.deadline.{state}",
                "object_type": "flow.task",
                "object_id": pk,
                "object_label": title,
                "unit_id": unit_id,
                "unit_label": units.get(unit_id, ""),
                "before": {"deadline_state": before},
                "after": {"deadline_state": state, "instance": instance_id, "due_at": due, "red_at": red},
            }
        )
    _insert_events(events)
    audit_append_many(trail)


def _record_instance_changes(rows: list[tuple[Any, ...]], state: str, now: dt.datetime) -> None:
    units = _unit_labels(r[2] for r in rows)
    events = []
    trail = []
    for pk, before, unit_id, title, promised, legal, warning, red in rows:
        due = promised or legal
        events.append((None, pk, before, state, now, _note(state, due, warning, red)))
        trail.append(
            {
                "action": f"flow.deadline.{state}",
                "object_type": "flow.processinstance",
                "object_id": pk,
                "object_label": title,
                "unit_id": unit_id,
                "unit_label": units.get(unit_id, ""),
                "before": {"deadline_state": before},
                "after": {
                    "deadline_state": state,
                    "promised_due_at": promised,
                    "legal_due_at": legal,
                    "red_at": red,
                },
            }
        )
    _insert_events(events)
    audit_append_many(trail)


# --- Bulk writes ------------------------------------------------------------------------------------------


def _insert_rows(model: type[models.Model], columns: Sequence[str], rows: list[tuple[Any, ...]]) -> None:
    """A plain multi-row INSERT: the ORM's bulk_create spends most of its time preparing each field value
    in Python, which at 100,000 rows is seconds; values here are already in database form."""
    if not rows:
        return
    qn = connection.ops.quote_name
    json_cols = {f.column for f in model._meta.concrete_fields if isinstance(f, models.JSONField)}
    holders = [
        "CAST(%s AS jsonb)" if c in json_cols and connection.vendor == "postgresql" else "%s" for c in columns
    ]
    sql = (
        f"INSERT INTO {qn(model._meta.db_table)} ({', '.join(qn(c) for c in columns)}) "
        f"VALUES ({', '.join(holders)})"
    )
    with connection.cursor() as cursor:
        for i in range(0, len(rows), 1000):
            cursor.executemany(sql, rows[i : i + 1000])


def _db_time(moment: dt.datetime | None) -> Any:
    return connection.ops.adapt_datetimefield_value(moment) if moment is not None else None


def _insert_events(events: list[tuple[Any, ...]]) -> None:
    _insert_rows(
        DeadlineEvent,
        ["task_id", "instance_id", "from_state", "to_state", "at", "note", "notified_at"],
        [(t, i, f, s, _db_time(at), note[:500], None) for t, i, f, s, at, note in events],
    )


def _jsonable(value: Any) -> Any:
    if isinstance(value, dict):
        return {str(k): _jsonable(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_jsonable(v) for v in value]
    if isinstance(value, dt.datetime | dt.date):
        return value.isoformat()
    return value


def audit_append_many(entries: list[dict[str, Any]]) -> int:
    """Append many records to the trail in one go, chained exactly as ``audit_record`` chains one.

    Same head lock, same canonical form and SM3 digest per record (``compute_digest``), so
    ``audit_verify`` checks them like any other; only the writing is batched. The actor is the current
    audit context's (none for the periodic job: the system).
    """
    if not entries:
        return 0
    from zhengwu.core.audit import _lock_head  # the one lock that orders every append

    ctx = current_context()
    actor = ctx.user if ctx.user is not None and getattr(ctx.user, "is_authenticated", False) else None
    with transaction.atomic():
        head = _lock_head()
        seq, prev = head.seq, head.digest
        at = timezone.now()
        rows = []
        for entry in entries:
            seq += 1
            record = SimpleNamespace(
                seq=seq,
                at=at,
                actor_id=actor.pk if actor is not None else None,
                actor_label=(str(actor) if actor is not None else "")[:128],
                unit_id=entry.get("unit_id"),
                unit_label=(entry.get("unit_label") or "")[:128],
                ip=ctx.ip[:45],
                user_agent=ctx.user_agent[:200],
                action=entry["action"],
                object_type=entry["object_type"],
                object_id=str(entry["object_id"])[:64],
                object_label=(entry.get("object_label") or "")[:200],
                before=_jsonable(entry["before"]) if entry.get("before") is not None else None,
                after=_jsonable(entry["after"]) if entry.get("after") is not None else None,
                prev_digest=prev,
            )
            prev = compute_digest(record)  # type: ignore[arg-type]
            rows.append(
                (
                    record.seq,
                    _db_time(at),
                    record.actor_id,
                    record.actor_label,
                    record.unit_id,
                    record.unit_label,
                    record.ip,
                    record.user_agent,
                    record.action,
                    record.object_type,
                    record.object_id,
                    record.object_label,
                    json.dumps(record.before) if record.before is not None else None,
                    json.dumps(record.after) if record.after is not None else None,
                    record.prev_digest,
                    prev,
                )
            )
        _insert_rows(
            AuditEvent,
            [
                "seq",
                "at",
                "actor_id",
                "actor_label",
                "unit_id",
                "unit_label",
                "ip",
                "user_agent",
                "action",
                "object_type",
                "object_id",
                "object_label",
                "before",
                "after",
                "prev_digest",
                "digest",
            ],
            rows,
        )
        head.seq, head.digest = seq, prev
        head.save(update_fields=["seq", "digest"])
    return len(rows)


# --- Telling people ---------------------------------------------------------------------------------------


def _holders(tasks: list[dict[str, Any]]) -> dict[int, list[int]]:
    """task id → who holds it: its assignee, or every active holder of its post / role (as
    ``selectors.task_candidates``, for many tasks in three queries)."""
    post_ids = {t["post_id"] for t in tasks if not t["assignee_id"] and t["assign_kind"] == AssignKind.POST}
    role_units = {t["unit_id"] for t in tasks if not t["assignee_id"] and t["assign_kind"] == AssignKind.ROLE}
    roles = {t["role"] for t in tasks if not t["assignee_id"] and t["assign_kind"] == AssignKind.ROLE}
    by_post: dict[int, list[int]] = defaultdict(list)
    for post_id, user_id in PostAssignment.objects.filter(
        post_id__in=sorted(p for p in post_ids if p), user__is_active=True
    ).values_list("post_id", "user_id"):
        by_post[post_id].append(user_id)
    by_role: dict[tuple[int, str], list[int]] = defaultdict(list)
    if role_units:
        for unit_id, role, user_id in UnitRole.objects.filter(
            unit_id__in=sorted(role_units), role__in=sorted(roles), user__is_active=True
        ).values_list("unit_id", "role", "user_id"):
            by_role[(unit_id, role)].append(user_id)
    out: dict[int, list[int]] = {}
    for t in tasks:
        if t["assignee_id"]:
            out[t["id"]] = [t["assignee_id"]]
        elif t["assign_kind"] == AssignKind.POST:
            out[t["id"]] = sorted(set(by_post.get(t["post_id"], [])))
        else:
            out[t["id"]] = sorted(set(by_role.get((t["unit_id"], t["role"]), [])))
    return out


def unit_leaders(unit_ids: Iterable[int]) -> dict[int, list[int]]:
    """unit id → the active staff holding its leader role (领导)."""
    out: dict[int, list[int]] = defaultdict(list)
    for unit_id, user_id in UnitRole.objects.filter(
        unit_id__in=sorted(set(unit_ids)), role=UnitRoleKind.LEADER, user__is_active=True
    ).values_list("unit_id", "user_id"):
        out[unit_id].append(user_id)
    return out


def _state_label(state: str) -> str:
    return str(DeadlineState(state).label)


@dataclass
class _Message:
    key: str
    title: str
    body: str
    url: str
    state: str
    recipients: list[int]
    label: str  # the line in a digest


def _send(message: _Message, *, recipients: list[int]) -> None:
    from zhengwu.notify.services import notification_send

    notification_send(
        recipients=recipients,
        title=message.title,
        body=message.body,
        url=message.url,
        key=message.key,
        level={WARNING: "warning", YELLOW: "warning", RED: "alert"}[message.state],
        channels=("app", "sms") if message.state == RED else ("app",),
        sms_params={"text": message.title},
    )


def notify_pending(*, now: dt.datetime) -> int:
    """Tell the people concerned about every deadline change not yet told; returns notification_send calls.

    One transaction: the notices (and SMS deliveries) and the events' ``notified_at`` commit together, so
    a re-run never tells twice, and a crash before it leaves the events for the next sweep. Per person
    and state, more than ``DIGEST_AFTER`` changes become one digest notice.
    """
    calls = 0
    with transaction.atomic():
        pending = list(
            DeadlineEvent.objects.select_for_update(skip_locked=True)
            .filter(notified_at__isnull=True)
            .order_by("pk")
            .values_list("pk", "task_id", "instance_id", "to_state")
        )
        if not pending:
            return 0
        messages = _task_messages([p for p in pending if p[1]]) + _instance_messages(
            [p for p in pending if not p[1]]
        )
        per_person: dict[tuple[int, str], list[_Message]] = defaultdict(list)
        for message in messages:
            for user_id in message.recipients:
                per_person[(user_id, message.state)].append(message)
        digest = {who for who, items in per_person.items() if len(items) > DIGEST_AFTER}
        for message in messages:
            single = [u for u in message.recipients if (u, message.state) not in digest]
            if single:
                _send(message, recipients=single)
                calls += 1
        for (user_id, state), items in sorted(per_person.items()):
            if (user_id, state) not in digest:
                continue
            keys = sorted(m.key for m in items)
            lines = [m.label for m in items[:DIGEST_LINES]]
            if len(items) > DIGEST_LINES:
                lines.append(_("等共 %(n)d 项") % {"n": len(items)})
            title = _("%(state)s：您有 %(n)d 个事项%(what)s") % {
                "state": _state_label(state),
                "n": len(items),
                "what": {WARNING: _("即将到期"), YELLOW: _("已超期"), RED: _("严重超期")}[state],
            }
            digest_message = _Message(
                key=f"flow.deadline.{state}.digest.{sm3_hex(','.join(keys))[:40]}",
                title=title,
                body="\n".join(lines),
                url=reverse("flow:deadlines") if _watches(user_id) else reverse("flow:tasks"),
                state=state,
                recipients=[user_id],
                label="",
            )
            _send(digest_message, recipients=[user_id])
            calls += 1
        ids = [p[0] for p in pending]
        for i in range(0, len(ids), CHUNK):
            DeadlineEvent.objects.filter(pk__in=ids[i : i + CHUNK]).update(notified_at=now)
    return calls


def _watches(user_id: int) -> bool:
    return UnitRole.objects.filter(
        user_id=user_id, role__in=[UnitRoleKind.LEADER, UnitRoleKind.SUPERVISOR]
    ).exists()


def _task_messages(pending: list[tuple[Any, ...]]) -> list[_Message]:
    task_ids = sorted({p[1] for p in pending})
    tasks: dict[int, dict[str, Any]] = {}
    for i in range(0, len(task_ids), CHUNK):
        for row in Task.objects.filter(pk__in=task_ids[i : i + CHUNK]).values(
            "id", "title", "unit_id", "assignee_id", "assign_kind", "post_id", "role", "due_at", "status"
        ):
            tasks[row["id"]] = dict(row)
    holders = _holders(list(tasks.values()))
    red_units = {tasks[p[1]]["unit_id"] for p in pending if p[3] == RED and p[1] in tasks}
    leaders = unit_leaders(red_units) if red_units else {}
    seen: set[tuple[int, str]] = set()
    out: list[_Message] = []
    for _pk, task_id, _instance_id, state in pending:
        task = tasks.get(task_id)
        if task is None or task["status"] != TaskStatus.OPEN or (task_id, state) in seen:
            continue  # finished since: nobody needs telling
        seen.add((task_id, state))
        title = {
            WARNING: _("预警：%(title)s 将于 %(due)s 到期"),
            YELLOW: _("黄牌：%(title)s 已超期（%(due)s 到期）"),
            RED: _("红牌：%(title)s 严重超期（%(due)s 到期）"),
        }[state] % {"title": task["title"], "due": _local(task["due_at"])}
        url = reverse("flow:task_detail", args=[task_id])
        key = f"flow.deadline.{task_id}.{state}"
        people = list(holders.get(task_id, []))
        if state == RED:
            people += [u for u in leaders.get(task["unit_id"], []) if u not in people]
        if people:
            out.append(
                _Message(
                    key=key,
                    title=title[:200],
                    body="",
                    url=url,
                    state=state,
                    recipients=people,
                    label=task["title"][:80],
                )
            )
    return out


def _instance_messages(pending: list[tuple[Any, ...]]) -> list[_Message]:
    """Cases: yellow and red go to the leaders of the lead unit (the steps have told their holders)."""
    wanted = [p for p in pending if p[3] in CARDS]
    if not wanted:
        return []
    instances = {
        row["id"]: row
        for row in ProcessInstance.objects.filter(pk__in=sorted({p[2] for p in wanted})).values(
            "id", "title", "unit_id", "status", "promised_due_at", "legal_due_at"
        )
    }
    leaders = unit_leaders(r["unit_id"] for r in instances.values())
    out = []
    for _pk, _task_id, instance_id, state in wanted:
        row = instances.get(instance_id)
        if row is None or row["status"] != InstanceStatus.RUNNING or not leaders.get(row["unit_id"]):
            continue
        title = {
            YELLOW: _("办件黄牌：%(title)s 已超过承诺期限"),
            RED: _("办件红牌：%(title)s 已超过法定期限"),
        }[state] % {"title": row["title"]}
        out.append(
            _Message(
                key=f"flow.deadline.case.{instance_id}.{state}",
                title=title[:200],
                body=_("办结期限：%(due)s") % {"due": _local(row["promised_due_at"] or row["legal_due_at"])},
                url=reverse("flow:instance_detail", args=[instance_id]),
                state=state,
                recipients=sorted(leaders[row["unit_id"]]),
                label=row["title"][:80],
            )
        )
    return out


# --- Behaviour on breach ----------------------------------------------------------------------------------

_rules_cache: dict[tuple[int, str], dict[str, str]] = {}


def breach_rules() -> dict[int, dict[str, str]]:
    """definition id → {user step id → on_breach rule}, for every definition that has one.

    A published definition never changes, so its rules are read once per process (keyed by id and
    checksum) and only new versions are read at later sweeps.
    """
    current = list(ProcessDefinition.objects.values_list("pk", "checksum"))
    missing = [pk for pk, checksum in current if (pk, checksum) not in _rules_cache]
    if missing:
        for pk, checksum, properties, steps in ProcessDefinition.objects.filter(pk__in=missing).values_list(
            "pk", "checksum", "properties", "steps"
        ):
            default = (properties or {}).get("on_breach", "")
            rules = {
                sid: step.get("props", {}).get("on_breach") or default
                for sid, step in (steps or {}).items()
                if step.get("kind") == "userTask"
            }
            _rules_cache[(pk, checksum)] = {sid: rule for sid, rule in rules.items() if rule}
    out: dict[int, dict[str, str]] = {}
    for pk, checksum in current:
        found = _rules_cache.get((pk, checksum))
        if found:
            out[pk] = found
    return out


def breach_rules_clear() -> None:
    _rules_cache.clear()


def breaches_apply(*, now: dt.datetime) -> tuple[int, int]:
    """Apply on_breach to carded steps not handled yet; returns (applied, failed)."""
    rules = breach_rules()
    if not rules:
        return 0, 0
    cond = Q(pk__in=[])
    for definition_id, steps in rules.items():
        cond |= Q(instance__definition_id=definition_id, step_id__in=sorted(steps))
    ids = list(
        watched_tasks()
        .filter(cond, deadline_state__in=CARDS, breach_handled_at__isnull=True)
        .order_by("pk")
        .values_list("pk", flat=True)[:BREACH_BATCH]
    )
    applied = failed = 0
    for task_id in ids:
        try:
            with transaction.atomic():
                done = breach_apply(task_id, now=now)
        except (FlowError, ValueError) as exc:
            failed += 1
            _breach_failed(task_id, str(exc), now=now)
            continue
        applied += int(done)
    return applied, failed


def breach_apply(task_id: int, *, now: dt.datetime) -> bool:
    """Apply the step's on_breach rule (inside the caller's transaction). False: nothing to do any more."""
    from zhengwu.flow import services

    task, instance = services._lock_task(task_id)
    if (
        task.status != TaskStatus.OPEN
        or task.breach_handled_at is not None
        or task.deadline_state not in CARDS
        or task.clock_stopped
    ):
        return False
    definition = instance.definition
    step = definition.step(task.step_id)
    rule = step["props"].get("on_breach") or definition.properties.get("on_breach", "")
    if not rule:
        return False
    kind, arg = engine.parse_on_breach(rule)
    if kind == "escalate":
        _escalate(task, instance, arg, now=now)
    else:
        _complete_overdue(task, instance, step, kind, arg, now=now)
    return True


def _escalate(task: Task, instance: ProcessInstance, role: str, *, now: dt.datetime) -> None:
    """逾期升级: the step goes to the holders of ``role`` in its unit (to be claimed by one of them)."""
    from zhengwu.flow import services

    holders = sorted(
        set(
            UnitRole.objects.filter(
                unit_id=task.unit_id, role=role, user__is_active=True, user__kind="staff"
            ).values_list("user_id", flat=True)
        )
    )
    role_label = str(UnitRoleKind(role).label)
    if not holders:
        raise FlowError(
            _("%(unit)s没有“%(role)s”人员，无法逾期升级") % {"unit": task.unit.name, "role": role_label}
        )
    before = {
        "assignee": task.assignee_id,
        "assign_kind": task.assign_kind,
        "role": task.role,
        "post": task.post_id,
    }
    if task.assignee_id:
        task.transferred_from_id = task.assignee_id
    task.assign_kind = AssignKind.ROLE
    task.role = role
    task.assignee = None
    task.post = None
    task.claimed_at = None
    task.breach_handled_at = now
    task.save(
        update_fields=[
            "transferred_from",
            "assign_kind",
            "role",
            "assignee",
            "post",
            "claimed_at",
            "breach_handled_at",
        ]
    )
    note = _("逾期未办，升级由%(unit)s%(role)s办理") % {"unit": task.unit.display_name, "role": role_label}
    services._event(instance, "escalated", None, task=task, note=note)
    audit_record(
        action="flow.task.escalate",
        obj=task,
        before=before,
        after={"assign_kind": AssignKind.ROLE, "role": role, "deadline_state": task.deadline_state},
        unit=task.unit,
    )
    services._notify(
        recipients=holders,
        title=_("逾期升级待办：%(title)s") % {"title": task.title},
        body=note,
        url=task.get_absolute_url(),
        key=f"flow.task.{task.pk}.escalated",
        urgent=False,
    )


def _complete_overdue(
    task: Task, instance: ProcessInstance, step: dict[str, Any], kind: str, arg: str, *, now: dt.datetime
) -> None:
    """逾期自动流转 / 逾期视为同意 / 逾期视为不同意: the system completes the step through the engine."""
    from zhengwu.flow import services

    workflow = services._load(instance)
    spiff_task = engine.task_by_id(workflow, task.spiff_task_id)
    if spiff_task is None or not spiff_task.task_spec.manual or spiff_task.state != engine.TaskState.READY:
        raise FlowError(_("该事项已不在办理中"))
    fields = step.get("fields", [])
    data: dict[str, Any] = {f["id"]: (False if f["type"] == "bool" else None) for f in fields}
    if kind in {"deemed_approve", "deemed_reject"}:
        choice = engine.deemed_choice(fields, kind, arg)
        if choice is not None:
            data[choice[0]] = choice[1]
    opinion = breach_opinion(kind)
    action, outcome = BREACH_LABELS[kind]
    spiff_task.set_data(**data)
    try:
        spiff_task.run()
    except engine.SpiffWorkflowException as exc:
        raise FlowError(_("流程执行出错：%(err)s") % {"err": exc}) from exc
    holders = services.selectors.task_candidates(task)
    task.status = TaskStatus.COMPLETED
    task.completed_at = now
    task.completed_by = None
    task.opinion = opinion
    task.form_data = data
    task.outcome = outcome
    task.clock_stopped = False
    task.breach_handled_at = now
    task.save(
        update_fields=[
            "status",
            "completed_at",
            "completed_by",
            "opinion",
            "form_data",
            "outcome",
            "clock_stopped",
            "breach_handled_at",
        ]
    )
    services._event(instance, action, None, task=task, note=opinion)
    created, closed = services._advance(instance, workflow, None, now=now, finished=task)
    services._business_changed(instance, "step", task)
    audit_record(
        action=f"flow.task.{kind}",
        obj=task,
        after={
            "instance": instance.pk,
            "step": task.step_id,
            "outcome": outcome,
            "opinion": opinion,
            "deadline_state": task.deadline_state,
            "next": [t.name for t in created],
            "closed": [t.pk for t in closed],
        },
        unit=task.unit,
    )
    if instance.status == InstanceStatus.COMPLETED:
        services._business_changed(instance, "completed", task)
    if holders:
        services._notify(
            recipients=holders,
            title=_("%(opinion)s：%(title)s") % {"opinion": opinion, "title": task.title},
            url=instance.get_absolute_url(),
            key=f"flow.task.{task.pk}.{kind}",
        )


def _breach_failed(task_id: int, reason: str, *, now: dt.datetime) -> None:
    """The rule could not be applied (no one holds the role, the process refused …): recorded once, the
    step stays carded for people to act on, and the unit's leaders are told."""
    from zhengwu.flow import services

    with transaction.atomic():
        task = Task.objects.select_for_update().select_related("instance", "unit").filter(pk=task_id).first()
        if task is None or task.breach_handled_at is not None:
            return
        task.breach_handled_at = now
        task.save(update_fields=["breach_handled_at"])
        note = _("超期处置未能执行：%(reason)s") % {"reason": reason}
        services._event(task.instance, "breach_failed", None, task=task, note=note[:1000])
        audit_record(
            action="flow.task.breach_failed", obj=task, after={"reason": reason[:500]}, unit=task.unit
        )
        services._notify(
            recipients=unit_leaders([task.unit_id]).get(task.unit_id, []),
            title=_("超期处置未能执行：%(title)s") % {"title": task.title},
            body=reason,
            url=task.get_absolute_url(),
            key=f"flow.task.{task.pk}.breach_failed",
        )
    logger.warning("deadline sweep: on_breach for task %s failed: %s", task_id, reason)


# --- BPMN timers ------------------------------------------------------------------------------------------


def timers_refresh(*, now: dt.datetime | None = None) -> int:
    """Refresh the waiting BPMN timer events of running instances whose next timer is due; returns how
    many instances moved. SpiffWorkflow fires a timer only when its waiting task is refreshed."""
    from zhengwu.flow import services

    now = now or timezone.now()
    ids = list(
        ProcessInstance.objects.filter(status=InstanceStatus.RUNNING, timer_due_at__lte=now)
        .order_by("timer_due_at", "pk")
        .values_list("pk", flat=True)[:TIMER_BATCH]
    )
    moved = 0
    for instance_id in ids:
        try:
            with transaction.atomic():
                instance = services._lock_instance(instance_id)
                if (
                    instance.status != InstanceStatus.RUNNING
                    or instance.timer_due_at is None
                    or instance.timer_due_at > now
                ):
                    continue
                workflow = services._load(instance)
                before = {t.id for t in engine.ready_user_tasks(workflow)}
                workflow.refresh_timers()
                created, closed = services._advance(instance, workflow, None, now=now)
                after = {t.id for t in engine.ready_user_tasks(workflow)}
                if before == after and instance.status == InstanceStatus.RUNNING:
                    continue
                moved += 1
                note = _("定时事件触发") + ("：" + "、".join(t.name for t in created) if created else "")
                services._event(instance, "timer_fired", None, step=_("定时"), note=note)
                audit_record(
                    action="flow.instance.timer",
                    obj=instance,
                    after={
                        "next": [t.name for t in created],
                        "closed": [t.pk for t in closed],
                        "status": instance.status,
                    },
                    unit=instance.unit,
                )
                services._business_changed(instance, "step", None)
                if instance.status == InstanceStatus.COMPLETED:
                    services._business_changed(instance, "completed", None)
        except FlowError as exc:
            logger.warning("deadline sweep: timers of instance %s failed: %s", instance_id, exc)
            ProcessInstance.objects.filter(pk=instance_id).update(timer_due_at=now + TIMER_RETRY)
    return moved


# --- Reads: the carded lists for supervision --------------------------------------------------------------


def may_watch(user: Any) -> bool:
    """Supervisors (监察员, their subtree) and leaders (领导, their unit) read the carded lists."""
    return access.is_staff_user(user) and bool(
        access.units_with_role(user, UnitRoleKind.SUPERVISOR, UnitRoleKind.LEADER)
    )


def watch_units(user: Any) -> QuerySet[Unit]:
    """The units whose carded steps the user may read: a supervisor's unit and every unit below it, and
    the units the user leads."""
    if not access.is_staff_user(user):
        return Unit.objects.none()
    led = access.units_with_role(user, UnitRoleKind.LEADER)
    supervised = access.supervised_units(user).values("pk")
    return Unit.objects.filter(Q(pk__in=supervised) | Q(pk__in=led))


def carded_tasks(
    user: Any,
    *,
    states: Sequence[str] = CARDS,
    unit: Unit | None = None,
    key: str = "",
    query: str = "",
) -> QuerySet[Task]:
    """Open steps in ``states`` in the units the user watches (or in ``unit``, which must be one of them)."""
    units = watch_units(user)
    qs = Task.objects.filter(status=TaskStatus.OPEN, deadline_state__in=list(states), unit__in=units)
    if unit is not None:
        qs = qs.filter(unit=unit)
    if key:
        qs = qs.filter(instance__definition__key=key)
    if query:
        qs = qs.filter(title__icontains=query)
    return qs.select_related("unit", "assignee", "post", "instance", "instance__definition").order_by(
        models.Case(models.When(deadline_state=RED, then=0), default=1), "due_at", "pk"
    )


def carded_instances(
    user: Any,
    *,
    states: Sequence[str] = CARDS,
    unit: Unit | None = None,
    key: str = "",
    query: str = "",
) -> QuerySet[ProcessInstance]:
    units = watch_units(user)
    qs = ProcessInstance.objects.filter(
        status=InstanceStatus.RUNNING, deadline_state__in=list(states), unit__in=units
    )
    if unit is not None:
        qs = qs.filter(unit=unit)
    if key:
        qs = qs.filter(definition__key=key)
    if query:
        qs = qs.filter(title__icontains=query)
    return qs.select_related("unit", "definition").order_by(
        models.Case(models.When(deadline_state=RED, then=0), default=1), "legal_due_at", "pk"
    )


def card_counts(user: Any, *, unit: Unit | None = None) -> dict[str, int]:
    """Open steps per deadline state (warning, yellow, red) in the units the user watches."""
    qs = Task.objects.filter(
        status=TaskStatus.OPEN, deadline_state__in=[WARNING, YELLOW, RED], unit__in=watch_units(user)
    )
    if unit is not None:
        qs = qs.filter(unit=unit)
    counts = {WARNING: 0, YELLOW: 0, RED: 0}
    for state, n in qs.values_list("deadline_state").annotate(n=models.Count("pk")).order_by():
        counts[state] = n
    return counts


def task_deadline_history(task: Task) -> QuerySet[DeadlineEvent]:
    return task.deadline_events.order_by("at", "pk")
