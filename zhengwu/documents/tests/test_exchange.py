"""Exchange between units: inboxes, 签收 with the digest, 退文, 重发, 撤回, 催办, upward documents, paper."""

from __future__ import annotations

from typing import Any

import pytest
from django.utils import timezone

from zhengwu.core.models import AuditEvent, UnitRole
from zhengwu.documents import selectors, services
from zhengwu.documents.models import DocumentReceipt, ReceiptState
from zhengwu.documents.services import DocumentError
from zhengwu.documents.tests.conftest import Office, send_notice, walk
from zhengwu.notify.models import Delivery, Notice
from zhengwu.testing.cast import _staff

pytestmark = pytest.mark.django_db


def _receipt(doc: Any, unit: Any) -> DocumentReceipt:
    return DocumentReceipt.objects.get(document=doc, unit=unit)


def test_it_puts_the_document_in_each_recipient_inbox_and_tells_the_clerks(office: Office) -> None:
    doc = send_notice(office)
    rows = selectors.inbox(office.cast.county_a_gov, state="pending")
    assert [r["title"] for r in rows] == [doc.title]
    assert rows[0]["document_number"] == doc.document_number
    assert Notice.objects.filter(recipient=office.clerk_a, title__contains=doc.title).count() == 1
    assert Notice.objects.filter(recipient=office.clerk_b, title__contains=doc.title).count() == 1
    assert selectors.inbox(office.cast.township_a1_gov) == []


def test_it_expands_groups_with_main_winning_over_copy_and_never_the_sender(office: Office) -> None:
    cast = office.cast
    doc = send_notice(
        office,
        main_units=[cast.county_a_gov.pk],
        main_groups=[],
        copy_groups=[cast.groups["everyone"].pk],
    )
    roles = dict(DocumentReceipt.objects.filter(document=doc).values_list("unit_id", "role"))
    assert roles[cast.county_a_gov.pk] == "main"
    assert roles[cast.township_b1_gov.pk] == "copy"
    assert cast.city_gov.pk not in roles
    assert len(roles) == 9  # every active unit but the sender


def test_it_records_who_signed_when_and_the_digest(office: Office) -> None:
    doc = send_notice(office)
    receipt = services.receipt_receive(actor=office.clerk_a, receipt=_receipt(doc, office.cast.county_a_gov))
    assert receipt.state == ReceiptState.RECEIVED
    assert receipt.received_by == office.clerk_a and receipt.received_at is not None
    assert receipt.received_digest == doc.digest == services.document_digest(doc)
    assert AuditEvent.objects.filter(action="documents.receipt.receive", object_id=str(receipt.pk)).exists()
    with pytest.raises(DocumentError, match="该公文已签收"):
        services.receipt_receive(actor=office.clerk_a, receipt=receipt)


def test_it_lets_only_a_clerk_of_the_recipient_unit_sign(office: Office, client_for: Any) -> None:
    doc = send_notice(office)
    receipt = _receipt(doc, office.cast.county_a_gov)
    reviewer = office.cast.county_reviewer  # county A staff, not a clerk
    assert client_for(reviewer).get(f"/documents/incoming/{receipt.pk}/").status_code == 200
    assert client_for(reviewer).post(f"/documents/incoming/{receipt.pk}/receive/").status_code == 403
    for other in (office.clerk_b, office.cast.outsider):
        c = client_for(other)
        assert c.get(f"/documents/incoming/{receipt.pk}/").status_code == 404
        assert c.post(f"/documents/incoming/{receipt.pk}/receive/").status_code == 404
        assert c.get(f"/documents/{doc.pk}/status/").status_code == 404
    receipt.refresh_from_db()
    assert receipt.state == ReceiptState.READ  # the reviewer opened it; nobody signed


def test_it_marks_a_copy_read_when_the_unit_opens_it(office: Office, client_for: Any) -> None:
    doc = send_notice(office)
    receipt = _receipt(doc, office.cast.county_a_gov)
    page = client_for(office.clerk_a).get(f"/documents/incoming/{receipt.pk}/").content.decode()
    assert doc.document_number in page and "签收" in page
    receipt.refresh_from_db()
    assert receipt.state == ReceiptState.READ and receipt.read_by == office.clerk_a


def test_it_refuses_with_a_reason_and_the_sender_resends_to_that_unit_only(
    office: Office, client_for: Any
) -> None:
    doc = send_notice(office)
    a, b = office.cast.county_a_gov, office.cast.county_b_gov
    services.receipt_receive(actor=office.clerk_a, receipt=_receipt(doc, a))
    c = client_for(office.clerk_b)
    empty = c.post(f"/documents/incoming/{_receipt(doc, b).pk}/refuse/", {"reason": " "})
    assert empty.status_code == 400 and "请填写退文理由" in empty.content.decode()
    assert _receipt(doc, b).state == ReceiptState.DELIVERED
    ok = c.post(f"/documents/incoming/{_receipt(doc, b).pk}/refuse/", {"reason": "主送单位名称有误"})
    assert ok.status_code == 302
    assert _receipt(doc, b).refuse_reason == "主送单位名称有误"
    assert Notice.objects.filter(recipient=office.drafter, title__contains="退文").exists()
    sender = client_for(office.drafter)
    rows = sender.get(f"/documents/{doc.pk}/status/rows/").content.decode()
    assert "主送单位名称有误" in rows and "签收率 50.0%" in rows
    bad = sender.post(f"/documents/{doc.pk}/exchange/", {"action": "resend", "units": [a.pk]})
    assert bad.status_code == 400
    assert (
        sender.post(f"/documents/{doc.pk}/exchange/", {"action": "resend", "units": [b.pk]}).status_code
        == 302
    )
    again = _receipt(doc, b)
    assert again.state == ReceiptState.DELIVERED and again.round == 2 and again.refuse_reason == ""
    assert _receipt(doc, a).state == ReceiptState.RECEIVED and _receipt(doc, a).round == 1
    assert (
        client_for(office.clerk_a)
        .post(f"/documents/{doc.pk}/exchange/", {"action": "resend", "units": [b.pk]})
        .status_code
        == 404
    )


def test_it_recalls_unsigned_copies_only(office: Office, client_for: Any) -> None:
    doc = send_notice(office)
    a, b = office.cast.county_a_gov, office.cast.county_b_gov
    services.receipt_receive(actor=office.clerk_a, receipt=_receipt(doc, a))
    assert services.document_recall(actor=office.drafter, document=doc, unit_ids=[a.pk, b.pk]) == 1
    assert _receipt(doc, a).state == ReceiptState.RECEIVED
    recalled = _receipt(doc, b)
    assert recalled.state == ReceiptState.RECALLED
    assert client_for(office.clerk_b).get(f"/documents/incoming/{recalled.pk}/").status_code == 404
    assert selectors.inbox(b) == []
    with pytest.raises(DocumentError, match="没有可撤回"):
        services.document_recall(actor=office.drafter, document=doc, unit_ids=[a.pk])


def test_it_urges_unsigned_units_by_notice_and_sms_once_a_day(office: Office) -> None:
    office.clerk_b.mobile = "13900000009"
    office.clerk_b.save()
    doc = send_notice(office)
    services.receipt_receive(actor=office.clerk_a, receipt=_receipt(doc, office.cast.county_a_gov))
    assert services.document_urge(actor=office.drafter, document=doc) == 1
    assert services.document_urge(actor=office.drafter, document=doc) == 1
    assert Notice.objects.filter(recipient=office.clerk_b, title__startswith="催办").count() == 1
    assert Notice.objects.filter(recipient=office.clerk_a, title__startswith="催办").count() == 0
    assert Delivery.objects.filter(recipient=office.clerk_b, channel="sms").count() == 1
    with pytest.raises(PermissionError):
        services.document_urge(actor=office.reviewer, document=doc)


def test_it_sends_a_request_to_the_superior_and_links_the_reply(office: Office) -> None:
    cast = office.cast
    county_clerk = _staff("kd_drafter", "吴拟稿", cast.county_a_gov, "秘书", ["clerk", "handler", "leader"])
    UnitRole.objects.create(user=cast.county_reviewer, unit=cast.county_a_gov, role="clerk")
    request_doc = services.document_create(
        actor=county_clerk,
        unit=cast.county_a_gov,
        doc_type="request",
        title="关于拨付防汛资金的请示",
        number_code="崆政发",
    )
    assert request_doc.main_to == "平凉市人民政府"
    with pytest.raises(DocumentError, match="只能主送上级单位"):
        services.document_create(
            actor=county_clerk,
            unit=cast.county_a_gov,
            doc_type="request",
            title="请示",
            number_code="崆政发",
            main_units=[cast.county_b_gov.pk],
        )
    for actor, opinion in (
        (county_clerk, "请核"),
        (cast.county_reviewer, "同意"),
        (county_clerk, "同意"),
        (county_clerk, ""),
        (county_clerk, ""),
        (county_clerk, ""),
    ):
        request_doc = services.document_step_complete(actor=actor, document=request_doc, opinion=opinion)
    incoming = _receipt(request_doc, cast.city_gov)
    services.receipt_receive(actor=office.drafter, receipt=incoming)
    reply = walk(
        office,
        services.document_create(
            actor=office.drafter,
            unit=cast.city_gov,
            doc_type="reply",
            title="关于拨付防汛资金的批复",
            number_code="平政复",
            reply_to=incoming,
        ),
    )
    assert reply.reply_to == request_doc
    assert list(DocumentReceipt.objects.filter(document=reply).values_list("unit", flat=True)) == [
        cast.county_a_gov.pk
    ]


def test_it_tracks_paper_copies_for_units_still_on_paper(office: Office) -> None:
    b = office.cast.county_b_gov
    b.receives_paper = True
    b.save()
    doc = send_notice(office)
    paper = _receipt(doc, b)
    assert paper.paper and not _receipt(doc, office.cast.county_a_gov).paper
    services.receipt_paper_sent(actor=office.drafter, receipt=paper)
    paper.refresh_from_db()
    assert paper.paper_sent_at is not None


def test_it_filters_the_inbox_by_state_type_and_words(office: Office, client_for: Any) -> None:
    first = send_notice(office, title="关于森林防火的通知")
    send_notice(office, title="关于安全生产的通知")
    a = office.cast.county_a_gov
    services.receipt_receive(actor=office.clerk_a, receipt=_receipt(first, a))
    assert [r["title"] for r in selectors.inbox(a, state="pending")] == ["关于安全生产的通知"]
    assert [r["title"] for r in selectors.inbox(a, query="森林")] == ["关于森林防火的通知"]
    assert selectors.inbox(a, doc_type="letter") == []
    page = client_for(office.clerk_a).get("/documents/inbox/?state=all&q=安全").content.decode()
    assert "关于安全生产的通知" in page and "关于森林防火的通知" not in page


def test_it_retries_a_distribution_without_doubles(office: Office) -> None:
    doc = send_notice(office)
    assert services.document_distribute(actor=office.drafter, document=doc) == 0
    assert DocumentReceipt.objects.filter(document=doc).count() == 2
    DocumentReceipt.objects.filter(document=doc, unit=office.cast.county_b_gov).delete()
    assert services.document_distribute(actor=office.drafter, document=doc) == 1
    assert DocumentReceipt.objects.filter(document=doc).count() == 2
    assert timezone.now() >= doc.sent_at


def test_it_finds_a_copy_by_its_whole_document_number(office: Office) -> None:
    first = send_notice(office, title="第一份")
    send_notice(office, title="第二份")
    a = office.cast.county_a_gov
    assert [r["title"] for r in selectors.inbox(a, query=first.document_number)] == ["第一份"]
    assert len(selectors.inbox(a, query="平政发")) == 2


def test_it_offers_the_inbox_and_outgoing_documents_on_the_workbench(office: Office, client_for: Any) -> None:
    page = client_for(office.clerk_a).get("/workbench/").content.decode()
    assert 'href="/documents/inbox/"' in page and 'href="/documents/"' in page
    assert (
        'href="/documents/inbox/"'
        not in client_for(office.cast.system_admin).get("/workbench/").content.decode()
    )
