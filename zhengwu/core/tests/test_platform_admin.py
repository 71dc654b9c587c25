"""Platform administration: the system admin manages units and recipient groups, the security admin
assigns platform and unit roles (三员分立), and every change is in the trail."""

from __future__ import annotations

from typing import Any

import pytest
from django.urls import reverse

from zhengwu.core.models import AuditEvent, PlatformRole, Unit, UnitGroup, UnitRole

pytestmark = pytest.mark.django_db


def _last(action: str) -> AuditEvent:
    event = AuditEvent.objects.filter(action=action).order_by("-seq").first()
    assert event is not None, f"no {action} record"
    return event


def _unit_form(**extra: str) -> dict[str, str]:
    data = {
        "code": "A1-V2",
        "name": "峡门村村民委员会",
        "short_name": "峡门村",
        "kind": "village",
        "region": "620802100201",
        "parent": "A1-GOV",
        "phone": "0933-8555555",
    }
    data.update(extra)
    return data


def test_it_lets_the_system_admin_create_a_unit(cast: Any, client_for: Any) -> None:
    c = client_for(cast.system_admin)
    assert "新建单位" in c.get(reverse("core:platform_units")).content.decode()
    resp = c.post(reverse("core:platform_unit_create"), _unit_form())
    assert resp.status_code == 302
    unit = Unit.objects.get(code="A1-V2")
    assert unit.parent_id == cast.township_a1_gov.pk and unit.level == "village"
    assert unit.path == cast.township_a1_gov.path + "A1-V2/"
    event = _last("unit.create")
    assert event.after["name"] == "峡门村村民委员会" and event.actor_id == cast.system_admin.pk


@pytest.mark.parametrize(
    ("extra", "message"),
    [
        ({"code": "A1-GOV"}, "单位代码已被使用"),
        ({"region": "999999"}, "没有找到该区划代码"),
        ({"parent": "NOPE"}, "没有找到单位代码"),
        ({"kind": "army"}, "选择一个有效的选项"),
        ({"code": "有空格 的代码"}, "代码只能包含"),
        ({"name": ""}, "必填项"),
    ],
)
def test_it_refuses_bad_unit_input_with_a_chinese_message(
    cast: Any, client_for: Any, extra: dict[str, str], message: str
) -> None:
    c = client_for(cast.system_admin)
    units = Unit.objects.count()
    resp = c.post(reverse("core:platform_unit_create"), _unit_form(**extra))
    assert resp.status_code == 400
    assert message in resp.content.decode()
    assert Unit.objects.count() == units


def test_it_lets_the_system_admin_edit_kind_and_deactivate_a_unit(cast: Any, client_for: Any) -> None:
    c = client_for(cast.system_admin)
    village = cast.village_a1_committee
    resp = c.post(
        reverse("core:unit_edit", args=[village.pk]),
        {"name": village.name, "short_name": "崆峒村", "kind": "department", "phone": "", "address": ""},
    )
    assert resp.status_code == 302
    village.refresh_from_db()
    assert village.kind == "department"

    resp = c.post(reverse("core:platform_unit_active", args=[village.pk]), {"active": "0"})
    assert resp.status_code == 302
    village.refresh_from_db()
    assert not village.is_active
    event = _last("unit.deactivate")
    assert event.before["is_active"] is True and event.after["is_active"] is False


def test_it_refuses_to_deactivate_a_unit_with_active_children(cast: Any, client_for: Any) -> None:
    c = client_for(cast.system_admin)
    resp = c.post(reverse("core:platform_unit_active", args=[cast.township_a1_gov.pk]), {"active": "0"})
    assert resp.status_code == 400
    assert "下级单位" in resp.content.decode()
    cast.township_a1_gov.refresh_from_db()
    assert cast.township_a1_gov.is_active


def test_it_previews_a_groups_members_before_saving(cast: Any, client_for: Any) -> None:
    c = client_for(cast.system_admin)
    data = {"code": "townships-b", "name": "泾川县各乡镇", "kinds": ["township"], "within": "620821"}
    resp = c.post(reverse("core:platform_group_create"), data | {"preview": "1"})
    assert resp.status_code == 200
    html = resp.content.decode()
    assert "城关镇人民政府" in html and "崆峒镇人民政府" not in html
    assert "共 1 个单位" in html
    assert not UnitGroup.objects.filter(code="townships-b").exists()

    resp = c.post(reverse("core:platform_group_create"), data | {"save": "1", "extra_units": "A1-GOV"})
    assert resp.status_code == 302
    group = UnitGroup.objects.get(code="townships-b")
    assert set(group.extra_units.values_list("code", flat=True)) == {"A1-GOV"}
    assert _last("unit_group.create").after["extra_units"] == [cast.township_a1_gov.pk]

    page = c.get(reverse("core:platform_group_edit", args=[group.pk])).content.decode()
    assert "共 2 个单位" in page and "崆峒镇人民政府" in page


def test_it_edits_and_deletes_a_group_in_the_trail(cast: Any, client_for: Any) -> None:
    c = client_for(cast.system_admin)
    group = cast.groups["county_governments"]
    resp = c.post(
        reverse("core:platform_group_edit", args=[group.pk]),
        {"code": group.code, "name": "各县区人民政府", "kinds": ["government"], "level": "county"},
    )
    assert resp.status_code == 302
    event = _last("unit_group.update")
    assert event.before["name"] == "各县区政府" and event.after["name"] == "各县区人民政府"
    resp = c.post(reverse("core:platform_group_delete", args=[group.pk]))
    assert resp.status_code == 302
    assert not UnitGroup.objects.filter(pk=group.pk).exists()
    assert _last("unit_group.delete").before["code"] == "county-governments"


@pytest.mark.parametrize(
    ("data", "message"),
    [
        ({"code": "x", "name": "空条件"}, "请至少设置一个条件"),
        ({"code": "x", "name": "坏代码", "extra_units": "A1-GOV NOPE-1"}, "NOPE-1"),
        ({"code": "x", "name": "坏区划", "within": "000"}, "没有找到该区划代码"),
        ({"code": "everyone", "name": "重复", "match_all": "on"}, "分组代码已被使用"),
    ],
)
def test_it_refuses_bad_group_input(cast: Any, client_for: Any, data: dict[str, str], message: str) -> None:
    c = client_for(cast.system_admin)
    groups = UnitGroup.objects.count()
    resp = c.post(reverse("core:platform_group_create"), data | {"save": "1"})
    assert resp.status_code == 400
    assert message in resp.content.decode()
    assert UnitGroup.objects.count() == groups


def test_it_lets_only_the_security_admin_assign_platform_roles(cast: Any, client_for: Any) -> None:
    url = reverse("core:platform_account_role", args=[cast.city_clerk.pk])
    assert client_for(cast.system_admin).post(url, {"role": "audit_admin"}).status_code == 403
    cast.city_clerk.refresh_from_db()
    assert cast.city_clerk.platform_role == ""

    resp = client_for(cast.security_admin).post(url, {"role": "audit_admin"})
    assert resp.status_code == 302
    cast.city_clerk.refresh_from_db()
    assert cast.city_clerk.platform_role == PlatformRole.AUDIT_ADMIN
    event = _last("permission.platform_role")
    assert event.before == {"platform_role": ""} and event.after == {"platform_role": "audit_admin"}
    assert event.actor_id == cast.security_admin.pk


def test_it_never_lets_the_security_admin_change_their_own_role(cast: Any, client_for: Any) -> None:
    c = client_for(cast.security_admin)
    own = reverse("core:platform_account", args=[cast.security_admin.pk])
    assert "平台管理角色</h2>" not in c.get(own).content.decode()
    resp = c.post(
        reverse("core:platform_account_role", args=[cast.security_admin.pk]), {"role": "system_admin"}
    )
    assert resp.status_code == 403
    assert "不能修改自己的平台管理角色" in resp.content.decode()
    cast.security_admin.refresh_from_db()
    assert cast.security_admin.platform_role == PlatformRole.SECURITY_ADMIN


def test_it_lets_the_security_admin_grant_unit_roles_anywhere(cast: Any, client_for: Any) -> None:
    c = client_for(cast.security_admin)
    url = reverse("core:platform_account_unit_role", args=[cast.outsider.pk])
    resp = c.post(url, {"op": "grant", "unit": "A-GOV", "role": "supervisor"})
    assert resp.status_code == 302
    assert UnitRole.objects.filter(user=cast.outsider, unit=cast.county_a_gov, role="supervisor").exists()
    assert _last("permission.grant").unit_id == cast.county_a_gov.pk
    resp = c.post(url, {"op": "revoke", "unit": "A-GOV", "role": "supervisor"})
    assert resp.status_code == 302
    assert not UnitRole.objects.filter(user=cast.outsider, unit=cast.county_a_gov).exists()


def test_it_refuses_a_unit_role_for_an_unknown_unit_code(cast: Any, client_for: Any) -> None:
    c = client_for(cast.security_admin)
    roles = UnitRole.objects.count()
    resp = c.post(
        reverse("core:platform_account_unit_role", args=[cast.outsider.pk]),
        {"op": "grant", "unit": "NOPE", "role": "leader"},
    )
    assert resp.status_code == 400
    assert "没有找到单位代码 NOPE" in resp.content.decode()
    assert UnitRole.objects.count() == roles


def test_it_keeps_the_system_admin_from_taking_over_the_auditors_account(cast: Any, client_for: Any) -> None:
    """Accounts of platform administrators are managed only by the security admin."""
    c = client_for(cast.system_admin)
    resp = c.post(
        reverse("core:platform_account_password", args=[cast.audit_admin.pk]), {"password_mode": "generate"}
    )
    assert resp.status_code == 403
    resp = c.post(reverse("core:platform_account_active", args=[cast.audit_admin.pk]), {"active": "0"})
    assert resp.status_code == 403
    cast.audit_admin.refresh_from_db()
    assert cast.audit_admin.is_active and cast.audit_admin.check_password(cast.password)

    resp = client_for(cast.security_admin).post(
        reverse("core:platform_account_password", args=[cast.audit_admin.pk]), {"password_mode": "generate"}
    )
    assert resp.status_code == 200
    cast.audit_admin.refresh_from_db()
    assert cast.audit_admin.check_password(resp.context["password"])


def test_it_lists_and_searches_staff_accounts_for_platform_admins(cast: Any, client_for: Any) -> None:
    resp = client_for(cast.security_admin).get(reverse("core:platform_accounts"), {"q": "文书"})
    html = resp.content.decode()
    assert resp.status_code == 200
    assert "李文书" in html and "王文书" in html and "刘市长" not in html
    assert "张三" not in html  # public accounts are not staff accounts
