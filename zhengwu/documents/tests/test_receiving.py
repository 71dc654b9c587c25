"""Receiving inside a unit (收文): a signed copy is registered with the unit's receiving number and handled
拟办 → 批办 → 承办 → 归档 on the process engine, each opinion kept."""

from __future__ import annotations

from typing import Any

import pytest
from django.utils import timezone

from zhengwu.documents import services
from zhengwu.documents.models import DocumentReceipt, IncomingRecord, IncomingStatus
from zhengwu.documents.services import DocumentError
from zhengwu.documents.tests.conftest import Office, send_notice
from zhengwu.flow import services as flow_services
from zhengwu.flow.models import Task, TaskStatus
from zhengwu.testing.cast import _staff

pytestmark = pytest.mark.django_db


def _signed(office: Office, title: str) -> DocumentReceipt:
    doc = send_notice(office, title=title)
    receipt = DocumentReceipt.objects.get(document=doc, unit=office.cast.county_a_gov)
    return services.receipt_receive(actor=office.clerk_a, receipt=receipt)


def _open(record: IncomingRecord) -> Task:
    return Task.objects.get(instance_id=record.instance_id, status=TaskStatus.OPEN)


def test_it_registers_signed_copies_with_consecutive_receiving_numbers(office: Office) -> None:
    year = timezone.localdate().year
    first = services.incoming_register(actor=office.clerk_a, receipt=_signed(office, "第一份"))
    second = services.incoming_register(actor=office.clerk_a, receipt=_signed(office, "第二份"))
    assert (first.receiving_number, second.receiving_number) == (f"收〔{year}〕1号", f"收〔{year}〕2号")
    assert first.status == IncomingStatus.PROPOSE
    with pytest.raises(DocumentError, match="该公文已登记"):
        services.incoming_register(actor=office.clerk_a, receipt=first.receipt)


def test_it_registers_only_signed_copies_and_only_by_a_clerk(office: Office, client_for: Any) -> None:
    doc = send_notice(office)
    receipt = DocumentReceipt.objects.get(document=doc, unit=office.cast.county_a_gov)
    with pytest.raises(DocumentError, match="请先签收"):
        services.incoming_register(actor=office.clerk_a, receipt=receipt)
    receipt = services.receipt_receive(actor=office.clerk_a, receipt=receipt)
    assert (
        client_for(office.cast.county_reviewer)
        .post(f"/documents/incoming/{receipt.pk}/register/")
        .status_code
        == 403
    )
    assert client_for(office.clerk_b).post(f"/documents/incoming/{receipt.pk}/register/").status_code == 404
    assert IncomingRecord.objects.count() == 0
    assert client_for(office.clerk_a).post(f"/documents/incoming/{receipt.pk}/register/").status_code == 302
    page = client_for(office.clerk_a).get(f"/documents/incoming/{receipt.pk}/").content.decode()
    assert "收〔" in page and "拟办" in page


def test_it_handles_a_registered_copy_through_to_the_archive_keeping_every_opinion(office: Office) -> None:
    a = office.cast.county_a_gov
    leader = _staff("kd_leader", "韩区长", a, "区长", ["leader"])
    handler = office.cast.county_reviewer  # holds the handler role in county A
    record = services.incoming_register(actor=office.clerk_a, receipt=_signed(office, "森林防火通知"))
    steps = [
        (office.clerk_a, "propose", "拟请应急局牵头办理"),
        (leader, "instruct", "同意，请应急局按时办结"),
        (handler, "handle", "已部署落实"),
        (office.clerk_a, "archive", "归档"),
    ]
    for actor, step, opinion in steps:
        task = _open(record)
        assert task.step_id == step
        flow_services.task_complete(actor=actor, task=task, opinion=opinion)
    record.refresh_from_db()
    assert record.status == IncomingStatus.DONE
    opinions = list(
        Task.objects.filter(instance_id=record.instance_id).order_by("id").values_list("name", "opinion")
    )
    assert opinions[1:] == [
        ("拟办", "拟请应急局牵头办理"),
        ("批办", "同意，请应急局按时办结"),
        ("承办", "已部署落实"),
        ("归档", "归档"),
    ]
