"""Government time for tasks and instances: due dates from limits, stopped clocks, warning moments.

All arithmetic is zhengwu.workdays'; this module only decides which limit applies where and which stopped
periods count:

* a task is held to its step's ``limit`` (or, failing that, its promised and then its legal limit), and
  also carries the step's legal and promised due dates when the step declares them;
* an instance is held to the process's legal and promised limits, counted from its start;
* a task's clock counts the stops recorded on the task and those recorded on its whole instance while the
  task was open (a hearing stops the case, and with it the step that waits on it); an instance's clock
  counts the stops recorded on the instance.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime
from typing import Any

from zhengwu.workdays.calendar import DueExplanation, Limit, StoppedPeriod, due_at, explain_due, warning_at

DEFAULT_WARNING_BEFORE = "1wd"
DEFAULT_RED_AFTER = "3wd"


def parse_limit(text: str) -> Limit | None:
    if not text:
        return None
    try:
        return Limit.parse(text)
    except ValueError:
        return None


def periods(stops: Iterable[Any], *, not_before: datetime | None = None) -> list[StoppedPeriod]:
    """ClockStop rows → StoppedPeriods, clipped to start no earlier than ``not_before``."""
    out: list[StoppedPeriod] = []
    for stop in stops:
        start, end = stop.started_at, stop.ended_at
        if not_before is not None:
            if end is not None and end <= not_before:
                continue
            start = max(start, not_before)
        out.append(StoppedPeriod(start=start, end=end, reason=stop.reason))
    return out


def _due(start: datetime, text: str, stops: list[StoppedPeriod], now: datetime | None) -> datetime | None:
    limit = parse_limit(text)
    return due_at(start, limit, stops, now=now) if limit is not None else None


def _red(due: datetime | None, red_after: str) -> datetime | None:
    """The red-card moment: ``red_after`` past the due date, counted like any period (the due day not
    counted). Stops do not move it further: a stop that begins after the due date moves nothing."""
    after = parse_limit(red_after or DEFAULT_RED_AFTER)
    return due_at(due, after) if due is not None and after is not None else None


def task_apply_timing(
    task: Any,
    *,
    warning_before: str,
    stops: list[StoppedPeriod],
    now: datetime | None,
    red_after: str = "",
) -> None:
    """Set due_at / legal_due_at / promised_due_at / warning_at / red_at on a task from its limits and stops."""
    task.legal_due_at = _due(task.started_at, task.legal_limit, stops, now)
    task.promised_due_at = _due(task.started_at, task.promised_limit, stops, now)
    task.due_at = _due(task.started_at, task.limit, stops, now)
    before = parse_limit(warning_before or DEFAULT_WARNING_BEFORE)
    task.warning_at = warning_at(task.due_at, before) if task.due_at is not None and before else None
    task.red_at = _red(task.due_at, red_after)


def instance_apply_timing(instance: Any, *, stops: list[StoppedPeriod], now: datetime | None) -> None:
    """The case's due dates, and its own warning / red-card moments (zhengwu.flow.deadlines).

    Yellow comes past the first due date (the promised one if there is one); red past the legal one when
    it is later, otherwise ``red_after`` past the single due date. ``warning_before`` and ``red_after``
    are the process's properties.
    """
    instance.legal_due_at = _due(instance.started_at, instance.legal_limit, stops, now)
    instance.promised_due_at = _due(instance.started_at, instance.promised_limit, stops, now)
    props = instance.definition.properties or {}
    first = instance.promised_due_at or instance.legal_due_at
    before = parse_limit(props.get("warning_before") or DEFAULT_WARNING_BEFORE)
    instance.warning_at = warning_at(first, before) if first is not None and before else None
    legal, promised = instance.legal_due_at, instance.promised_due_at
    if legal is not None and promised is not None and legal > promised:
        instance.red_at = legal
    else:
        instance.red_at = _red(first, props.get("red_after", ""))


def explain(
    start: datetime, text: str, stops: list[StoppedPeriod], now: datetime | None
) -> DueExplanation | None:
    limit = parse_limit(text)
    return explain_due(start, limit, stops, now=now) if limit is not None else None
