"""Pages for units and people, platform administration, the address book and the trail.

Each view parses its input, checks access through zhengwu.core.access, calls one service or selector and
renders. Services raise PermissionError (→ 403) or ValidationError (→ the form's message, status 400).
"""

from __future__ import annotations

from collections.abc import Callable
from functools import wraps
from typing import Any

from django import forms as djforms
from django.contrib import messages
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.paginator import Paginator
from django.http import FileResponse, Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from zhengwu.core import access, selectors, services
from zhengwu.core.access import staff_required
from zhengwu.core.audit import compute_digest
from zhengwu.core.exports import mask_personal
from zhengwu.core.forms import (
    ActiveForm,
    AddressBookForm,
    AssignPostForm,
    AuditFilterForm,
    DepartmentForm,
    PasswordResetForm,
    PlatformRoleForm,
    PostForm,
    RoleChangeForm,
    SearchForm,
    StaffCreateForm,
    StaffEditForm,
    UnitCreateForm,
    UnitEditForm,
    UnitGroupForm,
    UnitRoleGrantForm,
)
from zhengwu.core.models import PlatformRole, Unit, UnitGroup, UnitKind, UnitRoleKind, User

PAGE_SIZE = 50


# --- Helpers -----------------------------------------------------------------------------------------
def _add_errors(form: djforms.Form, exc: ValidationError) -> None:
    aliases = {"password": "password1"}
    if hasattr(exc, "error_dict"):
        for field, errors in exc.error_dict.items():
            field = aliases.get(field, field) if field not in form.fields else field
            target = field if field in form.fields else None
            for error in errors:
                form.add_error(target, error)
    else:
        form.add_error(None, exc)


def _call(form: djforms.Form, fn: Callable[..., Any], **kwargs: Any) -> tuple[bool, Any]:
    """Run a service: a refusal becomes 403, a validation error lands on the form."""
    try:
        return True, fn(**kwargs)
    except PermissionError as exc:
        raise PermissionDenied(str(exc)) from exc
    except ValidationError as exc:
        _add_errors(form, exc)
        return False, None


def _status(request: HttpRequest) -> int:
    """A form shown again after a POST carries mistakes: 400, so nothing mistakes it for success."""
    return 400 if request.method == "POST" else 200


def _page(request: HttpRequest, qs: Any, size: int = PAGE_SIZE) -> Any:
    return Paginator(qs, size).get_page(request.GET.get("page"))


def _no_store(response: Any) -> Any:
    response["Cache-Control"] = "no-store"
    return response


def _unit_manage(view: Callable[..., HttpResponse]) -> Callable[..., HttpResponse]:
    """Management pages of one unit: its admins and the system admin. Another unit's staff get 404 (as
    for any page of that unit); the unit's other staff 403; the audit admin 403 (三员分立: reads only)."""

    @staff_required
    @wraps(view)
    def wrapper(request: HttpRequest, unit_id: int, *args: Any, **kwargs: Any) -> HttpResponse:
        if access.is_audit_admin(request.user):
            raise PermissionDenied(_("安全审计员只能查看留痕记录，不能修改数据"))
        unit = access.unit_get_for_user(request.user, unit_id)
        if not access.can_manage_unit(request.user, unit):
            raise PermissionDenied(_("只有本单位管理员可以进行此操作"))
        return view(request, unit, *args, **kwargs)

    return wrapper


def _platform(
    check: Callable[[Any], bool],
) -> Callable[[Callable[..., HttpResponse]], Callable[..., HttpResponse]]:
    return access.role_required(check)


def _sys_or_sec(user: Any) -> bool:
    return access.is_system_admin(user) or access.is_security_admin(user)


def _form_page(
    request: HttpRequest,
    form: djforms.Form,
    *,
    title: str,
    back: str,
    submit: str = "",
    unit: Unit | None = None,
    extra: dict[str, Any] | None = None,
    template: str = "core/form.html",
) -> HttpResponse:
    context = {"form": form, "title": title, "back": back, "submit": submit or _("保存"), "unit": unit}
    return render(request, template, context | (extra or {}), status=_status(request))


def _grantable_roles(user: Any, unit: Unit) -> list[tuple[str, Any]]:
    if not access.can_grant_roles(user, unit):
        return []
    return [
        (v, label)
        for v, label in UnitRoleKind.choices
        if v != UnitRoleKind.SUPERVISOR or access.is_security_admin(user)
    ]


# --- Unit workspace ----------------------------------------------------------------------------------
@staff_required
def unit_detail(request: HttpRequest, unit_id: int) -> HttpResponse:
    """本单位: departments, posts and people. Only its staff (and the platform system admin) may open it."""
    unit = access.unit_get_for_user(request.user, unit_id)
    context = selectors.unit_overview(unit)
    context |= {"unit": unit, "can_manage": access.can_manage_unit(request.user, unit)}
    return render(request, "core/unit_detail.html", context)


@_unit_manage
def unit_edit(request: HttpRequest, unit: Unit) -> HttpResponse:
    full = access.is_system_admin(request.user)
    initial = {f: getattr(unit, f) for f in UnitEditForm(full=True).fields}
    form = UnitEditForm(request.POST or None, initial=initial, full=full)
    if request.method == "POST" and form.is_valid():
        ok, _r = _call(form, services.unit_update, actor=request.user, unit=unit, **form.changes())
        if ok:
            messages.success(request, _("单位信息已保存"))
            return redirect("core:unit_detail", unit.pk)
    return _form_page(
        request, form, title=_("编辑单位信息"), back=reverse("core:unit_detail", args=[unit.pk]), unit=unit
    )


@_unit_manage
def department_create(request: HttpRequest, unit: Unit) -> HttpResponse:
    form = DepartmentForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        ok, _r = _call(form, services.department_create, actor=request.user, unit=unit, **form.cleaned_data)
        if ok:
            messages.success(request, _("科室已新建"))
            return redirect("core:unit_detail", unit.pk)
    return _form_page(
        request, form, title=_("新建科室"), back=reverse("core:unit_detail", args=[unit.pk]), unit=unit
    )


@_unit_manage
def department_edit(request: HttpRequest, unit: Unit, department_id: int) -> HttpResponse:
    dept = access.department_get_for_unit(unit, department_id)
    form = DepartmentForm(
        request.POST or None, initial={"name": dept.name, "phone": dept.phone, "sort": dept.sort}
    )
    if request.method == "POST" and form.is_valid():
        ok, _r = _call(
            form, services.department_update, actor=request.user, department=dept, **form.cleaned_data
        )
        if ok:
            messages.success(request, _("科室已保存"))
            return redirect("core:unit_detail", unit.pk)
    return _form_page(
        request, form, title=_("编辑科室"), back=reverse("core:unit_detail", args=[unit.pk]), unit=unit
    )


@_unit_manage
def post_create(request: HttpRequest, unit: Unit) -> HttpResponse:
    form = PostForm(request.POST or None, unit=unit)
    if request.method == "POST" and form.is_valid():
        ok, _r = _call(form, services.post_create, actor=request.user, unit=unit, **form.cleaned_data)
        if ok:
            messages.success(request, _("岗位已新建"))
            return redirect("core:unit_detail", unit.pk)
    return _form_page(
        request, form, title=_("新建岗位"), back=reverse("core:unit_detail", args=[unit.pk]), unit=unit
    )


@_unit_manage
def post_edit(request: HttpRequest, unit: Unit, post_id: int) -> HttpResponse:
    post = access.post_get_for_unit(unit, post_id)
    form = PostForm(
        request.POST or None,
        unit=unit,
        initial={"name": post.name, "department": post.department_id, "sort": post.sort},
    )
    if request.method == "POST" and form.is_valid():
        ok, _r = _call(form, services.post_update, actor=request.user, post=post, **form.cleaned_data)
        if ok:
            messages.success(request, _("岗位已保存"))
            return redirect("core:unit_detail", unit.pk)
    return _form_page(
        request, form, title=_("编辑岗位"), back=reverse("core:unit_detail", args=[unit.pk]), unit=unit
    )


@_unit_manage
def post_assign(request: HttpRequest, unit: Unit) -> HttpResponse:
    """安排岗位: give a post of this unit to a person, also one from another unit (兼职)."""
    initial = {}
    if request.GET.get("post"):
        initial["post"] = access.post_get_for_unit(unit, request.GET["post"]).pk
    form = AssignPostForm(request.POST or None, unit=unit, initial=initial)
    if request.method == "POST" and form.is_valid():
        person = form.cleaned_data["username"]
        ok, _r = _call(
            form, services.staff_assign_post, actor=request.user, user=person, post=form.cleaned_data["post"]
        )
        if ok:
            messages.success(request, _("已安排 %(name)s 担任该岗位") % {"name": person.name})
            return redirect("core:unit_detail", unit.pk)
    return _form_page(
        request,
        form,
        title=_("安排人员到岗"),
        back=reverse("core:unit_detail", args=[unit.pk]),
        unit=unit,
        extra={"help": _("可以安排其他单位的人员在本单位兼任岗位；请输入其用户名。")},
    )


@_unit_manage
@require_POST
def post_unassign(request: HttpRequest, unit: Unit, post_id: int, user_id: int) -> HttpResponse:
    post = access.post_get_for_unit(unit, post_id)
    member = access.unit_member_get(unit, user_id)
    form = djforms.Form(request.POST)
    ok, _r = _call(form, services.staff_unassign_post, actor=request.user, user=member, post=post)
    if not ok:
        return _staff_page(request, unit, member, errors=form.non_field_errors())
    messages.success(request, _("已将 %(name)s 移出该岗位") % {"name": member.name})
    return redirect("core:unit_detail", unit.pk)


@_unit_manage
def staff_create(request: HttpRequest, unit: Unit) -> HttpResponse:
    """开设账号: the initial password is generated and shown once, or typed by the admin."""
    roles = _grantable_roles(request.user, unit)
    form = StaffCreateForm(request.POST or None, unit=unit, grantable_roles=roles)
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        generated = data["password_mode"] == "generate"
        password = services.password_generate() if generated else data["password1"]
        ok, user = _call(
            form,
            services.staff_create,
            actor=request.user,
            username=data["username"],
            name=data["name"],
            password=password,
            post=data["post"],
            mobile=data["mobile"],
            email=data["email"],
            office_phone=data["office_phone"],
            roles=data.get("roles") or [],
        )
        if ok:
            if generated:
                return _no_store(
                    render(
                        request,
                        "core/password_once.html",
                        {"unit": unit, "member": user, "password": password},
                    )
                )
            messages.success(request, _("账号 %(u)s 已开设") % {"u": user.username})
            return redirect("core:staff_detail", unit.pk, user.pk)
    if not Unit.objects.filter(pk=unit.pk, posts__isnull=False).exists():
        messages.info(request, _("本单位还没有岗位，请先新建岗位。"))
    return _form_page(
        request,
        form,
        title=_("开设工作人员账号"),
        back=reverse("core:unit_detail", args=[unit.pk]),
        unit=unit,
    )


def _staff_page(
    request: HttpRequest,
    unit: Unit,
    member: User,
    *,
    role_form: djforms.Form | None = None,
    password_form: djforms.Form | None = None,
    errors: Any = None,
) -> HttpResponse:
    user = request.user
    grantable = _grantable_roles(user, unit) if member.pk != user.pk else []
    labels = dict(UnitRoleKind.choices)
    revocable = {v for v, _l in grantable}
    context = {
        "unit": unit,
        "member": member,
        "assignments": selectors.staff_assignments(member),
        "roles": [
            {"value": r, "label": labels.get(r, r), "revocable": r in revocable}
            for r in selectors.staff_unit_roles(member, unit)
        ],
        "grantable": grantable,
        "can_manage_account": access.can_manage_account(user, member) and member.pk != user.pk,
        "role_form": role_form,
        "password_form": password_form or PasswordResetForm(),
        "errors": errors,
    }
    status = 400 if (role_form is not None or password_form is not None or errors) else 200
    return render(request, "core/staff_detail.html", context, status=status)


@_unit_manage
def staff_detail(request: HttpRequest, unit: Unit, user_id: int) -> HttpResponse:
    member = access.unit_member_get(unit, user_id)
    return _staff_page(request, unit, member)


@_unit_manage
def staff_edit(request: HttpRequest, unit: Unit, user_id: int) -> HttpResponse:
    member = access.unit_member_get(unit, user_id)
    if not access.can_manage_account(request.user, member):
        raise PermissionDenied(_("该人员的账号由其主要单位的管理员管理"))
    initial = {f: getattr(member, f) for f in ("name", "office_phone", "mobile", "email")}
    form = StaffEditForm(request.POST or None, initial=initial)
    if request.method == "POST" and form.is_valid():
        ok, _r = _call(form, services.staff_update, actor=request.user, user=member, **form.cleaned_data)
        if ok:
            messages.success(request, _("人员信息已保存"))
            return redirect("core:staff_detail", unit.pk, member.pk)
    return _no_store(
        _form_page(
            request,
            form,
            title=_("编辑人员信息：%(name)s") % {"name": member.name},
            back=reverse("core:staff_detail", args=[unit.pk, member.pk]),
            unit=unit,
        )
    )


def _password_reset(request: HttpRequest, member: User, back: str, unit: Unit | None) -> HttpResponse | None:
    """Shared by the unit and platform pages: returns the shown-once page, or None with form errors."""
    form = PasswordResetForm(request.POST)
    if not form.is_valid():
        request.zw_password_form = form  # type: ignore[attr-defined]
        return None
    generated = form.cleaned_data["password_mode"] == "generate"
    password = services.password_generate() if generated else form.cleaned_data["password1"]
    ok, _r = _call(form, services.staff_set_password, actor=request.user, user=member, password=password)
    if not ok:
        request.zw_password_form = form  # type: ignore[attr-defined]
        return None
    if generated:
        return _no_store(
            render(
                request,
                "core/password_once.html",
                {"unit": unit, "member": member, "password": password, "back": back, "reset": True},
            )
        )
    messages.success(request, _("已为 %(name)s 设置新密码，其所有会话已退出") % {"name": member.name})
    return redirect(back)


@_unit_manage
@require_POST
def staff_password(request: HttpRequest, unit: Unit, user_id: int) -> HttpResponse:
    member = access.unit_member_get(unit, user_id)
    if not access.can_manage_account(request.user, member):
        raise PermissionDenied(_("该人员的账号由其主要单位的管理员管理"))
    back = reverse("core:staff_detail", args=[unit.pk, member.pk])
    return _password_reset(request, member, back, unit) or _staff_page(
        request,
        unit,
        member,
        password_form=request.zw_password_form,  # type: ignore[attr-defined]
    )


@_unit_manage
@require_POST
def staff_roles(request: HttpRequest, unit: Unit, user_id: int) -> HttpResponse:
    member = access.unit_member_get(unit, user_id)
    form = RoleChangeForm(request.POST)
    if form.is_valid():
        service = (
            services.unit_role_grant if form.cleaned_data["op"] == "grant" else services.unit_role_revoke
        )
        ok, _r = _call(
            form, service, actor=request.user, user=member, unit=unit, role=form.cleaned_data["role"]
        )
        if ok:
            messages.success(request, _("角色已更新"))
            return redirect("core:staff_detail", unit.pk, member.pk)
    return _staff_page(request, unit, member, role_form=form)


@_unit_manage
@require_POST
def staff_active(request: HttpRequest, unit: Unit, user_id: int) -> HttpResponse:
    member = access.unit_member_get(unit, user_id)
    form = ActiveForm(request.POST)
    if form.is_valid():
        ok, _r = _call(
            form,
            services.user_set_active,
            actor=request.user,
            user=member,
            active=form.cleaned_data["active"],
        )
        if ok:
            messages.success(request, _("账号状态已更新"))
            return redirect("core:staff_detail", unit.pk, member.pk)
    return _staff_page(request, unit, member, errors=form.errors)


# --- Platform administration -------------------------------------------------------------------------
@_platform(_sys_or_sec)
def platform_home(request: HttpRequest) -> HttpResponse:
    return render(request, "core/platform_home.html")


@_platform(access.is_system_admin)
def platform_units(request: HttpRequest) -> HttpResponse:
    form = SearchForm(request.GET)
    query = form.cleaned_data["q"].strip() if form.is_valid() else ""
    page = _page(request, selectors.units_search(query=query))
    return render(request, "core/platform_units.html", {"page": page, "q": query})


@_platform(access.is_system_admin)
def platform_unit_create(request: HttpRequest) -> HttpResponse:
    form = UnitCreateForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        data = dict(form.cleaned_data)
        data["sort"] = data.get("sort") or 0
        ok, unit = _call(form, services.unit_create, actor=request.user, **data)
        if ok:
            messages.success(request, _("单位 %(name)s 已新建") % {"name": unit.name})
            return redirect("core:unit_detail", unit.pk)
    return _form_page(request, form, title=_("新建单位"), back=reverse("core:platform_units"))


@_platform(access.is_system_admin)
@require_POST
def platform_unit_active(request: HttpRequest, unit_id: int) -> HttpResponse:
    unit = access.unit_get_for_user(request.user, unit_id, manage=True)
    form = ActiveForm(request.POST)
    if form.is_valid():
        ok, _r = _call(
            form, services.unit_set_active, actor=request.user, unit=unit, active=form.cleaned_data["active"]
        )
        if ok:
            messages.success(request, _("单位状态已更新"))
            return redirect("core:platform_units")
    page = _page(request, selectors.units_search())
    return render(
        request, "core/platform_units.html", {"page": page, "q": "", "errors": form.errors}, status=400
    )


@_platform(access.is_system_admin)
def platform_groups(request: HttpRequest) -> HttpResponse:
    groups = UnitGroup.objects.select_related("within", "owner").order_by("sort", "id")
    return render(request, "core/platform_groups.html", {"groups": groups, "kinds": dict(UnitKind.choices)})


def _group_form_page(request: HttpRequest, group: UnitGroup | None) -> HttpResponse:
    initial: dict[str, Any] = {}
    if group is not None:
        initial = {
            "code": group.code,
            "name": group.name,
            "match_all": group.match_all,
            "kinds": group.kinds,
            "level": group.level,
            "within": group.within.code if group.within else "",
            "extra_units": "\n".join(group.extra_units.order_by("path").values_list("code", flat=True)),
            "sort": group.sort,
        }
    form = UnitGroupForm(request.POST or None, initial=initial)
    preview = None
    if request.method == "POST" and form.is_valid():
        if "preview" in request.POST:
            # 预览: the members the rule selects now, without saving anything.
            probe = UnitGroup(**form.group_fields())
            preview = selectors.unit_group_preview(probe, form.cleaned_data["extra_units"])
        else:
            fields = form.group_fields()
            extra = form.cleaned_data["extra_units"]
            if group is None:
                ok, group = _call(
                    form, services.unit_group_create, actor=request.user, extra_units=extra, **fields
                )
            else:
                ok, group = _call(
                    form,
                    services.unit_group_update,
                    actor=request.user,
                    group=group,
                    extra_units=extra,
                    **fields,
                )
            if ok:
                messages.success(request, _("单位分组已保存"))
                return redirect("core:platform_group_edit", group.pk)
    elif request.method == "GET" and group is not None:
        preview = selectors.unit_group_preview(group)
    status = 400 if form.errors else 200
    return render(
        request,
        "core/platform_group_form.html",
        {"form": form, "group": group, "preview": preview, "preview_page": _preview_page(preview)},
        status=status,
    )


def _preview_page(preview: Any) -> Any:
    if preview is None:
        return None
    return {"count": preview.count(), "units": list(preview.select_related("region")[:200])}


@_platform(access.is_system_admin)
def platform_group_create(request: HttpRequest) -> HttpResponse:
    return _group_form_page(request, None)


@_platform(access.is_system_admin)
def platform_group_edit(request: HttpRequest, group_id: int) -> HttpResponse:
    group = UnitGroup.objects.filter(pk=group_id).first()
    if group is None:
        raise Http404(_("分组不存在"))
    return _group_form_page(request, group)


@_platform(access.is_system_admin)
@require_POST
def platform_group_delete(request: HttpRequest, group_id: int) -> HttpResponse:
    group = UnitGroup.objects.filter(pk=group_id).first()
    if group is None:
        raise Http404(_("分组不存在"))
    try:
        services.unit_group_delete(actor=request.user, group=group)
    except PermissionError as exc:
        raise PermissionDenied(str(exc)) from exc
    messages.success(request, _("单位分组已删除"))
    return redirect("core:platform_groups")


@_platform(_sys_or_sec)
def platform_accounts(request: HttpRequest) -> HttpResponse:
    form = SearchForm(request.GET)
    query = form.cleaned_data["q"].strip() if form.is_valid() else ""
    page = _page(request, selectors.staff_accounts(query=query))
    return render(
        request,
        "core/platform_accounts.html",
        {"page": page, "q": query, "roles": dict(PlatformRole.choices)},
    )


def _account_page(
    request: HttpRequest, member: User, *, forms_: dict[str, djforms.Form] | None = None
) -> HttpResponse:
    user = request.user
    is_sec = access.is_security_admin(user)
    context = {
        "member": member,
        "assignments": selectors.staff_assignments(member),
        "unit_roles": selectors.staff_all_roles(member),
        "can_set_platform_role": is_sec and member.pk != user.pk,
        "can_grant": is_sec and member.pk != user.pk,
        "can_manage_account": access.can_manage_account(user, member),
        "can_set_active": member.pk != user.pk and (access.can_manage_account(user, member) or is_sec),
        "platform_form": PlatformRoleForm(initial={"role": member.platform_role}),
        "grant_form": UnitRoleGrantForm(),
        "password_form": PasswordResetForm(),
        "role_labels": dict(UnitRoleKind.choices),
    }
    context |= forms_ or {}
    return render(request, "core/platform_account.html", context, status=400 if forms_ else 200)


def _account_get(user: Any, account_id: int) -> User:
    return access.staff_get_for_user(user, account_id)


@_platform(_sys_or_sec)
def platform_account(request: HttpRequest, account_id: int) -> HttpResponse:
    return _account_page(request, _account_get(request.user, account_id))


@_platform(access.is_security_admin)
@require_POST
def platform_account_role(request: HttpRequest, account_id: int) -> HttpResponse:
    member = _account_get(request.user, account_id)
    form = PlatformRoleForm(request.POST)
    if form.is_valid():
        ok, _r = _call(
            form,
            services.user_set_platform_role,
            actor=request.user,
            user=member,
            role=form.cleaned_data["role"],
        )
        if ok:
            messages.success(request, _("平台管理角色已更新"))
            return redirect("core:platform_account", member.pk)
    return _account_page(request, member, forms_={"platform_form": form})


@_platform(access.is_security_admin)
@require_POST
def platform_account_unit_role(request: HttpRequest, account_id: int) -> HttpResponse:
    member = _account_get(request.user, account_id)
    form = UnitRoleGrantForm(request.POST)
    if form.is_valid():
        d = form.cleaned_data
        service = services.unit_role_grant if d["op"] == "grant" else services.unit_role_revoke
        ok, _r = _call(form, service, actor=request.user, user=member, unit=d["unit"], role=d["role"])
        if ok:
            messages.success(request, _("单位角色已更新"))
            return redirect("core:platform_account", member.pk)
    return _account_page(request, member, forms_={"grant_form": form})


@_platform(_sys_or_sec)
@require_POST
def platform_account_active(request: HttpRequest, account_id: int) -> HttpResponse:
    member = _account_get(request.user, account_id)
    form = ActiveForm(request.POST)
    if form.is_valid():
        ok, _r = _call(
            form,
            services.user_set_active,
            actor=request.user,
            user=member,
            active=form.cleaned_data["active"],
        )
        if ok:
            messages.success(request, _("账号状态已更新"))
            return redirect("core:platform_account", member.pk)
    return _account_page(request, member, forms_={"active_form": form})


@_platform(_sys_or_sec)
@require_POST
def platform_account_password(request: HttpRequest, account_id: int) -> HttpResponse:
    member = _account_get(request.user, account_id)
    if not access.can_manage_account(request.user, member):
        raise PermissionDenied(_("您不能管理该账号"))
    back = reverse("core:platform_account", args=[member.pk])
    return _password_reset(request, member, back, None) or _account_page(
        request,
        member,
        forms_={"password_form": request.zw_password_form},  # type: ignore[attr-defined]
    )


# --- Address book (通讯录) -----------------------------------------------------------------------------
@staff_required
def address_book(request: HttpRequest) -> HttpResponse:
    """通讯录: units by region, kind and name, or people by name; office phones, mobiles masked."""
    form = AddressBookForm(request.GET)
    if not form.is_valid():
        return render(
            request,
            "core/address_book.html",
            {"form": form, "regions": selectors.address_book_regions(), "page": None},
            status=400,
        )
    d = form.cleaned_data
    region = d.get("region")
    region_path = region.path if region else ""
    kind = d.get("kind") or ""
    person = d.get("person", "").strip()
    context: dict[str, Any] = {
        "form": form,
        "regions": selectors.address_book_regions(),
        "region": region,
        "person": person,
        "q": d.get("q", "").strip(),
        "kind": kind,
    }
    if person:
        page = _page(request, selectors.address_book_people(name=person, region_path=region_path, kind=kind))
        context["people"] = selectors.contact_rows(page.object_list, access.user_unit_ids(request.user))
    else:
        page = _page(request, selectors.address_book(query=context["q"], region_path=region_path, kind=kind))
    context["page"] = page
    return render(request, "core/address_book.html", context)


@staff_required
def address_book_unit(request: HttpRequest, unit_id: int) -> HttpResponse:
    """A unit's card in the address book: its departments' and people's phones."""
    unit = Unit.objects.select_related("region", "parent").filter(pk=unit_id, is_active=True).first()
    if unit is None:
        raise Http404(_("单位不存在"))
    page = _page(request, selectors.unit_contacts(unit), 100)
    own = frozenset({unit.pk}) & access.user_unit_ids(request.user)
    for a in page.object_list:
        a.post.unit = unit  # every row is this unit's; saves a join
    return render(
        request,
        "core/address_book_unit.html",
        {
            "unit": unit,
            "departments": unit.departments.all(),
            "page": page,
            "rows": selectors.contact_rows(page.object_list, own),
            "own_unit": bool(own),
        },
    )


# --- The trail (全程留痕) -------------------------------------------------------------------------------
def _audit_filter(request: HttpRequest) -> AuditFilterForm:
    return AuditFilterForm(request.GET)


@access.role_required(access.can_view_audit)
def audit_list(request: HttpRequest) -> HttpResponse:
    """The audit admin sees everything; a supervisor the events of their unit and the units below it."""
    form = _audit_filter(request)
    context: dict[str, Any] = {
        "form": form,
        "actions": selectors.audit_actions(),
        "is_audit_admin": access.is_audit_admin(request.user),
        "query": request.GET.urlencode(),
    }
    if not form.is_valid():
        return render(request, "core/audit_list.html", context | {"page": None}, status=400)
    qs = selectors.audit_events_for(request.user, **form.selector_kwargs())
    context["page"] = _page(request, qs)
    export_q = request.GET.copy()
    export_q.pop("page", None)
    context["export_query"] = export_q.urlencode()
    return render(request, "core/audit_list.html", context)


@access.role_required(access.can_view_audit)
def audit_detail(request: HttpRequest, event_id: int) -> HttpResponse:
    event = selectors.audit_event_for(request.user, event_id)
    before = mask_personal(event.before) if isinstance(event.before, dict) else {}
    after = mask_personal(event.after) if isinstance(event.after, dict) else {}
    keys = sorted(set(before) | set(after))
    rows = [
        {
            "key": k,
            "before": before.get(k, ""),
            "after": after.get(k, ""),
            "changed": before.get(k) != after.get(k),
        }
        for k in keys
    ]
    return render(
        request,
        "core/audit_detail.html",
        {
            "event": event,
            "rows": rows,
            "has_before": event.before is not None,
            "has_after": event.after is not None,
            "raw_before": event.before if not isinstance(event.before, dict) else None,
            "raw_after": event.after if not isinstance(event.after, dict) else None,
            "digest_ok": compute_digest(event) == event.digest,
        },
    )


@access.role_required(access.can_view_audit)
def audit_export(request: HttpRequest) -> HttpResponse:
    """导出 Excel of the filtered list; the export is itself recorded in the trail."""
    form = _audit_filter(request)
    context: dict[str, Any] = {
        "form": form,
        "actions": selectors.audit_actions(),
        "is_audit_admin": access.is_audit_admin(request.user),
        "page": None,
    }
    if not form.is_valid():
        return render(request, "core/audit_list.html", context, status=400)
    qs = selectors.audit_events_for(request.user, **form.selector_kwargs())
    try:
        result = services.audit_export(actor=request.user, events=qs, filters=form.summary())
    except services.ExportTooLarge as exc:
        context["export_error"] = _(
            "符合条件的记录共 %(count)s 条，超过单次导出上限 %(cap)s 条。请缩小时间范围或增加筛选条件后分批导出。"
        ) % {"count": exc.count, "cap": exc.cap}
        context["page"] = _page(request, qs)
        return render(request, "core/audit_list.html", context, status=400)
    except PermissionError as exc:
        raise PermissionDenied(str(exc)) from exc
    stamp = timezone.localtime().strftime("%Y%m%d-%H%M%S")
    response = FileResponse(
        result.file,
        as_attachment=True,
        filename=f"留痕记录-{stamp}.xlsx",
        content_type="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
    )
    response["X-Rows"] = str(result.rows)
    return _no_store(response)
