"""The Django admin (后台): core models registered; the trail read-only and only for the audit admin; every
change made there lands in the trail."""

from __future__ import annotations

from typing import Any

import pytest
from django.urls import reverse

from zhengwu.core.audit import audit_record
from zhengwu.core.models import AuditEvent, PlatformRole

pytestmark = pytest.mark.django_db


def _admin_client(client_for: Any, user: Any, *, superuser: bool = False) -> Any:
    user.is_staff = True
    user.is_superuser = superuser
    user.save(update_fields=["is_staff", "is_superuser"])
    return client_for(user)


def test_it_shows_the_trail_read_only_to_the_audit_admin(cast: Any, client_for: Any) -> None:
    event = audit_record(action="test.event", object_type="test", object_label="某记录")
    c = _admin_client(client_for, cast.audit_admin)
    resp = c.get(reverse("admin:core_auditevent_changelist"))
    assert resp.status_code == 200 and "test.event" in resp.content.decode()
    change = c.get(reverse("admin:core_auditevent_change", args=[event.pk]))
    assert change.status_code == 200
    assert 'type="submit" value="保存"' not in change.content.decode()
    assert c.get(reverse("admin:core_auditevent_add")).status_code == 403
    assert (
        c.post(reverse("admin:core_auditevent_delete", args=[event.pk]), {"post": "yes"}).status_code == 403
    )
    assert AuditEvent.objects.filter(pk=event.pk).exists()


def test_it_keeps_the_trail_from_a_superuser_system_admin(cast: Any, client_for: Any) -> None:
    event = audit_record(action="test.event", object_type="test")
    c = _admin_client(client_for, cast.system_admin, superuser=True)
    index = c.get(reverse("admin:index")).content.decode()
    assert "单位" in index and "留痕记录" not in index
    assert c.get(reverse("admin:core_auditevent_changelist")).status_code == 403
    assert c.get(reverse("admin:core_auditevent_change", args=[event.pk])).status_code == 403


def test_it_records_changes_made_in_the_django_admin(cast: Any, client_for: Any) -> None:
    c = _admin_client(client_for, cast.system_admin, superuser=True)
    unit = cast.outsider_unit
    resp = c.post(
        reverse("admin:core_unit_change", args=[unit.pk]),
        {
            "code": unit.code,
            "name": "平凉市文化广电和旅游局",
            "short_name": unit.short_name,
            "kind": unit.kind,
            "region": unit.region_id,
            "parent": unit.parent_id,
            "sort": 0,
            "phone": unit.phone,
            "address": "",
            "is_active": "on",
        },
    )
    assert resp.status_code == 302, resp.content.decode()[:2000]
    event = AuditEvent.objects.filter(action="admin.change").order_by("-seq").first()
    assert event is not None and event.actor_id == cast.system_admin.pk
    assert event.before["name"] == "平凉市文化和旅游局" and event.after["name"] == "平凉市文化广电和旅游局"


def test_it_keeps_platform_roles_read_only_in_the_django_admin(cast: Any, client_for: Any) -> None:
    c = _admin_client(client_for, cast.system_admin, superuser=True)
    clerk = cast.city_clerk
    resp = c.post(
        reverse("admin:core_user_change", args=[clerk.pk]),
        {
            "name": clerk.name,
            "office_phone": "0933-8777777",
            "primary_unit": clerk.primary_unit_id,
            "is_active": "on",
            "platform_role": PlatformRole.SECURITY_ADMIN,
        },
    )
    assert resp.status_code == 302
    clerk.refresh_from_db()
    assert clerk.office_phone == "0933-8777777" and clerk.platform_role == ""
    event = AuditEvent.objects.filter(action="admin.change", object_id=str(clerk.pk)).get()
    assert "password" not in event.after and "session_salt" not in event.after
    assert c.get(reverse("admin:core_unitrole_add")).status_code == 403
