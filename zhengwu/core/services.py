"""Writes for units, people and roles. Each is one transaction that records itself in the trail."""

from __future__ import annotations

import secrets
import string
from collections.abc import Iterable
from dataclasses import dataclass
from typing import IO, Any

from django.conf import settings
from django.contrib.auth.password_validation import validate_password
from django.core.exceptions import ValidationError
from django.db import transaction
from django.db.models import QuerySet
from django.utils.translation import gettext as _

from zhengwu.core import access
from zhengwu.core.audit import audit_record, snapshot
from zhengwu.core.models import (
    AccountKind,
    AuditEvent,
    Department,
    PlatformRole,
    Post,
    PostAssignment,
    Region,
    Unit,
    UnitGroup,
    UnitRole,
    UnitRoleKind,
    User,
    _new_salt,
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
DEPARTMENT_FIELDS = ["unit_id", "name", "phone", "sort"]
POST_FIELDS = ["unit_id", "department_id", "name", "sort"]
GROUP_FIELDS = ["code", "name", "kinds", "level", "within_id", "match_all", "owner_id", "sort"]


def _require(cond: bool, message: str) -> None:
    if not cond:
        raise PermissionError(message)


def password_generate(length: int = 16) -> str:
    """An initial password that meets the policy (12+ characters, four character classes), shown once."""
    # No look-alikes (l/1/I, O/0) and no characters that HTML or a shell would mangle: it is read aloud.
    alphabet = "".join(c for c in string.ascii_letters + string.digits if c not in "lI1O0o") + "!@#$%*-_=+"
    while True:
        candidate = "".join(secrets.choice(alphabet) for _n in range(length))
        if (
            any(c.islower() for c in candidate)
            and any(c.isupper() for c in candidate)
            and any(c.isdigit() for c in candidate)
            and any(not c.isalnum() for c in candidate)
        ):
            return candidate


def _group_snapshot(group: UnitGroup) -> dict[str, Any]:
    return snapshot(group, GROUP_FIELDS) | {
        "extra_units": sorted(group.extra_units.values_list("pk", flat=True))
    }


def _unit_roles_of(user: User, unit: Unit) -> list[str]:
    return sorted(UnitRole.objects.filter(user=user, unit=unit).values_list("role", flat=True))


# --- Units ---------------------------------------------------------------------------------------
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
    address: str = "",
    receives_paper: bool = False,
    sort: int = 0,
) -> Unit:
    _require(
        access.is_system_admin(actor) or (parent is not None and access.can_manage_unit(actor, parent)),
        _("只有平台系统管理员或上级单位管理员可以新建单位"),
    )
    if Unit.objects.filter(code=code).exists():
        raise ValidationError({"code": _("单位代码已被使用")})
    if parent is not None and not parent.is_active:
        raise ValidationError({"parent": _("上级单位已停用")})
    unit = Unit(
        code=code,
        name=name,
        kind=kind,
        region=region,
        parent=parent,
        short_name=short_name,
        phone=phone,
        address=address,
        receives_paper=receives_paper,
        sort=sort,
    )
    unit.full_clean(exclude=["path", "level"])
    unit.save()
    audit_record(action="unit.create", obj=unit, after=snapshot(unit, UNIT_FIELDS), actor=actor, unit=unit)
    return unit


@transaction.atomic
def unit_update(*, actor: Any, unit: Unit, **changes: Any) -> Unit:
    """Edit a unit. Its own unit admins change contact details; the system admin also name, kind, state."""
    unit = Unit.objects.select_for_update().get(pk=unit.pk)
    _require(access.can_manage_unit(actor, unit), _("您不能管理该单位"))
    allowed = {"name", "short_name", "phone", "address", "receives_paper", "sort"}
    if access.is_system_admin(actor):
        allowed |= {"is_active", "kind"}
    unknown = set(changes) - allowed
    if unknown:
        raise ValidationError(_("不能修改这些字段：%(f)s") % {"f": ", ".join(sorted(unknown))})
    changes = {k: v for k, v in changes.items() if getattr(unit, k) != v}
    if not changes:
        return unit
    if changes.get("is_active") is False:
        _check_can_deactivate(unit)
    before = snapshot(unit, UNIT_FIELDS)
    for key, value in changes.items():
        setattr(unit, key, value)
    unit.full_clean(exclude=["path", "level"])
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


def _check_can_deactivate(unit: Unit) -> None:
    if unit.children.filter(is_active=True).exists():
        raise ValidationError(_("该单位还有启用中的下级单位，请先停用或调整下级单位"))


@transaction.atomic
def unit_set_active(*, actor: Any, unit: Unit, active: bool) -> Unit:
    """Deactivate (停用) or reactivate a unit: only the platform system admin."""
    _require(access.is_system_admin(actor), _("只有平台系统管理员可以停用或启用单位"))
    unit = Unit.objects.select_for_update().get(pk=unit.pk)
    if unit.is_active == active:
        return unit
    if not active:
        _check_can_deactivate(unit)
    elif unit.parent is not None and not unit.parent.is_active:
        raise ValidationError(_("上级单位已停用，请先启用上级单位"))
    before = snapshot(unit, UNIT_FIELDS)
    unit.is_active = active
    unit.save(update_fields=["is_active"])
    audit_record(
        action="unit.activate" if active else "unit.deactivate",
        obj=unit,
        before=before,
        after=snapshot(unit, UNIT_FIELDS),
        actor=actor,
        unit=unit,
    )
    return unit


# --- Departments and posts ------------------------------------------------------------------------
def _check_department_name(unit: Unit, name: str, exclude_pk: int | None = None) -> None:
    qs = Department.objects.filter(unit=unit, name=name)
    if exclude_pk is not None:
        qs = qs.exclude(pk=exclude_pk)
    if qs.exists():
        raise ValidationError({"name": _("本单位已有同名科室")})


@transaction.atomic
def department_create(
    *, actor: Any, unit: Unit, name: str, phone: str = "", sort: int | None = None
) -> Department:
    _require(access.can_manage_unit(actor, unit), _("您不能管理该单位"))
    _check_department_name(unit, name)
    dept = Department(
        unit=unit, name=name, phone=phone, sort=sort if sort is not None else unit.departments.count() + 1
    )
    dept.full_clean()
    dept.save()
    audit_record(
        action="department.create",
        obj=dept,
        after=snapshot(dept, DEPARTMENT_FIELDS),
        actor=actor,
        unit=unit,
    )
    return dept


@transaction.atomic
def department_update(
    *, actor: Any, department: Department, name: str, phone: str = "", sort: int | None = None
) -> Department:
    dept = Department.objects.select_for_update().select_related("unit").get(pk=department.pk)
    _require(access.can_manage_unit(actor, dept.unit), _("您不能管理该单位"))
    _check_department_name(dept.unit, name, exclude_pk=dept.pk)
    before = snapshot(dept, DEPARTMENT_FIELDS)
    dept.name, dept.phone = name, phone
    if sort is not None:
        dept.sort = sort
    dept.full_clean()
    dept.save(update_fields=["name", "phone", "sort"])
    audit_record(
        action="department.update",
        obj=dept,
        before=before,
        after=snapshot(dept, DEPARTMENT_FIELDS),
        actor=actor,
        unit=dept.unit,
    )
    return dept


@transaction.atomic
def post_create(
    *, actor: Any, unit: Unit, name: str, department: Department | None = None, sort: int | None = None
) -> Post:
    _require(access.can_manage_unit(actor, unit), _("您不能管理该单位"))
    if department is not None and department.unit_id != unit.pk:
        raise ValidationError({"department": _("科室不属于该单位")})
    post = Post(
        unit=unit,
        department=department,
        name=name,
        sort=sort if sort is not None else unit.posts.count() + 1,
    )
    post.full_clean()
    post.save()
    audit_record(action="post.create", obj=post, after=snapshot(post, POST_FIELDS), actor=actor, unit=unit)
    return post


@transaction.atomic
def post_update(
    *,
    actor: Any,
    post: Post,
    name: str,
    department: Department | None = None,
    sort: int | None = None,
) -> Post:
    post = Post.objects.select_for_update().select_related("unit").get(pk=post.pk)
    _require(access.can_manage_unit(actor, post.unit), _("您不能管理该单位"))
    if department is not None and department.unit_id != post.unit_id:
        raise ValidationError({"department": _("科室不属于该单位")})
    before = snapshot(post, POST_FIELDS)
    post.name, post.department = name, department
    if sort is not None:
        post.sort = sort
    post.full_clean()
    post.save(update_fields=["name", "department", "sort"])
    audit_record(
        action="post.update",
        obj=post,
        before=before,
        after=snapshot(post, POST_FIELDS),
        actor=actor,
        unit=post.unit,
    )
    return post


# --- Staff accounts -------------------------------------------------------------------------------
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
    _require(access.can_manage_unit(actor, post.unit), _("您不能管理该单位"))
    if User.objects.filter(username__iexact=username).exists():
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
    try:
        validate_password(password, user)
    except ValidationError as exc:
        raise ValidationError({"password": exc.messages}) from None
    user.set_password(password)
    user.full_clean(exclude=["password"])
    user.save()
    PostAssignment.objects.create(user=user, post=post, is_primary=True)
    audit_record(
        action="staff.create",
        obj=user,
        after=snapshot(user, STAFF_FIELDS) | {"post": post.pk, "post_name": post.name},
        actor=actor,
        unit=post.unit,
    )
    for role in roles or []:
        unit_role_grant(actor=actor, user=user, unit=post.unit, role=role)
    return user


@transaction.atomic
def staff_update(*, actor: Any, user: User, **changes: Any) -> User:
    """Edit a staff member's name and contact details (修改人员信息)."""
    user = User.objects.select_for_update().get(pk=user.pk)
    _require(access.can_manage_account(actor, user), _("您不能管理该账号"))
    allowed = {"name", "office_phone", "mobile", "email"}
    unknown = set(changes) - allowed
    if unknown:
        raise ValidationError(_("不能修改这些字段：%(f)s") % {"f": ", ".join(sorted(unknown))})
    changes = {k: v for k, v in changes.items() if getattr(user, k) != v}
    if not changes:
        return user
    before = snapshot(user, STAFF_FIELDS)
    for key, value in changes.items():
        setattr(user, key, value)
    user.full_clean(exclude=["password"])
    user.save(update_fields=[*changes.keys()])
    audit_record(
        action="staff.update", obj=user, before=before, after=snapshot(user, STAFF_FIELDS), actor=actor
    )
    return user


@transaction.atomic
def staff_set_password(*, actor: Any, user: User, password: str) -> User:
    """Set a new password for someone else (重置密码): policy-checked; signs them out everywhere."""
    user = User.objects.select_for_update().get(pk=user.pk)
    _require(access.can_manage_account(actor, user), _("您不能管理该账号"))
    _require(actor.pk != user.pk, _("请通过“修改密码”修改自己的密码"))
    try:
        validate_password(password, user)
    except ValidationError as exc:
        raise ValidationError({"password": exc.messages}) from None
    user.set_password(password)
    user.session_salt = _new_salt()
    # No date: an administrator knows this password, so it counts as never changed by its owner.
    user.password_changed_at = None
    user.save(update_fields=["password", "session_salt", "password_changed_at"])
    audit_record(action="staff.password_reset", obj=user, after={"by_admin": True}, actor=actor)
    return user


@transaction.atomic
def staff_assign_post(*, actor: Any, user: User, post: Post, is_primary: bool = False) -> PostAssignment:
    """Give a person a post, also in a second unit (兼职): the post's unit admin decides."""
    _require(access.can_manage_unit(actor, post.unit), _("您不能管理该单位"))
    if user.kind != AccountKind.STAFF:
        raise ValidationError(_("公众账号不能担任岗位"))
    if not user.is_active:
        raise ValidationError(_("该账号已停用"))
    assignment, created = PostAssignment.objects.get_or_create(
        user=user, post=post, defaults={"is_primary": is_primary}
    )
    if not created:
        raise ValidationError(_("该人员已担任此岗位"))
    audit_record(
        action="staff.assign_post",
        obj=user,
        after={"post": post.pk, "post_name": post.name, "unit": post.unit_id, "is_primary": is_primary},
        actor=actor,
        unit=post.unit,
    )
    access.forget_access_cache(user)
    return assignment


@transaction.atomic
def staff_unassign_post(*, actor: Any, user: User, post: Post) -> None:
    """Take a person off a post. Leaving the last post in a unit also ends their roles there."""
    _require(access.can_manage_unit(actor, post.unit), _("您不能管理该单位"))
    assignments = list(PostAssignment.objects.select_for_update().filter(user=user).select_related("post"))
    mine = [a for a in assignments if a.post_id == post.pk]
    if not mine:
        raise ValidationError(_("该人员未担任此岗位"))
    if len(assignments) == 1:
        raise ValidationError(_("这是该人员唯一的岗位，不能移除；如已离职，请停用账号"))
    mine[0].delete()
    audit_record(
        action="staff.unassign_post",
        obj=user,
        before={"post": post.pk, "post_name": post.name, "unit": post.unit_id},
        actor=actor,
        unit=post.unit,
    )
    if not any(a.post.unit_id == post.unit_id for a in assignments if a.post_id != post.pk):
        for role in _unit_roles_of(user, post.unit):
            UnitRole.objects.filter(user=user, unit=post.unit, role=role).delete()
            audit_record(
                action="permission.revoke",
                obj=user,
                before={"unit": post.unit_id, "role": role},
                after={"reason": "left_unit"},
                actor=actor,
                unit=post.unit,
            )
    access.forget_access_cache(user)


# --- Roles ----------------------------------------------------------------------------------------
@transaction.atomic
def unit_role_grant(*, actor: Any, user: User, unit: Unit, role: str) -> UnitRole:
    """Grant a role in a unit. Unit admins grant in their own unit to its staff; the security admin
    anywhere. Nobody grants to themself; only the security admin makes supervisors (监察员 read the trail)."""
    _require(access.can_grant_roles(actor, unit), _("您不能在该单位授予角色"))
    _require(actor.pk != user.pk, _("不能修改自己的角色"))
    if role not in UnitRoleKind.values:
        raise ValidationError(_("未知角色：%(r)s") % {"r": role})
    if role == UnitRoleKind.SUPERVISOR:
        _require(access.is_security_admin(actor), _("监察员角色只能由安全保密管理员授予"))
    if user.kind != AccountKind.STAFF:
        raise ValidationError(_("公众账号不能被授予单位角色"))
    if not user.is_active:
        raise ValidationError(_("该账号已停用"))
    if (
        not access.is_security_admin(actor)
        and not PostAssignment.objects.filter(user=user, post__unit=unit).exists()
    ):
        raise ValidationError(_("该人员在本单位没有岗位，请先为其安排岗位"))
    before = _unit_roles_of(user, unit)
    grant, created = UnitRole.objects.get_or_create(user=user, unit=unit, role=role)
    if created:
        audit_record(
            action="permission.grant",
            obj=user,
            before={"unit": unit.pk, "roles": before},
            after={"unit": unit.pk, "role": role, "roles": sorted([*before, role])},
            actor=actor,
            unit=unit,
        )
    access.forget_access_cache(user)
    return grant


@transaction.atomic
def unit_role_revoke(*, actor: Any, user: User, unit: Unit, role: str) -> None:
    _require(access.can_grant_roles(actor, unit), _("您不能在该单位撤销角色"))
    _require(actor.pk != user.pk, _("不能修改自己的角色"))
    if role == UnitRoleKind.SUPERVISOR:
        _require(access.is_security_admin(actor), _("监察员角色只能由安全保密管理员撤销"))
    before = _unit_roles_of(user, unit)
    deleted, _n = UnitRole.objects.filter(user=user, unit=unit, role=role).delete()
    if deleted:
        audit_record(
            action="permission.revoke",
            obj=user,
            before={"unit": unit.pk, "role": role, "roles": before},
            after={"unit": unit.pk, "roles": [r for r in before if r != role]},
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
    if user.kind != AccountKind.STAFF:
        raise ValidationError(_("公众账号不能担任平台管理角色"))
    if user.platform_role == role:
        return user
    before = {"platform_role": user.platform_role}
    user.platform_role = role
    user.save(update_fields=["platform_role"])
    audit_record(
        action="permission.platform_role", obj=user, before=before, after={"platform_role": role}, actor=actor
    )
    return user


@transaction.atomic
def user_set_active(*, actor: Any, user: User, active: bool) -> User:
    """Deactivate (停用) or reactivate an account; the security admin may also lock any staff account."""
    _require(
        access.can_manage_account(actor, user)
        or (access.is_security_admin(actor) and user.kind == AccountKind.STAFF),
        _("您不能停用或启用该账号"),
    )
    _require(actor.pk != user.pk, _("不能停用自己的账号"))
    user = User.objects.select_for_update().get(pk=user.pk)
    if user.is_active == active:
        return user
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


# --- Recipient groups ------------------------------------------------------------------------------
@transaction.atomic
def unit_group_create(
    *,
    actor: Any,
    code: str,
    name: str,
    kinds: list[str] | None = None,
    level: str = "",
    within: Region | None = None,
    match_all: bool = False,
    extra_units: Iterable[Unit] = (),
    sort: int = 0,
) -> UnitGroup:
    """A recipient group (单位分组) such as "all county governments"; platform system admin only."""
    _require(access.is_system_admin(actor), _("只有平台系统管理员可以管理单位分组"))
    if UnitGroup.objects.filter(code=code).exists():
        raise ValidationError({"code": _("分组代码已被使用")})
    group = UnitGroup(
        code=code,
        name=name,
        kinds=list(kinds or []),
        level=level,
        within=within,
        match_all=match_all,
        sort=sort,
    )
    group.full_clean()
    group.save()
    group.extra_units.set(list(extra_units))
    audit_record(action="unit_group.create", obj=group, after=_group_snapshot(group), actor=actor)
    return group


@transaction.atomic
def unit_group_update(
    *, actor: Any, group: UnitGroup, extra_units: Iterable[Unit] | None = None, **changes: Any
) -> UnitGroup:
    _require(access.is_system_admin(actor), _("只有平台系统管理员可以管理单位分组"))
    group = UnitGroup.objects.select_for_update().get(pk=group.pk)
    allowed = {"code", "name", "kinds", "level", "within", "match_all", "sort"}
    unknown = set(changes) - allowed
    if unknown:
        raise ValidationError(_("不能修改这些字段：%(f)s") % {"f": ", ".join(sorted(unknown))})
    if "code" in changes and UnitGroup.objects.filter(code=changes["code"]).exclude(pk=group.pk).exists():
        raise ValidationError({"code": _("分组代码已被使用")})
    before = _group_snapshot(group)
    for key, value in changes.items():
        setattr(group, key, value)
    group.full_clean()
    group.save()
    if extra_units is not None:
        group.extra_units.set(list(extra_units))
    after = _group_snapshot(group)
    if after != before:
        audit_record(action="unit_group.update", obj=group, before=before, after=after, actor=actor)
    return group


@transaction.atomic
def unit_group_delete(*, actor: Any, group: UnitGroup) -> None:
    _require(access.is_system_admin(actor), _("只有平台系统管理员可以管理单位分组"))
    group = UnitGroup.objects.select_for_update().get(pk=group.pk)
    before = _group_snapshot(group)
    pk, label = group.pk, str(group)
    group.delete()
    audit_record(
        action="unit_group.delete",
        object_type="core.unitgroup",
        object_id=pk,
        object_label=label,
        before=before,
        actor=actor,
    )


# --- The trail ------------------------------------------------------------------------------------
class ExportTooLarge(Exception):
    """The filtered list is longer than one export may be (AUDIT_EXPORT_MAX_ROWS)."""

    def __init__(self, count: int, cap: int) -> None:
        super().__init__(count, cap)
        self.count = count
        self.cap = cap


@dataclass
class ExportResult:
    file: IO[bytes]
    rows: int


def audit_export_cap() -> int:
    return int(getattr(settings, "AUDIT_EXPORT_MAX_ROWS", 50_000))


def audit_export(*, actor: Any, events: QuerySet[AuditEvent], filters: dict[str, Any]) -> ExportResult:
    """Export a filtered list of the trail to Excel (导出), and record the export itself in the trail."""
    from zhengwu.core.exports import audit_events_xlsx

    _require(access.can_view_audit(actor), _("您没有查看留痕记录的权限"))
    cap = audit_export_cap()
    count = events.count()
    if count > cap:
        raise ExportTooLarge(count, cap)
    # Written before the export's own record, so the file never contains a record of itself.
    file, rows = audit_events_xlsx(events, limit=cap)
    with transaction.atomic():
        audit_record(
            action="audit.export",
            object_type="core.auditevent",
            object_label=_("留痕记录导出"),
            after={"filter": filters, "rows": rows},
            actor=actor,
        )
    return ExportResult(file=file, rows=rows)
