"""Archives: a sent document exported as a package a records office can take."""

from __future__ import annotations

import io
import json
import zipfile
from typing import Any

import pytest

from zhengwu.core.models import AuditEvent
from zhengwu.documents import services
from zhengwu.documents.models import DocumentReceipt
from zhengwu.documents.tests.conftest import PDF, Office, draft_notice, send_notice
from zhengwu.lib.gmcrypto import sm3_hex

pytestmark = pytest.mark.django_db


def test_it_exports_files_metadata_receipts_trail_and_digests(office: Office, client_for: Any) -> None:
    doc = send_notice(office, retention="permanent")
    services.receipt_receive(
        actor=office.clerk_a, receipt=DocumentReceipt.objects.get(document=doc, unit=office.cast.county_a_gov)
    )
    response = client_for(office.drafter).get(f"/documents/{doc.pk}/archive.zip")
    assert response.status_code == 200 and response["Content-Type"] == "application/zip"
    zf = zipfile.ZipFile(io.BytesIO(response.content))
    names = set(zf.namelist())
    assert {"metadata.json", "SM3SUMS", "files/01-正文.pdf"} <= names
    assert zf.read("files/01-正文.pdf") == PDF
    meta = json.loads(zf.read("metadata.json"))
    assert meta["document"]["document_number"] == doc.document_number
    assert meta["document"]["retention"] == "permanent"
    assert [s["opinion"] for s in meta["steps"] if s["name"] == "签发"] == ["同意印发"]
    states = {r["unit__name"]: r["state"] for r in meta["receipts"]}
    assert states == {"崆峒区人民政府": "received", "泾川县人民政府": "delivered"}
    assert "documents.receipt.receive" in [t["action"] for t in meta["trail"]]
    for line in zf.read("SM3SUMS").decode().splitlines():
        digest, name = line.split("  ", 1)
        assert sm3_hex(zf.read(name)) == digest
    assert AuditEvent.objects.filter(action="documents.document.archive_export").count() == 1


def test_it_refuses_to_export_an_unsent_document_or_another_units(office: Office, client_for: Any) -> None:
    draft = draft_notice(office)
    refused = client_for(office.drafter).get(f"/documents/{draft.pk}/archive.zip")
    assert refused.status_code == 400 and "公文分发后才能归档导出" in refused.content.decode()
    sent = send_notice(office, title="另一份")
    assert client_for(office.clerk_a).get(f"/documents/{sent.pk}/archive.zip").status_code == 404


def test_it_refuses_an_unknown_retention_period(office: Office) -> None:
    with pytest.raises(services.DocumentError, match="保管期限无效"):
        draft_notice(office, retention="forever")
