"""One access layer for the whole platform.

Rules: staff act only on their own unit's work and on what is addressed to them; unit admins manage their
own unit; platform system admins manage all. Three-way separation (三员分立): the audit admin reads the
trail and changes nothing; the system admin manages units and accounts but cannot open the trail; the
security admin grants roles and unlocks accounts.

Every `*_get_for_user` helper raises Http404 both when the object does not exist and when the user may
not see it, so a guessed id reveals nothing.
"""

from __future__ import annotations

from collections.abc import Callable
from functools import wraps
from typing import Any

from django.core.exceptions import PermissionDenied
from django.db.models import Q, QuerySet
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect
from django.utils.translation import gettext as _

from zhengwu.core.models import (
    AccountKind,
    Department,
    PlatformRole,
    Post,
    Unit,
    UnitRole,
    UnitRoleKind,
    User,
)


def is_staff_user(user: Any) -> bool:
    return bool(user and user.is_authenticated and user.kind == AccountKind.STAFF and user.is_active)


def is_system_admin(user: Any) -> bool:
    return is_staff_user(user) and user.platform_role == PlatformRole.SYSTEM_ADMIN


def is_security_admin(user: Any) -> bool:
    return is_staff_user(user) and user.platform_role == PlatformRole.SECURITY_ADMIN


def is_audit_admin(user: Any) -> bool:
    return is_staff_user(user) and user.platform_role == PlatformRole.AUDIT_ADMIN


def is_platform_admin(user: Any) -> bool:
    return is_staff_user(user) and bool(user.platform_role)


def user_unit_ids(user: Any) -> frozenset[int]:
    """Units a staff member belongs to: through a post or a role. Cached on the user object."""
    if not is_staff_user(user):
        return frozenset()
    cached = getattr(user, "_zw_unit_ids", None)
    if cached is None:
        from zhengwu.core.models import PostAssignment

        ids = set(PostAssignment.objects.filter(user=user).values_list("post__unit_id", flat=True))
        ids |= set(UnitRole.objects.filter(user=user).values_list("unit_id", flat=True))
        cached = frozenset(ids)
        user._zw_unit_ids = cached
    return cached


def user_roles(user: Any) -> dict[int, frozenset[str]]:
    """{unit_id: {role, ...}} for a staff member. Cached on the user object."""
    if not is_staff_user(user):
        return {}
    cached = getattr(user, "_zw_roles", None)
    if cached is None:
        roles: dict[int, set[str]] = {}
        for unit_id, role in UnitRole.objects.filter(user=user).values_list("unit_id", "role"):
            roles.setdefault(unit_id, set()).add(role)
        cached = {k: frozenset(v) for k, v in roles.items()}
        user._zw_roles = cached
    return cached


def forget_access_cache(user: Any) -> None:
    for attr in ("_zw_unit_ids", "_zw_roles"):
        if hasattr(user, attr):
            delattr(user, attr)


def has_unit_role(user: Any, unit: Unit | int, *roles: str) -> bool:
    unit_id = unit if isinstance(unit, int) else unit.pk
    held = user_roles(user).get(unit_id, frozenset())
    return bool(held & set(roles)) if roles else bool(held)


def units_with_role(user: Any, *roles: str) -> list[int]:
    return [unit_id for unit_id, held in user_roles(user).items() if held & set(roles)]


def can_manage_unit(user: Any, unit: Unit) -> bool:
    """Unit admins manage their own unit, the system admin every unit; the audit admin changes nothing."""
    if is_audit_admin(user):
        return False
    return is_system_admin(user) or has_unit_role(user, unit, UnitRoleKind.UNIT_ADMIN)


def can_grant_roles(user: Any, unit: Unit | int) -> bool:
    """Roles in a unit: its unit admins, or the security admin anywhere (三员分立: not the system admin)."""
    if is_audit_admin(user) or is_system_admin(user):
        return False
    return is_security_admin(user) or has_unit_role(user, unit, UnitRoleKind.UNIT_ADMIN)


def can_manage_account(user: Any, target: User) -> bool:
    """Edit, reset the password of, or deactivate a staff account.

    Accounts of platform administrators are managed only by the security admin (never their own), so the
    system admin cannot take over the auditor's account. Other accounts: the system admin, or a unit admin
    of the person's primary unit (a unit where the person only holds a second post cannot lock them out).
    """
    if not is_staff_user(user) or is_audit_admin(user) or target.kind != AccountKind.STAFF:
        return False
    if target.platform_role:
        return is_security_admin(user) and user.pk != target.pk
    if is_system_admin(user):
        return True
    return target.primary_unit_id is not None and has_unit_role(
        user, target.primary_unit_id, UnitRoleKind.UNIT_ADMIN
    )


def can_view_audit(user: Any) -> bool:
    """The trail: the audit admin (all of it) and supervisors (their subtree); never the system or
    security admin, whose own actions the trail exists to watch."""
    if is_audit_admin(user):
        return True
    if is_platform_admin(user):
        return False
    return bool(units_with_role(user, UnitRoleKind.SUPERVISOR))


def can_view_unit_work(user: Any, unit: Unit) -> bool:
    """Unit workspace (its documents, tasks, registers): its own staff and the platform system admin."""
    return is_system_admin(user) or unit.pk in user_unit_ids(user)


def supervised_units(user: Any) -> QuerySet[Unit]:
    """Units a supervisor watches: their own unit and every unit below it in the tree."""
    unit_ids = units_with_role(user, UnitRoleKind.SUPERVISOR)
    if not unit_ids:
        return Unit.objects.none()
    paths = Unit.objects.filter(pk__in=unit_ids).values_list("path", flat=True)
    cond = Q()
    for path in paths:
        cond |= Q(path__startswith=path)
    return Unit.objects.filter(cond)


def unit_get_for_user(user: Any, unit_id: Any, *, manage: bool = False) -> Unit:
    """The unit if the user may work in it (or manage it); 404 otherwise, existing or not."""
    try:
        unit = Unit.objects.select_related("region", "parent").get(pk=int(unit_id))
    except (Unit.DoesNotExist, TypeError, ValueError):
        raise Http404(_("单位不存在或无权访问")) from None
    allowed = can_manage_unit(user, unit) if manage else can_view_unit_work(user, unit)
    if not allowed:
        raise Http404(_("单位不存在或无权访问"))
    return unit


def department_get_for_unit(unit: Unit, department_id: Any) -> Department:
    """A department of this unit; 404 for another unit's department (a guessed id reveals nothing)."""
    try:
        return Department.objects.get(pk=int(department_id), unit=unit)
    except (Department.DoesNotExist, TypeError, ValueError):
        raise Http404(_("科室不存在或无权访问")) from None


def post_get_for_unit(unit: Unit, post_id: Any) -> Post:
    try:
        return Post.objects.select_related("department").get(pk=int(post_id), unit=unit)
    except (Post.DoesNotExist, TypeError, ValueError):
        raise Http404(_("岗位不存在或无权访问")) from None


def unit_member_get(unit: Unit, staff_id: Any) -> User:
    """A staff member holding a post or a role in this unit; 404 for anyone else."""
    try:
        pk = int(staff_id)
    except (TypeError, ValueError):
        raise Http404(_("人员不存在或无权访问")) from None
    member = (
        User.objects.filter(pk=pk, kind=AccountKind.STAFF)
        .filter(Q(post_assignments__post__unit=unit) | Q(unit_roles__unit=unit))
        .select_related("primary_unit")
        .first()
    )
    if member is None:
        raise Http404(_("人员不存在或无权访问"))
    return member


def staff_get_for_user(user: Any, staff_id: Any, *, manage: bool = False) -> User:
    """A staff account: readable by any staff (address book); manageable by a unit admin of one of its units."""
    try:
        target = User.objects.get(pk=int(staff_id), kind=AccountKind.STAFF)
    except (User.DoesNotExist, TypeError, ValueError):
        raise Http404(_("人员不存在或无权访问")) from None
    if not is_staff_user(user):
        raise Http404(_("人员不存在或无权访问"))
    if manage and not (is_system_admin(user) or is_security_admin(user)):
        target_units = user_unit_ids(target)
        if not any(has_unit_role(user, uid, UnitRoleKind.UNIT_ADMIN) for uid in target_units):
            raise Http404(_("人员不存在或无权访问"))
    return target


def staff_required(view: Callable[..., HttpResponse]) -> Callable[..., HttpResponse]:
    """Staff pages: anonymous users go to the staff sign-in; public accounts are refused."""

    @wraps(view)
    def wrapper(request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        if not request.user.is_authenticated:
            from django.contrib.auth.views import redirect_to_login

            return redirect_to_login(request.get_full_path())
        if not is_staff_user(request.user):
            raise PermissionDenied(_("此页面仅限工作人员使用"))
        return view(request, *args, **kwargs)

    return wrapper


def role_required(
    check: Callable[[Any], bool],
) -> Callable[[Callable[..., HttpResponse]], Callable[..., HttpResponse]]:
    def decorator(view: Callable[..., HttpResponse]) -> Callable[..., HttpResponse]:
        @staff_required
        @wraps(view)
        def wrapper(request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
            if not check(request.user):
                raise PermissionDenied(_("您没有执行此操作的权限"))
            return view(request, *args, **kwargs)

        return wrapper

    return decorator


def public_required(view: Callable[..., HttpResponse]) -> Callable[..., HttpResponse]:
    @wraps(view)
    def wrapper(request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        if not request.user.is_authenticated:
            return redirect("identity:public_login")
        return view(request, *args, **kwargs)

    return wrapper
