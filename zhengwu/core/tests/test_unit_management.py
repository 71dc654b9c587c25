"""A unit's own admin manages departments, posts, staff accounts and roles; every write is in the trail."""

from __future__ import annotations

from typing import Any

import pytest
from django.test import Client
from django.urls import reverse

from zhengwu.core.models import AuditEvent, Department, Post, PostAssignment, UnitRole, User

pytestmark = pytest.mark.django_db


def _last(action: str) -> AuditEvent:
    event = AuditEvent.objects.filter(action=action).order_by("-seq").first()
    assert event is not None, f"no {action} record"
    return event


def test_it_shows_the_unit_home_with_departments_posts_and_staff(cast: Any, client_for: Any) -> None:
    resp = client_for(cast.township_clerk).get(reverse("core:unit_detail", args=[cast.township_a1_gov.pk]))
    html = resp.content.decode()
    assert resp.status_code == 200
    assert "崆峒镇人民政府" in html and "办公室" in html
    assert "李文书" in html and "赵管理" in html
    assert "开设账号" not in html  # a clerk does not manage the unit


def test_it_offers_management_links_to_the_unit_admin(cast: Any, client_for: Any) -> None:
    resp = client_for(cast.township_admin).get(reverse("core:unit_detail", args=[cast.township_a1_gov.pk]))
    html = resp.content.decode()
    assert "开设账号" in html and "新建科室" in html and "安排人员到岗" in html


def test_it_creates_and_edits_a_department_with_before_and_after_in_the_trail(
    cast: Any, client_for: Any
) -> None:
    unit = cast.township_a1_gov
    c = client_for(cast.township_admin)
    resp = c.post(
        reverse("core:department_create", args=[unit.pk]), {"name": "综治办", "phone": "0933-8111111"}
    )
    assert resp.status_code == 302
    dept = Department.objects.get(unit=unit, name="综治办")
    created = _last("department.create")
    assert created.after["name"] == "综治办" and created.actor_id == cast.township_admin.pk

    resp = c.post(
        reverse("core:department_edit", args=[unit.pk, dept.pk]),
        {"name": "综治中心", "phone": "0933-8111112"},
    )
    assert resp.status_code == 302
    dept.refresh_from_db()
    assert dept.name == "综治中心"
    updated = _last("department.update")
    assert updated.before["name"] == "综治办" and updated.after["name"] == "综治中心"
    assert updated.unit_id == unit.pk


def test_it_refuses_a_duplicate_department_name_with_a_chinese_message(cast: Any, client_for: Any) -> None:
    unit = cast.township_a1_gov
    c = client_for(cast.township_admin)  # signing in writes its own record
    before = AuditEvent.objects.count()
    resp = c.post(reverse("core:department_create", args=[unit.pk]), {"name": "办公室"})
    assert resp.status_code == 400
    assert "本单位已有同名科室" in resp.content.decode()
    assert Department.objects.filter(unit=unit, name="办公室").count() == 1
    assert AuditEvent.objects.count() == before


def test_it_creates_and_edits_a_post_only_with_the_units_own_department(cast: Any, client_for: Any) -> None:
    unit = cast.township_a1_gov
    c = client_for(cast.township_admin)
    dept = Department.objects.get(unit=unit, name="办公室")
    foreign = Department.objects.get(unit=cast.county_b_gov, name="办公室")
    resp = c.post(reverse("core:post_create", args=[unit.pk]), {"name": "统计员", "department": foreign.pk})
    assert resp.status_code == 400
    assert not Post.objects.filter(name="统计员").exists()

    resp = c.post(reverse("core:post_create", args=[unit.pk]), {"name": "统计员", "department": dept.pk})
    assert resp.status_code == 302
    post = Post.objects.get(unit=unit, name="统计员")
    assert _last("post.create").after["department_id"] == dept.pk

    resp = c.post(
        reverse("core:post_edit", args=[unit.pk, post.pk]), {"name": "统计信息员", "department": ""}
    )
    assert resp.status_code == 302
    post.refresh_from_db()
    assert post.name == "统计信息员" and post.department_id is None
    event = _last("post.update")
    assert event.before["name"] == "统计员" and event.after["department_id"] is None


def _staff_form(post: Post, **extra: str) -> dict[str, Any]:
    data = {
        "username": "kt_new",
        "name": "钱新人",
        "post": post.pk,
        "office_phone": "0933-8222222",
        "mobile": "13912345678",
        "email": "qian@example.gov.cn",
        "password_mode": "generate",
    }
    data.update(extra)
    return data


def test_it_opens_an_account_with_a_generated_password_shown_once(cast: Any, client_for: Any) -> None:
    unit = cast.township_a1_gov
    post = Post.objects.filter(unit=unit).first()
    assert post is not None
    resp = client_for(cast.township_admin).post(
        reverse("core:staff_create", args=[unit.pk]), _staff_form(post, roles=["handler"])
    )
    assert resp.status_code == 200
    assert resp["Cache-Control"] == "no-store"
    password = resp.context["password"]
    assert "只显示这一次" in resp.content.decode() and password in resp.content.decode()
    user = User.objects.get(username="kt_new")
    assert user.check_password(password) and len(password) >= 12
    assert user.primary_unit_id == unit.pk
    assert PostAssignment.objects.filter(user=user, post=post).exists()
    assert UnitRole.objects.filter(user=user, unit=unit, role="handler").exists()

    created = _last("staff.create")
    assert created.after["mobile"] == "139****5678"  # personal data masked in the trail
    assert created.after["email"] == "q***@example.gov.cn"
    assert password not in str(created.after)
    assert "13912345678" not in str(AuditEvent.objects.values_list("after", flat=True))
    assert _last("permission.grant").after["role"] == "handler"

    # Shown once: the staff page never shows it again.
    page = client_for(cast.township_admin).get(reverse("core:staff_detail", args=[unit.pk, user.pk]))
    assert password not in page.content.decode()


def test_it_opens_an_account_with_a_password_set_by_the_admin(cast: Any, client_for: Any) -> None:
    unit = cast.township_a1_gov
    post = Post.objects.filter(unit=unit).first()
    assert post is not None
    data = _staff_form(
        post, password_mode="set", password1="Kt-Strong-Pass-2026", password2="Kt-Strong-Pass-2026"
    )
    resp = client_for(cast.township_admin).post(reverse("core:staff_create", args=[unit.pk]), data)
    assert resp.status_code == 302
    assert User.objects.get(username="kt_new").check_password("Kt-Strong-Pass-2026")


@pytest.mark.parametrize(
    ("extra", "message"),
    [
        ({"password_mode": "set", "password1": "short1A!", "password2": "short1A!"}, "至少需要 12"),
        ({"password_mode": "set", "password1": "woaini1314woaini", "password2": "woaini1314woaini"}, "三类"),
        (
            {"password_mode": "set", "password1": "Kt-Strong-Pass-2026", "password2": "Other-Pass-2026!"},
            "不一致",
        ),
        ({"mobile": "1391234"}, "手机号"),
        ({"username": "kt_clerk"}, "用户名已被使用"),
        ({"username": "bad name!"}, "用户名"),
        ({"name": ""}, "必填项"),
        ({"name": "长" * 65}, "不超过 64"),
    ],
)
def test_it_refuses_bad_account_input_and_writes_nothing(
    cast: Any, client_for: Any, extra: dict[str, str], message: str
) -> None:
    unit = cast.township_a1_gov
    post = Post.objects.filter(unit=unit).first()
    assert post is not None
    c = client_for(cast.township_admin)
    users, events = User.objects.count(), AuditEvent.objects.count()
    resp = c.post(reverse("core:staff_create", args=[unit.pk]), _staff_form(post, **extra))
    assert resp.status_code == 400
    assert message in resp.content.decode()
    assert User.objects.count() == users and AuditEvent.objects.count() == events


def test_it_edits_a_staff_member_with_masked_before_and_after(cast: Any, client_for: Any) -> None:
    unit, clerk = cast.township_a1_gov, cast.township_clerk
    resp = client_for(cast.township_admin).post(
        reverse("core:staff_edit", args=[unit.pk, clerk.pk]),
        {"name": "李文书", "office_phone": "0933-8333333", "mobile": "13700001111", "email": ""},
    )
    assert resp.status_code == 302
    clerk.refresh_from_db()
    assert clerk.mobile == "13700001111" and clerk.office_phone == "0933-8333333"
    event = _last("staff.update")
    assert event.before["mobile"] == "139****0001" and event.after["mobile"] == "137****1111"


def test_it_resets_a_password_and_signs_the_person_out(cast: Any, client_for: Any) -> None:
    unit, clerk = cast.township_a1_gov, cast.township_clerk
    clerk_client = client_for(clerk)
    assert clerk_client.get(reverse("workbench:home")).status_code == 200
    resp = client_for(cast.township_admin).post(
        reverse("core:staff_password", args=[unit.pk, clerk.pk]), {"password_mode": "generate"}
    )
    assert resp.status_code == 200
    clerk.refresh_from_db()
    assert clerk.check_password(resp.context["password"])
    assert _last("staff.password_reset").object_id == str(clerk.pk)
    # The old session is gone (sign-out everywhere).
    assert clerk_client.get(reverse("workbench:home")).status_code == 302


def test_it_refuses_a_weak_reset_password(cast: Any, client_for: Any) -> None:
    unit, clerk = cast.township_a1_gov, cast.township_clerk
    resp = client_for(cast.township_admin).post(
        reverse("core:staff_password", args=[unit.pk, clerk.pk]),
        {"password_mode": "set", "password1": "12345678", "password2": "12345678"},
    )
    assert resp.status_code == 400
    clerk.refresh_from_db()
    assert clerk.check_password(cast.password)


def test_it_assigns_a_person_of_another_unit_to_a_post(cast: Any, client_for: Any) -> None:
    """兼职: the county reviewer also holds a post in township A1; A1's admin arranges it."""
    unit, reviewer = cast.township_a1_gov, cast.county_reviewer
    post = Post.objects.create(unit=unit, name="驻镇指导员")
    c = client_for(cast.township_admin)
    assert client_for(reviewer).get(reverse("core:unit_detail", args=[unit.pk])).status_code == 404
    resp = c.post(reverse("core:post_assign", args=[unit.pk]), {"username": "kd_reviewer", "post": post.pk})
    assert resp.status_code == 302
    assert PostAssignment.objects.filter(user=reviewer, post=post).exists()
    assert _last("staff.assign_post").after["unit"] == unit.pk
    # Now the reviewer works in both units.
    assert client_for(reviewer).get(reverse("core:unit_detail", args=[unit.pk])).status_code == 200
    home = c.get(reverse("core:unit_detail", args=[unit.pk])).content.decode()
    assert "陈审核" in home and "兼职" in home
    # The second unit's admin may grant roles here but not edit the person's account.
    resp = c.post(
        reverse("core:staff_roles", args=[unit.pk, reviewer.pk]), {"op": "grant", "role": "reviewer"}
    )
    assert resp.status_code == 302
    assert UnitRole.objects.filter(user=reviewer, unit=unit, role="reviewer").exists()
    assert c.get(reverse("core:staff_edit", args=[unit.pk, reviewer.pk])).status_code == 403
    # Taking the post away also ends the roles held in that unit.
    resp = c.post(reverse("core:post_unassign", args=[unit.pk, post.pk, reviewer.pk]))
    assert resp.status_code == 302
    assert not PostAssignment.objects.filter(user=reviewer, post=post).exists()
    assert not UnitRole.objects.filter(user=reviewer, unit=unit).exists()
    assert UnitRole.objects.filter(user=reviewer, unit=cast.county_a_gov).exists()


def test_it_refuses_an_unknown_username_when_assigning(cast: Any, client_for: Any) -> None:
    unit = cast.township_a1_gov
    post = Post.objects.filter(unit=unit).first()
    assert post is not None
    resp = client_for(cast.township_admin).post(
        reverse("core:post_assign", args=[unit.pk]), {"username": "nobody", "post": post.pk}
    )
    assert resp.status_code == 400
    assert "没有找到该用户名的在职工作人员" in resp.content.decode()
    resp = client_for(cast.township_admin).post(
        reverse("core:post_assign", args=[unit.pk]), {"username": "citizen", "post": post.pk}
    )
    assert resp.status_code == 400


def test_it_refuses_removing_a_persons_only_post(cast: Any, client_for: Any) -> None:
    unit, clerk = cast.township_a1_gov, cast.township_clerk
    post = PostAssignment.objects.get(user=clerk).post
    resp = client_for(cast.township_admin).post(
        reverse("core:post_unassign", args=[unit.pk, post.pk, clerk.pk])
    )
    assert resp.status_code == 400
    assert "唯一的岗位" in resp.content.decode()
    assert PostAssignment.objects.filter(user=clerk).exists()


def test_it_grants_and_revokes_unit_roles_with_before_and_after(cast: Any, client_for: Any) -> None:
    unit, clerk = cast.township_a1_gov, cast.township_clerk
    c = client_for(cast.township_admin)
    resp = c.post(reverse("core:staff_roles", args=[unit.pk, clerk.pk]), {"op": "grant", "role": "reviewer"})
    assert resp.status_code == 302
    event = _last("permission.grant")
    assert event.before["roles"] == ["clerk", "handler"]
    assert event.after["roles"] == ["clerk", "handler", "reviewer"]
    resp = c.post(reverse("core:staff_roles", args=[unit.pk, clerk.pk]), {"op": "revoke", "role": "clerk"})
    assert resp.status_code == 302
    assert set(UnitRole.objects.filter(user=clerk, unit=unit).values_list("role", flat=True)) == {
        "handler",
        "reviewer",
    }
    assert _last("permission.revoke").after["roles"] == ["handler", "reviewer"]


@pytest.mark.parametrize(
    ("role", "who", "message"),
    [
        ("supervisor", "township_clerk", "监察员角色只能由安全保密管理员授予"),
        ("leader", "township_admin", "不能修改自己的角色"),
        ("nonsense", "township_clerk", "有效"),
    ],
)
def test_it_refuses_role_grants_outside_the_rules(
    cast: Any, client_for: Any, role: str, who: str, message: str
) -> None:
    unit, target = cast.township_a1_gov, getattr(cast, who)
    roles = UnitRole.objects.count()
    resp = client_for(cast.township_admin).post(
        reverse("core:staff_roles", args=[unit.pk, target.pk]), {"op": "grant", "role": role}
    )
    assert resp.status_code in (400, 403)
    assert message in resp.content.decode()
    assert UnitRole.objects.count() == roles


def test_it_lets_the_unit_admin_deactivate_their_staff_but_not_themself(cast: Any, client_for: Any) -> None:
    unit = cast.township_a1_gov
    c = client_for(cast.township_admin)
    resp = c.post(reverse("core:staff_active", args=[unit.pk, cast.township_clerk.pk]), {"active": "0"})
    assert resp.status_code == 302
    cast.township_clerk.refresh_from_db()
    assert not cast.township_clerk.is_active
    assert _last("staff.deactivate").before == {"is_active": True}
    resp = c.post(reverse("core:staff_active", args=[unit.pk, cast.township_admin.pk]), {"active": "0"})
    assert resp.status_code == 403


def test_it_lets_the_unit_admin_edit_contact_details_but_not_the_units_state(
    cast: Any, client_for: Any
) -> None:
    unit = cast.township_a1_gov
    c = client_for(cast.township_admin)
    resp = c.post(
        reverse("core:unit_edit", args=[unit.pk]),
        {
            "name": unit.name,
            "short_name": "崆峒镇",
            "phone": "0933-8444444",
            "address": "崆峒镇中街1号",
            "kind": "village",
        },
    )
    assert resp.status_code == 302
    unit.refresh_from_db()
    assert unit.phone == "0933-8444444" and unit.kind == "township"  # kind is the system admin's
    event = _last("unit.update")
    assert event.before["phone"] == "0933-8000000" and event.after["phone"] == "0933-8444444"


def test_it_lets_the_system_admin_manage_any_unit_but_not_grant_roles(cast: Any, client_for: Any) -> None:
    unit, clerk = cast.township_b1_gov, cast.county_b_clerk
    c: Client = client_for(cast.system_admin)
    assert c.get(reverse("core:unit_detail", args=[unit.pk])).status_code == 200
    resp = c.post(reverse("core:department_create", args=[unit.pk]), {"name": "党政办"})
    assert resp.status_code == 302
    resp = c.post(
        reverse("core:staff_roles", args=[cast.county_b_gov.pk, clerk.pk]), {"op": "grant", "role": "leader"}
    )
    assert resp.status_code == 403
    assert not UnitRole.objects.filter(user=clerk, role="leader").exists()
