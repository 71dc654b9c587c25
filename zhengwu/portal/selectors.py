"""Reads for the editors' pages: item lists, review queues, versions and their differences, the trail."""

from __future__ import annotations

import difflib
from dataclasses import dataclass
from typing import Any

from django.db.models import Q, QuerySet
from django.utils.html import escape
from django.utils.safestring import SafeString, mark_safe
from django.utils.translation import gettext_lazy as _

from zhengwu.core.models import AuditEvent
from zhengwu.portal import access, search
from zhengwu.portal.models import Column, Item, ItemState, ItemVersion, Site

FIELD_LABELS = {
    "kind": _("信息类型"),
    "column_id": _("栏目"),
    "title": _("标题"),
    "subtitle": _("副标题"),
    "summary": _("摘要"),
    "body": _("正文"),
    "source": _("来源"),
    "author": _("作者"),
    "display_date": _("发布日期"),
    "document_number": _("文号"),
    "issuing_unit": _("发文机关"),
    "issued_on": _("成文日期"),
    "validity": _("有效性"),
    "media_url": _("视频或期刊文件地址"),
    "issue_label": _("期号"),
    "link_url": _("链接地址"),
    "services": _("关联办事事项"),
    "disclosure": _("公开属性"),
    "disclosure_reason": _("不公开的法定理由"),
    "classification": _("密级"),
    "publish_at": _("定时发布时间"),
}


def site_items(
    site: Site, *, state: str = "", column_id: int | None = None, query: str = ""
) -> QuerySet[Item]:
    qs = Item.objects.filter(site=site).select_related("column", "created_by")
    if state in ItemState.values:
        qs = qs.filter(state=state)
    if column_id:
        qs = qs.filter(column_id=column_id)
    if query:
        qs = qs.filter(Q(title__icontains=query) | Q(document_number__icontains=query))
    return qs.order_by("-updated_at", "-id")


def column_tree(site: Site) -> list[Column]:
    """Columns in tree order (parent before its children), each with ``depth`` for indenting."""
    columns = list(site.columns.order_by("sort", "id"))
    children: dict[int | None, list[Column]] = {}
    for c in columns:
        children.setdefault(c.parent_id, []).append(c)
    out: list[Column] = []

    def walk(parent_id: int | None) -> None:
        for c in children.get(parent_id, []):
            out.append(c)
            walk(c.pk)

    walk(None)
    return out


def review_queue(user: Any) -> list[Item]:
    """Items waiting for this user's review, first level and second."""
    first: list[int] = []
    second: list[int] = []
    for site in access.sites_for(user):
        if access.can_review(user, site):
            first.append(site.pk)
        if access.can_second_review(user, site) and site.second_review:
            second.append(site.pk)
    if not first and not second:
        return []
    cond = Q(site_id__in=first, state=ItemState.PENDING) | Q(
        site_id__in=second, state=ItemState.PENDING_SECOND
    )
    return list(
        Item.objects.filter(cond)
        .select_related("site", "column", "submitted_by")
        .order_by("updated_at")[:100]
    )


def my_items(user: Any) -> QuerySet[Item]:
    return Item.objects.filter(created_by=user).select_related("site", "column").order_by("-updated_at")


def item_trail(item: Item) -> QuerySet[AuditEvent]:
    return AuditEvent.objects.filter(object_type="portal.item", object_id=str(item.pk)).order_by("seq")


@dataclass
class FieldDiff:
    name: str
    label: str
    html: SafeString


def _lines(name: str, value: Any) -> list[str]:
    if value is None:
        return []
    text = str(value)
    if name == "body":
        text = search.html_to_text(text)
    return text.splitlines() or [""]


def _inline(a: str, b: str) -> SafeString:
    out: list[str] = []
    matcher = difflib.SequenceMatcher(a=a, b=b, autojunk=False)
    for op, i1, i2, j1, j2 in matcher.get_opcodes():
        if op == "equal":
            out.append(escape(a[i1:i2]))
            continue
        if i2 > i1:
            out.append(f"<del>{escape(a[i1:i2])}</del>")
        if j2 > j1:
            out.append(f"<ins>{escape(b[j1:j2])}</ins>")
    return mark_safe("".join(out))


def version_diff(old: ItemVersion, new: ItemVersion) -> list[FieldDiff]:
    """Field-by-field differences between two versions, text changes marked inline (<del>/<ins>)."""
    diffs: list[FieldDiff] = []
    keys = list(FIELD_LABELS)
    for key in keys:
        a, b = old.data.get(key), new.data.get(key)
        if a == b:
            continue
        a_text = "\n".join(_lines(key, a))
        b_text = "\n".join(_lines(key, b))
        diffs.append(FieldDiff(key, str(FIELD_LABELS[key]), _inline(a_text, b_text)))
    return diffs


@dataclass
class ColumnStats:
    column: Column
    views: int
    new_items: int
    listed: int
    last_update: Any


def site_stats(site: Site, *, days: int = 30) -> dict[str, Any]:
    """Views of the last ``days`` days (site, columns, top items) and how often each column is updated."""
    import datetime as dt

    from django.db.models import Count, Max, Sum
    from django.utils import timezone

    from zhengwu.portal.models import PageViewDay, Placement, PlacementState, SearchEntry

    since = timezone.localdate() - dt.timedelta(days=days - 1)
    views = PageViewDay.objects.filter(site=site, day__gte=since)
    total = views.aggregate(n=Sum("views"))["n"] or 0
    by_day = list(views.values("day").annotate(n=Sum("views")).order_by("day"))
    column_views = dict(
        views.exclude(column=None)
        .values_list("column_id")
        .annotate(n=Sum("views"))
        .values_list("column_id", "n")
    )
    top = list(views.exclude(item=None).values("item_id").annotate(n=Sum("views")).order_by("-n")[:20])
    titles = dict(
        SearchEntry.objects.filter(item_id__in=[t["item_id"] for t in top]).values_list("item_id", "title")
    )
    listed = Placement.objects.filter(site=site, state=PlacementState.LISTED)
    since_at = timezone.now() - dt.timedelta(days=days)
    per_column: dict[int, dict[str, Any]] = {
        row["column_id"]: dict(row)
        for row in listed.values("column_id").annotate(
            n=Count("id"), last=Max("listed_at"), recent=Count("id", filter=Q(listed_at__gte=since_at))
        )
    }
    columns = [
        ColumnStats(
            column=c,
            views=column_views.get(c.pk, 0),
            new_items=per_column.get(c.pk, {}).get("recent", 0),
            listed=per_column.get(c.pk, {}).get("n", 0),
            last_update=per_column.get(c.pk, {}).get("last"),
        )
        for c in column_tree(site)
    ]
    return {
        "days": days,
        "total": total,
        "home": views.filter(key="home").aggregate(n=Sum("views"))["n"] or 0,
        "by_day": by_day,
        "columns": columns,
        "top": [
            {"item_id": t["item_id"], "title": titles.get(t["item_id"], "—"), "views": t["n"]} for t in top
        ],
    }
