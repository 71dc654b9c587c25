"""Writes for the site cluster: sites and columns, items through publish review, placements, words.

Every function is one transaction that records itself in the trail. Publishing and withdrawing update
the search index inside the same transaction and ask for the static pages that depend on the change to
be regenerated when it commits (zhengwu.portal.publishing).
"""

from __future__ import annotations

import datetime as dt
import re
from typing import Any

import nh3
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import IntegrityError, transaction
from django.db.models import F, Q
from django.urls import reverse
from django.utils import timezone
from django.utils.html import escape
from django.utils.translation import gettext as _

from zhengwu.core import access as core_access
from zhengwu.core.audit import audit_record, snapshot
from zhengwu.core.models import Unit, UnitRole, UnitRoleKind
from zhengwu.notify.services import notice_send
from zhengwu.portal import access, publishing, search, sensitive
from zhengwu.portal.models import (
    RESERVED_SLUGS,
    Classification,
    Column,
    Disclosure,
    Item,
    ItemKind,
    ItemState,
    ItemVersion,
    PageViewDay,
    Placement,
    PlacementKind,
    PlacementState,
    ScoringRule,
    SearchEntry,
    SearchScope,
    SensitiveWord,
    Site,
    SiteKind,
    SiteScore,
    WithdrawReason,
    WordLevel,
)

CONTENT_FIELDS = [
    "kind",
    "column_id",
    "title",
    "subtitle",
    "summary",
    "body",
    "source",
    "author",
    "display_date",
    "document_number",
    "issuing_unit",
    "issued_on",
    "validity",
    "media_url",
    "issue_label",
    "link_url",
    "services",
    "disclosure",
    "disclosure_reason",
    "classification",
    "publish_at",
]
EDITABLE = [f for f in CONTENT_FIELDS if f != "column_id"] + ["column"]

ALLOWED_TAGS = {
    "p", "br", "strong", "b", "em", "i", "u", "s", "sub", "sup", "span", "h2", "h3", "h4", "h5",
    "ul", "ol", "li", "blockquote", "table", "thead", "tbody", "tr", "th", "td", "caption",
    "a", "img", "figure", "figcaption", "hr", "pre", "code",
}  # fmt: skip
ALLOWED_ATTRIBUTES = {
    "a": {"href", "title"},
    "img": {"src", "alt", "title", "width", "height"},
    "td": {"colspan", "rowspan"},
    "th": {"colspan", "rowspan", "scope"},
    "p": {"style"},
    "span": {"style"},
}


def _refuse(message: str) -> None:
    raise ValidationError(message)


def clean_body(value: str) -> str:
    """Rich text, sanitised: a whitelist of tags and attributes, http(s) links only. Plain text with
    line breaks becomes paragraphs."""
    value = (value or "").strip()
    if not value:
        return ""
    if "<" not in value:
        paragraphs = [p.strip() for p in value.replace("\r\n", "\n").split("\n") if p.strip()]
        return "".join(f"<p>{escape(p)}</p>" for p in paragraphs)
    return nh3.clean(
        value,
        tags=ALLOWED_TAGS,
        attributes=ALLOWED_ATTRIBUTES,
        url_schemes={"http", "https", "mailto"},
        link_rel="noopener noreferrer",
        filter_style_properties={"text-align", "text-indent"},
    )


def _check_classification(values: dict[str, Any]) -> None:
    if values.get("classification") == Classification.CLASSIFIED:
        _refuse(_("涉密信息严禁在本平台处理和发布，已拒绝保存。请按保密规定通过涉密渠道处理。"))


# --- Sites and columns --------------------------------------------------------------------------


@transaction.atomic
def site_create(
    *,
    actor: Any,
    code: str,
    name: str,
    kind: str,
    unit: Unit,
    theme: str = "red",
    host: str = "",
    description: str = "",
    second_review: bool = False,
    sort: int = 0,
) -> Site:
    """开设网站: the informatization office opens a site for a unit."""
    if not access.can_open_sites(actor):
        raise PermissionDenied(_("只有平台系统管理员可以开设网站"))
    if kind == SiteKind.MAIN and Site.objects.filter(kind=SiteKind.MAIN).exists():
        _refuse(_("主站已经存在，一个平台只能有一个主站"))
    if Site.objects.filter(code=code).exists():
        raise ValidationError({"code": _("站点代码已被使用")})
    site = Site(
        code=code,
        name=name,
        kind=kind,
        unit=unit,
        theme=theme,
        host=host,
        description=description,
        second_review=second_review,
        sort=sort,
    )
    site.full_clean()
    site.save()
    audit_record(
        action="portal.site.create",
        obj=site,
        after=snapshot(site, ["code", "name", "kind", "unit_id", "theme", "host", "second_review"]),
        actor=actor,
        unit=unit,
    )
    publishing.request(publishing.Target("site", site.pk), publishing.Target("cluster", 0))
    return site


@transaction.atomic
def column_create(
    *,
    actor: Any,
    site: Site,
    name: str,
    slug: str,
    parent: Column | None = None,
    sort: int = 0,
    show_on_home: bool = False,
    accepts_pushes: bool = False,
    description: str = "",
) -> Column:
    """新建栏目 (three levels at most)."""
    if not access.can_manage_columns(actor, site):
        raise PermissionDenied(_("您不能管理该网站的栏目"))
    if parent is not None:
        if parent.site_id != site.pk:
            _refuse(_("上级栏目不属于该网站"))
        if parent.depth >= 3:
            _refuse(_("栏目最多三级，不能在第三级栏目下再建栏目"))
    if slug in RESERVED_SLUGS:
        raise ValidationError({"slug": _("栏目路径“%(s)s”为系统保留，请换一个") % {"s": slug}})
    if Column.objects.filter(site=site, slug=slug).exists():
        raise ValidationError({"slug": _("本站已有使用该路径的栏目")})
    column = Column(
        site=site,
        parent=parent,
        name=name,
        slug=slug,
        sort=sort,
        show_on_home=show_on_home,
        accepts_pushes=accepts_pushes and site.kind == SiteKind.MAIN,
        description=description,
    )
    column.full_clean()
    column.save()
    audit_record(
        action="portal.column.create",
        obj=column,
        after=snapshot(
            column, ["site_id", "parent_id", "name", "slug", "sort", "show_on_home", "accepts_pushes"]
        ),
        actor=actor,
        unit=site.unit,
    )
    # Navigation on every page of the site lists the columns, so the whole site is regenerated.
    publishing.request(publishing.Target("site", site.pk))
    return column


@transaction.atomic
def column_update(*, actor: Any, column: Column, **changes: Any) -> Column:
    column = Column.objects.select_for_update().select_related("site").get(pk=column.pk)
    if not access.can_manage_columns(actor, column.site):
        raise PermissionDenied(_("您不能管理该网站的栏目"))
    allowed = {"name", "sort", "show_on_home", "accepts_pushes", "description", "is_active"}
    unknown = set(changes) - allowed
    if unknown:
        _refuse(_("不能修改这些字段：%(f)s") % {"f": ", ".join(sorted(unknown))})
    fields = ["name", "sort", "show_on_home", "accepts_pushes", "description", "is_active"]
    before = snapshot(column, fields)
    for key, value in changes.items():
        setattr(column, key, value)
    if column.site.kind != SiteKind.MAIN:
        column.accepts_pushes = False
    column.full_clean()
    column.save(update_fields=[*changes.keys()] if changes else None)
    audit_record(
        action="portal.column.update",
        obj=column,
        before=before,
        after=snapshot(column, fields),
        actor=actor,
        unit=column.site.unit,
    )
    publishing.request(publishing.Target("site", column.site_id))
    return column


# --- Items: editing -----------------------------------------------------------------------------


def _normalise_values(site: Site, values: dict[str, Any]) -> dict[str, Any]:
    values = dict(values)
    column = values.get("column")
    if not isinstance(column, Column) or column.site_id != site.pk:
        raise ValidationError({"column": _("请选择本网站的栏目")})
    if not column.is_active:
        raise ValidationError({"column": _("该栏目已停用")})
    title = (values.get("title") or "").strip()
    if not title:
        raise ValidationError({"title": _("请填写标题")})
    values["title"] = title
    values["body"] = clean_body(values.get("body", ""))
    if values.get("kind") not in ItemKind.values:
        raise ValidationError({"kind": _("请选择信息类型")})
    disclosure = values.get("disclosure") or Disclosure.PROACTIVE
    if disclosure not in Disclosure.values:
        raise ValidationError({"disclosure": _("请选择公开属性")})
    values["disclosure"] = disclosure
    if disclosure != Disclosure.PROACTIVE and not (values.get("disclosure_reason") or "").strip():
        raise ValidationError({"disclosure_reason": _("依申请公开或不予公开的信息须注明法定理由")})
    return values


def _content_snapshot(item: Item) -> dict[str, Any]:
    data = snapshot(item, CONTENT_FIELDS)
    data["column_id"] = item.column_id
    return data


def _new_version(item: Item, actor: Any) -> ItemVersion:
    item.version += 1
    version = ItemVersion.objects.create(
        item=item, number=item.version, data=_content_snapshot(item), created_by=actor
    )
    item.save(update_fields=["version", "updated_at"])
    return version


@transaction.atomic
def item_create(*, actor: Any, site: Site, values: dict[str, Any]) -> Item:
    """拟稿: a new item, saved as a draft with its first version."""
    if not access.can_edit(actor, site):
        raise PermissionDenied(_("您不是该网站的编辑"))
    _check_classification(values)
    values = _normalise_values(site, values)
    item = Item(site=site, created_by=actor, state=ItemState.DRAFT)
    for key in EDITABLE:
        if key in values:
            setattr(item, key, values[key])
    item.full_clean(exclude=["created_by", "submitted_version", "live_version"])
    item.save()
    version = _new_version(item, actor)
    audit_record(
        action="portal.item.create",
        obj=item,
        after={**version.data, "version": version.number, "body": f"<{len(item.body)} chars>"},
        actor=actor,
        unit=site.unit,
    )
    return item


@transaction.atomic
def item_update(*, actor: Any, item: Item, values: dict[str, Any]) -> Item:
    """修改: changes the working copy. A published item stays online unchanged until the change passes
    review; a scheduled or withdrawn item goes back to draft."""
    item = Item.objects.select_for_update().select_related("site__unit").get(pk=item.pk)
    if not access.can_edit(actor, item.site):
        raise PermissionDenied(_("您不是该网站的编辑"))
    if item.state in (ItemState.PENDING, ItemState.PENDING_SECOND):
        _refuse(_("信息正在审核中，不能修改；如需修改请先由审核人退回"))
    _check_classification(values)
    values = _normalise_values(item.site, values)
    before = _content_snapshot(item)
    for key in EDITABLE:
        if key in values:
            setattr(item, key, values[key])
    item.full_clean(exclude=["created_by", "submitted_version", "live_version"])
    after = _content_snapshot(item)
    changed = {k for k in after if after[k] != before[k]}
    state_before = item.state
    if item.state in (ItemState.PUBLISHED, ItemState.SCHEDULED, ItemState.WITHDRAWN) and changed:
        item.state = ItemState.DRAFT
    if not changed:
        return item
    item.flagged_words = []
    item.save()
    version = _new_version(item, actor)
    audit_record(
        action="portal.item.update",
        obj=item,
        before={k: before[k] for k in changed if k != "body"} | {"state": state_before},
        after={k: after[k] for k in changed if k != "body"}
        | {"state": item.state, "version": version.number, "body_changed": "body" in changed},
        actor=actor,
        unit=item.site.unit,
    )
    return item


# --- Items: publish review ----------------------------------------------------------------------


def _required_fields(item: Item) -> None:
    needs = {
        ItemKind.DOCUMENT: [("document_number", _("文号")), ("issuing_unit", _("发文机关"))],
        ItemKind.VIDEO: [("media_url", _("视频地址"))],
        ItemKind.EPUBLICATION: [("media_url", _("期刊文件地址")), ("issue_label", _("期号"))],
        ItemKind.LINK: [("link_url", _("链接地址"))],
        ItemKind.TOPIC: [("link_url", _("专题地址"))],
        ItemKind.SCENARIO: [("services", _("关联办事事项"))],
    }.get(ItemKind(item.kind), [])
    missing = [label for name, label in needs if not (getattr(item, name) or "").strip()]
    if item.kind in (ItemKind.ARTICLE, ItemKind.DOCUMENT) and not item.body.strip():
        missing.append(_("正文"))
    if missing:
        _refuse(_("提交前请填写：%(f)s") % {"f": "、".join(str(m) for m in missing)})


def _reviewers(site: Site, role: str) -> list[int]:
    return list(UnitRole.objects.filter(unit_id=site.unit_id, role=role).values_list("user_id", flat=True))


def _item_url(item: Item) -> str:
    return reverse("portal:cms_item", args=[item.pk])


@transaction.atomic
def item_submit(*, actor: Any, item: Item) -> Item:
    """提交审核: the classification, disclosure and sensitive-word checks, then to the unit's reviewer."""
    item = Item.objects.select_for_update().select_related("site__unit").get(pk=item.pk)
    if not access.can_edit(actor, item.site):
        raise PermissionDenied(_("您不是该网站的编辑"))
    if item.state != ItemState.DRAFT:
        _refuse(_("只有草稿可以提交审核（当前状态：%(s)s）") % {"s": item.get_state_display()})
    if item.classification == Classification.CLASSIFIED:
        _refuse(_("涉密信息严禁在本平台处理和发布，不能提交。请按保密规定通过涉密渠道处理。"))
    if item.disclosure != Disclosure.PROACTIVE:
        _refuse(_("依申请公开或不予公开的信息不在网站主动发布，不能提交发布审核"))
    _required_fields(item)
    result = sensitive.check(
        item.title, item.subtitle, item.summary, search.html_to_text(item.body), item.source, item.author
    )
    if result.blocked:
        _refuse(_("含有禁止发布的敏感词：%(w)s。请修改后再提交。") % {"w": "、".join(result.blocked)})
    version = item.versions.order_by("-number").first()
    item.state = ItemState.PENDING
    item.submitted_version = version
    item.submitted_by = actor
    item.first_reviewer = None
    item.review_note = ""
    item.flagged_words = result.flagged
    item.save(
        update_fields=[
            "state", "submitted_version", "submitted_by", "first_reviewer", "review_note", "flagged_words",
            "updated_at",
        ]
    )  # fmt: skip
    audit_record(
        action="portal.item.submit",
        obj=item,
        after={
            "state": item.state,
            "version": version.number if version else None,
            "flagged": result.flagged,
        },
        actor=actor,
        unit=item.site.unit,
    )
    notice_send(
        recipients=_reviewers(item.site, UnitRoleKind.REVIEWER),
        title=_("待审核：%(t)s") % {"t": item.title},
        url=_item_url(item),
    )
    return item


@transaction.atomic
def item_approve(*, actor: Any, item: Item, note: str = "") -> Item:
    """审核通过. With a second level the leader approves next; the final approval publishes (or
    schedules) the submitted version. Nobody approves what they submitted themselves."""
    item = Item.objects.select_for_update().select_related("site__unit").get(pk=item.pk)
    if item.state == ItemState.PENDING:
        if not access.can_review(actor, item.site):
            raise PermissionDenied(_("您不是该网站的审核人"))
        level = 1
    elif item.state == ItemState.PENDING_SECOND:
        if not access.can_second_review(actor, item.site):
            raise PermissionDenied(_("二级审核须由本单位领导进行"))
        if item.first_reviewer_id == actor.pk:
            _refuse(_("二级审核须由另一人进行"))
        level = 2
    else:
        _refuse(_("该信息当前不在待审核状态（%(s)s），可能已被他人处理") % {"s": item.get_state_display()})
    if item.submitted_by_id == actor.pk:
        _refuse(_("不能审核自己提交的信息（谁上网、谁负责：须由另一人审核）"))
    note = (note or "").strip()[:500]
    before = {"state": item.state}
    if level == 1 and item.site.second_review:
        item.state = ItemState.PENDING_SECOND
        item.first_reviewer = actor
        item.review_note = note
        item.save(update_fields=["state", "first_reviewer", "review_note", "updated_at"])
        audit_record(
            action="portal.item.approve",
            obj=item,
            before=before,
            after={"state": item.state, "level": 1, "note": note},
            actor=actor,
            unit=item.site.unit,
        )
        notice_send(
            recipients=_reviewers(item.site, UnitRoleKind.LEADER),
            title=_("待二级审核：%(t)s") % {"t": item.title},
            url=_item_url(item),
        )
        return item
    item.review_note = note
    audit_record(
        action="portal.item.approve",
        obj=item,
        before=before,
        after={"level": level, "note": note},
        actor=actor,
        unit=item.site.unit,
    )
    now = timezone.now()
    if item.publish_at and item.publish_at > now:
        item.state = ItemState.SCHEDULED
        item.save(update_fields=["state", "review_note", "updated_at"])
        audit_record(
            action="portal.item.schedule",
            obj=item,
            after={"state": item.state, "publish_at": item.publish_at},
            actor=actor,
            unit=item.site.unit,
        )
    else:
        _publish(item, actor=actor, now=now)
    if item.submitted_by_id:
        notice_send(
            recipients=[item.submitted_by_id],
            title=_("已审核通过：%(t)s") % {"t": item.title},
            url=_item_url(item),
        )
    return item


@transaction.atomic
def item_return(*, actor: Any, item: Item, note: str) -> Item:
    """退回修改: back to the editor as a draft, with the reviewer's reasons."""
    item = Item.objects.select_for_update().select_related("site__unit").get(pk=item.pk)
    if item.state == ItemState.PENDING:
        allowed = access.can_review(actor, item.site)
    elif item.state == ItemState.PENDING_SECOND:
        allowed = access.can_second_review(actor, item.site)
    else:
        _refuse(_("该信息当前不在待审核状态（%(s)s），可能已被他人处理") % {"s": item.get_state_display()})
    if not allowed:
        raise PermissionDenied(_("您不能审核该信息"))
    note = (note or "").strip()
    if not note:
        raise ValidationError({"note": _("退回时请写明修改意见")})
    before = {"state": item.state}
    item.state = ItemState.DRAFT
    item.review_note = note[:500]
    item.save(update_fields=["state", "review_note", "updated_at"])
    audit_record(
        action="portal.item.return",
        obj=item,
        before=before,
        after={"state": item.state, "note": item.review_note},
        actor=actor,
        unit=item.site.unit,
    )
    if item.submitted_by_id:
        notice_send(
            recipients=[item.submitted_by_id],
            title=_("被退回修改：%(t)s") % {"t": item.title},
            body=item.review_note,
            url=_item_url(item),
            level="warning",
        )
    return item


def _ordinal(placement: Placement) -> int:
    """Position of a listed placement in its column, counted from the oldest (0-based)."""
    assert placement.listed_at is not None
    return Placement.objects.filter(
        Q(listed_at__lt=placement.listed_at) | Q(listed_at=placement.listed_at, id__lt=placement.pk),
        column_id=placement.column_id,
        state=PlacementState.LISTED,
    ).count()


def _entry_values(item: Item, version: ItemVersion, now: dt.datetime) -> dict[str, Any]:
    data = version.data
    display = data.get("display_date")
    day = dt.date.fromisoformat(display) if display else timezone.localdate(item.published_at or now)
    url = data.get("link_url") if item.kind == ItemKind.LINK and data.get("link_url") else item.public_url
    return {
        "version": version,
        "site_id": item.site_id,
        "column_id": data.get("column_id") or item.column_id,
        "kind": data.get("kind") or item.kind,
        "title": data.get("title", "")[:200],
        "summary": (data.get("summary") or search.html_to_text(data.get("body", "")))[:150],
        "url": url,
        "date": day,
        "published_at": item.published_at or now,
    }


def _reindex(item: Item, version: ItemVersion, now: dt.datetime) -> None:
    """Replace the item's search rows with the live version, scoped to every column listing it."""
    old = SearchEntry.objects.filter(item=item).select_related("version").first()
    if old is not None:
        search.index_erase(item.pk, old.version.data)
        old.delete()
    entry = SearchEntry.objects.create(item=item, **_entry_values(item, version, now))
    entry.parts = search.index_write(item.pk, version.data)
    entry.save(update_fields=["parts"])
    SearchScope.objects.bulk_create(
        [
            SearchScope(entry=entry, site_id=site_id, column_id=column_id)
            for site_id, column_id in Placement.objects.filter(
                item=item, state=PlacementState.LISTED
            ).values_list("site_id", "column_id")
        ]
    )


def _unindex(item: Item) -> None:
    old = SearchEntry.objects.filter(item=item).select_related("version").first()
    if old is not None:
        search.index_erase(item.pk, old.version.data)
        old.delete()


def _publish(item: Item, *, actor: Any, now: dt.datetime) -> None:
    """Make the submitted version live: placements, search index, pages (on commit)."""
    version = item.submitted_version
    if version is None:
        raise ValidationError(_("没有可发布的版本"))
    targets: list[publishing.Target] = [
        publishing.Target("item", item.pk),
        publishing.Target("home", item.site_id),
    ]
    column_id = version.data.get("column_id") or item.column_id
    # The home placement: kept (and its list position with it) when a revision is published.
    for old in Placement.objects.select_for_update().filter(
        item=item, kind=PlacementKind.HOME, state=PlacementState.LISTED
    ):
        if old.column_id != column_id:
            targets.append(publishing.Target("column", old.column_id, _ordinal(old)))
            old.state = PlacementState.REMOVED
            old.save(update_fields=["state"])
    home, _created = Placement.objects.select_for_update().get_or_create(
        item=item,
        column_id=column_id,
        defaults={"site_id": item.site_id, "kind": PlacementKind.HOME, "state": PlacementState.PENDING},
    )
    if home.state == PlacementState.LISTED:
        targets.append(publishing.Target("column", column_id, _ordinal(home), single=True))
    else:
        home.kind = PlacementKind.HOME
        home.state = PlacementState.LISTED
        home.listed_at = now
        home.reviewed_by = actor if getattr(actor, "pk", None) else None
        home.reviewed_at = now
        home.save(update_fields=["kind", "state", "listed_at", "reviewed_by", "reviewed_at"])
        targets.append(publishing.Target("column", column_id, _ordinal(home)))
    for pushed in Placement.objects.filter(item=item, kind=PlacementKind.PUSHED, state=PlacementState.LISTED):
        targets.append(publishing.Target("column", pushed.column_id, _ordinal(pushed), single=True))
        targets.append(publishing.Target("home", pushed.site_id))
    before = {"state": item.state, "live_version": item.live_version_id}
    item.state = ItemState.PUBLISHED
    item.live_version = version
    item.column_id = column_id
    item.published_at = now
    item.first_published_at = item.first_published_at or now
    item.withdrawn_at = None
    item.withdraw_reason = ""
    item.withdraw_note = ""
    item.save(
        update_fields=[
            "state", "live_version", "column", "published_at", "first_published_at", "withdrawn_at",
            "withdraw_reason", "withdraw_note", "updated_at",
        ]
    )  # fmt: skip
    _reindex(item, version, now)
    # 政务信息公开目录: a proactively disclosed item is catalogued with its index number (explicit call).
    from zhengwu.disclosure.services import catalogue_entry_publish

    catalogue_entry_publish(item=item, actor=actor, now=now)
    audit_record(
        action="portal.item.publish",
        obj=item,
        before=before,
        after={
            "state": item.state,
            "live_version": version.pk,
            "version": version.number,
            "url": item.public_url,
        },
        actor=actor if getattr(actor, "pk", None) else None,
        unit=item.site.unit,
    )
    publishing.request(*targets)


def item_publish_due(*, now: dt.datetime | None = None) -> int:
    """定时发布: publish every approved item whose time has come (run each minute by the queue)."""
    now = now or timezone.now()
    done = 0
    due = list(
        Item.objects.filter(state=ItemState.SCHEDULED, publish_at__lte=now).values_list("pk", flat=True)[:500]
    )
    for pk in due:
        with transaction.atomic():
            item = Item.objects.select_for_update().select_related("site__unit").filter(pk=pk).first()
            if item is None or item.state != ItemState.SCHEDULED:
                continue
            _publish(item, actor=None, now=now)
            done += 1
    return done


@transaction.atomic
def item_withdraw(*, actor: Any, item: Item, reason: str, note: str = "") -> Item:
    """撤稿: take a live item off every site it is shown on, with a recorded reason."""
    item = Item.objects.select_for_update().select_related("site__unit").get(pk=item.pk)
    if not (access.can_review(actor, item.site) or access.can_edit(actor, item.site)):
        raise PermissionDenied(_("您不能撤下该网站的信息"))
    if not item.is_live:
        _refuse(_("该信息当前未发布，无需撤稿"))
    if reason not in WithdrawReason.values:
        raise ValidationError({"reason": _("请选择撤稿原因")})
    note = (note or "").strip()
    if not note:
        raise ValidationError({"note": _("请写明撤稿说明")})
    targets: list[publishing.Target] = [
        publishing.Target("item", item.pk),
        publishing.Target("home", item.site_id),
    ]
    placements = list(
        Placement.objects.select_for_update().filter(
            item=item, state__in=[PlacementState.LISTED, PlacementState.PENDING]
        )
    )
    for placement in placements:
        if placement.state == PlacementState.LISTED:
            targets.append(publishing.Target("column", placement.column_id, _ordinal(placement)))
            targets.append(publishing.Target("home", placement.site_id))
    for placement in placements:
        placement.state = PlacementState.REMOVED
        placement.save(update_fields=["state"])
    _unindex(item)
    from zhengwu.disclosure.services import catalogue_entry_withdraw

    catalogue_entry_withdraw(item=item, actor=actor)  # a withdrawn item leaves the disclosure catalogue
    before = {"state": item.state, "live_version": item.live_version_id}
    now = timezone.now()
    item.state = ItemState.WITHDRAWN
    item.live_version = None
    item.withdrawn_at = now
    item.withdraw_reason = reason
    item.withdraw_note = note[:500]
    item.save(
        update_fields=[
            "state",
            "live_version",
            "withdrawn_at",
            "withdraw_reason",
            "withdraw_note",
            "updated_at",
        ]
    )
    audit_record(
        action="portal.item.withdraw",
        obj=item,
        before=before,
        after={
            "state": item.state,
            "reason": reason,
            "reason_label": str(WithdrawReason(reason).label),
            "note": item.withdraw_note,
        },
        actor=actor,
        unit=item.site.unit,
    )
    publishing.request(*targets)
    return item


# --- Pushing to the main site (报送到主站) --------------------------------------------------------


@transaction.atomic
def item_push(*, actor: Any, item: Item, column: Column) -> Placement:
    """报送: offer a live sub-site item to a main-site column; it shows there once the main site's
    reviewer accepts it."""
    item = Item.objects.select_for_update().select_related("site__unit").get(pk=item.pk)
    if not access.can_edit(actor, item.site):
        raise PermissionDenied(_("您不是该网站的编辑"))
    column = Column.objects.select_related("site").get(pk=column.pk)
    if column.site.kind != SiteKind.MAIN or not column.accepts_pushes or not column.is_active:
        raise ValidationError({"column": _("请选择主站接受报送的栏目")})
    if item.site.kind == SiteKind.MAIN:
        _refuse(_("主站信息无需报送"))
    if not item.is_live:
        _refuse(_("信息发布后才能报送到主站"))
    placement = Placement.objects.select_for_update().filter(item=item, column=column).first()
    if placement is not None and placement.state in (PlacementState.PENDING, PlacementState.LISTED):
        _refuse(_("该信息已报送到此栏目（%(s)s）") % {"s": placement.get_state_display()})
    if placement is None:
        try:
            with transaction.atomic():
                placement = Placement.objects.create(
                    item=item,
                    column=column,
                    site=column.site,
                    kind=PlacementKind.PUSHED,
                    state=PlacementState.PENDING,
                    requested_by=actor,
                )
        except IntegrityError:
            _refuse(_("该信息已报送到此栏目"))
    else:
        placement.state = PlacementState.PENDING
        placement.requested_by = actor
        placement.requested_at = timezone.now()
        placement.listed_at = None
        placement.reviewed_by = None
        placement.reviewed_at = None
        placement.note = ""
        placement.save()
    assert placement is not None
    audit_record(
        action="portal.placement.request",
        obj=item,
        after={"placement": placement.pk, "column": column.pk, "site": column.site_id},
        actor=actor,
        unit=item.site.unit,
    )
    notice_send(
        recipients=_reviewers(column.site, UnitRoleKind.REVIEWER),
        title=_("子站报送待审：%(t)s（%(s)s）") % {"t": item.title, "s": item.site.name},
        url=reverse("portal:cms_home"),
    )
    return placement


@transaction.atomic
def placement_approve(*, actor: Any, placement: Placement) -> Placement:
    placement = (
        Placement.objects.select_for_update().select_related("site__unit", "item").get(pk=placement.pk)
    )
    if not access.can_review(actor, placement.site):
        raise PermissionDenied(_("您不是主站的审核人"))
    if placement.state != PlacementState.PENDING:
        _refuse(_("该报送已处理（%(s)s）") % {"s": placement.get_state_display()})
    if not placement.item.is_live:
        _refuse(_("该信息已撤稿，不能采用"))
    if placement.requested_by_id == actor.pk:
        _refuse(_("不能审核自己报送的信息"))
    now = timezone.now()
    placement.state = PlacementState.LISTED
    placement.listed_at = now
    placement.reviewed_by = actor
    placement.reviewed_at = now
    placement.save(update_fields=["state", "listed_at", "reviewed_by", "reviewed_at"])
    entry = SearchEntry.objects.filter(item_id=placement.item_id).first()
    if entry is not None:
        SearchScope.objects.get_or_create(
            entry=entry, column_id=placement.column_id, defaults={"site": placement.site}
        )
    audit_record(
        action="portal.placement.approve",
        obj=placement.item,
        after={"placement": placement.pk, "column": placement.column_id, "site": placement.site_id},
        actor=actor,
        unit=placement.site.unit,
    )
    if placement.requested_by_id:
        notice_send(
            recipients=[placement.requested_by_id],
            title=_("主站已采用：%(t)s") % {"t": placement.item.title},
            url=_item_url(placement.item),
        )
    publishing.request(
        publishing.Target("column", placement.column_id, _ordinal(placement)),
        publishing.Target("home", placement.site_id),
    )
    return placement


@transaction.atomic
def placement_reject(*, actor: Any, placement: Placement, note: str) -> Placement:
    placement = (
        Placement.objects.select_for_update().select_related("site__unit", "item").get(pk=placement.pk)
    )
    if not access.can_review(actor, placement.site):
        raise PermissionDenied(_("您不是主站的审核人"))
    if placement.state != PlacementState.PENDING:
        _refuse(_("该报送已处理（%(s)s）") % {"s": placement.get_state_display()})
    note = (note or "").strip()
    if not note:
        raise ValidationError({"note": _("请写明不采用的理由")})
    placement.state = PlacementState.REJECTED
    placement.reviewed_by = actor
    placement.reviewed_at = timezone.now()
    placement.note = note[:500]
    placement.save(update_fields=["state", "reviewed_by", "reviewed_at", "note"])
    audit_record(
        action="portal.placement.reject",
        obj=placement.item,
        after={"placement": placement.pk, "column": placement.column_id, "note": placement.note},
        actor=actor,
        unit=placement.site.unit,
    )
    if placement.requested_by_id:
        notice_send(
            recipients=[placement.requested_by_id],
            title=_("主站未采用：%(t)s") % {"t": placement.item.title},
            body=placement.note,
            url=_item_url(placement.item),
            level="warning",
        )
    return placement


# --- Sensitive words ----------------------------------------------------------------------------


@transaction.atomic
def sensitive_word_add(
    *, actor: Any, word: str, level: str = WordLevel.BLOCK, note: str = ""
) -> SensitiveWord:
    if not access.can_manage_words(actor):
        raise PermissionDenied(_("您不能维护敏感词库"))
    word = (word or "").strip()
    if not word or not sensitive.normalise(word):
        raise ValidationError({"word": _("请填写敏感词")})
    if len(word) > 64:
        raise ValidationError({"word": _("敏感词不能超过64个字符")})
    if level not in WordLevel.values:
        raise ValidationError({"level": _("请选择处理方式")})
    if SensitiveWord.objects.filter(word=word).exists():
        raise ValidationError({"word": _("词库中已有该词")})
    entry = SensitiveWord.objects.create(word=word, level=level, note=(note or "").strip()[:200])
    audit_record(action="portal.word.add", obj=entry, after={"word": word, "level": level}, actor=actor)
    return entry


@transaction.atomic
def sensitive_word_update(*, actor: Any, word: SensitiveWord, level: str, is_active: bool) -> SensitiveWord:
    if not access.can_manage_words(actor):
        raise PermissionDenied(_("您不能维护敏感词库"))
    if level not in WordLevel.values:
        raise ValidationError({"level": _("请选择处理方式")})
    word = SensitiveWord.objects.select_for_update().get(pk=word.pk)
    before = {"level": word.level, "is_active": word.is_active}
    word.level = level
    word.is_active = is_active
    word.save(update_fields=["level", "is_active", "updated_at"])
    audit_record(
        action="portal.word.update",
        obj=word,
        before=before,
        after={"level": level, "is_active": is_active},
        actor=actor,
    )
    return word


@transaction.atomic
def sensitive_word_remove(*, actor: Any, word: SensitiveWord) -> None:
    if not access.can_manage_words(actor):
        raise PermissionDenied(_("您不能维护敏感词库"))
    audit_record(
        action="portal.word.remove", obj=word, before={"word": word.word, "level": word.level}, actor=actor
    )
    SensitiveWord.objects.filter(pk=word.pk).delete()


def is_staff_editor(user: Any) -> bool:
    return core_access.is_staff_user(user) and bool(access.sites_for(user))


def search_rebuild() -> int:
    """Rebuild the full-text index from every live version (after an upgrade of the tokeniser)."""
    count = 0
    with transaction.atomic():
        SearchEntry.objects.all().delete()
        search.index_clear()
        items = Item.objects.exclude(live_version=None).select_related("live_version", "site")
        for item in items.iterator(chunk_size=500):
            assert item.live_version is not None
            _reindex(item, item.live_version, item.published_at or timezone.now())
            count += 1
    return count


def items_bulk_publish(
    *, actor: Any, rows: list[dict[str, Any]], note: str = "", regenerate: bool = True
) -> list[int]:
    """批量发布 (demo data, migration from an old CMS): items that passed review elsewhere go online
    in bulk — items, their first version, home placements, the search index — with one trail record
    for the batch, and their sites regenerated on commit. Each row: site, column, title, body and any
    content field; ``published_at`` optional. Classified rows and rows naming another site's column are
    refused as in the one-by-one path."""
    now = timezone.now()
    with transaction.atomic():
        items: list[Item] = []
        for row in rows:
            site, column = row["site"], row["column"]
            if column.site_id != site.pk:
                raise ValidationError(_("栏目不属于该网站：%(t)s") % {"t": row.get("title", "")})
            _check_classification(row)
            published = row.get("published_at") or now
            item = Item(
                site=site,
                column=column,
                state=ItemState.PUBLISHED,
                version=1,
                created_by=actor,
                submitted_by=actor,
                published_at=published,
                first_published_at=published,
            )
            for key in EDITABLE:
                if key in row and key != "column":
                    setattr(item, key, row[key])
            item.body = clean_body(item.body)
            items.append(item)
        Item.objects.bulk_create(items, batch_size=1000)
        versions = ItemVersion.objects.bulk_create(
            [ItemVersion(item=i, number=1, data=_content_snapshot(i), created_by=actor) for i in items],
            batch_size=1000,
        )
        for item, version in zip(items, versions, strict=True):
            item.live_version = version
            item.submitted_version = version
        Item.objects.bulk_update(items, ["live_version", "submitted_version"], batch_size=1000)
        Placement.objects.bulk_create(
            [
                Placement(
                    item=i,
                    column_id=i.column_id,
                    site_id=i.site_id,
                    kind=PlacementKind.HOME,
                    state=PlacementState.LISTED,
                    listed_at=i.published_at,
                    requested_by=actor,
                    reviewed_by=actor,
                    reviewed_at=i.published_at,
                )
                for i in items
            ],
            batch_size=1000,
        )
        entries = []
        for item, version in zip(items, versions, strict=True):
            values = _entry_values(item, version, item.published_at or now)
            entries.append(SearchEntry(item=item, **values))
        SearchEntry.objects.bulk_create(entries, batch_size=1000)
        SearchScope.objects.bulk_create(
            [SearchScope(entry=e, site_id=e.site_id, column_id=e.column_id) for e in entries], batch_size=1000
        )
        search.index_write_many(
            [(item.pk, version.data) for item, version in zip(items, versions, strict=True)]
        )
        from zhengwu.disclosure.services import catalogue_entries_bulk_publish

        catalogue_entries_bulk_publish(items=items, actor=actor)
        site_ids = sorted({i.site_id for i in items})
        audit_record(
            action="portal.item.bulk_publish",
            object_type="portal.item",
            object_label=note[:200] or _("批量发布 %(n)s 条") % {"n": len(items)},
            after={"count": len(items), "sites": site_ids, "first": items[0].pk if items else None},
            actor=actor if getattr(actor, "pk", None) else None,
        )
        if regenerate:
            publishing.request(
                *[publishing.Target("site", sid) for sid in site_ids], publishing.Target("cluster", 0)
            )
    return [i.pk for i in items]


_HIT_PATH = re.compile(
    r"^/site/(?P<site>[-\w]+)/(?:(?:index\.html)?|art/(?P<item>\d+)\.html|(?P<column>[-\w]+)/(?:index\.html|list_\d+\.html)?)$"
)


def page_view_record(*, path: str, day: dt.date | None = None) -> bool:
    """访问统计: count one view of a published page (home, column or item). Returns False for a path
    that is no published page. A plain counter: no reader data, and not in the trail (it changes no
    business state)."""
    match = _HIT_PATH.match(path or "")
    if match is None:
        return False
    site = Site.objects.filter(code=match["site"], is_active=True).only("pk").first()
    if site is None:
        return False
    column_id = item_id = None
    if match["item"]:
        item_id = int(match["item"])
        if not Item.objects.filter(pk=item_id, site=site).exclude(live_version=None).exists():
            return False
        key = f"i{item_id}"
    elif match["column"]:
        column_id = (
            Column.objects.filter(site=site, slug=match["column"]).values_list("pk", flat=True).first()
        )
        if column_id is None:
            return False
        key = f"c{column_id}"
    else:
        key = "home"
    day = day or timezone.localdate()
    with transaction.atomic():
        counted = PageViewDay.objects.filter(day=day, site=site, key=key).update(views=F("views") + 1)
        if not counted:
            try:
                with transaction.atomic():
                    PageViewDay.objects.create(
                        day=day, site=site, key=key, column_id=column_id, item_id=item_id, views=1
                    )
            except IntegrityError:  # another reader's first view of the day won the race
                PageViewDay.objects.filter(day=day, site=site, key=key).update(views=F("views") + 1)
    return True


# --- Monthly site scoring (政务网站量化打分) ---------------------------------------------------------


@transaction.atomic
def scoring_rule_update(
    *, actor: Any, rule: ScoringRule, weight: int, is_active: bool, description: str, params: dict[str, Any]
) -> ScoringRule:
    """修改评分规则: the informatization office edits the published rules."""
    if not access.can_manage_scoring(actor):
        raise PermissionDenied(_("您不能修改网站评分规则"))
    if not 0 <= weight <= 100:
        raise ValidationError({"weight": _("分值应在 0 到 100 之间")})
    description = (description or "").strip()
    if not description:
        raise ValidationError({"description": _("请写明评分办法")})
    for key, value in params.items():
        if not isinstance(value, int | float) or value < 0 or value > 3650:
            raise ValidationError({"params": _("参数“%(k)s”应为 0 到 3650 之间的数") % {"k": key}})
    rule = ScoringRule.objects.select_for_update().get(pk=rule.pk)
    fields = ["weight", "is_active", "description", "params"]
    before = snapshot(rule, fields)
    rule.weight, rule.is_active, rule.description, rule.params = weight, is_active, description[:300], params
    rule.save(update_fields=fields)
    audit_record(
        action="portal.scoring.rule", obj=rule, before=before, after=snapshot(rule, fields), actor=actor
    )
    main = Site.objects.filter(kind=SiteKind.MAIN).first()
    if main is not None:
        publishing.request(publishing.Target("ranking", main.pk))
    return rule


def site_scores_compute(*, actor: Any, month: dt.date) -> list[SiteScore]:
    """月度评分: score every active site for the month under the active rules, rank them, keep the
    result and publish the ranking table on the main site."""
    from zhengwu.portal import scoring

    if actor is not None and not access.can_manage_scoring(actor):
        raise PermissionDenied(_("您不能进行网站评分"))
    month = month.replace(day=1)
    if month > timezone.localdate():
        raise ValidationError(_("不能为尚未开始的月份评分"))
    rules = list(ScoringRule.objects.filter(is_active=True))
    results = []
    for site in Site.objects.filter(is_active=True).order_by("sort", "id"):
        score, details = scoring.score_site(site, rules, month)
        results.append((site, score, details))
    results.sort(key=lambda r: (-r[1], r[0].sort, r[0].pk))
    with transaction.atomic():
        SiteScore.objects.filter(month=month).delete()
        saved = []
        rank = 0
        previous: Any = None
        for position, (site, score, details) in enumerate(results, start=1):
            if score != previous:
                rank, previous = position, score
            saved.append(SiteScore(month=month, site=site, score=score, rank=rank, details=details))
        SiteScore.objects.bulk_create(saved)
        audit_record(
            action="portal.scoring.compute",
            object_type="portal.sitescore",
            object_id=month.strftime("%Y-%m"),
            object_label=_("%(m)s 网站评分") % {"m": month.strftime("%Y-%m")},
            after={"sites": len(saved), "rules": [r.code for r in rules]},
            actor=actor if getattr(actor, "pk", None) else None,
        )
        main = Site.objects.filter(kind=SiteKind.MAIN).first()
        if main is not None:
            publishing.request(publishing.Target("ranking", main.pk), publishing.Target("home", main.pk))
    return saved
