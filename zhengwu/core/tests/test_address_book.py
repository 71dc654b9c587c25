"""通讯录: units by region, kind and name; a unit's departments and people; people by name; mobiles
masked except for one's own unit; a bounded number of queries at city scale."""

from __future__ import annotations

from typing import Any

import pytest
from django.urls import reverse

from zhengwu.core.models import AccountKind, Department, Post, PostAssignment, Unit, UnitKind, User

pytestmark = pytest.mark.django_db


def test_it_lists_units_and_filters_by_name_kind_and_region(cast: Any, client_for: Any) -> None:
    c = client_for(cast.township_clerk)
    html = c.get(reverse("core:address_book")).content.decode()
    assert "平凉市人民政府" in html and "城关镇人民政府" in html
    assert "崆峒区" in html and "泾川县" in html  # the region tree

    html = c.get(reverse("core:address_book"), {"q": "白水"}).content.decode()
    assert "白水镇人民政府" in html and "崆峒镇人民政府" not in html

    html = c.get(reverse("core:address_book"), {"kind": "township"}).content.decode()
    assert "崆峒镇人民政府" in html and "城关镇人民政府" in html and "平凉市监察局" not in html

    html = c.get(reverse("core:address_book"), {"region": "620802"}).content.decode()
    assert "崆峒区人民政府" in html and "崆峒村村民委员会" in html and "泾川县人民政府" not in html


def test_it_refuses_an_unknown_region_code_with_a_chinese_message(cast: Any, client_for: Any) -> None:
    resp = client_for(cast.township_clerk).get(reverse("core:address_book"), {"region": "12ab"})
    assert resp.status_code == 400
    assert "没有找到该区划代码" in resp.content.decode()


def test_it_shows_a_units_departments_and_people_with_masked_mobiles(cast: Any, client_for: Any) -> None:
    unit = cast.township_a1_gov
    Department.objects.filter(unit=unit, name="办公室").update(phone="0933-8666666")
    cast.township_admin.mobile = "13500002222"
    cast.township_admin.office_phone = "0933-8666601"
    cast.township_admin.save()

    outsider = client_for(cast.other_township_clerk).get(reverse("core:address_book_unit", args=[unit.pk]))
    html = outsider.content.decode()
    assert "办公室" in html and "0933-8666666" in html
    assert "赵管理" in html and "0933-8666601" in html
    assert "135****2222" in html and "13500002222" not in html
    assert "139****0001" in html and "13900000001" not in html

    own = (
        client_for(cast.township_clerk)
        .get(reverse("core:address_book_unit", args=[unit.pk]))
        .content.decode()
    )
    assert "13500002222" in own and "13900000001" in own  # a unit's own staff see each other's mobiles


def test_it_finds_people_by_name_across_units(cast: Any, client_for: Any) -> None:
    c = client_for(cast.other_township_clerk)
    html = c.get(reverse("core:address_book"), {"person": "文书"}).content.decode()
    for name in ("李文书", "王文书", "周文书"):
        assert name in html
    assert "刘市长" not in html
    assert "139****0001" in html and "13900000001" not in html  # 李文书 is of another unit

    html = c.get(reverse("core:address_book"), {"person": "文书", "region": "620821"}).content.decode()
    assert "周文书" in html and "李文书" not in html


def test_it_leaves_deactivated_people_out_of_the_address_book(cast: Any, client_for: Any) -> None:
    cast.township_clerk.is_active = False
    cast.township_clerk.save()
    c = client_for(cast.other_township_clerk)
    assert "李文书" not in c.get(reverse("core:address_book"), {"person": "李"}).content.decode()
    page = c.get(reverse("core:address_book_unit", args=[cast.township_a1_gov.pk])).content.decode()
    assert "李文书" not in page


@pytest.fixture
def city_scale(cast: Any) -> dict[str, Any]:
    """~900 units and ~3,000 staff under the cast's city, written in bulk."""
    parent = cast.county_a_gov
    units = [
        Unit(
            code=f"S-{i:04d}",
            name=f"测试单位{i:04d}",
            kind=UnitKind.VILLAGE if i % 3 else UnitKind.DEPARTMENT,
            region=cast.township_a1,
            parent=parent,
            path=f"{parent.path}S-{i:04d}/",
            level=cast.township_a1.level,
            phone=f"0933-{i:07d}",
        )
        for i in range(880)
    ]
    Unit.objects.bulk_create(units, batch_size=500)
    units = list(Unit.objects.filter(code__startswith="S-").order_by("code"))
    depts = Department.objects.bulk_create([Department(unit=u, name="办公室", phone="0933-1") for u in units])
    posts = Post.objects.bulk_create(
        [Post(unit=u, department=d, name="科员") for u, d in zip(units, depts, strict=True)]
    )
    users = User.objects.bulk_create(
        [
            User(
                username=f"s{i:05d}",
                name=f"测试人员{i:05d}",
                kind=AccountKind.STAFF,
                mobile=f"139{i:08d}",
                office_phone="0933-2",
                primary_unit=units[i % len(units)],
                password="!",
            )
            for i in range(3000)
        ],
        batch_size=500,
    )
    PostAssignment.objects.bulk_create(
        [PostAssignment(user=u, post=posts[i % len(posts)]) for i, u in enumerate(users)], batch_size=1000
    )
    big = units[0]
    big_post = posts[0]
    PostAssignment.objects.bulk_create(
        [PostAssignment(user=u, post=big_post) for u in users[1:120] if u.primary_unit_id != big.pk],
        ignore_conflicts=True,
    )
    return {"big": big}


# The page budget, the same for 9 units or 900: session, user, second-factor devices, the viewer's roles
# and units, the base layout's unit, then the page's own few queries. No query per row.
MAX_QUERIES = 12


def _warm(c: Any) -> Any:
    """One request first, so the once-a-minute session write of the idle timer is not counted."""
    c.get(reverse("workbench:home"))
    return c


def test_it_pages_the_unit_list_in_a_bounded_number_of_queries(
    cast: Any, client_for: Any, city_scale: dict[str, Any], django_assert_max_num_queries: Any
) -> None:
    c = _warm(client_for(cast.township_clerk))
    with django_assert_max_num_queries(MAX_QUERIES):
        resp = c.get(reverse("core:address_book"), {"page": "3"})
    assert resp.status_code == 200
    page = resp.context["page"]
    assert page.paginator.count >= 890 and len(page.object_list) == 50
    assert "第 3 / " in resp.content.decode()


def test_it_searches_3000_people_in_a_bounded_number_of_queries(
    cast: Any, client_for: Any, city_scale: dict[str, Any], django_assert_max_num_queries: Any
) -> None:
    c = _warm(client_for(cast.township_clerk))
    with django_assert_max_num_queries(MAX_QUERIES):
        resp = c.get(reverse("core:address_book"), {"person": "测试人员", "page": "2"})
    assert resp.status_code == 200
    assert resp.context["page"].paginator.count >= 3000
    assert len(resp.context["people"]) == 50
    assert "139****" in resp.content.decode()


def test_it_shows_a_large_unit_in_a_bounded_number_of_queries(
    cast: Any, client_for: Any, city_scale: dict[str, Any], django_assert_max_num_queries: Any
) -> None:
    c = _warm(client_for(cast.township_clerk))
    big = city_scale["big"]
    with django_assert_max_num_queries(MAX_QUERIES):
        resp = c.get(reverse("core:address_book_unit", args=[big.pk]))
    assert resp.status_code == 200
    assert len(resp.context["rows"]) == 100  # first page of a unit with more than 100 people


def test_it_shows_the_unit_workspace_in_a_bounded_number_of_queries(
    cast: Any, client_for: Any, city_scale: dict[str, Any], django_assert_max_num_queries: Any
) -> None:
    c = _warm(client_for(cast.system_admin))
    big = city_scale["big"]
    with django_assert_max_num_queries(MAX_QUERIES):
        resp = c.get(reverse("core:unit_detail", args=[big.pk]))
    assert resp.status_code == 200
    assert len(resp.context["staff"]) > 100
