"""Document statistics for assessment (公文签收统计): per unit and period, copies received, signed, signed
within one working day, average time to sign, refused — for a unit's own staff, and for the units below
it to those who assess them (its supervisors and leaders). The figures come from
``selectors.units_document_stats`` (one query for all the units); this module chooses the period, the
units a user may see, the totals and the Excel file.
"""

from __future__ import annotations

import calendar
import datetime as dt
import io
import re
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from django.db.models import Q, QuerySet
from django.utils import timezone
from django.utils.translation import gettext as _

from zhengwu.core import access
from zhengwu.core.models import Unit, UnitRoleKind
from zhengwu.documents.selectors import UnitDocumentStats, units_document_stats

MONTH_RE = re.compile(r"^(\d{4})-(\d{2})$")
QUARTER_RE = re.compile(r"^(\d{4})-Q([1-4])$")
YEAR_RE = re.compile(r"^(\d{4})$")
ORDERS = ("unit", "sign_rate", "prompt_rate")
MAX_DAYS = 366 * 5


class StatsError(ValueError):
    """Bad period or order; the message is for the user (Chinese)."""


@dataclass(frozen=True)
class Period:
    start: dt.date
    end: dt.date  # inclusive
    key: str = ""  # "2026-03", "2026-Q1", "2026" when it is a whole month, quarter or year

    def bounds(self) -> tuple[dt.datetime, dt.datetime]:
        """[start, end + 1 day) at local midnight."""
        tz = timezone.get_current_timezone()
        return (
            dt.datetime.combine(self.start, dt.time.min, tzinfo=tz),
            dt.datetime.combine(self.end + dt.timedelta(days=1), dt.time.min, tzinfo=tz),
        )

    @property
    def label(self) -> str:
        return f"{self.start:%Y-%m-%d} — {self.end:%Y-%m-%d}"


def _month(year: int, month: int) -> Period:
    if not 1 <= month <= 12:
        raise StatsError(_("月份应为 01 至 12"))
    last = calendar.monthrange(year, month)[1]
    return Period(dt.date(year, month, 1), dt.date(year, month, last), f"{year:04d}-{month:02d}")


def _quarter(year: int, q: int) -> Period:
    first = 3 * (q - 1) + 1
    last = calendar.monthrange(year, first + 2)[1]
    return Period(dt.date(year, first, 1), dt.date(year, first + 2, last), f"{year:04d}-Q{q}")


def _year(year: int) -> Period:
    return Period(dt.date(year, 1, 1), dt.date(year, 12, 31), f"{year:04d}")


def _day(raw: str, what: str) -> dt.date:
    try:
        return dt.date.fromisoformat(raw)
    except ValueError:
        raise StatsError(_("%(w)s日期格式应为 年-月-日，例如 2026-03-01") % {"w": what}) from None


def period_parse(params: Mapping[str, Any], today: dt.date | None = None) -> Period:
    """The period asked for: ``period`` (2026-03, 2026-Q1, 2026) or ``start``/``end`` dates; by default
    from the first of January to today. StatsError names what is wrong."""
    today = today or timezone.localdate()
    key = str(params.get("period") or "").strip()
    if key:
        if m := MONTH_RE.match(key):
            return _month(int(m[1]), int(m[2]))
        if m := QUARTER_RE.match(key):
            return _quarter(int(m[1]), int(m[2]))
        if m := YEAR_RE.match(key):
            return _year(int(m[1]))
        raise StatsError(_("统计期间应为 年-月（2026-03）、年-季度（2026-Q1）或年份（2026）"))
    raw_start = str(params.get("start") or "").strip()
    raw_end = str(params.get("end") or "").strip()
    start = _day(raw_start, _("开始")) if raw_start else today.replace(month=1, day=1)
    end = _day(raw_end, _("结束")) if raw_end else today
    if end < start:
        raise StatsError(_("结束日期不能早于开始日期"))
    if (end - start).days > MAX_DAYS:
        raise StatsError(_("统计期间不能超过五年"))
    return Period(start, end)


def period_shortcuts(today: dt.date | None = None) -> list[tuple[str, str]]:
    """本月, 上月, 本季度, 上季度, 本年, 上年 — (label, period key)."""
    today = today or timezone.localdate()
    last_month = today.replace(day=1) - dt.timedelta(days=1)
    q = (today.month - 1) // 3 + 1
    prev_q = (today.year, q - 1) if q > 1 else (today.year - 1, 4)
    return [
        (_("本月"), f"{today:%Y-%m}"),
        (_("上月"), f"{last_month:%Y-%m}"),
        (_("本季度"), f"{today.year}-Q{q}"),
        (_("上季度"), f"{prev_q[0]}-Q{prev_q[1]}"),
        (_("本年"), f"{today.year}"),
        (_("上年"), f"{today.year - 1}"),
    ]


def stats_units_for(user: Any) -> QuerySet[Unit]:
    """Units whose figures the user may read: the units they work in, and every unit below a unit where
    they are a supervisor (监察员) or a leader (领导) — those who assess the units under them."""
    own = access.user_unit_ids(user)
    heads = Unit.objects.filter(
        pk__in=access.units_with_role(user, UnitRoleKind.SUPERVISOR, UnitRoleKind.LEADER)
    ).values_list("path", flat=True)
    cond = Q(pk__in=own)
    for path in heads:
        cond |= Q(path__startswith=path)
    return Unit.objects.filter(cond, is_active=True).order_by("path")


@dataclass
class StatsRow:
    unit: Unit
    figures: UnitDocumentStats


@dataclass
class StatsTable:
    period: Period
    rows: list[StatsRow]
    total: UnitDocumentStats


def stats_table(units: QuerySet[Unit] | list[Unit], period: Period, *, order: str = "unit") -> StatsTable:
    """The figures of each unit for the period and a total line, ordered by unit or by a rate (lowest
    first, so the units that lag are on top)."""
    if order not in ORDERS:
        raise StatsError(_("未知的排序方式"))
    unit_list = list(units)
    start, end = period.bounds()
    figures = units_document_stats([u.pk for u in unit_list], start, end)
    rows = [StatsRow(u, figures[u.pk]) for u in unit_list]
    if order != "unit":
        # Units that received nothing have nothing to rank: they go last.
        rows.sort(
            key=lambda r: (
                r.figures.received == 0,
                getattr(r.figures, order),
                -r.figures.received,
                r.unit.path,
            )
        )
    signed = sum(r.figures.signed for r in rows)
    hours = sum((r.figures.average_sign_hours or 0.0) * r.figures.signed for r in rows)
    total = UnitDocumentStats(
        unit_id=0,
        received=sum(r.figures.received for r in rows),
        signed=signed,
        signed_within_one_workday=sum(r.figures.signed_within_one_workday for r in rows),
        average_sign_hours=round(hours / signed, 1) if signed else None,
        refused=sum(r.figures.refused for r in rows),
    )
    return StatsTable(period, rows, total)


def stats_headers() -> list[str]:
    return [
        _("单位"),
        _("收文"),
        _("已签收"),
        _("一个工作日内签收"),
        _("平均签收用时（小时）"),
        _("退文"),
        _("签收率（%）"),
        _("及时签收率（%）"),
    ]


def _cells(name: str, s: UnitDocumentStats) -> list[Any]:
    return [
        name,
        s.received,
        s.signed,
        s.signed_within_one_workday,
        s.average_sign_hours if s.average_sign_hours is not None else "",
        s.refused,
        s.sign_rate,
        s.prompt_rate,
    ]


def stats_xlsx(table: StatsTable) -> bytes:
    """The table as an Excel workbook: a title line with the period, the header, one row per unit, the
    total."""
    from openpyxl import Workbook
    from openpyxl.cell import WriteOnlyCell
    from openpyxl.styles import Font

    book = Workbook(write_only=True)
    sheet = book.create_sheet(title=_("公文签收统计"))
    sheet.column_dimensions["A"].width = 36
    bold = Font(bold=True)

    def strong(values: list[Any]) -> list[Any]:
        cells = []
        for value in values:
            cell = WriteOnlyCell(sheet, value=value)
            cell.font = bold
            cells.append(cell)
        return cells

    sheet.append(strong([_("公文签收统计") + " " + table.period.label]))
    sheet.append(strong(stats_headers()))
    for row in table.rows:
        sheet.append(_cells(row.unit.name, row.figures))
    sheet.append(strong(_cells(_("合计"), table.total)))
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()
