"""Reads for units, people and groups."""

from __future__ import annotations

from django.db.models import Q, QuerySet

from zhengwu.core.models import Unit, UnitGroup, User


def unit_group_members(group: UnitGroup) -> QuerySet[Unit]:
    """The active units in a recipient group: those matching its rule plus those listed by hand."""
    rule = Q(pk__in=[])
    if group.match_all:
        rule = Q()
    elif group.kinds or group.level or group.within_id:
        rule = Q()
        if group.kinds:
            rule &= Q(kind__in=group.kinds)
        if group.level:
            rule &= Q(level=group.level)
        if group.within is not None:
            rule &= Q(region__path__startswith=group.within.path)
    extra = list(group.extra_units.values_list("pk", flat=True))
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
