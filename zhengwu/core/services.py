"""Writes for units, people and roles. Each is one transaction that records itself in the trail."""

from __future__ import annotations

from typing import Any

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils.translation import gettext as _

from zhengwu.core import access
from zhengwu.core.audit import audit_record, snapshot
from zhengwu.core.models import (
    AccountKind,
    Department,
    PlatformRole,
    Post,
    PostAssignment,
    Region,
    Unit,
    UnitRole,
    UnitRoleKind,
    User,
)

UNIT_FIELDS = [
    "code",
    "name",
    "short_name",
    "kind",
    "region_id",
    "parent_id",
    "phone",
    "address",
    "receives_paper",
    "is_active",
]
STAFF_FIELDS = [
    "username",
    "name",
    "office_phone",
    "mobile",
    "email",
    "is_active",
    "platform_role",
    "primary_unit_id",
]


def _require(cond: bool, message: str) -> None:
    if not cond:
        raise PermissionError(message)


@transaction.atomic
def unit_create(
    *,
    actor: Any,
    code: str,
    name: str,
    kind: str,
    region: Region,
    parent: Unit | None = None,
    short_name: str = "",
    phone: str = "",
    sort: int = 0,
) -> Unit:
    _require(
        access.is_system_admin(actor) or (parent is not None and access.can_manage_unit(actor, parent)),
        _("只有平台系统管理员或上级单位管理员可以新建单位"),
    )
    unit = Unit(
        code=code,
        name=name,
        kind=kind,
        region=region,
        parent=parent,
        short_name=short_name,
        phone=phone,
        sort=sort,
    )
    unit.full_clean()
    unit.save()
    audit_record(action="unit.create", obj=unit, after=snapshot(unit, UNIT_FIELDS), actor=actor)
    return unit


@transaction.atomic
def unit_update(*, actor: Any, unit: Unit, **changes: Any) -> Unit:
    unit = Unit.objects.select_for_update().get(pk=unit.pk)
    _require(access.can_manage_unit(actor, unit), _("您不能管理该单位"))
    allowed = {"name", "short_name", "phone", "address", "receives_paper", "sort"}
    if access.is_system_admin(actor):
        allowed |= {"is_active", "kind"}
    unknown = set(changes) - allowed
    if unknown:
        raise ValidationError(_("不能修改这些字段：%(f)s") % {"f": ", ".join(sorted(unknown))})
    before = snapshot(unit, UNIT_FIELDS)
    for key, value in changes.items():
        setattr(unit, key, value)
    unit.full_clean()
    unit.save(update_fields=[*changes.keys()])
    audit_record(
        action="unit.update",
        obj=unit,
        before=before,
        after=snapshot(unit, UNIT_FIELDS),
        actor=actor,
        unit=unit,
    )
    return unit


@transaction.atomic
def department_create(*, actor: Any, unit: Unit, name: str, phone: str = "") -> Department:
    _require(access.can_manage_unit(actor, unit), _("您不能管理该单位"))
    dept = Department(unit=unit, name=name, phone=phone, sort=unit.departments.count() + 1)
    dept.full_clean()
    dept.save()
    audit_record(
        action="department.create", obj=dept, after={"unit": unit.pk, "name": name}, actor=actor, unit=unit
    )
    return dept


@transaction.atomic
def post_create(*, actor: Any, unit: Unit, name: str, department: Department | None = None) -> Post:
    _require(access.can_manage_unit(actor, unit), _("您不能管理该单位"))
    if department is not None and department.unit_id != unit.pk:
        raise ValidationError(_("科室不属于该单位"))
    post = Post.objects.create(unit=unit, department=department, name=name, sort=unit.posts.count() + 1)
    audit_record(
        action="post.create", obj=post, after={"unit": unit.pk, "name": name}, actor=actor, unit=unit
    )
    return post


@transaction.atomic
def staff_create(
    *,
    actor: Any,
    username: str,
    name: str,
    password: str,
    post: Post,
    mobile: str = "",
    email: str = "",
    office_phone: str = "",
    roles: list[str] | None = None,
) -> User:
    """Open a staff account in the post's unit (validated password policy), optionally with roles."""
    from django.contrib.auth.password_validation import validate_password

    _require(access.can_manage_unit(actor, post.unit), _("您不能管理该单位"))
    if User.objects.filter(username=username).exists():
        raise ValidationError({"username": _("用户名已被使用")})
    user = User(
        username=username,
        name=name,
        kind=AccountKind.STAFF,
        mobile=mobile,
        email=email,
        office_phone=office_phone,
        primary_unit=post.unit,
    )
    validate_password(password, user)
    user.set_password(password)
    user.full_clean(exclude=["password"])
    user.save()
    PostAssignment.objects.create(user=user, post=post, is_primary=True)
    audit_record(
        action="staff.create",
        obj=user,
        after=snapshot(user, STAFF_FIELDS) | {"post": post.pk},
        actor=actor,
        unit=post.unit,
    )
    for role in roles or []:
        unit_role_grant(actor=actor, user=user, unit=post.unit, role=role)
    return user


@transaction.atomic
def staff_assign_post(*, actor: Any, user: User, post: Post, is_primary: bool = False) -> PostAssignment:
    _require(access.can_manage_unit(actor, post.unit), _("您不能管理该单位"))
    if user.kind != AccountKind.STAFF:
        raise ValidationError(_("公众账号不能担任岗位"))
    assignment, created = PostAssignment.objects.get_or_create(
        user=user, post=post, defaults={"is_primary": is_primary}
    )
    if created:
        audit_record(
            action="staff.assign_post",
            obj=user,
            after={"post": post.pk, "unit": post.unit_id},
            actor=actor,
            unit=post.unit,
        )
    access.forget_access_cache(user)
    return assignment


@transaction.atomic
def unit_role_grant(*, actor: Any, user: User, unit: Unit, role: str) -> UnitRole:
    """Grant a role in a unit. Unit admins grant in their own unit; the security admin anywhere."""
    _require(
        access.is_security_admin(actor) or access.can_manage_unit(actor, unit), _("您不能在该单位授予角色")
    )
    if role not in UnitRoleKind.values:
        raise ValidationError(_("未知角色：%(r)s") % {"r": role})
    if user.kind != AccountKind.STAFF:
        raise ValidationError(_("公众账号不能被授予单位角色"))
    grant, created = UnitRole.objects.get_or_create(user=user, unit=unit, role=role)
    if created:
        audit_record(
            action="permission.grant", obj=user, after={"unit": unit.pk, "role": role}, actor=actor, unit=unit
        )
    access.forget_access_cache(user)
    return grant


@transaction.atomic
def unit_role_revoke(*, actor: Any, user: User, unit: Unit, role: str) -> None:
    _require(
        access.is_security_admin(actor) or access.can_manage_unit(actor, unit), _("您不能在该单位撤销角色")
    )
    deleted, _n = UnitRole.objects.filter(user=user, unit=unit, role=role).delete()
    if deleted:
        audit_record(
            action="permission.revoke",
            obj=user,
            before={"unit": unit.pk, "role": role},
            actor=actor,
            unit=unit,
        )
    access.forget_access_cache(user)


@transaction.atomic
def user_set_platform_role(*, actor: Any, user: User, role: str) -> User:
    """三员分立: only the security admin assigns platform roles, and never to themself."""
    _require(access.is_security_admin(actor), _("只有安全保密管理员可以设置平台管理角色"))
    _require(actor.pk != user.pk, _("不能修改自己的平台管理角色"))
    if role not in PlatformRole.values:
        raise ValidationError(_("未知角色：%(r)s") % {"r": role})
    user = User.objects.select_for_update().get(pk=user.pk)
    before = {"platform_role": user.platform_role}
    user.platform_role = role
    user.save(update_fields=["platform_role"])
    audit_record(
        action="permission.platform_role", obj=user, before=before, after={"platform_role": role}, actor=actor
    )
    return user


@transaction.atomic
def user_set_active(*, actor: Any, user: User, active: bool) -> User:
    _require(access.is_system_admin(actor) or access.is_security_admin(actor), _("您不能停用或启用账号"))
    user = User.objects.select_for_update().get(pk=user.pk)
    before = {"is_active": user.is_active}
    user.is_active = active
    user.save(update_fields=["is_active"])
    audit_record(
        action="staff.activate" if active else "staff.deactivate",
        obj=user,
        before=before,
        after={"is_active": active},
        actor=actor,
    )
    return user
