"""Sending inside a unit: the official document, its steps on the process engine, numbers, files."""

from __future__ import annotations

from typing import Any

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.utils import timezone

from zhengwu.core.models import AuditEvent
from zhengwu.documents import services
from zhengwu.documents.models import Document, DocumentReceipt, DocumentStatus
from zhengwu.documents.services import DocumentError
from zhengwu.documents.tests.conftest import Office, draft_notice, pdf, send_notice, walk
from zhengwu.flow.models import Task

pytestmark = pytest.mark.django_db


def test_it_refuses_classified_documents_with_a_clear_message(office: Office) -> None:
    for secrecy in ("secret", "confidential", "top_secret"):
        with pytest.raises(DocumentError, match="本平台仅传输非涉密公文"):
            draft_notice(office, secrecy=secrecy)
    assert Document.objects.count() == 0


def test_it_refuses_a_classified_draft_posted_to_the_page(office: Office, client_for: Any) -> None:
    c = client_for(office.drafter)
    response = c.post(
        "/documents/new/",
        {
            "unit": office.cast.city_gov.pk,
            "doc_type": "notice",
            "title": "涉密通知",
            "number_code": "平政发",
            "secrecy": "confidential",
            "main_groups": [office.cast.groups["county_governments"].pk],
        },
    )
    assert response.status_code == 400
    assert "本平台仅传输非涉密公文" in response.content.decode()
    assert Document.objects.count() == 0


def test_it_takes_a_notice_through_every_sending_step_keeping_each_opinion(office: Office) -> None:
    doc = draft_notice(office)
    assert doc.status == DocumentStatus.DRAFT
    doc = walk(office, doc, until="number")
    assert doc.status == DocumentStatus.NUMBER
    assert doc.signer == office.leader and doc.signer_name == "刘市长"
    assert doc.document_number == ""
    doc = services.document_step_complete(actor=office.drafter, document=doc)
    year = timezone.localdate().year
    assert doc.document_number == f"平政发〔{year}〕1号"
    doc = services.document_step_complete(actor=office.drafter, document=doc)
    assert doc.sealed and doc.status == DocumentStatus.DISTRIBUTE
    doc = services.document_step_complete(actor=office.drafter, document=doc)
    assert doc.status == DocumentStatus.SENT
    units = set(DocumentReceipt.objects.filter(document=doc).values_list("unit__name", flat=True))
    assert units == {"崆峒区人民政府", "泾川县人民政府"}
    opinions = list(
        Task.objects.filter(instance_id=doc.instance_id).order_by("id").values_list("name", "opinion")
    )
    assert ("核稿", "文字已核，同意") in opinions and ("签发", "同意印发") in opinions
    assert len(doc.digest) == 64


def test_it_asks_for_an_opinion_at_check_and_sign_off(office: Office) -> None:
    doc = walk(office, draft_notice(office), until="check")
    with pytest.raises(DocumentError, match="请填写核稿意见"):
        services.document_step_complete(actor=office.reviewer, document=doc, opinion="  ")
    assert Document.objects.get(pk=doc.pk).status == DocumentStatus.CHECK


def test_it_lets_only_the_step_holder_act(office: Office) -> None:
    doc = walk(office, draft_notice(office), until="sign_off")
    with pytest.raises(PermissionError):
        services.document_step_complete(actor=office.reviewer, document=doc, opinion="我来签发")
    assert Document.objects.get(pk=doc.pk).signer is None


def test_it_numbers_each_unit_code_and_year_in_sequence(office: Office) -> None:
    numbers = [send_notice(office, title=f"通知{i}").document_number for i in range(3)]
    other_code = send_notice(office, title="函", number_code="平政函").document_number
    year = timezone.localdate().year
    assert numbers == [f"平政发〔{year}〕{i}号" for i in (1, 2, 3)]
    assert other_code == f"平政函〔{year}〕1号"


def test_it_refuses_files_of_the_wrong_type_or_content(office: Office) -> None:
    with pytest.raises(DocumentError, match="只接受 PDF、OFD、Word"):
        draft_notice(office, body=SimpleUploadedFile("正文.exe", b"MZ\x90\x00"))
    with pytest.raises(DocumentError, match="文件内容与扩展名不符"):
        draft_notice(office, body=SimpleUploadedFile("正文.pdf", b"<html>not a pdf</html>"))
    with pytest.raises(DocumentError, match="文件为空"):
        draft_notice(office, body=SimpleUploadedFile("正文.pdf", b""))
    assert Document.objects.count() == 0


def test_it_accepts_ofd_and_word_files_with_their_digest(office: Office) -> None:
    doc = draft_notice(
        office,
        body=SimpleUploadedFile("正文.ofd", b"PK\x03\x04ofd-body"),
        attachments=[SimpleUploadedFile("附件1.docx", b"PK\x03\x04docx"), pdf("附件2.pdf")],
    )
    files = list(doc.files.order_by("kind", "id").values_list("kind", "name"))
    assert files == [("attachment", "附件1.docx"), ("attachment", "附件2.pdf"), ("body", "正文.ofd")]
    assert all(len(f.sm3) == 64 for f in doc.files.all())


def test_it_serves_a_file_checked_against_its_digest_and_refuses_a_tampered_one(
    office: Office, client_for: Any
) -> None:
    doc = draft_notice(office)
    row = doc.files.get()
    c = client_for(office.drafter)
    ok = c.get(f"/documents/files/{row.pk}/?inline=1")
    assert ok.status_code == 200 and b"".join(ok.streaming_content).startswith(b"%PDF")
    assert ok["Content-Disposition"].startswith("inline")
    with open(row.file.path, "ab") as fh:
        fh.write(b"tampered")
    bad = c.get(f"/documents/files/{row.pk}/")
    assert bad.status_code == 409
    assert "可能已被篡改" in bad.content.decode()
    assert AuditEvent.objects.filter(action="documents.file.tampered", object_id=str(row.pk)).exists()


def test_it_shows_a_draft_only_to_the_sending_units_staff(office: Office, client_for: Any) -> None:
    doc = draft_notice(office)
    row = doc.files.get()
    assert client_for(office.drafter).get(f"/documents/{doc.pk}/").status_code == 200
    for outsider in (office.clerk_a, office.cast.outsider):
        c = client_for(outsider)
        assert c.get(f"/documents/{doc.pk}/").status_code == 404
        assert c.get(f"/documents/{doc.pk + 1000}/").status_code == 404
        assert c.get(f"/documents/files/{row.pk}/").status_code == 404
        assert c.post(f"/documents/{doc.pk}/step/", {"opinion": "x"}).status_code == 404
    assert client_for(office.cast.citizen).get(f"/documents/{doc.pk}/").status_code == 403


def test_it_drafts_signs_off_and_sends_through_the_pages(office: Office, client_for: Any) -> None:
    c = client_for(office.drafter)
    response = c.post(
        "/documents/new/",
        {
            "unit": office.cast.city_gov.pk,
            "doc_type": "notice",
            "title": "关于开展安全生产检查的通知",
            "number_code": "平政办发",
            "secrecy": "none",
            "urgency": "urgent",
            "main_groups": [office.cast.groups["county_governments"].pk],
            "copy_units": [office.cast.city_supervision.pk],
            "body": pdf(),
        },
    )
    assert response.status_code == 302
    doc = Document.objects.get()
    assert doc.cc_to == "平凉市监察局"
    page = c.get(f"/documents/{doc.pk}/").content.decode()
    assert "送核稿" in page and "关于开展安全生产检查的通知" in page
    assert c.post(f"/documents/{doc.pk}/step/", {"opinion": "请核"}).status_code == 302
    for actor, opinion in (
        (office.reviewer, "同意"),
        (office.leader, "同意"),
        (office.drafter, ""),
        (office.drafter, ""),
    ):
        assert client_for(actor).post(f"/documents/{doc.pk}/step/", {"opinion": opinion}).status_code == 302
    assert c.post(f"/documents/{doc.pk}/step/", {"opinion": ""}).status_code == 302
    doc.refresh_from_db()
    assert doc.status == DocumentStatus.SENT
    assert DocumentReceipt.objects.filter(document=doc).count() == 3
    assert c.post(f"/documents/{doc.pk}/step/", {"opinion": ""}).status_code == 400


def test_it_previews_a_pdf_in_the_browser_page_and_only_for_those_who_may_read_it(
    office: Office, client_for: Any
) -> None:
    doc = draft_notice(office, attachments=[SimpleUploadedFile("附件.docx", b"PK\x03\x04docx")])
    pdf_row = doc.files.get(kind="body")
    word_row = doc.files.get(kind="attachment")
    c = client_for(office.drafter)
    page = c.get(f"/documents/files/{pdf_row.pk}/preview/").content.decode()
    assert "vendor/pdfjs/pdf.min.js" in page and f"/documents/files/{pdf_row.pk}/?inline=1" in page
    word = c.get(f"/documents/files/{word_row.pk}/preview/")
    assert word.status_code == 400 and "只有 PDF 文件可以在线预览" in word.content.decode()
    assert client_for(office.clerk_a).get(f"/documents/files/{pdf_row.pk}/preview/").status_code == 404
