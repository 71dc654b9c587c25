"""Watching deadlines (预警): the sweep that moves every open, timed step — and every running case — from
正常 → 预警 → 黄牌 → 红牌, records each change for supervision, tells the people concerned, applies a
process's behaviour on breach, and fires the BPMN timers that are due.

The rules (docs/decisions/0009-deadline-watch.md)
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
    and trail records are written with multi-row inserts (COPY on PostgreSQL). Notices go out grouped per
    person, not per step. bench/deadline_sweep.py: over 100,000 open steps a sweep with nothing to do takes
    ~0.15 s; the busiest ordinary minute (33,000 steps and 17,000 cases changing) ~5–6 s; a catch-up sweep
    changing 67,000 steps and 22,000 cases at once ~7 s on SQLite and ~10 s on PostgreSQL.
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

logger = logging.getLogger(__name__)

CHUNK = 5000  # rows moved per transaction (row locks on PostgreSQL held for a fraction of a second)
DIGEST_AFTER = 3  # more changes than this for one person in one sweep: one digest notice
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
    phases: dict[str, float] = field(default_factory=dict)  # seconds per step of the sweep

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
            "phases": {k: round(v, 3) for k, v in self.phases.items()},
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
    clock = [started]

    def lap(name: str) -> None:
        moment = time.perf_counter()
        result.phases[name] = moment - clock[0]
        clock[0] = moment

    if now <= real_now:
        result.timers = timers_refresh(now=now)
    result.watched = watched_tasks().count()
    lap("timers")
    for state, froms in _ORDER:
        result.tasks[state] += _move_tasks(state, froms, now)
    lap("steps")
    for state, froms in _ORDER:
        result.instances[state] += _move_instances(state, froms, now)
    lap("cases")
    result.notices = notify_pending(now=now)
    lap("notices")
    result.breaches, result.breach_failures = breaches_apply(now=now)
    lap("breaches")
    result.seconds = time.perf_counter() - started
    if result.changed or any(result.instances.values()) or result.breaches or result.timers:
        logger.info("deadline sweep: %s", result.as_dict())
    return result


def _fetch(qs: QuerySet[Any], moments: Sequence[int]) -> list[tuple[Any, ...]]:
    """The rows of a values_list query, read with a plain cursor.

    Django converts every datetime of every row (on SQLite: parse the text, attach the time zone); here
    each distinct value is converted once — a sweep's rows share a few hundred due dates.
    """
    sql, params = qs.query.sql_with_params()
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        rows = cursor.fetchall()
    if connection.vendor != "sqlite" or not rows:
        return [tuple(r) for r in rows]
    seen: dict[Any, Any] = {None: None}
    out = []
    for row in rows:
        row = list(row)
        for i in moments:
            value = row[i]
            converted = seen.get(value, seen)
            if converted is seen:
                moment = dt.datetime.fromisoformat(value) if isinstance(value, str) else value
                converted = seen[value] = moment.replace(tzinfo=dt.UTC) if moment.tzinfo is None else moment
            row[i] = converted
        out.append(tuple(row))
    return out


def _set_state(model: type[models.Model], ids: list[int], state: str) -> None:
    """One UPDATE for the chunk's rows (already locked by this transaction): ``= ANY(array)`` on
    PostgreSQL (one parameter, not thousands to bind), ``IN (…)`` on SQLite."""
    table = connection.ops.quote_name(model._meta.db_table)
    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            cursor.execute(f"UPDATE {table} SET deadline_state = %s WHERE id = ANY(%s)", [state, ids])
        else:
            marks = ", ".join(["%s"] * len(ids))
            cursor.execute(f"UPDATE {table} SET deadline_state = %s WHERE id IN ({marks})", [state, *ids])


def _move_tasks(state: str, froms: Sequence[str], now: dt.datetime) -> int:
    """Move every watched step past ``state``'s threshold into it, a chunk per transaction."""
    moved = 0
    last = 0
    base = watched_tasks().filter(_task_threshold(state, now), deadline_state__in=froms)
    while True:
        with transaction.atomic():
            rows = _fetch(
                base.filter(pk__gt=last)
                .order_by("pk")
                .select_for_update(skip_locked=True)
                .values_list("pk", "deadline_state", "instance_id", "unit_id", "title", "due_at", "red_at")[
                    :CHUNK
                ],
                moments=(5, 6),
            )
            if not rows:
                return moved
            last = rows[-1][0]
            _set_state(Task, [r[0] for r in rows], state)
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
            rows = _fetch(
                base.filter(pk__gt=last)
                .order_by("pk")
                .select_for_update(skip_locked=True)
                .values_list(
                    "pk", "deadline_state", "unit_id", "title", "promised_due_at", "legal_due_at", "red_at"
                )[:CHUNK],
                moments=(4, 5, 6),
            )
            if not rows:
                return moved
            last = rows[-1][0]
            _set_state(ProcessInstance, [r[0] for r in rows], state)
            _record_instance_changes(rows, state, now)
            moved += len(rows)
        if len(rows) < CHUNK:
            return moved


def _local(moment: dt.datetime | None) -> str:
    return timezone.localtime(moment).strftime("%Y-%m-%d %H:%M") if moment else "—"


class _Moments:
    """Formats moments once each: a sweep's rows share a few hundred due dates (ends of working days)."""

    def __init__(self) -> None:
        self._local: dict[Any, str] = {}
        self._iso: dict[Any, str | None] = {}

    def local(self, moment: dt.datetime | None) -> str:
        text = self._local.get(moment)
        if text is None:
            text = self._local[moment] = _local(moment)
        return text

    def iso(self, moment: dt.datetime | None) -> str | None:
        if moment is None:
            return None
        text = self._iso.get(moment)
        if text is None:
            text = self._iso[moment] = moment.isoformat()
        return text


def _note(state: str, due: str, red: str) -> str:
    if state == WARNING:
        return _("将于 %(due)s 到期") % {"due": due}
    if state == YELLOW:
        return _("已超过到期时间 %(due)s") % {"due": due}
    return _("到期时间 %(due)s，已超过红牌时间 %(red)s") % {"due": due, "red": red}


def _unit_labels(unit_ids: Iterable[int]) -> dict[int, str]:
    return dict(Unit.objects.filter(pk__in=sorted(set(unit_ids))).values_list("pk", "name"))


def _record_task_changes(rows: list[tuple[Any, ...]], state: str, now: dt.datetime) -> None:
    units = _unit_labels(r[3] for r in rows)
    moments = _Moments()
    notes: dict[tuple[Any, Any], str] = {}
    events = []
    trail = []
    action = f"flow.deadline.{state}"
    for pk, before, instance_id, unit_id, title, due, red in rows:
        note = notes.get((due, red))
        if note is None:
            note = notes[(due, red)] = _note(state, moments.local(due), moments.local(red))
        events.append((pk, instance_id, before, note))
        trail.append(
            (
                action,
                "flow.task",
                pk,
                title,
                unit_id,
                units.get(unit_id, ""),
                {"deadline_state": before},
                {
                    "deadline_state": state,
                    "instance": instance_id,
                    "due_at": moments.iso(due),
                    "red_at": moments.iso(red),
                },
            )
        )
    _insert_events(events, state, now)
    audit_append_many(trail)


def _record_instance_changes(rows: list[tuple[Any, ...]], state: str, now: dt.datetime) -> None:
    units = _unit_labels(r[2] for r in rows)
    moments = _Moments()
    events = []
    trail = []
    action = f"flow.deadline.{state}"
    for pk, before, unit_id, title, promised, legal, red in rows:
        due = promised or legal
        events.append((None, pk, before, _note(state, moments.local(due), moments.local(red))))
        trail.append(
            (
                action,
                "flow.processinstance",
                pk,
                title,
                unit_id,
                units.get(unit_id, ""),
                {"deadline_state": before},
                {
                    "deadline_state": state,
                    "promised_due_at": moments.iso(promised),
                    "legal_due_at": moments.iso(legal),
                    "red_at": moments.iso(red),
                },
            )
        )
    _insert_events(events, state, now)
    audit_append_many(trail)


# --- Bulk writes ------------------------------------------------------------------------------------------


def _insert_rows(model: type[models.Model], columns: Sequence[str], rows: list[tuple[Any, ...]]) -> None:
    """Insert rows whose values are already in database form: COPY on PostgreSQL, executemany on SQLite.

    The ORM's bulk_create spends ~100 µs per row preparing each field value in Python (seconds at 100,000
    rows); psycopg's client-side binding, which Django uses, re-parses the statement for every row.
    """
    if not rows:
        return
    qn = connection.ops.quote_name
    table, cols = qn(model._meta.db_table), ", ".join(qn(c) for c in columns)
    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            with cursor.cursor.copy(f"COPY {table} ({cols}) FROM STDIN") as copy:
                for row in rows:
                    copy.write_row(row)
            return
        sql = f"INSERT INTO {table} ({cols}) VALUES ({', '.join(['%s'] * len(columns))})"
        for i in range(0, len(rows), 1000):
            cursor.executemany(sql, rows[i : i + 1000])


def _db_time(moment: dt.datetime | None) -> Any:
    return connection.ops.adapt_datetimefield_value(moment) if moment is not None else None


def _insert_events(events: list[tuple[Any, ...]], state: str, now: dt.datetime) -> None:
    at = _db_time(now)
    _insert_rows(
        DeadlineEvent,
        ["task_id", "instance_id", "from_state", "to_state", "at", "note", "notified_at"],
        [(t, i, f, state, at, note[:500], None) for t, i, f, note in events],
    )


AUDIT_COLUMNS = [
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
]


def audit_append_many(entries: list[tuple[Any, ...]]) -> int:
    """Append many records to the trail in one go, chained exactly as ``audit_record`` chains one.

    ``entries``: (action, object_type, object_id, object_label, unit_id, unit_label, before, after) with
    JSON-ready before/after. Same head lock, same canonical form and SM3 digest per record
    (``compute_digest``), so ``audit_verify`` checks them like any other; only the writing is batched.
    The actor is the current audit context's (none for the periodic job: the system).
    """
    if not entries:
        return 0
    from zhengwu.core.audit import _lock_head  # the one lock that orders every append

    ctx = current_context()
    actor = ctx.user if ctx.user is not None and getattr(ctx.user, "is_authenticated", False) else None
    actor_id = actor.pk if actor is not None else None
    actor_label = (str(actor) if actor is not None else "")[:128]
    ip, agent = ctx.ip[:45], ctx.user_agent[:200]
    with transaction.atomic():
        head = _lock_head()
        seq, prev = head.seq, head.digest
        at = timezone.now()
        at_db = _db_time(at)
        record = SimpleNamespace(at=at, actor_id=actor_id, actor_label=actor_label, ip=ip, user_agent=agent)
        rows = []
        for action, object_type, object_id, label, unit_id, unit_label, before, after in entries:
            seq += 1
            record.seq = seq
            record.unit_id = unit_id
            record.unit_label = (unit_label or "")[:128]
            record.action = action
            record.object_type = object_type
            record.object_id = str(object_id)[:64]
            record.object_label = (label or "")[:200]
            record.before = before
            record.after = after
            record.prev_digest = prev
            digest = compute_digest(record)  # type: ignore[arg-type]
            rows.append(
                (
                    seq,
                    at_db,
                    actor_id,
                    actor_label,
                    unit_id,
                    record.unit_label,
                    ip,
                    agent,
                    action,
                    object_type,
                    record.object_id,
                    record.object_label,
                    json.dumps(before) if before is not None else None,
                    json.dumps(after) if after is not None else None,
                    prev,
                    digest,
                )
            )
            prev = digest
        _insert_rows(AuditEvent, AUDIT_COLUMNS, rows)
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
class _Change:
    """One step's or case's change waiting to be told: who to tell, and how to build its own notice."""

    key: str
    state: str
    recipients: list[int]
    build: Any  # (details) -> (title, body, url), called only when the change gets its own notice
    task_id: int | None = None
    instance_id: int | None = None


def _send(
    *,
    recipients: list[int],
    state: str,
    key: str,
    title: str,
    body: str = "",
    url: str = "",
    channels: tuple[str, ...] = ("app",),
) -> None:
    from zhengwu.notify.services import notification_send

    notification_send(
        recipients=recipients,
        title=title[:200],
        body=body,
        url=url,
        key=key,
        level={WARNING: "warning", YELLOW: "warning", RED: "alert"}[state],
        channels=channels,
        sms_params={"text": title[:200]},
    )


def _count_title(state: str, n: int) -> str:
    return _("%(state)s：您有 %(n)d 个事项%(what)s") % {
        "state": _state_label(state),
        "n": n,
        "what": {WARNING: _("即将到期"), YELLOW: _("已超期"), RED: _("严重超期")}[state],
    }


def notify_pending(*, now: dt.datetime) -> int:
    """Tell the people concerned about every deadline change not yet told; returns notification_send calls.

    One transaction: the notices (and SMS deliveries) and the events' ``notified_at`` commit together, so
    a re-run never tells twice, and a crash before it leaves the events for the next sweep.

    In-app: a change gets its own notice (key ``flow.deadline.<task>.<state>``) for whoever has at most
    ``DIGEST_AFTER`` changes of that state in this sweep; everyone with more gets one digest instead, sent
    to all people with the same count in one call (key ``flow.deadline.<state>.digest.<minute>.<count>``).
    SMS (red only): one short text per person naming how many steps are seriously late — never a case's
    title, which a phone shows on its locked screen — sent to all people with the same count in one call.
    """
    calls = 0
    with transaction.atomic():
        # Each pending step change with what decides who hears of it, in one query.
        pending = _fetch(
            DeadlineEvent.objects.select_for_update(skip_locked=True, of=("self",))
            .filter(notified_at__isnull=True)
            .order_by("pk")
            .values_list(
                "pk",
                "task_id",
                "instance_id",
                "to_state",
                "task__status",
                "task__unit_id",
                "task__assignee_id",
                "task__assign_kind",
                "task__post_id",
                "task__role",
                "instance__unit_id",
                "instance__status",
            ),
            moments=(),
        )
        if not pending:
            return 0
        changes = _task_changes([p for p in pending if p[1]]) + _instance_changes(
            [p for p in pending if not p[1]]
        )
        per_person: dict[tuple[int, str], int] = defaultdict(int)
        for change in changes:
            for user_id in change.recipients:
                per_person[(user_id, change.state)] += 1
        digest = {who for who, n in per_person.items() if n > DIGEST_AFTER}
        singles = [
            (change, [u for u in change.recipients if (u, change.state) not in digest]) for change in changes
        ]
        singles = [(change, people) for change, people in singles if people]
        # Titles and due dates only for the steps that get a notice of their own.
        wanted = sorted({c.task_id for c, _people in singles if c.task_id})
        cases = sorted({c.instance_id for c, _people in singles if c.instance_id})
        details: dict[Any, tuple[str, Any]] = {}
        for i in range(0, len(wanted), CHUNK):
            details.update(
                (pk, (title, due))
                for pk, title, due in Task.objects.filter(pk__in=wanted[i : i + CHUNK]).values_list(
                    "pk", "title", "due_at"
                )
            )
        for i in range(0, len(cases), CHUNK):
            details.update(
                (("case", pk), (title, promised or legal))
                for pk, title, promised, legal in ProcessInstance.objects.filter(
                    pk__in=cases[i : i + CHUNK]
                ).values_list("pk", "title", "promised_due_at", "legal_due_at")
            )
        for change, single in singles:
            if single:
                title, body, url = change.build(details)
                _send(recipients=single, state=change.state, key=change.key, title=title, body=body, url=url)
                calls += 1
        minute = timezone.localtime(now).strftime("%Y%m%d%H%M")
        if digest:
            watchers = set(
                UnitRole.objects.filter(
                    user_id__in=sorted({u for u, _s in digest}),
                    role__in=[UnitRoleKind.LEADER, UnitRoleKind.SUPERVISOR],
                ).values_list("user_id", flat=True)
            )
            groups: dict[tuple[str, bool, int], list[int]] = defaultdict(list)
            for user_id, state in digest:
                groups[(state, user_id in watchers, per_person[(user_id, state)])].append(user_id)
            todo_url, watch_url = reverse("flow:tasks"), reverse("flow:deadlines")
            for (state, watcher, n), users in sorted(groups.items()):
                body = (
                    _("请在超期督办清单中查看，督促尽快办理。")
                    if watcher
                    else _("请在待办中查看，尽快办理。")
                )
                _send(
                    recipients=sorted(users),
                    state=state,
                    key=f"flow.deadline.{state}.digest.{minute}.{n}",
                    title=_count_title(state, n),
                    body=body,
                    url=watch_url if watcher else todo_url,
                )
                calls += 1
        texts: dict[int, list[int]] = defaultdict(list)
        for (user_id, state), n in per_person.items():
            if state == RED:
                texts[n].append(user_id)
        for n, users in sorted(texts.items()):
            _send(
                recipients=sorted(users),
                state=RED,
                key=f"flow.deadline.red.sms.{minute}.{n}",
                title=_count_title(RED, n) + _("，请登录平台尽快办理"),
                channels=("sms",),
            )
            calls += 1
        # One statement for all of them: rows outside this sweep in the range are either told already,
        # or not yet visible to it (another sweep's, uncommitted) and left to that sweep.
        DeadlineEvent.objects.filter(
            pk__gte=pending[0][0], pk__lte=pending[-1][0], notified_at__isnull=True
        ).update(notified_at=now)
    return calls


def _task_changes(pending: list[tuple[Any, ...]]) -> list[_Change]:
    tasks = {
        p[1]: {
            "id": p[1],
            "status": p[4],
            "unit_id": p[5],
            "assignee_id": p[6],
            "assign_kind": p[7],
            "post_id": p[8],
            "role": p[9],
        }
        for p in pending
    }
    holders = _holders(list(tasks.values()))
    red_units = {p[5] for p in pending if p[3] == RED}
    leaders = unit_leaders(red_units) if red_units else {}
    url_pattern = reverse("flow:task_detail", args=[0]).replace("/0/", "/%d/")
    titles = {
        WARNING: _("预警：%(title)s 将于 %(due)s 到期"),
        YELLOW: _("黄牌：%(title)s 已超期（%(due)s 到期）"),
        RED: _("红牌：%(title)s 严重超期（%(due)s 到期）"),
    }
    seen: set[tuple[int, str]] = set()
    out: list[_Change] = []
    for _pk, task_id, _instance_id, state, status, unit_id, *_rest in pending:
        if status != TaskStatus.OPEN or (task_id, state) in seen:
            continue  # finished since: nobody needs telling
        seen.add((task_id, state))
        people = list(holders.get(task_id, []))
        if state == RED:
            people += [u for u in leaders.get(unit_id, []) if u not in people]
        if not people:
            continue

        def build(
            details: dict[Any, tuple[str, Any]], task_id: int = task_id, state: str = state
        ) -> tuple[str, str, str]:
            title, due = details.get(task_id, ("", None))
            return titles[state] % {"title": title, "due": _local(due)}, "", url_pattern % task_id

        out.append(
            _Change(
                key=f"flow.deadline.{task_id}.{state}",
                state=state,
                recipients=people,
                build=build,
                task_id=task_id,
            )
        )
    return out


def _instance_changes(pending: list[tuple[Any, ...]]) -> list[_Change]:
    """Cases: yellow and red go to the leaders of the lead unit (the steps have told their holders)."""
    wanted = [p for p in pending if p[3] in CARDS and p[11] == InstanceStatus.RUNNING]
    if not wanted:
        return []
    leaders = unit_leaders({p[10] for p in wanted})
    url_pattern = reverse("flow:instance_detail", args=[0]).replace("/0/", "/%d/")
    titles = {YELLOW: _("办件黄牌：%(title)s 已超过承诺期限"), RED: _("办件红牌：%(title)s 已超过法定期限")}
    out = []
    for p in wanted:
        instance_id, state, unit_id = p[2], p[3], p[10]
        if not leaders.get(unit_id):
            continue

        def build(
            details: dict[Any, tuple[str, Any]], instance_id: int = instance_id, state: str = state
        ) -> tuple[str, str, str]:
            title, due = details.get(("case", instance_id), ("", None))
            body = _("办结期限：%(due)s") % {"due": _local(due)}
            return titles[state] % {"title": title}, body, url_pattern % instance_id

        out.append(
            _Change(
                key=f"flow.deadline.case.{instance_id}.{state}",
                state=state,
                recipients=sorted(leaders[unit_id]),
                build=build,
                instance_id=instance_id,
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
