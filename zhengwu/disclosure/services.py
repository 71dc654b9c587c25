"""Writes for government information disclosure: categories and the index-number rule, the catalogue
(called by the portal's publish and withdraw services), annual reports and disclosure requests on the
process engine (登记受理 → 办理 → 延期审批 → 答复).

Each function is one transaction that records itself in the trail; notices go out through the notify
app inside it (their SMS on commit). Bad input and wrong states raise ``DisclosureError`` (a Chinese
message, answered with a 4xx); acting outside one's unit raises ``PermissionError``.
"""

from __future__ import annotations

import datetime as dt
import re
import string
from collections import defaultdict
from collections.abc import Iterable, Sequence
from functools import lru_cache
from pathlib import Path
from typing import Any

from django.db import IntegrityError, transaction
from django.db.models import Q
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _

from zhengwu.core import access
from zhengwu.core.audit import audit_record
from zhengwu.core.models import AccountKind, Unit, UnitRoleKind
from zhengwu.disclosure.models import (
    DEFAULT_INDEX_PATTERN,
    PUBLIC_OUTCOMES,
    AnnualReport,
    CatalogueEntry,
    Category,
    DeliveryForm,
    DisclosureRequest,
    IndexRule,
    Outcome,
    ReportStatus,
    RequestStatus,
    SequenceCounter,
    Supplement,
    WithheldReason,
)
from zhengwu.flow import selectors as flow_selectors
from zhengwu.flow import services as flow_services
from zhengwu.flow.engine import FlowError
from zhengwu.flow.models import ClockStop, ProcessDefinition, ProcessInstance, Task, TaskStatus

PROCESS_KEY = "disclosure_request"
PROCESS_FILE = Path(__file__).resolve().parent / "processes" / f"{PROCESS_KEY}.bpmn"
EXTENDED_LIMIT = "40wd"  # 20 working days, extended once by 20 (条例第三十三条)
REQUEST_SCOPE = "YSQ"
MAX_DESCRIPTION = 2000
MAX_PURPOSE = 500
MAX_REPLY = 5000
MAX_REASON = 500
MAX_QUESTION = 1000
MAX_SUBJECT_WORDS = 100
MAX_REPORT_TEXT = 5000
ID_NUMBER = re.compile(r"^[0-9A-Za-z]{6,30}$")
PHONE = re.compile(r"^[0-9+\-() ]{7,20}$")
EMAIL = re.compile(r"^[^@\s]{1,64}@[^@\s]{1,190}\.[^@\s]{1,20}$")
TOKEN = re.compile(r"^[0-9A-Za-z_-]{16,64}$")

# The default category tree (code, name, parent code, portal column slugs, item kinds).
DEFAULT_CATEGORIES: tuple[tuple[str, str, str, str, str], ...] = (
    ("JGZN", "机构职能", "", "jgzn,ldxx", ""),
    ("ZCWJ", "政策文件", "", "zcwj", "document"),
    ("GFXWJ", "规范性文件", "ZCWJ", "gfxwj", ""),
    ("ZCJD", "政策解读", "ZCWJ", "zcjd", ""),
    ("GHJH", "规划计划", "", "ghjh,fzgh", ""),
    ("CZXX", "财政信息", "", "czyjs,czxx,czzj", ""),
    ("RSXX", "人事信息", "", "rsxx,rsrm", ""),
    ("XZZF", "行政执法", "", "xzzf,sgs", ""),
    ("TZGG", "通知公告", "", "tzgg", ""),
    ("GZDT", "工作动态", "", "gzdt,yw,bmdt,xqdt", ""),
    ("QT", "其他", "", "", ""),
)
FALLBACK_CATEGORY = "QT"

INDEX_FIELDS = ("unit_code", "category_code", "year", "seq")
_SEQ_SPEC = re.compile(r"^0?[1-9]?d?$")


class DisclosureError(Exception):
    """Bad input or wrong state, explained in Chinese (answered with a 4xx, nothing written)."""


def _check(cond: bool, message: str) -> None:
    if not cond:
        raise DisclosureError(message)


def _require(cond: bool, message: str) -> None:
    if not cond:
        raise PermissionError(message)


def _text(value: Any, *, label: str, limit: int, required: bool = True) -> str:
    text = str(value or "").strip()
    if required:
        _check(bool(text), _("请填写%(f)s") % {"f": label})
    _check(len(text) <= limit, _("%(f)s不能超过 %(n)d 字") % {"f": label, "n": limit})
    return text


def _notify(*, recipients: Iterable[Any], title: str, url: str = "", key: str = "") -> None:
    from zhengwu.notify.services import notification_send

    ids = sorted({getattr(r, "pk", r) for r in recipients if r})
    if ids:
        notification_send(recipients=ids, title=title, url=url, key=key)


def can_keep_catalogue(user: Any, unit: Unit | int) -> bool:
    """The unit's disclosure work (catalogue, annual report): its clerks, reviewers, leaders and admins."""
    return access.has_unit_role(
        user,
        unit,
        UnitRoleKind.CLERK,
        UnitRoleKind.REVIEWER,
        UnitRoleKind.LEADER,
        UnitRoleKind.UNIT_ADMIN,
    )


def can_publish_report(user: Any, unit: Unit | int) -> bool:
    return access.has_unit_role(user, unit, UnitRoleKind.LEADER, UnitRoleKind.UNIT_ADMIN)


# --- Sequences and index numbers (索引号) ------------------------------------------------------------


def sequence_take(*, unit_id: int, scope: str, year: int, count: int = 1) -> int:
    """Take ``count`` numbers of (unit, scope, year) inside the caller's transaction; returns the last.

    The counter row is locked (select_for_update; on SQLite the IMMEDIATE transaction already holds the
    write lock), so concurrent takers queue and a rolled-back transaction gives its numbers back."""
    rows = SequenceCounter.objects.select_for_update()
    counter = rows.filter(unit_id=unit_id, scope=scope, year=year).first()
    if counter is None:
        try:
            with transaction.atomic():
                SequenceCounter.objects.create(unit_id=unit_id, scope=scope, year=year, last=0)
        except IntegrityError:
            pass  # created by a concurrent taker; lock theirs below
        counter = rows.get(unit_id=unit_id, scope=scope, year=year)
    counter.last += count
    counter.save(update_fields=["last"])
    return counter.last


def index_pattern_check(pattern: str) -> str:
    """A usable index-number rule, or a refusal naming the problem."""
    pattern = (pattern or "").strip()
    _check(bool(pattern), _("请填写索引号格式"))
    _check(len(pattern) <= 64, _("索引号格式不能超过 64 个字符"))
    names: set[str] = set()
    try:
        for _literal, name, spec, conversion in string.Formatter().parse(pattern):
            if name is None:
                continue
            _check(name in INDEX_FIELDS, _("索引号格式中有未知字段：{%(name)s}") % {"name": name})
            _check(not conversion, _("索引号格式不支持转换符"))
            if spec:
                _check(
                    name == "seq" and bool(_SEQ_SPEC.match(spec)),
                    _("只有 {seq} 可以指定位数，例如 {seq:05d}"),
                )
            names.add(name)
    except ValueError:
        raise DisclosureError(_("索引号格式的花括号不成对")) from None
    for required in ("unit_code", "year", "seq"):
        _check(
            required in names,
            _("索引号格式必须包含 {%(name)s}，否则索引号可能重复") % {"name": required},
        )
    index_format(pattern, unit_code="X", category_code="Y", year=2026, seq=1)
    return pattern


def index_format(pattern: str, *, unit_code: str, category_code: str, year: int, seq: int) -> str:
    try:
        return pattern.format(unit_code=unit_code, category_code=category_code, year=year, seq=seq)
    except (ValueError, KeyError, IndexError):
        raise DisclosureError(_("索引号格式无效")) from None


def index_rule_current() -> str:
    rule = IndexRule.objects.order_by("-updated_at", "-id").values_list("pattern", flat=True).first()
    return rule or DEFAULT_INDEX_PATTERN


@transaction.atomic
def index_rule_set(*, actor: Any, pattern: str) -> IndexRule:
    """索引号规则: the platform's system administrator sets the format; numbers already given stay."""
    _require(access.is_system_admin(actor), _("只有系统管理员可以设置索引号规则"))
    pattern = index_pattern_check(pattern)
    before = index_rule_current()
    rule = IndexRule.objects.create(pattern=pattern, updated_by=actor, updated_at=timezone.now())
    audit_record(
        action="disclosure.index_rule.set",
        obj=rule,
        before={"pattern": before},
        after={"pattern": pattern},
        actor=actor,
    )
    return rule


def _index_scope(pattern: str, category_code: str) -> str:
    return category_code if "{category_code" in pattern else "*"


def index_number_make(*, unit: Unit, category: Category, year: int, pattern: str | None = None) -> str:
    """The next index number of a unit (inside the caller's transaction). The sequence runs per unit and
    year (and per category when the rule names it); a number already in the catalogue — possible only
    after the rule was changed — is skipped, so a number is never given twice."""
    pattern = pattern or index_rule_current()
    scope = _index_scope(pattern, category.code)
    while True:
        seq = sequence_take(unit_id=unit.pk, scope=scope, year=year)
        number = index_format(pattern, unit_code=unit.code, category_code=category.code, year=year, seq=seq)
        _check(len(number) <= 80, _("索引号过长，请调整索引号格式"))
        if not CatalogueEntry.objects.filter(index_number=number).exists():
            return number


# --- Categories -------------------------------------------------------------------------------------


def categories_ensure() -> dict[str, Category]:
    """The default category tree, created when the platform has none yet; code → category."""
    existing = {c.code: c for c in Category.objects.all()}
    if existing:
        return existing
    for sort, (code, name, parent, slugs, kinds) in enumerate(DEFAULT_CATEGORIES, start=1):
        existing[code] = Category.objects.create(
            code=code,
            name=name,
            parent=existing.get(parent) if parent else None,
            sort=sort * 10,
            column_slugs=slugs,
            item_kinds=kinds,
        )
    return existing


def _fallback_category() -> Category:
    categories = categories_ensure()
    found = categories.get(FALLBACK_CATEGORY)
    if found is None:
        found, _created = Category.objects.get_or_create(
            code=FALLBACK_CATEGORY, defaults={"name": _("其他"), "sort": 9999}
        )
    return found


class _Categoriser:
    """Which category a published item falls in: its column's slug, then its kind, then 其他."""

    def __init__(self) -> None:
        rows = list(Category.objects.all()) or list(categories_ensure().values())  # one query
        self.by_slug: dict[str, Category] = {}
        self.by_kind: dict[str, Category] = {}
        # Children first, so a more specific category wins over its parent for the same slug.
        active = sorted((c for c in rows if c.is_active), key=lambda c: (c.parent_id is None, c.sort))
        for category in active:
            for slug in category.slugs:
                self.by_slug.setdefault(slug, category)
            for kind in category.kinds:
                self.by_kind.setdefault(kind, category)
        fallback = next((c for c in rows if c.code == FALLBACK_CATEGORY), None)
        self.fallback = fallback or _fallback_category()

    def __call__(self, column_slug: str, kind: str) -> Category:
        return self.by_slug.get(column_slug) or self.by_kind.get(kind) or self.fallback


def _category_values(
    *, name: Any, code: Any, parent: Category | None, sort: Any, column_slugs: Any, item_kinds: Any
) -> dict[str, Any]:
    name = _text(name, label=_("分类名称"), limit=32)
    code = _text(code, label=_("分类代码"), limit=16).upper()
    _check(bool(re.fullmatch(r"[A-Z0-9]+", code)), _("分类代码只能使用字母和数字"))
    _check(parent is None or parent.parent_id is None, _("公开目录分类最多两级"))
    try:
        sort_value = int(sort or 0)
    except (TypeError, ValueError):
        raise DisclosureError(_("排序须为数字")) from None
    _check(0 <= sort_value <= 100000, _("排序须为 0 到 100000 之间的数字"))
    slugs = _text(column_slugs, label=_("对应栏目路径"), limit=200, required=False)
    kinds = _text(item_kinds, label=_("对应信息类型"), limit=100, required=False)
    return {
        "name": name,
        "code": code,
        "parent": parent,
        "sort": sort_value,
        "column_slugs": slugs,
        "item_kinds": kinds,
    }


@transaction.atomic
def category_create(
    *,
    actor: Any,
    name: str,
    code: str,
    parent: Category | None = None,
    sort: int = 0,
    column_slugs: str = "",
    item_kinds: str = "",
) -> Category:
    """新增公开目录分类 (the platform's system administrator keeps the tree)."""
    _require(access.is_system_admin(actor), _("只有系统管理员可以维护公开目录分类"))
    values = _category_values(
        name=name, code=code, parent=parent, sort=sort, column_slugs=column_slugs, item_kinds=item_kinds
    )
    _check(not Category.objects.filter(code=values["code"]).exists(), _("分类代码已被使用"))
    category = Category.objects.create(**values)
    audit_record(
        action="disclosure.category.create",
        obj=category,
        after={**values, "parent": parent.pk if parent else None},
        actor=actor,
    )
    return category


@transaction.atomic
def category_update(
    *,
    actor: Any,
    category: Category,
    name: str,
    sort: int,
    column_slugs: str,
    item_kinds: str,
    is_active: bool,
) -> Category:
    _require(access.is_system_admin(actor), _("只有系统管理员可以维护公开目录分类"))
    category = Category.objects.select_for_update().get(pk=category.pk)
    values = _category_values(
        name=name,
        code=category.code,
        parent=category.parent,
        sort=sort,
        column_slugs=column_slugs,
        item_kinds=item_kinds,
    )
    before = {"name": category.name, "sort": category.sort, "is_active": category.is_active}
    category.name, category.sort = values["name"], values["sort"]
    category.column_slugs, category.item_kinds = values["column_slugs"], values["item_kinds"]
    category.is_active = bool(is_active)
    category.save(update_fields=["name", "sort", "column_slugs", "item_kinds", "is_active"])
    audit_record(
        action="disclosure.category.update",
        obj=category,
        before=before,
        after={"name": category.name, "sort": category.sort, "is_active": category.is_active},
        actor=actor,
    )
    return category


# --- The catalogue (政务信息公开目录) ----------------------------------------------------------------


def _entry_date(data: dict[str, Any], published_at: dt.datetime | None, now: dt.datetime) -> dt.date:
    for key in ("issued_on", "display_date"):
        value = data.get(key)
        if value:
            try:
                return dt.date.fromisoformat(str(value))
            except ValueError:
                continue
    return timezone.localdate(published_at or now)


def _entry_values(item: Any, data: dict[str, Any], unit: Unit, now: dt.datetime) -> dict[str, Any]:
    return {
        "title": str(data.get("title") or item.title)[:200],
        "issuing_unit": (str(data.get("issuing_unit") or "").strip() or unit.name)[:128],
        "document_number": str(data.get("document_number") or "")[:64],
        "date": _entry_date(data, item.published_at, now),
        "url": item.public_url,
    }


def catalogue_entry_publish(
    *, item: Any, actor: Any, now: dt.datetime | None = None
) -> CatalogueEntry | None:
    """编目: a portal item has just gone live (called inside the portal's publish transaction).

    A proactively disclosed item (主动公开) gets its catalogue entry — a new index number the first time,
    the same number when it comes back after a withdrawal or with a revision. An item whose live version
    is no longer 主动公开 leaves the catalogue."""
    from zhengwu.portal.models import Disclosure

    now = now or timezone.now()
    data = item.live_version.data if item.live_version_id else {}
    entry = CatalogueEntry.objects.select_for_update().filter(item_id=item.pk).first()
    if (data.get("disclosure") or item.disclosure) != Disclosure.PROACTIVE:
        if entry is not None and entry.is_listed:
            _entry_remove(entry, actor=actor, now=now, why="not_proactive")
        return None
    unit = item.site.unit
    values = _entry_values(item, data, unit, now)
    if entry is not None:
        was_listed = entry.is_listed
        for key, value in values.items():
            setattr(entry, key, value)
        entry.is_listed = True
        entry.removed_at = None
        if not was_listed:
            entry.listed_at = now
        entry.save(update_fields=[*values, "is_listed", "removed_at", "listed_at"])
        action = "disclosure.catalogue.update" if was_listed else "disclosure.catalogue.relist"
    else:
        column_slug = item.column.slug if item.column_id else ""
        category = _Categoriser()(column_slug, str(data.get("kind") or item.kind))
        entry = CatalogueEntry.objects.create(
            item_id=item.pk,
            unit=unit,
            category=category,
            index_number=index_number_make(unit=unit, category=category, year=values["date"].year),
            listed_at=now,
            **values,
        )
        action = "disclosure.catalogue.list"
    audit_record(
        action=action,
        obj=entry,
        after={"index_number": entry.index_number, "item": item.pk, "category": entry.category.code},
        actor=actor if getattr(actor, "pk", None) else None,
        unit=unit,
    )
    return entry


def _entry_remove(entry: CatalogueEntry, *, actor: Any, now: dt.datetime, why: str) -> None:
    entry.is_listed = False
    entry.removed_at = now
    entry.save(update_fields=["is_listed", "removed_at"])
    audit_record(
        action="disclosure.catalogue.remove",
        obj=entry,
        after={"index_number": entry.index_number, "item": entry.item_id, "why": why},
        actor=actor if getattr(actor, "pk", None) else None,
        unit=entry.unit,
    )


def catalogue_entry_withdraw(*, item: Any, actor: Any) -> None:
    """撤稿: a withdrawn item leaves the catalogue (its index number stays reserved for it)."""
    entry = CatalogueEntry.objects.select_for_update().filter(item_id=item.pk, is_listed=True).first()
    if entry is not None:
        _entry_remove(entry, actor=actor, now=timezone.now(), why="withdrawn")


def catalogue_entries_bulk_publish(*, items: Sequence[Any], actor: Any, pattern: str | None = None) -> int:
    """Catalogue entries for items published in bulk (the portal's batch publishing, the demo): the index
    numbers of one (unit, scope, year) are taken as one block. Inside the caller's transaction."""
    from zhengwu.portal.models import Column, Disclosure

    items = [i for i in items if i.disclosure == Disclosure.PROACTIVE]
    if not items:
        return 0
    pattern = pattern or index_rule_current()
    categorise = _Categoriser()
    slugs = dict(
        Column.objects.filter(pk__in={i.column_id for i in items}).values_list("pk", "slug").iterator()
    )
    units = Unit.objects.in_bulk({i.site.unit_id for i in items})
    now = timezone.now()
    planned: list[tuple[Any, Unit, Category, dict[str, Any]]] = []
    for item in items:
        unit = units[item.site.unit_id]
        data = item.live_version.data if item.live_version_id else {}
        values = _entry_values(item, data, unit, now)
        planned.append((item, unit, categorise(slugs.get(item.column_id, ""), item.kind), values))
    blocks: dict[tuple[int, str, int], list[int]] = defaultdict(list)
    for n, (_item, unit, category, values) in enumerate(planned):
        blocks[(unit.pk, _index_scope(pattern, category.code), values["date"].year)].append(n)
    numbers: dict[int, str] = {}
    for (unit_id, scope, year), members in sorted(blocks.items()):
        last = sequence_take(unit_id=unit_id, scope=scope, year=year, count=len(members))
        first = last - len(members) + 1
        for offset, n in enumerate(members):
            _item, unit, category, _values = planned[n]
            numbers[n] = index_format(
                pattern, unit_code=unit.code, category_code=category.code, year=year, seq=first + offset
            )
    taken = set(
        CatalogueEntry.objects.filter(index_number__in=list(numbers.values())).values_list(
            "index_number", flat=True
        )
    )
    for n in [n for n, number in numbers.items() if number in taken]:  # only after a rule change
        _item, unit, category, values = planned[n]
        numbers[n] = index_number_make(
            unit=unit, category=category, year=values["date"].year, pattern=pattern
        )
    CatalogueEntry.objects.bulk_create(
        [
            CatalogueEntry(
                item_id=item.pk,
                unit=unit,
                category=category,
                index_number=numbers[n],
                listed_at=item.published_at or now,
                **values,
            )
            for n, (item, unit, category, values) in enumerate(planned)
        ],
        batch_size=1000,
    )
    audit_record(
        action="disclosure.catalogue.bulk_list",
        object_type="disclosure.catalogueentry",
        object_label=_("批量编目 %(n)s 条") % {"n": len(planned)},
        after={"count": len(planned), "units": sorted(units)},
        actor=actor if getattr(actor, "pk", None) else None,
    )
    return len(planned)


@transaction.atomic
def catalogue_entry_update(
    *, actor: Any, entry: CatalogueEntry, category: Category, subject_words: str
) -> CatalogueEntry:
    """The unit corrects an entry's category and subject words (主题词); the index number never changes."""
    entry = CatalogueEntry.objects.select_for_update().get(pk=entry.pk)
    _require(can_keep_catalogue(actor, entry.unit_id), _("只能维护本单位的公开目录"))
    _check(category.is_active, _("该分类已停用"))
    words = " ".join(
        w
        for w in re.split(
            r"[\s,，;；、]+", _text(subject_words, label=_("主题词"), limit=MAX_SUBJECT_WORDS, required=False)
        )
        if w
    )
    before = {"category": entry.category.code, "subject_words": entry.subject_words}
    entry.category = category
    entry.subject_words = words
    entry.save(update_fields=["category", "subject_words"])
    audit_record(
        action="disclosure.catalogue.edit",
        obj=entry,
        before=before,
        after={"category": category.code, "subject_words": words},
        actor=actor,
        unit=entry.unit,
    )
    return entry


# --- Annual reports (年度报告) ----------------------------------------------------------------------


def report_figures(*, unit: Unit, year: int, now: dt.datetime | None = None) -> dict[str, Any]:
    """The report's figures from the data: items proactively disclosed in the year by category, and the
    requests — carried over, received, answered by outcome, answered late, still open at the year's end."""
    tz = timezone.get_current_timezone()
    start = dt.datetime(year, 1, 1, tzinfo=tz)
    end = dt.datetime(year + 1, 1, 1, tzinfo=tz)
    now = now or timezone.now()
    cut = min(end, now)
    entries = CatalogueEntry.objects.filter(
        unit=unit, date__gte=start.date(), date__lt=end.date(), is_listed=True
    ).select_related("category__parent")
    by_category: dict[str, int] = defaultdict(int)
    for entry in entries.only("category__name", "category__parent__name"):
        top = entry.category.parent or entry.category
        by_category[top.name] += 1
    order = {c.name: (c.sort, c.pk) for c in Category.objects.filter(parent__isnull=True)}
    proactive = [
        {"category": name, "count": by_category[name]}
        for name in sorted(by_category, key=lambda n: order.get(n, (99999, 0)))
    ]
    requests = DisclosureRequest.objects.filter(unit=unit)
    carried_in = requests.filter(submitted_at__lt=start).filter(
        Q(replied_at__isnull=True) | Q(replied_at__gte=start)
    )
    received = requests.filter(submitted_at__gte=start, submitted_at__lt=end)
    answered = requests.filter(replied_at__gte=start, replied_at__lt=end)
    outcomes = {value: 0 for value in Outcome.values}
    for outcome in answered.values_list("outcome", flat=True):
        outcomes[outcome] = outcomes.get(outcome, 0) + 1
    late_answered = [
        r
        for r in answered.values("replied_at", "due_at")
        if r["due_at"] and r["replied_at"] and r["replied_at"] > r["due_at"]
    ]
    open_now = requests.filter(submitted_at__lt=cut).filter(
        Q(replied_at__isnull=True) | Q(replied_at__gte=cut)
    )
    overdue_open = open_now.filter(due_at__lt=cut).count()
    return {
        "year": year,
        "proactive": proactive,
        "proactive_total": sum(by_category.values()),
        "requests": {
            "carried_in": carried_in.count(),
            "received": received.count(),
            "by_enterprise": received.filter(applicant__kind=AccountKind.ENTERPRISE).count(),
            "answered": answered.count(),
            "outcomes": [
                {"code": value, "label": str(label), "count": outcomes.get(value, 0)}
                for value, label in Outcome.choices
            ],
            "extended": answered.filter(extended=True).count(),
            "overdue": len(late_answered) + overdue_open,
            "carried_over": open_now.count(),
        },
        "as_of": timezone.localtime(cut - dt.timedelta(seconds=1)).date().isoformat(),
    }


@transaction.atomic
def annual_report_generate(*, actor: Any, unit: Unit, year: int) -> AnnualReport:
    """生成年度报告: the figures recounted from the data; the unit's own text is kept."""
    _require(can_keep_catalogue(actor, unit), _("只能编制本单位的年度报告"))
    this_year = timezone.localdate().year
    _check(2008 <= year <= this_year, _("年度须在 2008 年至 %(y)d 年之间") % {"y": this_year})
    report, created = AnnualReport.objects.select_for_update().get_or_create(unit=unit, year=year)
    _check(report.status == ReportStatus.DRAFT, _("年度报告已发布，不能重新统计"))
    report.figures = report_figures(unit=unit, year=year)
    report.generated_at = timezone.now()
    report.updated_by = actor
    report.save(update_fields=["figures", "generated_at", "updated_by"])
    audit_record(
        action="disclosure.report.generate",
        obj=report,
        after={
            "year": year,
            "created": created,
            "proactive_total": report.figures["proactive_total"],
            "received": report.figures["requests"]["received"],
        },
        actor=actor,
        unit=unit,
    )
    return report


@transaction.atomic
def annual_report_update(
    *, actor: Any, report: AnnualReport, overview: str, problems: str, other: str
) -> AnnualReport:
    report = AnnualReport.objects.select_for_update().select_related("unit").get(pk=report.pk)
    _require(can_keep_catalogue(actor, report.unit), _("只能编制本单位的年度报告"))
    _check(report.status == ReportStatus.DRAFT, _("年度报告已发布，不能修改"))
    report.overview = _text(overview, label=_("总体情况"), limit=MAX_REPORT_TEXT, required=False)
    report.problems = _text(
        problems, label=_("存在的主要问题及改进情况"), limit=MAX_REPORT_TEXT, required=False
    )
    report.other = _text(other, label=_("其他需要报告的事项"), limit=MAX_REPORT_TEXT, required=False)
    report.updated_by = actor
    report.save(update_fields=["overview", "problems", "other", "updated_by"])
    audit_record(
        action="disclosure.report.update",
        obj=report,
        after={
            "overview": len(report.overview),
            "problems": len(report.problems),
            "other": len(report.other),
        },
        actor=actor,
        unit=report.unit,
    )
    return report


@transaction.atomic
def annual_report_publish(*, actor: Any, report: AnnualReport) -> AnnualReport:
    """发布年度报告: the unit's leader or administrator publishes it on the portal's disclosure pages."""
    report = AnnualReport.objects.select_for_update().select_related("unit").get(pk=report.pk)
    _require(can_publish_report(actor, report.unit), _("年度报告须由本单位领导或单位管理员发布"))
    _check(report.status == ReportStatus.DRAFT, _("年度报告已发布"))
    _check(bool(report.overview.strip()), _("请先填写总体情况"))
    report.status = ReportStatus.PUBLISHED
    report.published_at = timezone.now()
    report.published_by = actor
    report.save(update_fields=["status", "published_at", "published_by"])
    audit_record(
        action="disclosure.report.publish",
        obj=report,
        after={"year": report.year, "status": report.status},
        actor=actor,
        unit=report.unit,
    )
    return report


# --- Disclosure on request (依申请公开) -------------------------------------------------------------


@lru_cache(maxsize=1)
def _process_text() -> tuple[str, str]:
    text = PROCESS_FILE.read_text(encoding="utf-8")
    return text, flow_services.definition_checksum(text, {})


def process_publish() -> ProcessDefinition:
    """The disclosure request process, published from the repository's file when missing or changed."""
    text, checksum = _process_text()
    latest = flow_selectors.definition_latest(PROCESS_KEY)
    if latest is not None and latest.checksum == checksum:
        return latest
    definition, _created = flow_services.definition_publish(
        actor=None, bpmn_xml=text, filename=PROCESS_FILE.name, source="repository", from_command=True
    )
    return definition


def _lock_request(request: DisclosureRequest | int) -> DisclosureRequest:
    pk = request if isinstance(request, int) else request.pk
    return DisclosureRequest.objects.select_for_update().select_related("unit").get(pk=pk)


def _open_task(request: DisclosureRequest, *steps: str) -> Task | None:
    if request.instance_id is None:
        return None
    rows = Task.objects.filter(instance_id=request.instance_id, status=TaskStatus.OPEN)
    if steps:
        rows = rows.filter(step_id__in=steps)
    return rows.select_related("assignee").order_by("id").first()


def request_open_task(request: DisclosureRequest) -> Task | None:
    return _open_task(request)


def _staff_of(actor: Any, request: DisclosureRequest) -> None:
    _require(
        access.is_staff_user(actor) and request.unit_id in access.user_unit_ids(actor),
        _("只能办理本单位的依申请公开"),
    )


def _applicant_url(request: DisclosureRequest) -> str:
    return reverse("disclosure:request_detail", args=[request.pk])


@transaction.atomic
def request_submit(
    *,
    actor: Any,
    unit: Unit,
    applicant_name: str,
    id_number: str,
    phone: str,
    description: str,
    delivery_form: str,
    token: str,
    purpose: str = "",
    address: str = "",
    email: str = "",
) -> DisclosureRequest:
    """提交申请: a signed-in citizen or enterprise applies to one unit; the process starts at once, so the
    statutory 20 working days run from now, and the unit's clerks find 登记受理 in their to-dos."""
    _require(
        bool(actor and actor.is_authenticated and actor.is_active and actor.kind != AccountKind.STAFF),
        _("请使用公众账号（个人或企业）登录后提交申请"),
    )
    _check(bool(TOKEN.match(token or "")), _("页面已过期，请刷新后重新提交"))
    _check(
        not DisclosureRequest.objects.filter(submit_token=token).exists(),
        _("该申请已经提交，请勿重复提交"),
    )
    _check(unit is not None and unit.is_active, _("请选择受理机关"))
    name = _text(applicant_name, label=_("申请人姓名或名称"), limit=64)
    id_value = _text(id_number, label=_("证件号码"), limit=30).upper()
    _check(bool(ID_NUMBER.match(id_value)), _("证件号码格式不正确"))
    phone_value = _text(phone, label=_("联系电话"), limit=20)
    _check(bool(PHONE.match(phone_value)), _("联系电话格式不正确"))
    address_value = _text(address, label=_("通信地址"), limit=200, required=False)
    email_value = _text(email, label=_("电子邮箱"), limit=254, required=False)
    _check(not email_value or bool(EMAIL.match(email_value)), _("电子邮箱格式不正确"))
    text = _text(description, label=_("所需信息的名称或内容描述"), limit=MAX_DESCRIPTION)
    purpose_value = _text(purpose, label=_("用途"), limit=MAX_PURPOSE, required=False)
    _check(delivery_form in DeliveryForm.values, _("请选择获取信息的方式"))
    _check(delivery_form != DeliveryForm.EMAIL or bool(email_value), _("选择电子邮件方式的，请填写电子邮箱"))
    _check(
        delivery_form != DeliveryForm.PAPER or bool(address_value), _("选择纸质邮寄方式的，请填写通信地址")
    )
    now = timezone.now()
    year = timezone.localdate(now).year
    seq = sequence_take(unit_id=unit.pk, scope=REQUEST_SCOPE, year=year)
    try:
        with transaction.atomic():
            request = DisclosureRequest.objects.create(
                number=f"{REQUEST_SCOPE}{year}-{unit.code}-{seq:05d}",
                unit=unit,
                applicant=actor,
                applicant_name=name,
                id_number=id_value,
                phone=phone_value,
                address=address_value,
                email=email_value,
                description=text,
                purpose=purpose_value,
                delivery_form=delivery_form,
                submit_token=token,
                submitted_at=now,
            )
    except IntegrityError:
        raise DisclosureError(_("该申请已经提交，请勿重复提交")) from None
    process_publish()
    instance = flow_services.process_start(
        actor=actor,
        key=PROCESS_KEY,
        business=request,
        unit=unit,
        title=_("依申请公开 %(n)s") % {"n": request.number},
        applicant=True,
    )
    request.instance_id = instance.pk
    request.due_at = instance.legal_due_at
    request.save(update_fields=["instance_id", "due_at"])
    audit_record(
        action="disclosure.request.submit",
        obj=request,
        after={
            "number": request.number,
            "unit": unit.pk,
            "delivery_form": delivery_form,
            "due_at": request.due_at,
        },
        actor=actor,
        unit=unit,
    )
    _notify(
        recipients=[actor],
        title=_("您的政府信息公开申请已提交：%(n)s") % {"n": request.number},
        url=_applicant_url(request),
        key=f"disclosure.request.{request.pk}.submitted",
    )
    return request


def _complete(actor: Any, task: Task, data: dict[str, Any], opinion: str) -> None:
    try:
        flow_services.task_complete(actor=actor, task=task, data=data, opinion=opinion)
    except FlowError as exc:
        raise DisclosureError(str(exc)) from exc


def _step(request: DisclosureRequest, step: str, message: str) -> Task:
    task = _open_task(request, step)
    _check(task is not None, message)
    assert task is not None
    return task


@transaction.atomic
def request_register(*, actor: Any, request: DisclosureRequest, opinion: str = "") -> DisclosureRequest:
    """登记受理: the unit's clerk registers the application and passes it on to be handled."""
    request = _lock_request(request)
    _staff_of(actor, request)
    _check(request.status == RequestStatus.REGISTER, _("该申请当前不在登记受理环节"))
    task = _step(request, "register", _("该申请当前不在登记受理环节"))
    opinion = _text(opinion or _("已登记受理"), label=_("受理意见"), limit=MAX_REASON)
    _complete(actor, task, {}, opinion)
    audit_record(action="disclosure.request.register", obj=request, actor=actor, unit=request.unit)
    request.refresh_from_db()
    _notify(
        recipients=[request.applicant_id],
        title=_("您的政府信息公开申请已受理：%(n)s") % {"n": request.number},
        url=_applicant_url(request),
        key=f"disclosure.request.{request.pk}.registered",
    )
    return request


@transaction.atomic
def request_supplement_ask(*, actor: Any, request: DisclosureRequest, question: str) -> Supplement:
    """告知补正: the request is unclear; the applicant is asked to make it clearer and the case's clock
    stops until they answer (条例第三十条)."""
    request = _lock_request(request)
    _staff_of(actor, request)
    _check(
        request.status in (RequestStatus.REGISTER, RequestStatus.HANDLE),
        _("只有登记受理或办理中的申请可以要求补正（当前：%(s)s）") % {"s": request.get_status_display()},
    )
    _check(not request.supplements.filter(answered_at__isnull=True).exists(), _("已在等待申请人补正"))
    question = _text(question, label=_("需要补正的内容"), limit=MAX_QUESTION)
    task = _open_task(request, "register", "handle")
    _check(task is not None, _("该申请当前没有可办理的环节"))
    assert task is not None
    try:
        if task.assignee_id is None:
            flow_services.task_claim(actor=actor, task=task)
        elif task.assignee_id != actor.pk:
            raise PermissionError(_("该环节已由%(name)s签收") % {"name": task.assignee.name})
        instance = ProcessInstance.objects.get(pk=request.instance_id or 0)
        stop = flow_services.clock_stop_start(
            actor=actor, instance=instance, reason="supplement", note=question[:MAX_REASON]
        )
    except FlowError as exc:
        raise DisclosureError(str(exc)) from exc
    supplement = Supplement.objects.create(
        request=request, question=question, asked_by=actor, clock_stop_id=stop.pk
    )
    request.status = RequestStatus.SUPPLEMENT
    request.save(update_fields=["status"])
    audit_record(
        action="disclosure.request.supplement_ask",
        obj=request,
        after={"status": request.status, "supplement": supplement.pk, "question": question},
        actor=actor,
        unit=request.unit,
    )
    _notify(
        recipients=[request.applicant_id],
        title=_("请补正您的政府信息公开申请：%(n)s") % {"n": request.number},
        url=_applicant_url(request),
        key=f"disclosure.request.{request.pk}.supplement.{supplement.pk}",
    )
    return supplement


@transaction.atomic
def request_supplement_answer(*, actor: Any, request: DisclosureRequest, answer: str) -> Supplement:
    """补正: the applicant answers; the clock restarts and the stopped working days are recorded."""
    request = _lock_request(request)
    _require(getattr(actor, "pk", None) == request.applicant_id, _("只有申请人可以补正"))
    supplement = request.supplements.select_for_update().filter(answered_at__isnull=True).first()
    _check(
        request.status == RequestStatus.SUPPLEMENT and supplement is not None,
        _("该申请当前不需要补正"),
    )
    assert supplement is not None
    answer = _text(answer, label=_("补正内容"), limit=MAX_DESCRIPTION)
    stop = ClockStop.objects.filter(pk=supplement.clock_stop_id or 0).first()
    if stop is not None and stop.ended_at is None:
        try:
            stop = flow_services.clock_stop_end(actor=actor, stop=stop)
        except FlowError as exc:
            raise DisclosureError(str(exc)) from exc
    supplement.answer = answer
    supplement.answered_at = timezone.now()
    supplement.stopped_working_days = stop.stopped_working_days if stop is not None else 0
    supplement.save(update_fields=["answer", "answered_at", "stopped_working_days"])
    task = _open_task(request)
    request.status = RequestStatus.REGISTER if task and task.step_id == "register" else RequestStatus.HANDLE
    request.due_at = (
        ProcessInstance.objects.filter(pk=request.instance_id or 0)
        .values_list("legal_due_at", flat=True)
        .first()
    )
    request.save(update_fields=["status", "due_at"])
    audit_record(
        action="disclosure.request.supplement_answer",
        obj=request,
        after={
            "status": request.status,
            "supplement": supplement.pk,
            "stopped_working_days": supplement.stopped_working_days,
            "due_at": request.due_at,
        },
        actor=actor,
        unit=request.unit,
    )
    _notify(
        recipients=[task.assignee_id if task and task.assignee_id else supplement.asked_by_id],
        title=_("申请人已补正：%(n)s") % {"n": request.number},
        url=_applicant_url(request),
        key=f"disclosure.request.{request.pk}.supplemented.{supplement.pk}",
    )
    return supplement


@transaction.atomic
def request_handle(
    *, actor: Any, request: DisclosureRequest, action: str, opinion: str, extension_reason: str = ""
) -> DisclosureRequest:
    """办理: the handler drafts the reply (→ 答复) or asks for the one extension (→ 延期审批)."""
    request = _lock_request(request)
    _staff_of(actor, request)
    _check(request.status == RequestStatus.HANDLE, _("该申请当前不在办理环节"))
    _check(action in ("reply", "extend"), _("请选择下一步"))
    opinion = _text(opinion, label=_("办理意见"), limit=MAX_REASON)
    if action == "extend":
        _check(not request.extended, _("答复期限只能延长一次，已延长过"))
        reason = _text(extension_reason, label=_("延期理由"), limit=MAX_REASON)
        request.extension_reason = reason
        request.save(update_fields=["extension_reason"])
    task = _step(request, "handle", _("该申请当前不在办理环节"))
    _complete(actor, task, {"next": action}, opinion)
    audit_record(
        action="disclosure.request.handle",
        obj=request,
        after={"next": action, "extension_reason": request.extension_reason if action == "extend" else ""},
        actor=actor,
        unit=request.unit,
    )
    request.refresh_from_db()
    return request


@transaction.atomic
def request_extension_decide(
    *, actor: Any, request: DisclosureRequest, agree: bool, opinion: str
) -> DisclosureRequest:
    """延期审批: a leader of the unit agrees (the limit becomes 40 working days) or not."""
    request = _lock_request(request)
    _staff_of(actor, request)
    _check(request.status == RequestStatus.EXTENSION, _("该申请当前不在延期审批环节"))
    opinion = _text(opinion, label=_("审批意见"), limit=MAX_REASON)
    task = _step(request, "approve_extension", _("该申请当前不在延期审批环节"))
    _complete(actor, task, {"decision": "agree" if agree else "disagree"}, opinion)
    request.refresh_from_db()
    audit_record(
        action="disclosure.request.extension",
        obj=request,
        after={"agree": agree, "due_at": request.due_at, "opinion": opinion},
        actor=actor,
        unit=request.unit,
    )
    if agree:
        _notify(
            recipients=[request.applicant_id],
            title=_("您的政府信息公开申请答复期限已延长：%(n)s") % {"n": request.number},
            url=_applicant_url(request),
            key=f"disclosure.request.{request.pk}.extended",
        )
    return request


@transaction.atomic
def request_reply(
    *,
    actor: Any,
    request: DisclosureRequest,
    outcome: str,
    reply_text: str,
    withheld_reason: str = "",
) -> DisclosureRequest:
    """答复: the written reply with its outcome (公开 / 部分公开 / 不予公开 with the legal reason …)."""
    request = _lock_request(request)
    _staff_of(actor, request)
    _check(request.status == RequestStatus.REPLY, _("该申请当前不在答复环节"))
    _check(outcome in Outcome.values, _("请选择答复类型"))
    text = _text(reply_text, label=_("答复内容"), limit=MAX_REPLY)
    if outcome in (Outcome.WITHHELD, Outcome.PARTIAL):
        _check(withheld_reason in WithheldReason.values, _("不予公开或部分公开的，须选择法定理由"))
    else:
        withheld_reason = ""
    task = _step(request, "reply", _("该申请当前不在答复环节"))
    now = timezone.now()
    request.outcome = outcome
    request.withheld_reason = withheld_reason
    request.reply_text = text
    request.replied_at = now
    request.replied_by = actor
    request.save(update_fields=["outcome", "withheld_reason", "reply_text", "replied_at", "replied_by"])
    _complete(actor, task, {}, str(Outcome(outcome).label))
    request.refresh_from_db()
    audit_record(
        action="disclosure.request.reply",
        obj=request,
        after={
            "outcome": outcome,
            "withheld_reason": withheld_reason,
            "status": request.status,
            "late": bool(request.due_at and now > request.due_at),
        },
        actor=actor,
        unit=request.unit,
    )
    _notify(
        recipients=[request.applicant_id],
        title=_("您的政府信息公开申请已答复：%(n)s") % {"n": request.number},
        url=_applicant_url(request),
        key=f"disclosure.request.{request.pk}.replied",
    )
    return request


@transaction.atomic
def request_publish(*, actor: Any, request: DisclosureRequest, column: Any, title: str = "") -> Any:
    """公开到门户: information answered as public becomes a portal item of the unit's site in one action —
    drafted from the reply and submitted to the site's publish review (谁上网、谁负责); once approved it
    is live and, being 主动公开, enters the catalogue."""
    from zhengwu.portal import services as portal_services
    from zhengwu.portal.models import Disclosure, ItemKind

    request = _lock_request(request)
    _staff_of(actor, request)
    _check(request.is_answered, _("申请尚未答复，不能公开到门户"))
    _check(request.outcome in PUBLIC_OUTCOMES, _("只有答复为公开或部分公开的信息可以公开到门户"))
    _check(request.published_item_id is None, _("该答复的信息已公开到门户"))
    _check(
        column is not None and column.site.unit_id == request.unit_id and column.is_active,
        _("请选择本单位网站的栏目"),
    )
    title = _text(
        title or _("依申请公开信息：%(d)s") % {"d": request.description[:60]}, label=_("标题"), limit=200
    )
    paragraphs = "".join(f"<p>{line}</p>" for line in request.reply_text.splitlines() if line.strip())
    try:
        item = portal_services.item_create(
            actor=actor,
            site=column.site,
            values={
                "column": column,
                "kind": ItemKind.ARTICLE,
                "title": title,
                "body": paragraphs,
                "source": request.unit.name,
                "disclosure": Disclosure.PROACTIVE,
            },
        )
        item = portal_services.item_submit(actor=actor, item=item)
    except Exception as exc:  # ValidationError / PermissionDenied from the portal's own checks
        from django.core.exceptions import PermissionDenied, ValidationError

        if isinstance(exc, PermissionDenied):
            raise PermissionError(str(exc)) from exc
        if isinstance(exc, ValidationError):
            raise DisclosureError("；".join(str(m) for m in exc.messages)) from exc
        raise
    request.published_item = item
    request.save(update_fields=["published_item"])
    audit_record(
        action="disclosure.request.publish",
        obj=request,
        after={"item": item.pk, "column": column.pk, "state": item.state},
        actor=actor,
        unit=request.unit,
    )
    return item


_STEP_STATUS: dict[str, str] = {
    "register": RequestStatus.REGISTER,
    "handle": RequestStatus.HANDLE,
    "approve_extension": RequestStatus.EXTENSION,
    "reply": RequestStatus.REPLY,
}


def _request_changed(instance: ProcessInstance, event: str, task: Task | None) -> None:
    """The request follows its process (inside the step's transaction): its status, the one extension,
    and a reply completed only through the disclosure pages (which record the outcome first)."""
    request = DisclosureRequest.objects.select_for_update().get(pk=int(instance.business_id))
    fields: list[str] = []
    if event == "step" and task is not None:
        if task.step_id == "handle" and task.outcome == "extend" and request.extended:
            raise FlowError(_("答复期限只能延长一次，已延长过"))
        if task.step_id == "approve_extension" and task.outcome == "agree":
            if request.extended:
                raise FlowError(_("答复期限只能延长一次，已延长过"))
            flow_services.instance_legal_limit_extend(
                actor=task.completed_by,
                instance=instance,
                legal_limit=EXTENDED_LIMIT,
                note=request.extension_reason or _("依申请公开延期答复"),
            )
            request.extended = True
            fields.append("extended")
        if task.step_id == "reply" and not request.outcome:
            raise FlowError(_("请在依申请公开办理页面选择答复类型并填写答复内容"))
    status: str
    if event == "completed":
        status = RequestStatus.ANSWERED
    elif request.supplements.filter(answered_at__isnull=True).exists():
        status = RequestStatus.SUPPLEMENT
    else:
        step = (
            Task.objects.filter(instance=instance, status=TaskStatus.OPEN)
            .values_list("step_id", flat=True)
            .first()
        )
        status = _STEP_STATUS.get(step or "") or request.status
    if status != request.status:
        request.status = status
        fields.append("status")
    due = ProcessInstance.objects.filter(pk=instance.pk).values_list("legal_due_at", flat=True).first()
    if due != request.due_at:
        request.due_at = due
        fields.append("due_at")
    if fields:
        request.save(update_fields=fields)


flow_services.business_handler_register("disclosure.disclosurerequest", _request_changed)
