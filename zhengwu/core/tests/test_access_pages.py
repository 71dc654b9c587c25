"""Negative cases for every page of units, people, platform administration and the trail.

Staff of one unit get 404 for anything of another unit, also by guessing ids; public accounts get 403 on
every staff page; anonymous users go to the staff sign-in; the audit admin changes nothing; the system
admin cannot open the trail.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
from django.urls import reverse

from zhengwu.core.audit import audit_record
from zhengwu.core.models import AuditEvent, Department, Post, UnitGroup, UnitRole, User

pytestmark = pytest.mark.django_db

Url = Callable[[Any], str]


def _b(cast: Any) -> dict[str, Any]:
    """Unit B (泾川县政府) and its department, post and clerk."""
    unit = cast.county_b_gov
    return {
        "unit": unit.pk,
        "dept": Department.objects.get(unit=unit).pk,
        "post": Post.objects.get(unit=unit).pk,
        "staff": cast.county_b_clerk.pk,
    }


def _a1(cast: Any) -> int:
    return int(cast.township_a1_gov.pk)


# Pages of unit B, as a member of unit A would try them.
OTHER_UNIT_PAGES: list[tuple[str, str, Url]] = [
    ("GET", "unit home", lambda c: reverse("core:unit_detail", args=[_b(c)["unit"]])),
    ("GET", "unit edit", lambda c: reverse("core:unit_edit", args=[_b(c)["unit"]])),
    ("POST", "unit edit", lambda c: reverse("core:unit_edit", args=[_b(c)["unit"]])),
    ("GET", "department new", lambda c: reverse("core:department_create", args=[_b(c)["unit"]])),
    ("POST", "department new", lambda c: reverse("core:department_create", args=[_b(c)["unit"]])),
    (
        "GET",
        "department edit",
        lambda c: reverse("core:department_edit", args=[_b(c)["unit"], _b(c)["dept"]]),
    ),
    (
        "POST",
        "department edit",
        lambda c: reverse("core:department_edit", args=[_b(c)["unit"], _b(c)["dept"]]),
    ),
    ("POST", "post new", lambda c: reverse("core:post_create", args=[_b(c)["unit"]])),
    ("POST", "post edit", lambda c: reverse("core:post_edit", args=[_b(c)["unit"], _b(c)["post"]])),
    ("POST", "post assign", lambda c: reverse("core:post_assign", args=[_b(c)["unit"]])),
    (
        "POST",
        "post unassign",
        lambda c: reverse("core:post_unassign", args=[_b(c)["unit"], _b(c)["post"], _b(c)["staff"]]),
    ),
    ("GET", "staff new", lambda c: reverse("core:staff_create", args=[_b(c)["unit"]])),
    ("POST", "staff new", lambda c: reverse("core:staff_create", args=[_b(c)["unit"]])),
    ("GET", "staff page", lambda c: reverse("core:staff_detail", args=[_b(c)["unit"], _b(c)["staff"]])),
    ("POST", "staff edit", lambda c: reverse("core:staff_edit", args=[_b(c)["unit"], _b(c)["staff"]])),
    (
        "POST",
        "staff password",
        lambda c: reverse("core:staff_password", args=[_b(c)["unit"], _b(c)["staff"]]),
    ),
    ("POST", "staff roles", lambda c: reverse("core:staff_roles", args=[_b(c)["unit"], _b(c)["staff"]])),
    ("POST", "staff active", lambda c: reverse("core:staff_active", args=[_b(c)["unit"], _b(c)["staff"]])),
]

# Unit A1's own management URLs carrying ids guessed from unit B.
GUESSED_IDS: list[tuple[str, str, Url]] = [
    ("GET", "B's department in A1", lambda c: reverse("core:department_edit", args=[_a1(c), _b(c)["dept"]])),
    ("POST", "B's department in A1", lambda c: reverse("core:department_edit", args=[_a1(c), _b(c)["dept"]])),
    ("GET", "B's post in A1", lambda c: reverse("core:post_edit", args=[_a1(c), _b(c)["post"]])),
    ("POST", "B's post in A1", lambda c: reverse("core:post_edit", args=[_a1(c), _b(c)["post"]])),
    (
        "GET",
        "B's post preselected",
        lambda c: reverse("core:post_assign", args=[_a1(c)]) + f"?post={_b(c)['post']}",
    ),
    ("GET", "B's staff in A1", lambda c: reverse("core:staff_detail", args=[_a1(c), _b(c)["staff"]])),
    ("GET", "B's staff edit in A1", lambda c: reverse("core:staff_edit", args=[_a1(c), _b(c)["staff"]])),
    ("POST", "B's staff edit in A1", lambda c: reverse("core:staff_edit", args=[_a1(c), _b(c)["staff"]])),
    ("POST", "B's staff password", lambda c: reverse("core:staff_password", args=[_a1(c), _b(c)["staff"]])),
    ("POST", "B's staff roles", lambda c: reverse("core:staff_roles", args=[_a1(c), _b(c)["staff"]])),
    ("POST", "B's staff active", lambda c: reverse("core:staff_active", args=[_a1(c), _b(c)["staff"]])),
    (
        "POST",
        "B's post and staff",
        lambda c: reverse("core:post_unassign", args=[_a1(c), _b(c)["post"], _b(c)["staff"]]),
    ),
    ("GET", "no such unit", lambda c: reverse("core:unit_detail", args=[999999])),
    ("GET", "no such staff", lambda c: reverse("core:staff_detail", args=[_a1(c), 999999])),
]

STAFF_FORM = {
    "name": "改名",
    "phone": "0933-1",
    "username": "hacker",
    "post": "1",
    "password_mode": "generate",
    "op": "grant",
    "role": "leader",
    "active": "0",
}


def _request(client: Any, method: str, url: str) -> Any:
    return client.post(url, STAFF_FORM) if method == "POST" else client.get(url)


def _assert_404_and_nothing_changed(c: Any, cast: Any, method: str, label: str, url: Url) -> None:
    names = list(User.objects.order_by("pk").values_list("name", "is_active", "password"))
    roles, depts, posts = (
        UnitRole.objects.count(),
        list(Department.objects.values_list("name")),
        Post.objects.count(),
    )
    resp = _request(c, method, url(cast))
    assert resp.status_code == 404, label
    assert list(User.objects.order_by("pk").values_list("name", "is_active", "password")) == names
    assert (UnitRole.objects.count(), list(Department.objects.values_list("name")), Post.objects.count()) == (
        roles,
        depts,
        posts,
    )


@pytest.mark.parametrize(("method", "label", "url"), OTHER_UNIT_PAGES)
@pytest.mark.parametrize("who", ["township_admin", "township_clerk", "county_reviewer", "outsider"])
def test_it_answers_404_for_every_page_of_another_unit(
    cast: Any, client_for: Any, who: str, method: str, label: str, url: Url
) -> None:
    _assert_404_and_nothing_changed(client_for(getattr(cast, who)), cast, method, label, url)


@pytest.mark.parametrize(("method", "label", "url"), GUESSED_IDS)
@pytest.mark.parametrize("who", ["township_admin", "system_admin"])
def test_it_answers_404_for_another_units_ids_guessed_into_management_urls(
    cast: Any, client_for: Any, who: str, method: str, label: str, url: Url
) -> None:
    """Even the system admin, who manages every unit, gets 404 for B's objects under A1's address."""
    _assert_404_and_nothing_changed(client_for(getattr(cast, who)), cast, method, label, url)


OWN_UNIT_MANAGEMENT: list[tuple[str, Url]] = [
    ("GET", lambda c: reverse("core:unit_edit", args=[_a1(c)])),
    ("POST", lambda c: reverse("core:department_create", args=[_a1(c)])),
    ("POST", lambda c: reverse("core:post_create", args=[_a1(c)])),
    ("GET", lambda c: reverse("core:staff_create", args=[_a1(c)])),
    ("POST", lambda c: reverse("core:staff_roles", args=[_a1(c), c.township_admin.pk])),
]


@pytest.mark.parametrize(("method", "url"), OWN_UNIT_MANAGEMENT)
def test_it_refuses_management_to_a_unit_member_who_is_not_its_admin(
    cast: Any, client_for: Any, method: str, url: Url
) -> None:
    c = client_for(cast.township_clerk)
    resp = _request(c, method, url(cast))
    assert resp.status_code == 403
    assert "只有本单位管理员" in resp.content.decode()


def _event(cast: Any) -> AuditEvent:
    return audit_record(action="test.event", object_type="test", object_id=1, unit=cast.township_a1_gov)


MANAGEMENT_POSTS: list[tuple[str, Url]] = [
    ("unit edit", lambda c: reverse("core:unit_edit", args=[_a1(c)])),
    ("department new", lambda c: reverse("core:department_create", args=[_a1(c)])),
    ("post new", lambda c: reverse("core:post_create", args=[_a1(c)])),
    ("post assign", lambda c: reverse("core:post_assign", args=[_a1(c)])),
    ("staff new", lambda c: reverse("core:staff_create", args=[_a1(c)])),
    ("staff edit", lambda c: reverse("core:staff_edit", args=[_a1(c), c.township_clerk.pk])),
    ("staff password", lambda c: reverse("core:staff_password", args=[_a1(c), c.township_clerk.pk])),
    ("staff roles", lambda c: reverse("core:staff_roles", args=[_a1(c), c.township_clerk.pk])),
    ("staff active", lambda c: reverse("core:staff_active", args=[_a1(c), c.township_clerk.pk])),
    ("unit create", lambda c: reverse("core:platform_unit_create")),
    ("unit deactivate", lambda c: reverse("core:platform_unit_active", args=[_a1(c)])),
    ("group create", lambda c: reverse("core:platform_group_create")),
    ("group edit", lambda c: reverse("core:platform_group_edit", args=[UnitGroup.objects.first().pk])),  # type: ignore[union-attr]
    ("group delete", lambda c: reverse("core:platform_group_delete", args=[UnitGroup.objects.first().pk])),  # type: ignore[union-attr]
    ("platform role", lambda c: reverse("core:platform_account_role", args=[c.township_clerk.pk])),
    ("unit role", lambda c: reverse("core:platform_account_unit_role", args=[c.township_clerk.pk])),
    ("account active", lambda c: reverse("core:platform_account_active", args=[c.township_clerk.pk])),
    ("account password", lambda c: reverse("core:platform_account_password", args=[c.township_clerk.pk])),
]


@pytest.mark.parametrize(("label", "url"), MANAGEMENT_POSTS)
def test_it_refuses_every_management_post_of_the_audit_admin(
    cast: Any, client_for: Any, label: str, url: Url
) -> None:
    """三员分立: the audit admin reads the trail and changes nothing, even holding a unit admin role."""
    UnitRole.objects.create(user=cast.audit_admin, unit=cast.township_a1_gov, role="unit_admin")
    c = client_for(cast.audit_admin)
    before = (UnitGroup.objects.count(), UnitRole.objects.count(), cast.township_clerk.is_active)
    resp = c.post(url(cast), STAFF_FORM | {"code": "x", "kinds": "township", "unit": "A1-GOV"})
    assert resp.status_code == 403, label
    cast.township_clerk.refresh_from_db()
    assert (UnitGroup.objects.count(), UnitRole.objects.count(), cast.township_clerk.is_active) == before


AUDIT_PAGES: list[tuple[str, Callable[[Any, AuditEvent], str]]] = [
    ("list", lambda c, e: reverse("core:audit_list")),
    ("filtered list", lambda c, e: reverse("core:audit_list") + "?action=test"),
    ("detail", lambda c, e: reverse("core:audit_detail", args=[e.pk])),
    ("export", lambda c, e: reverse("core:audit_export")),
]


@pytest.mark.parametrize(("label", "url"), AUDIT_PAGES)
@pytest.mark.parametrize("who", ["system_admin", "security_admin", "township_clerk", "township_admin"])
def test_it_keeps_the_trail_from_everyone_but_the_auditor_and_supervisors(
    cast: Any, client_for: Any, who: str, label: str, url: Callable[[Any, AuditEvent], str]
) -> None:
    event = _event(cast)
    c = client_for(getattr(cast, who))
    exports = AuditEvent.objects.filter(action="audit.export").count()
    resp = c.get(url(cast, event))
    assert resp.status_code == 403, label
    assert AuditEvent.objects.filter(action="audit.export").count() == exports


def test_it_keeps_the_trail_from_a_system_admin_even_with_a_supervisor_role(
    cast: Any, client_for: Any
) -> None:
    UnitRole.objects.create(user=cast.system_admin, unit=cast.city_gov, role="supervisor")
    resp = client_for(cast.system_admin).get(reverse("core:audit_list"))
    assert resp.status_code == 403


PLATFORM_PAGES: list[tuple[str, str, Url]] = [
    ("GET", "platform home", lambda c: reverse("core:platform_home")),
    ("GET", "units", lambda c: reverse("core:platform_units")),
    ("GET", "unit new", lambda c: reverse("core:platform_unit_create")),
    ("GET", "groups", lambda c: reverse("core:platform_groups")),
    ("GET", "group new", lambda c: reverse("core:platform_group_create")),
    ("GET", "accounts", lambda c: reverse("core:platform_accounts")),
    ("GET", "account", lambda c: reverse("core:platform_account", args=[c.township_clerk.pk])),
]


@pytest.mark.parametrize(("method", "label", "url"), PLATFORM_PAGES)
@pytest.mark.parametrize("who", ["township_admin", "township_clerk", "audit_admin", "supervisor"])
def test_it_keeps_platform_administration_from_staff_and_the_auditor(
    cast: Any, client_for: Any, who: str, method: str, label: str, url: Url
) -> None:
    resp = _request(client_for(getattr(cast, who)), method, url(cast))
    assert resp.status_code == 403, label


@pytest.mark.parametrize(
    "url",
    [
        lambda c: reverse("core:platform_units"),
        lambda c: reverse("core:platform_unit_create"),
        lambda c: reverse("core:platform_groups"),
    ],
)
def test_it_keeps_unit_administration_from_the_security_admin(cast: Any, client_for: Any, url: Url) -> None:
    assert client_for(cast.security_admin).get(url(cast)).status_code == 403


def _every_staff_page(cast: Any) -> list[tuple[str, str]]:
    event = _event(cast)
    urls: list[tuple[str, str]] = [
        ("GET", reverse("core:address_book")),
        ("GET", reverse("core:address_book_unit", args=[_a1(cast)])),
        ("GET", reverse("core:audit_list")),
        ("GET", reverse("core:audit_detail", args=[event.pk])),
        ("GET", reverse("core:audit_export")),
    ]
    urls += [(m, u(cast)) for m, _l, u in OTHER_UNIT_PAGES]
    urls += [("GET", reverse("core:unit_detail", args=[_a1(cast)]))]
    urls += [("POST", u(cast)) for _l, u in MANAGEMENT_POSTS]
    urls += [(m, u(cast)) for m, _l, u in PLATFORM_PAGES]
    return urls


@pytest.mark.parametrize("who", ["citizen", "enterprise"])
def test_it_refuses_every_staff_page_to_public_accounts(cast: Any, client_for: Any, who: str) -> None:
    c = client_for(getattr(cast, who))
    for method, url in _every_staff_page(cast):
        resp = _request(c, method, url)
        assert resp.status_code == 403, (method, url)


def test_it_sends_anonymous_users_to_the_staff_sign_in(cast: Any, client: Any) -> None:
    login = reverse("identity:login")
    for method, url in _every_staff_page(cast):
        resp = _request(client, method, url)
        assert resp.status_code == 302, (method, url)
        assert resp["Location"].startswith(login + "?next="), (method, url)


def test_it_hides_an_inactive_unit_from_the_address_book(cast: Any, client_for: Any) -> None:
    unit = cast.village_a1_committee
    unit.is_active = False
    unit.save(update_fields=["is_active"])
    resp = client_for(cast.township_clerk).get(reverse("core:address_book_unit", args=[unit.pk]))
    assert resp.status_code == 404
