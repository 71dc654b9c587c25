"""The Django admin for core models (后台). Day-to-day management uses the platform's own pages; this is the
maintenance door, so it obeys the same rules: every change is written to the trail with before/after,
roles and platform roles are read-only here (三员分立: they change only through the security admin's
pages), and the trail itself is read-only and visible only to the audit admin.
"""

from __future__ import annotations

from typing import Any

from django.contrib import admin
from django.db import models, transaction
from django.db.models import QuerySet
from django.http import HttpRequest

from zhengwu.core import access
from zhengwu.core.audit import audit_record, snapshot
from zhengwu.core.models import (
    AuditAnchor,
    AuditEvent,
    Department,
    Post,
    PostAssignment,
    Region,
    Unit,
    UnitGroup,
    UnitRole,
    User,
)

_NEVER_LOGGED = {"password", "session_salt", "mobile_index", "email_index", "last_login"}


def _fields(obj: models.Model) -> list[str]:
    names = []
    for f in obj._meta.concrete_fields:
        if f.name in _NEVER_LOGGED:
            continue
        names.append(f.name if f.name in {"mobile", "email"} else f.attname)
    return names


class AuditedAdmin(admin.ModelAdmin):
    """Writes a trail record for every add, change and delete made in the Django admin."""

    def save_model(self, request: HttpRequest, obj: Any, form: Any, change: bool) -> None:
        with transaction.atomic():
            before = None
            if change and obj.pk is not None:
                old = type(obj)._default_manager.filter(pk=obj.pk).first()
                before = snapshot(old, _fields(old)) if old is not None else None
            super().save_model(request, obj, form, change)
            audit_record(
                action=f"admin.{'change' if change else 'add'}",
                obj=obj,
                before=before,
                after=snapshot(obj, _fields(obj)),
                actor=request.user,
            )

    def delete_model(self, request: HttpRequest, obj: Any) -> None:
        with transaction.atomic():
            before = snapshot(obj, _fields(obj))
            pk, label, kind = obj.pk, str(obj)[:200], obj._meta.label_lower
            super().delete_model(request, obj)
            audit_record(
                action="admin.delete",
                object_type=kind,
                object_id=pk,
                object_label=label,
                before=before,
                actor=request.user,
            )

    def delete_queryset(self, request: HttpRequest, queryset: QuerySet[Any]) -> None:
        with transaction.atomic():
            for obj in queryset:
                self.delete_model(request, obj)


class ReadOnlyAdmin(admin.ModelAdmin):
    def has_add_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False


@admin.register(Region)
class RegionAdmin(AuditedAdmin):
    list_display = ["code", "name", "level", "parent"]
    list_filter = ["level"]
    search_fields = ["code", "name"]
    raw_id_fields = ["parent"]


@admin.register(Unit)
class UnitAdmin(AuditedAdmin):
    list_display = ["code", "name", "kind", "level", "region", "is_active"]
    list_filter = ["kind", "level", "is_active"]
    search_fields = ["code", "name", "short_name"]
    raw_id_fields = ["region", "parent"]


@admin.register(Department)
class DepartmentAdmin(AuditedAdmin):
    list_display = ["name", "unit", "phone", "sort"]
    search_fields = ["name", "unit__name"]
    raw_id_fields = ["unit"]


@admin.register(Post)
class PostAdmin(AuditedAdmin):
    list_display = ["name", "unit", "department", "sort"]
    search_fields = ["name", "unit__name"]
    raw_id_fields = ["unit", "department"]


@admin.register(User)
class UserAdmin(AuditedAdmin):
    list_display = ["username", "name", "kind", "platform_role", "primary_unit", "is_active"]
    list_filter = ["kind", "platform_role", "is_active"]
    search_fields = ["username", "name"]
    fields = [
        "username",
        "name",
        "kind",
        "platform_role",
        "office_phone",
        "primary_unit",
        "is_active",
        "is_staff",
    ]
    readonly_fields = ["username", "kind", "platform_role"]
    raw_id_fields = ["primary_unit"]

    def has_add_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False  # accounts are opened in the unit pages, with the password policy and initial roles


@admin.register(PostAssignment)
class PostAssignmentAdmin(AuditedAdmin):
    list_display = ["user", "post", "is_primary", "since"]
    search_fields = ["user__name", "user__username", "post__name"]
    raw_id_fields = ["user", "post"]


@admin.register(UnitRole)
class UnitRoleAdmin(ReadOnlyAdmin):
    list_display = ["user", "unit", "role", "granted_at"]
    list_filter = ["role"]
    search_fields = ["user__name", "user__username", "unit__name"]


@admin.register(UnitGroup)
class UnitGroupAdmin(AuditedAdmin):
    list_display = ["code", "name", "level", "match_all", "sort"]
    search_fields = ["code", "name"]
    raw_id_fields = ["within", "owner"]
    filter_horizontal = ["extra_units"]


class TrailAdmin(ReadOnlyAdmin):
    """The trail: only the audit admin may even see it here (the system admin is a superuser, but 三员分立
    keeps the trail from them)."""

    def has_module_permission(self, request: HttpRequest) -> bool:
        return access.is_audit_admin(request.user)

    def has_view_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return access.is_audit_admin(request.user)


@admin.register(AuditEvent)
class AuditEventAdmin(TrailAdmin):
    list_display = ["seq", "at", "actor_label", "unit_label", "action", "object_type", "object_id", "ip"]
    list_filter = ["action"]
    search_fields = ["actor_label", "unit_label", "object_label", "object_id"]
    date_hierarchy = "at"
    show_full_result_count = False


@admin.register(AuditAnchor)
class AuditAnchorAdmin(TrailAdmin):
    list_display = ["through_seq", "purged_at", "purged_count"]
