"""Reads for units, people and groups."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable
from typing import Any

from django.db.models import Q, QuerySet

from zhengwu.core import access
from zhengwu.core.models import (
    AccountKind,
    AuditEvent,
    Department,
    Post,
    PostAssignment,
    Region,
    RegionLevel,
    Unit,
    UnitGroup,
    UnitRole,
    UnitRoleKind,
    User,
)
from zhengwu.lib.masking import mask_phone


def unit_group_members(group: UnitGroup) -> QuerySet[Unit]:
    """The active units in a recipient group: those matching its rule plus those listed by hand."""
    return unit_group_preview(group)


def unit_group_preview(group: UnitGroup, extra_units: Iterable[Unit] | None = None) -> QuerySet[Unit]:
    """Members of a group, also of one not saved yet (预览), with the hand-listed units given."""
    active = Unit.objects.filter(is_active=True)
    if group.match_all:
        # Q() | Q(pk__in=[...]) collapses to the right-hand side, so "everyone" is answered directly.
        return active.order_by("path")
    rule = Q(pk__in=[])
    if group.kinds or group.level or group.within_id:
        rule = Q()
        if group.kinds:
            rule &= Q(kind__in=group.kinds)
        if group.level:
            rule &= Q(level=group.level)
        if group.within is not None:
            rule &= Q(region__path__startswith=group.within.path)
    if extra_units is not None:
        extra = [u.pk for u in extra_units]
    elif group.pk is not None:
        extra = list(group.extra_units.values_list("pk", flat=True))
    else:
        extra = []
    return Unit.objects.filter(is_active=True).filter(rule | Q(pk__in=extra)).distinct().order_by("path")


def unit_staff(unit: Unit) -> QuerySet[User]:
    """Staff holding a post in the unit."""
    return User.objects.filter(post_assignments__post__unit=unit, is_active=True).distinct().order_by("name")


def address_book(*, query: str = "", region_path: str = "", kind: str = "") -> QuerySet[Unit]:
    qs = Unit.objects.filter(is_active=True).select_related("region", "parent")
    if query:
        qs = qs.filter(Q(name__icontains=query) | Q(short_name__icontains=query))
    if region_path:
        qs = qs.filter(region__path__startswith=region_path)
    if kind:
        qs = qs.filter(kind=kind)
    return qs.order_by("path")


# --- Unit workspace --------------------------------------------------------------------------------
def unit_overview(unit: Unit) -> dict[str, Any]:
    """A unit's departments, posts and people in four queries, whatever the size of the unit."""
    departments = list(Department.objects.filter(unit=unit).order_by("sort", "id"))
    posts = list(Post.objects.filter(unit=unit).order_by("sort", "id"))
    assignments = list(
        PostAssignment.objects.filter(post__unit=unit)
        .select_related("user")
        .order_by("post__sort", "post_id", "user__name")
    )
    roles: dict[int, list[str]] = {}
    for user_id, role in UnitRole.objects.filter(unit=unit).values_list("user_id", "role"):
        roles.setdefault(user_id, []).append(role)
    labels = dict(UnitRoleKind.choices)
    holders: dict[int, list[User]] = {}
    for a in assignments:
        holders.setdefault(a.post_id, []).append(a.user)
    for post in posts:
        post.holders = holders.get(post.pk, [])  # type: ignore[attr-defined]
    by_dept: dict[int | None, list[Post]] = {}
    for post in posts:
        by_dept.setdefault(post.department_id, []).append(post)
    for dept in departments:
        dept.unit_posts = by_dept.get(dept.pk, [])  # type: ignore[attr-defined]
    staff: dict[int, dict[str, Any]] = {}
    post_names = {p.pk: p.name for p in posts}
    for a in assignments:
        row = staff.setdefault(
            a.user_id,
            {
                "user": a.user,
                "posts": [],
                "roles": [labels.get(r, r) for r in sorted(roles.get(a.user_id, []))],
                "second_unit": a.user.primary_unit_id != unit.pk,
            },
        )
        row["posts"].append(post_names.get(a.post_id, ""))
    # People holding a role here without a post (e.g. a security-admin grant) are listed too.
    missing = set(roles) - set(staff)
    if missing:
        for user in User.objects.filter(pk__in=missing).order_by("name"):
            staff[user.pk] = {
                "user": user,
                "posts": [],
                "roles": [labels.get(r, r) for r in sorted(roles[user.pk])],
                "second_unit": user.primary_unit_id != unit.pk,
            }
    return {
        "departments": departments,
        "loose_posts": by_dept.get(None, []),
        "posts": posts,
        "staff": sorted(staff.values(), key=lambda r: (not r["user"].is_active, r["user"].name)),
    }


def staff_unit_roles(user: User, unit: Unit) -> list[str]:
    return sorted(UnitRole.objects.filter(user=user, unit=unit).values_list("role", flat=True))


def staff_assignments(user: User) -> QuerySet[PostAssignment]:
    return PostAssignment.objects.filter(user=user).select_related("post", "post__unit", "post__department")


def staff_all_roles(user: User) -> QuerySet[UnitRole]:
    return UnitRole.objects.filter(user=user).select_related("unit").order_by("unit__path", "role")


# --- Address book (通讯录) ---------------------------------------------------------------------------
def address_book_regions() -> list[dict[str, Any]]:
    """The region tree down to townships (villages are reached through their township), one query."""
    regions = list(
        Region.objects.filter(level__in=[RegionLevel.CITY, RegionLevel.COUNTY, RegionLevel.TOWNSHIP])
        .order_by("path")
        .values("id", "code", "name", "level", "parent_id")
    )
    nodes: dict[int, dict[str, Any]] = {r["id"]: {**r, "children": []} for r in regions}
    roots: list[dict[str, Any]] = []
    for r in regions:
        node = nodes[r["id"]]
        parent = nodes.get(r["parent_id"])
        (parent["children"] if parent else roots).append(node)
    return roots


def address_book_people(*, name: str, region_path: str = "", kind: str = "") -> QuerySet[PostAssignment]:
    """People by name, one row per post they hold, with the unit and department for the phone book."""
    qs = PostAssignment.objects.filter(
        user__is_active=True, user__kind=AccountKind.STAFF, post__unit__is_active=True
    ).filter(Q(user__name__icontains=name) | Q(user__username__iexact=name))
    if region_path:
        qs = qs.filter(post__unit__region__path__startswith=region_path)
    if kind:
        qs = qs.filter(post__unit__kind=kind)
    return qs.select_related("user", "post", "post__unit", "post__department").order_by(
        "user__name", "user_id", "post__unit__path"
    )


def unit_contacts(unit: Unit) -> QuerySet[PostAssignment]:
    """Who to call in a unit: each active person's post, department and office phone."""
    return (
        PostAssignment.objects.filter(post__unit=unit, user__is_active=True)
        .select_related("user", "post", "post__department")
        .order_by("post__department__sort", "post__department_id", "post__sort", "post_id", "user__name")
    )


def contact_rows(
    assignments: Iterable[PostAssignment], viewer_unit_ids: frozenset[int]
) -> list[dict[str, Any]]:
    """Rows for the address book: a mobile in full only for the viewer's own units' staff (脱敏)."""
    rows = []
    for a in assignments:
        user = a.user
        own = a.post.unit_id in viewer_unit_ids
        rows.append(
            {
                "user": user,
                "post": a.post,
                "unit": a.post.unit,
                "department": a.post.department,
                "office_phone": user.office_phone or (a.post.department.phone if a.post.department else ""),
                "mobile": (user.mobile if own else mask_phone(user.mobile)) if user.mobile else "",
                "mobile_masked": not own,
            }
        )
    return rows


# --- Platform administration ------------------------------------------------------------------------
def units_search(*, query: str = "", include_inactive: bool = True) -> QuerySet[Unit]:
    qs = Unit.objects.select_related("region", "parent")
    if not include_inactive:
        qs = qs.filter(is_active=True)
    if query:
        qs = qs.filter(Q(name__icontains=query) | Q(short_name__icontains=query) | Q(code__iexact=query))
    return qs.order_by("path")


def staff_accounts(*, query: str = "") -> QuerySet[User]:
    qs = User.objects.filter(kind=AccountKind.STAFF).select_related("primary_unit")
    if query:
        qs = qs.filter(Q(name__icontains=query) | Q(username__icontains=query))
    return qs.order_by("-platform_role", "name", "pk")


# --- The trail ------------------------------------------------------------------------------------
def audit_events_for(
    user: Any,
    *,
    person: str = "",
    actor_id: int | None = None,
    unit_name: str = "",
    unit_id: int | None = None,
    subunits: bool = False,
    action: str = "",
    object_type: str = "",
    object_id: str = "",
    since: dt.datetime | None = None,
    until: dt.datetime | None = None,
) -> QuerySet[AuditEvent]:
    """The trail as this reader may see it, filtered: the audit admin all of it, a supervisor the events
    of the units they watch (their unit and everything below it). Anyone else sees nothing."""
    qs = AuditEvent.objects.order_by("-seq")
    if access.is_audit_admin(user):
        pass
    elif access.can_view_audit(user):
        qs = qs.filter(unit_id__in=access.supervised_units(user).values("pk"))
    else:
        return qs.none()
    if person:
        qs = qs.filter(actor_label__icontains=person)
    if actor_id is not None:
        qs = qs.filter(actor_id=actor_id)
    if unit_name:
        qs = qs.filter(unit_label__icontains=unit_name)
    if unit_id is not None:
        if subunits:
            root = Unit.objects.filter(pk=unit_id).values_list("path", flat=True).first() or "\0"
            qs = qs.filter(unit_id__in=Unit.objects.filter(path__startswith=root).values("pk"))
        else:
            qs = qs.filter(unit_id=unit_id)
    if action:
        qs = qs.filter(action__startswith=action)
    if object_type:
        qs = qs.filter(object_type=object_type)
    if object_id:
        qs = qs.filter(object_id=object_id)
    if since is not None:
        qs = qs.filter(at__gte=since)
    if until is not None:
        qs = qs.filter(at__lt=until)
    return qs


def audit_event_for(user: Any, event_id: Any) -> AuditEvent:
    """One record, if this reader may see it; 404 otherwise (existing or not)."""
    from django.http import Http404
    from django.utils.translation import gettext as _

    try:
        return audit_events_for(user).get(pk=int(event_id))
    except (AuditEvent.DoesNotExist, TypeError, ValueError):
        raise Http404(_("记录不存在或无权访问")) from None


def audit_actions() -> list[str]:
    """Action names seen in the trail, for the filter's suggestions (a scan of the index: cached)."""
    from django.core.cache import cache

    def load() -> list[str]:
        return list(AuditEvent.objects.order_by("action").values_list("action", flat=True).distinct()[:300])

    return cache.get_or_set("zhengwu:audit:actions", load, 600) or []
