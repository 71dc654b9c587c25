"""Government time (政务时间): working days, time limits and stopped clocks, counted as the law counts them.

The calendar
    A working day (工作日) is a day that is not a statutory holiday and not a weekend, and every adjusted
    weekend workday (调休上班) is a working day. The State Council's arrangement comes from the
    ``chinesecalendar`` package; the admin-editable ``CalendarDay`` table wins over it, day by day, and is
    the only source for years the package does not know (it raises ``NotImplementedError`` for them). A
    year with neither package data nor a single holiday entered by hand is counted with weekends only and
    *flagged*: explanations say so and platform admins are warned from 1 November of the year before.

Counting a limit (期限的计算)
    * The day an event happens is not counted; the period starts the next day (民法典 第二百零一条).
    * ``N`` working days end at 23:59:59 local time (Asia/Shanghai) of the N-th working day after the start
      date. ``0`` working days (即办) end with the start day, or with the next working day if the start
      day is not one.
    * ``N`` natural days end at 23:59:59 of the N-th day after the start date; if that day is a holiday or a
      weekend the period ends with the next working day (民法典 第二百零三条).
    * ``N`` hours are natural hours from the start moment, holidays included.

Stopped clocks (暂停计时: 补正, 听证, 公告, 专家评审, 检验检测)
    A stop is applied with the same rule as any period: **the day the clock stops still counts; the stop
    covers the days after it, up to and including the day the clock restarts; counting resumes the day
    after the restart.** So a stop from day S to day E removes the working days ``d`` with ``S < d <= E``
    from the count, and the due date moves by exactly that many working days
    (``stopped_working_days``). A stop that starts and ends on the same day moves nothing; a stop from a
    Friday to the following Monday moves the due date by one working day (the Monday).
    Overlapping stops count each day once. A stop that begins after the period has already run out moves
    nothing (an overdue step does not become timely by being stopped). A stop still open (``end is
    None``) is counted up to ``now`` as if the clock restarted today, so the due date shown is the
    earliest possible one and moves on every further working day of the stop.
    For natural-day limits the stopped natural days are added in the same way; for hour limits the exact
    stopped duration is added.

Speed
    The calendar is held in memory as one sorted list of working-day ordinals over a run of years, so
    ``due_at`` is one ``bisect`` plus a datetime construction (microseconds). Saving an override clears the
    cache at once in the saving process; other processes notice within ``REVALIDATE_SECONDS`` (one small
    aggregate query on the override table).
"""

from __future__ import annotations

import logging
import re
import threading
import time as _time
from bisect import bisect_left, bisect_right
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import chinese_calendar
from chinese_calendar.constants import Holiday as _PackageHoliday
from django.db import DatabaseError, models
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

logger = logging.getLogger(__name__)

SHANGHAI = ZoneInfo("Asia/Shanghai")
REVALIDATE_SECONDS = 30.0
MAX_LIMIT_AMOUNT = 9999

__all__ = [
    "SHANGHAI",
    "DueExplanation",
    "Limit",
    "LimitUnit",
    "StopReason",
    "StoppedPeriod",
    "YearCoverage",
    "calendar_cache_clear",
    "calendar_cache_clear_if_overridden",
    "calendar_coverage_warning",
    "day_label",
    "day_name",
    "deadline_state",
    "due_at",
    "explain_due",
    "is_workday",
    "package_years",
    "red_card_at",
    "stopped_working_days",
    "warning_at",
    "working_days_between",
    "year_coverage",
]


class LimitUnit(models.TextChoices):
    WORKING_DAY = "working_day", gettext_lazy("工作日")
    NATURAL_DAY = "natural_day", gettext_lazy("自然日")
    HOUR = "hour", gettext_lazy("小时")


class StopReason(models.TextChoices):
    """Why a clock stops (暂停计时的事由); ``StoppedPeriod.reason`` may also carry free text."""

    SUPPLEMENT = "supplement", gettext_lazy("补正材料")
    HEARING = "hearing", gettext_lazy("听证")
    NOTICE = "notice", gettext_lazy("公告")
    EXPERT_REVIEW = "expert_review", gettext_lazy("专家评审")
    TESTING = "testing", gettext_lazy("检验检测")


_SUFFIX = {LimitUnit.WORKING_DAY: "wd", LimitUnit.NATURAL_DAY: "d", LimitUnit.HOUR: "h"}
_UNIT_OF_TOKEN = {
    "wd": LimitUnit.WORKING_DAY,
    "工作日": LimitUnit.WORKING_DAY,
    "个工作日": LimitUnit.WORKING_DAY,
    "d": LimitUnit.NATURAL_DAY,
    "天": LimitUnit.NATURAL_DAY,
    "日": LimitUnit.NATURAL_DAY,
    "自然日": LimitUnit.NATURAL_DAY,
    "个自然日": LimitUnit.NATURAL_DAY,
    "h": LimitUnit.HOUR,
    "小时": LimitUnit.HOUR,
    "个小时": LimitUnit.HOUR,
}
_LIMIT_RE = re.compile(r"^\s*(\d{1,6})\s*([a-z\u4e00-\u9fff]+)\s*$")


@dataclass(frozen=True)
class Limit:
    """A time limit (期限): ``Limit.parse("20wd")`` / ``"15d"`` / ``"24h"``; ``str()`` gives the same text back."""

    amount: int
    unit: str

    def __post_init__(self) -> None:
        if self.unit not in _SUFFIX:
            raise ValueError(_("期限单位无效：%(unit)s") % {"unit": self.unit})
        if isinstance(self.amount, bool) or not isinstance(self.amount, int):
            raise ValueError(_("期限必须是整数"))
        if not 0 <= self.amount <= MAX_LIMIT_AMOUNT:
            raise ValueError(_("期限必须在 0 到 %(max)d 之间") % {"max": MAX_LIMIT_AMOUNT})

    @classmethod
    def parse(cls, text: str) -> Limit:
        """``20wd`` (工作日), ``15d`` (自然日), ``24h`` (小时); ``20工作日``, ``15天``, ``24小时`` also read."""
        match = _LIMIT_RE.match(str(text).lower())
        unit = _UNIT_OF_TOKEN.get(match.group(2)) if match else None
        if match is None or unit is None:
            raise ValueError(
                _("无法识别的期限“%(text)s”：请写成 20wd（工作日）、15d（自然日）或 24h（小时）")
                % {"text": str(text)[:32]}
            )
        return cls(int(match.group(1)), unit)

    @classmethod
    def working_days(cls, amount: int) -> Limit:
        return cls(amount, LimitUnit.WORKING_DAY)

    @classmethod
    def natural_days(cls, amount: int) -> Limit:
        return cls(amount, LimitUnit.NATURAL_DAY)

    @classmethod
    def hours(cls, amount: int) -> Limit:
        return cls(amount, LimitUnit.HOUR)

    def __str__(self) -> str:
        return f"{self.amount}{_SUFFIX[self.unit]}"  # type: ignore[index]

    @property
    def label(self) -> str:
        """For people: "20个工作日", "15个自然日", "24小时"."""
        if self.unit == LimitUnit.WORKING_DAY:
            return _("%(n)d个工作日") % {"n": self.amount}
        if self.unit == LimitUnit.NATURAL_DAY:
            return _("%(n)d个自然日") % {"n": self.amount}
        return _("%(n)d小时") % {"n": self.amount}


@dataclass(frozen=True)
class StoppedPeriod:
    """A stopped clock (暂停计时): from ``start`` until ``end`` (``None``: still stopped), and why."""

    start: datetime
    end: datetime | None
    reason: str

    def __post_init__(self) -> None:
        if self.end is not None and _local(self.end) < _local(self.start):
            raise ValueError(_("暂停计时的恢复时间不能早于暂停时间"))

    @property
    def reason_label(self) -> str:
        if self.reason in StopReason.values:
            return str(StopReason(self.reason).label)
        return self.reason


@dataclass
class DueExplanation:
    """How a due date was reached, for the deadline page (the arithmetic shown to clerks and citizens).

    ``stopped`` pairs each stop with what it added, in the limit's own unit: working days for working-day
    limits, natural days for natural-day limits, minutes for hour limits (``stopped_rows`` formats them).
    """

    start: datetime
    limit: Limit
    due: datetime
    counted_days: list[date] = field(default_factory=list)
    skipped_days: list[tuple[date, str]] = field(default_factory=list)
    stopped: list[tuple[StoppedPeriod, int]] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)
    stopped_days: list[tuple[date, str]] = field(default_factory=list)
    uncertain_years: list[int] = field(default_factory=list)

    @property
    def first_day(self) -> date:
        """The first day of the period: the day after the start."""
        return _local(self.start).date() + timedelta(days=1)

    @property
    def stopped_total(self) -> int:
        return sum(added for _stop, added in self.stopped)

    @property
    def stopped_rows(self) -> list[dict[str, Any]]:
        rows = []
        for stop, added in self.stopped:
            if self.limit.unit == LimitUnit.HOUR:
                hours, minutes = divmod(added, 60)
                length = _("%(h)d小时%(m)d分钟") % {"h": hours, "m": minutes}
            elif self.limit.unit == LimitUnit.NATURAL_DAY:
                length = _("%(n)d个自然日") % {"n": added}
            else:
                length = _("%(n)d个工作日") % {"n": added}
            rows.append(
                {
                    "start": _local(stop.start),
                    "end": _local(stop.end) if stop.end is not None else None,
                    "reason": stop.reason_label,
                    "added": added,
                    "length": length,
                    "open": stop.end is None,
                }
            )
        return rows


# --- The calendar in memory ---------------------------------------------------------------------------


@dataclass
class _Year:
    ords: list[int]
    names: dict[int, str]
    package_known: bool
    holiday_overrides: int
    overrides: int

    @property
    def flagged(self) -> bool:
        return not self.package_known and self.holiday_overrides == 0


@dataclass(frozen=True)
class YearCoverage:
    """Where a year's calendar comes from: the package, hand-entered holidays, or weekends only (flagged)."""

    year: int
    package_known: bool
    overrides: int
    holiday_overrides: int

    @property
    def flagged(self) -> bool:
        return not self.package_known and self.holiday_overrides == 0

    @property
    def source_label(self) -> str:
        if self.package_known and self.overrides:
            return _("国务院放假安排（chinesecalendar 数据）及人工调整")
        if self.package_known:
            return _("国务院放假安排（chinesecalendar 数据）")
        if self.holiday_overrides:
            return _("人工录入的节假日")
        return _("尚未录入节假日，暂按仅周末休息计算")


class _Snapshot:
    """An immutable view of the calendar over the years ``lo_year..hi_year`` (replaced, never mutated)."""

    __slots__ = (
        "checked_at",
        "fingerprint",
        "first_ord",
        "hi_year",
        "last_ord",
        "lo_year",
        "ords",
        "overrides",
        "workset",
        "years",
    )

    def __init__(
        self,
        lo_year: int,
        hi_year: int,
        years: dict[int, _Year],
        overrides: dict[int, tuple[bool, str]],
        fingerprint: Any,
    ) -> None:
        self.lo_year = lo_year
        self.hi_year = hi_year
        self.years = years
        self.overrides = overrides
        self.fingerprint = fingerprint
        self.first_ord = date(lo_year, 1, 1).toordinal()
        self.last_ord = date(hi_year, 12, 31).toordinal()
        ords: list[int] = []
        for y in range(lo_year, hi_year + 1):
            ords.extend(years[y].ords)
        self.ords = ords
        self.workset = frozenset(ords)
        self.checked_at = _time.monotonic()


_PACKAGE_NAMES = {h.value: h.chinese for h in _PackageHoliday}
# The calendar keeps a day's name in Chinese (compared and cached as such); people read it in their
# language. A name typed into the holiday table is shown as typed.
_DAY_LABELS = {
    "工作日": gettext_lazy("工作日"),
    "周末": gettext_lazy("周末"),
    "节假日": gettext_lazy("节假日"),
    "调休上班": gettext_lazy("调休上班"),
    "元旦": gettext_lazy("元旦"),
    "春节": gettext_lazy("春节"),
    "清明": gettext_lazy("清明"),
    "劳动节": gettext_lazy("劳动节"),
    "端午": gettext_lazy("端午"),
    "国庆节": gettext_lazy("国庆节"),
    "中秋": gettext_lazy("中秋"),
    "中国人民抗日战争暨世界反法西斯战争胜利70周年纪念日": gettext_lazy(
        "中国人民抗日战争暨世界反法西斯战争胜利70周年纪念日"
    ),
}


def day_label(name: str) -> str:
    """A day's name (工作日, 周末, 国庆节 …) in the user's language."""
    label = _DAY_LABELS.get(name)
    return str(label) if label is not None else name


_lock = threading.RLock()
_snap: _Snapshot | None = None


def package_years() -> tuple[int, int]:
    """The first and last year the chinesecalendar package knows."""
    keys = chinese_calendar.constants.holidays.keys()
    return min(keys).year, max(keys).year


def _package_knows(year: int) -> bool:
    try:
        chinese_calendar.is_workday(date(year, 1, 1))
    except NotImplementedError:
        return False
    return True


def _build_year(year: int, overrides: dict[int, tuple[bool, str]]) -> _Year:
    known = _package_knows(year)
    first = date(year, 1, 1).toordinal()
    last = date(year, 12, 31).toordinal()
    ords: list[int] = []
    names: dict[int, str] = {}
    holiday_overrides = 0
    override_count = 0
    for o in range(first, last + 1):
        d = date.fromordinal(o)
        weekend = d.weekday() >= 5
        entry = overrides.get(o)
        if entry is not None:
            work, name = entry
            override_count += 1
            if not work:
                holiday_overrides += 1
            if name:
                names[o] = name
            elif not work:
                names[o] = "周末" if weekend else "节假日"
            elif weekend:
                names[o] = "调休上班"
        elif known:
            is_holiday, english = chinese_calendar.get_holiday_detail(d)
            work = not is_holiday
            if english:
                names[o] = "调休上班" if work else _PACKAGE_NAMES.get(english, english)
        else:
            work = not weekend
        if work:
            ords.append(o)
    return _Year(ords, names, known, holiday_overrides, override_count)


def _read_overrides() -> tuple[dict[int, tuple[bool, str]], Any]:
    from zhengwu.workdays.models import CalendarDay

    try:
        fingerprint = _fingerprint()
        rows = CalendarDay.objects.values_list("date", "is_workday", "name")
        return {d.toordinal(): (work, name) for d, work, name in rows}, fingerprint
    except DatabaseError:
        # Before the first migration the table does not exist: count from the package alone and try again
        # at the next revalidation (fingerprint None never matches).
        logger.warning("workdays: calendar overrides unreadable, using the package data alone", exc_info=True)
        return {}, None


def _fingerprint() -> Any:
    from django.db.models import Count, Max

    from zhengwu.workdays.models import CalendarDay

    agg = CalendarDay.objects.aggregate(n=Count("id"), m=Max("changed_at"), i=Max("id"))
    return (agg["n"], agg["m"], agg["i"])


def calendar_cache_clear() -> None:
    """Forget the in-memory calendar (called when an override is saved or deleted)."""
    global _snap
    with _lock:
        _snap = None


def calendar_cache_clear_if_overridden() -> None:
    """Forget the in-memory calendar if it holds any override (tests: overrides roll back with the test,
    and the cache must not keep a day the database no longer has)."""
    snap = _snap
    if snap is not None and snap.overrides:
        calendar_cache_clear()


def _current() -> _Snapshot:
    snap = _snap
    if snap is not None and _time.monotonic() - snap.checked_at < REVALIDATE_SECONDS:
        return snap
    return _refresh(snap)


def _refresh(snap: _Snapshot | None) -> _Snapshot:
    global _snap
    with _lock:
        if _snap is not snap and _snap is not None:
            return _snap
        if snap is not None and snap.fingerprint is not None:
            try:
                same = _fingerprint() == snap.fingerprint
            except DatabaseError:
                same = True
            if same:
                snap.checked_at = _time.monotonic()
                return snap
        overrides, fingerprint = _read_overrides()
        lo, hi = (snap.lo_year, snap.hi_year) if snap is not None else _default_years()
        years = {y: _build_year(y, overrides) for y in range(lo, hi + 1)}
        _snap = _Snapshot(lo, hi, years, overrides, fingerprint)
        return _snap


def _default_years() -> tuple[int, int]:
    this_year = datetime.now(SHANGHAI).year
    return this_year - 1, this_year + 1


def _widen(snap: _Snapshot, lo_year: int, hi_year: int) -> _Snapshot:
    """A snapshot covering at least ``lo_year..hi_year`` (built under the lock, shared afterwards)."""
    global _snap
    if lo_year < 1 or hi_year > 9999:
        raise ValueError(_("日期超出日历范围"))
    with _lock:
        shared = _snap
        # Build on the shared snapshot when it holds the same overrides (it may already be wider);
        # otherwise (the cache was cleared meanwhile) answer this call from ``snap`` without sharing it.
        base = shared if shared is not None and shared.fingerprint == snap.fingerprint else snap
        lo = min(lo_year, base.lo_year)
        hi = max(hi_year, base.hi_year)
        if lo == base.lo_year and hi == base.hi_year:
            return base
        years = dict(base.years)
        for y in range(lo, hi + 1):
            if y not in years:
                years[y] = _build_year(y, base.overrides)
        wider = _Snapshot(lo, hi, years, base.overrides, base.fingerprint)
        wider.checked_at = base.checked_at
        if shared is base:
            _snap = wider
        return wider


def _covering(o_lo: int, o_hi: int) -> _Snapshot:
    snap = _current()
    if o_lo < snap.first_ord or o_hi > snap.last_ord:
        snap = _widen(snap, date.fromordinal(max(1, o_lo)).year, date.fromordinal(min(o_hi, 3652059)).year)
    return snap


def _nth_workday_after(o: int, n: int) -> int:
    """Ordinal of the n-th working day after ordinal ``o`` (n >= 1); n == 0: first working day >= o."""
    snap = _current()
    while True:
        if o < snap.first_ord or o > snap.last_ord:
            snap = _widen(snap, date.fromordinal(o).year, date.fromordinal(o).year)
            continue
        ords = snap.ords
        i = bisect_right(ords, o) + n - 1 if n else bisect_left(ords, o)
        if i < len(ords):
            return ords[i]
        snap = _widen(snap, snap.lo_year, snap.hi_year + 1 + (i - len(ords)) // 240)


def _nth_workday_before(o: int, n: int) -> int:
    """Ordinal of the n-th working day strictly before ordinal ``o`` (n >= 1); n == 0: ``o`` itself."""
    if n == 0:
        return o
    snap = _current()
    while True:
        if o < snap.first_ord or o > snap.last_ord:
            snap = _widen(snap, date.fromordinal(o).year, date.fromordinal(o).year)
            continue
        i = bisect_left(snap.ords, o) - n
        if i >= 0:
            return snap.ords[i]
        snap = _widen(snap, snap.lo_year - 1 - (-i) // 240, snap.hi_year)


def _count_workdays(a: int, b: int) -> int:
    """Working days d with a < d <= b (ordinals, a <= b)."""
    if b <= a:
        return 0
    snap = _covering(a, b)
    return bisect_right(snap.ords, b) - bisect_right(snap.ords, a)


def _is_workday_ord(o: int) -> bool:
    snap = _covering(o, o)
    return o in snap.workset


def _name_ord(o: int) -> str:
    snap = _covering(o, o)
    year = snap.years[date.fromordinal(o).year]
    name = year.names.get(o)
    if name:
        return name
    if o in snap.workset:
        return "工作日"
    return "周末"


# --- Public API ---------------------------------------------------------------------------------------


def _local(moment: datetime) -> datetime:
    """The moment in Beijing time; a naive datetime is taken to be Beijing time already."""
    if moment.tzinfo is None:
        return moment.replace(tzinfo=SHANGHAI)
    return moment.astimezone(SHANGHAI)


def _as_date(value: date) -> date:
    if isinstance(value, datetime):
        return _local(value).date()
    return value


def _end_of_day(o: int) -> datetime:
    d = date.fromordinal(o)
    return datetime(d.year, d.month, d.day, 23, 59, 59, tzinfo=SHANGHAI)


def is_workday(d: date) -> bool:
    """Whether ``d`` is a working day (工作日): overrides, then the State Council's arrangement, then weekdays."""
    return _is_workday_ord(_as_date(d).toordinal())


def day_name(d: date, *, translated: bool = True) -> str:
    """What the day is: "国庆节", "春节" … for holidays, "调休上班", "周末", or "工作日" — in the user's
    language, or as the calendar keeps it (``translated=False``, for comparing)."""
    name = _name_ord(_as_date(d).toordinal())
    return day_label(name) if translated else name


def working_days_between(a: date, b: date) -> int:
    """Working days after ``a`` up to and including ``b`` (``a`` itself is not counted); negative if b < a."""
    oa, ob = _as_date(a).toordinal(), _as_date(b).toordinal()
    if ob < oa:
        return -_count_workdays(ob, oa)
    return _count_workdays(oa, ob)


def stopped_working_days(stop: StoppedPeriod, *, now: datetime | None = None) -> int:
    """Working days a stop takes out of the count: those after the day it began, up to the day it ended.

    An open stop (``end is None``) is counted up to ``now`` (default: the current time).
    """
    end = stop.end if stop.end is not None else (now if now is not None else _now())
    return max(0, working_days_between(_local(stop.start).date(), _local(end).date()))


def _now() -> datetime:
    from django.utils import timezone

    return timezone.now()


def due_at(
    start: datetime, limit: Limit, stops: Sequence[StoppedPeriod] = (), *, now: datetime | None = None
) -> datetime:
    """When a period of ``limit`` that starts with an event at ``start`` runs out (see the module rules)."""
    if not stops:
        local = _local(start)
        unit = limit.unit
        if unit == LimitUnit.WORKING_DAY:
            return _end_of_day(_nth_workday_after(local.toordinal(), limit.amount))
        if unit == LimitUnit.HOUR:
            return (local + timedelta(hours=limit.amount)).astimezone(SHANGHAI)
        last = local.toordinal() + limit.amount
        return _end_of_day(last if _is_workday_ord(last) else _nth_workday_after(last, 1))
    return _compute(start, limit, stops, now=now, explain=False).due


def explain_due(
    start: datetime, limit: Limit, stops: Sequence[StoppedPeriod] = (), *, now: datetime | None = None
) -> DueExplanation:
    """The due date with its arithmetic: counted days, skipped holidays, stopped periods, notes."""
    return _compute(start, limit, stops, now=now, explain=True)


def warning_at(due: datetime, before: Limit) -> datetime:
    """The moment ``before`` ahead of ``due``: e.g. one working day before a due date (预警时间).

    Working days: the same time of day on the N-th working day before the due date (a due at 23:59:59 on
    Friday 9 October warns at 23:59:59 on the previous working day). Natural days and hours: plain
    subtraction.
    """
    local = _local(due)
    if before.unit == LimitUnit.HOUR:
        return (local - timedelta(hours=before.amount)).astimezone(SHANGHAI)
    if before.unit == LimitUnit.NATURAL_DAY:
        return local - timedelta(days=before.amount)
    o = _nth_workday_before(local.toordinal(), before.amount)
    d = date.fromordinal(o)
    return local.replace(year=d.year, month=d.month, day=d.day)


def red_card_at(due: datetime, after: Limit) -> datetime:
    """The moment a step is *seriously* late (红牌): ``after`` past the due date, counted like any period.

    The due day is the event day and is not counted: with ``after`` = 3 working days, a step due at the end
    of Friday turns red at the end of the third working day after that Friday.
    """
    return due_at(due, after)


def deadline_state(now: datetime, *, due: datetime, warning: datetime, red: datetime) -> str:
    """预警状态 at ``now``: "normal", "warning" (from the warning moment), "yellow" (黄牌, after the due
    moment) or "red" (红牌, after the red-card moment). Plain comparisons, for the deadline sweep."""
    if now > red:
        return "red"
    if now > due:
        return "yellow"
    if now >= warning:
        return "warning"
    return "normal"


# --- The arithmetic with stops and explanations ---------------------------------------------------------


def _stop_end(stop: StoppedPeriod, now: datetime | None) -> datetime:
    if stop.end is not None:
        return _local(stop.end)
    return _local(now if now is not None else _now())


def _fmt(d: date) -> str:
    return _("%(m)d月%(d)d日") % {"m": d.month, "d": d.day}


def _compute(
    start: datetime, limit: Limit, stops: Sequence[StoppedPeriod], *, now: datetime | None, explain: bool
) -> DueExplanation:
    local_start = _local(start)
    s = local_start.toordinal()
    ordered = sorted(stops, key=lambda st: _local(st.start))
    result = DueExplanation(start=local_start, limit=limit, due=local_start)
    notes = result.notes
    if explain:
        notes.append(
            _("事件发生当日（%(day)s）不计入期限，期限自次日（%(next)s）起算。")
            % {"day": _fmt(local_start.date()), "next": _fmt(local_start.date() + timedelta(days=1))}
        )
    if limit.unit == LimitUnit.HOUR:
        _compute_hours(result, local_start, limit, ordered, now, explain)
    elif limit.unit == LimitUnit.NATURAL_DAY:
        _compute_natural(result, s, limit, ordered, now, explain)
    else:
        _compute_working(result, s, limit, ordered, now, explain)
    if explain and stops:
        notes.append(
            _(
                "暂停计时的计算：暂停当日仍计入期限，自暂停次日起至恢复计时当日止不计入期限，"
                "恢复计时的次日起继续计算。"
            )
        )
        if any(st.end is None for st in stops):
            notes.append(
                _("计时仍在暂停中：截止时间按今天恢复计时推算，暂停每多一个工作日，截止时间相应顺延。")
            )
    if explain:
        _flag_uncertain(result, s, _local(result.due).toordinal())
    return result


def _compute_working(
    result: DueExplanation,
    s: int,
    limit: Limit,
    ordered: list[StoppedPeriod],
    now: datetime | None,
    explain: bool,
) -> None:
    due_ord = _nth_workday_after(s, limit.amount)
    covered = s
    stopped_ranges: list[tuple[int, int, str]] = []
    for stop in ordered:
        lo = _local(stop.start).toordinal()
        hi = _stop_end(stop, now).toordinal()
        a = max(lo, covered, s)
        added = 0
        if hi > a:
            if due_ord <= a:
                if explain:
                    result.notes.append(
                        _("%(reason)s开始时期限已届满，不再顺延。") % {"reason": stop.reason_label}
                    )
            else:
                added = _count_workdays(a, hi)
                if added:
                    due_ord = _nth_workday_after(due_ord, added)
                    stopped_ranges.append((a, hi, stop.reason_label))
        covered = max(covered, hi)
        result.stopped.append((stop, added))
    result.due = _end_of_day(due_ord)
    if not explain:
        return
    stopped_set: dict[int, str] = {}
    for a, b, reason in stopped_ranges:
        for o in range(a + 1, b + 1):
            if _is_workday_ord(o):
                stopped_set[o] = reason
    for o in range(s + 1, due_ord + 1):
        d = date.fromordinal(o)
        if o in stopped_set:
            result.stopped_days.append((d, stopped_set[o]))
        elif _is_workday_ord(o):
            result.counted_days.append(d)
        else:
            result.skipped_days.append((d, day_label(_name_ord(o))))
    if limit.amount == 0:
        result.notes.append(_("即办件：当日办结；当日不是工作日的，顺延至下一个工作日。"))
    result.notes.append(
        _("期限为%(limit)s，截止于第%(n)d个计入的工作日（%(day)s）24时前。")
        % {"limit": limit.label, "n": limit.amount, "day": _fmt(date.fromordinal(due_ord))}
    )


def _compute_natural(
    result: DueExplanation,
    s: int,
    limit: Limit,
    ordered: list[StoppedPeriod],
    now: datetime | None,
    explain: bool,
) -> None:
    last = s + limit.amount
    covered = s
    stopped_ranges: list[tuple[int, int, str]] = []
    for stop in ordered:
        lo = _local(stop.start).toordinal()
        hi = _stop_end(stop, now).toordinal()
        a = max(lo, covered, s)
        added = 0
        if hi > a:
            if last <= a:
                if explain:
                    result.notes.append(
                        _("%(reason)s开始时期限已届满，不再顺延。") % {"reason": stop.reason_label}
                    )
            else:
                added = hi - a
                last += added
                stopped_ranges.append((a, hi, stop.reason_label))
        covered = max(covered, hi)
        result.stopped.append((stop, added))
    due_ord = last if _is_workday_ord(last) else _nth_workday_after(last, 1)
    result.due = _end_of_day(due_ord)
    if not explain:
        return
    stopped_set = {o: reason for a, b, reason in stopped_ranges for o in range(a + 1, b + 1)}
    for o in range(s + 1, last + 1):
        if o in stopped_set:
            result.stopped_days.append((date.fromordinal(o), stopped_set[o]))
        else:
            result.counted_days.append(date.fromordinal(o))
    for o in range(last, due_ord):
        result.skipped_days.append((date.fromordinal(o), day_label(_name_ord(o))))
    if due_ord != last:
        result.notes.append(
            _("期限的最后一天（%(last)s）是%(name)s，顺延至下一个工作日（%(due)s）。")
            % {
                "last": _fmt(date.fromordinal(last)),
                "name": day_label(_name_ord(last)),
                "due": _fmt(date.fromordinal(due_ord)),
            }
        )
    else:
        result.notes.append(
            _("期限为%(limit)s，截止于%(day)s 24时前。")
            % {"limit": limit.label, "day": _fmt(date.fromordinal(due_ord))}
        )


def _compute_hours(
    result: DueExplanation,
    local_start: datetime,
    limit: Limit,
    ordered: list[StoppedPeriod],
    now: datetime | None,
    explain: bool,
) -> None:
    due = local_start + timedelta(hours=limit.amount)
    covered = local_start
    for stop in ordered:
        a = max(_local(stop.start), covered)
        b = _stop_end(stop, now)
        added = 0
        if b > a:
            if due <= a:
                if explain:
                    result.notes.append(
                        _("%(reason)s开始时期限已届满，不再顺延。") % {"reason": stop.reason_label}
                    )
            else:
                gap = b - a
                due += gap
                added = int(gap.total_seconds() // 60)
        covered = max(covered, b)
        result.stopped.append((stop, added))
    result.due = due.astimezone(SHANGHAI)
    if explain:
        result.notes.append(
            _("期限为%(limit)s，按自然小时自受理时刻起连续计算，节假日照常计算。") % {"limit": limit.label}
        )


def _flag_uncertain(result: DueExplanation, a: int, b: int) -> None:
    snap = _covering(a, b)
    for year in range(date.fromordinal(a).year, date.fromordinal(b).year + 1):
        if snap.years[year].flagged:
            result.uncertain_years.append(year)
            result.notes.append(
                _(
                    "%(year)d年的法定节假日安排尚未录入，该年暂按仅周末休息计算，"
                    "实际截止日期可能不同；请系统管理员在工作日历中录入。"
                )
                % {"year": year}
            )


# --- Coverage -----------------------------------------------------------------------------------------


def year_coverage(year: int) -> YearCoverage:
    """Where ``year``'s calendar comes from (package data, hand-entered days, or weekends only)."""
    snap = _current()
    if year < snap.lo_year or year > snap.hi_year:
        snap = _widen(snap, year, year)
    info = snap.years[year]
    return YearCoverage(year, info.package_known, info.overrides, info.holiday_overrides)


def calendar_coverage_warning(today: date) -> str | None:
    """A warning for platform admins when a year about to be counted has no holiday arrangement.

    From 1 November the coming year must be known (the State Council publishes it in autumn); the current
    year must be known at any time.
    """
    missing = []
    if year_coverage(today.year).flagged:
        missing.append(today.year)
    if today.month >= 11 and year_coverage(today.year + 1).flagged:
        missing.append(today.year + 1)
    if not missing:
        return None
    years = "、".join(str(y) for y in missing)
    return _(
        "%(years)s年的法定节假日和调休安排尚未录入：chinesecalendar 数据只到%(last)d年，工作日历中也没有"
        "人工录入的节假日。在录入之前，这些年份的期限只按周末休息计算，遇到节假日会算错。"
        "请在国务院办公厅发布放假安排后，在“工作日历”中逐日录入。"
    ) % {"years": years, "last": package_years()[1]}
