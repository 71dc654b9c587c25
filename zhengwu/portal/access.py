"""Who may do what on the site cluster ("谁上网、谁负责": each unit answers for its own site).

Roles are the unit roles of the site's owning unit (zhengwu.core.access): a handler (承办人) edits, a
reviewer (审核人) reviews, a leader (领导) gives the optional second-level approval, a unit admin keeps
the column tree. The platform's system admin (信息化办) opens sites. Anyone else gets 404 — for an id
that exists and for one that does not.
"""

from __future__ import annotations

from typing import Any

from django.http import Http404
from django.utils.translation import gettext as _

from zhengwu.core import access
from zhengwu.core.models import UnitRoleKind
from zhengwu.portal.models import Column, Item, Placement, PlacementState, Site, SiteKind

EDITOR = UnitRoleKind.HANDLER
REVIEWER = UnitRoleKind.REVIEWER
SECOND_REVIEWER = UnitRoleKind.LEADER
SITE_ROLES = (UnitRoleKind.HANDLER, UnitRoleKind.REVIEWER, UnitRoleKind.LEADER, UnitRoleKind.UNIT_ADMIN)


def can_edit(user: Any, site: Site) -> bool:
    """Draft and change items: the unit's handlers and reviewers."""
    return access.has_unit_role(user, site.unit_id, EDITOR, REVIEWER)


def can_review(user: Any, site: Site) -> bool:
    return access.has_unit_role(user, site.unit_id, REVIEWER)


def can_second_review(user: Any, site: Site) -> bool:
    return access.has_unit_role(user, site.unit_id, SECOND_REVIEWER)


def can_manage_columns(user: Any, site: Site) -> bool:
    return access.is_system_admin(user) or access.has_unit_role(user, site.unit_id, UnitRoleKind.UNIT_ADMIN)


def can_open_sites(user: Any) -> bool:
    return access.is_system_admin(user)


def is_member(user: Any, site: Site) -> bool:
    return access.has_unit_role(user, site.unit_id, *SITE_ROLES)


def can_manage_words(user: Any) -> bool:
    """The sensitive-word list: the platform's system admin and the main site's reviewers."""
    if access.is_system_admin(user):
        return True
    main = Site.objects.filter(kind=SiteKind.MAIN).only("unit_id").first()
    return main is not None and access.has_unit_role(user, main.unit_id, REVIEWER, UnitRoleKind.UNIT_ADMIN)


def can_manage_scoring(user: Any) -> bool:
    """The monthly site scoring and its rules: the same keepers as the word list (信息化办)."""
    return can_manage_words(user)


def sites_for(user: Any) -> list[Site]:
    """Sites whose editor pages the user may open."""
    if not access.is_staff_user(user):
        return []
    qs = Site.objects.select_related("unit").order_by("sort", "id")
    if access.is_system_admin(user):
        return list(qs)
    units = [uid for uid, roles in access.user_roles(user).items() if roles & set(SITE_ROLES)]
    return list(qs.filter(unit_id__in=units))


def _int(value: Any) -> int:
    try:
        return int(value)
    except (TypeError, ValueError):
        raise Http404(_("不存在或无权访问")) from None


def site_get_for_user(user: Any, site_id: Any) -> Site:
    site = Site.objects.select_related("unit").filter(pk=_int(site_id)).first()
    if site is None or not (is_member(user, site) or access.is_system_admin(user)):
        raise Http404(_("网站不存在或无权访问"))
    return site


def item_get_for_user(user: Any, item_id: Any, *, edit: bool = False) -> Item:
    """An item its site's staff may open; a main-site reviewer may also read items pushed to them."""
    item = (
        Item.objects.select_related("site__unit", "column", "live_version").filter(pk=_int(item_id)).first()
    )
    if item is None:
        raise Http404(_("信息不存在或无权访问"))
    if is_member(user, item.site):
        return item
    if not edit:
        reviewing = Placement.objects.filter(item=item).exclude(site=item.site).select_related("site")
        if any(can_review(user, p.site) for p in reviewing):
            return item
    raise Http404(_("信息不存在或无权访问"))


def placement_get_for_review(user: Any, placement_id: Any) -> Placement:
    placement = (
        Placement.objects.select_related("item__site", "column", "site").filter(pk=_int(placement_id)).first()
    )
    if placement is None or not can_review(user, placement.site):
        raise Http404(_("报送记录不存在或无权访问"))
    return placement


def column_get_for_user(user: Any, column_id: Any) -> Column:
    column = Column.objects.select_related("site__unit").filter(pk=_int(column_id)).first()
    if column is None or not can_manage_columns(user, column.site):
        raise Http404(_("栏目不存在或无权访问"))
    return column


def pending_placements_for(user: Any) -> list[Placement]:
    sites = [s for s in sites_for(user) if can_review(user, s)]
    if not sites:
        return []
    return list(
        Placement.objects.filter(site__in=sites, state=PlacementState.PENDING)
        .select_related("item__site", "column", "requested_by")
        .order_by("requested_at")[:100]
    )
