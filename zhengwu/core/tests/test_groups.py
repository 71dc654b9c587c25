from __future__ import annotations

from typing import Any

from zhengwu.core.models import Unit
from zhengwu.core.selectors import unit_group_members


def test_it_puts_every_active_unit_in_the_everyone_group(cast: Any) -> None:
    members = set(unit_group_members(cast.groups["everyone"]))
    assert members == set(Unit.objects.filter(is_active=True))
    assert cast.village_a1_committee in members


def test_it_resolves_county_governments_and_townships_of_one_county(cast: Any) -> None:
    assert list(unit_group_members(cast.groups["county_governments"])) == [
        cast.county_a_gov,
        cast.county_b_gov,
    ]
    townships = set(unit_group_members(cast.groups["townships_of_a"]))
    assert townships == {cast.township_a1_gov, cast.township_a2_gov}


def test_it_adds_hand_listed_units_and_leaves_out_inactive_ones(cast: Any) -> None:
    group = cast.groups["county_governments"]
    group.extra_units.add(cast.city_info_office)
    cast.county_b_gov.is_active = False
    cast.county_b_gov.save(update_fields=["is_active"])
    assert set(unit_group_members(group)) == {cast.county_a_gov, cast.city_info_office}
