from __future__ import annotations

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError
from django.db import connection

from zhengwu.core.audit import audit_record, audit_verify
from zhengwu.core.models import AuditEvent


def _write(n: int) -> list[AuditEvent]:
    return [
        audit_record(action="test.event", object_type="test", object_id=i, after={"i": i}) for i in range(n)
    ]


@pytest.mark.django_db
def test_it_verifies_an_intact_chain() -> None:
    _write(5)
    result = audit_verify()
    assert result.ok and result.checked == 5
    call_command("audit_verify")  # exits 0


@pytest.mark.django_db
def test_it_names_the_record_edited_directly_in_the_database() -> None:
    events = _write(6)
    victim = events[3]
    with connection.cursor() as cur:
        cur.execute(
            f"UPDATE {AuditEvent._meta.db_table} SET object_label = %s WHERE id = %s", ["篡改", victim.pk]
        )
    result = audit_verify()
    assert not result.ok
    assert result.first_bad_seq == victim.seq
    assert "edited" in result.problem
    with pytest.raises(CommandError, match=f"seq={victim.seq}"):
        call_command("audit_verify")


@pytest.mark.django_db
def test_it_catches_a_deleted_record() -> None:
    events = _write(6)
    with connection.cursor() as cur:
        cur.execute(f"DELETE FROM {AuditEvent._meta.db_table} WHERE id = %s", [events[2].pk])
    result = audit_verify()
    assert not result.ok
    assert result.first_bad_seq == events[3].seq
    assert "missing" in result.problem


@pytest.mark.django_db
def test_it_catches_the_last_record_deleted() -> None:
    events = _write(4)
    with connection.cursor() as cur:
        cur.execute(f"DELETE FROM {AuditEvent._meta.db_table} WHERE id = %s", [events[-1].pk])
    result = audit_verify()
    assert not result.ok and "missing" in result.problem


@pytest.mark.django_db
def test_it_refuses_to_change_a_record_through_the_orm() -> None:
    (event,) = _write(1)
    event.action = "changed"
    with pytest.raises(PermissionError):
        event.save()
    with pytest.raises(PermissionError):
        event.delete()
