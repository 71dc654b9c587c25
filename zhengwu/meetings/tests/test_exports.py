"""The organizer's files: the Excel attendee list (masked phones unless asked, audited) and the PDF
sign-in sheet in a Chinese font."""

from __future__ import annotations

import io
from typing import Any

import pytest
from django.urls import reverse
from openpyxl import load_workbook

from zhengwu.core.models import AuditEvent
from zhengwu.meetings import exports, services
from zhengwu.meetings.tests.helpers import clerks, invitation, make_meeting, person
from zhengwu.meetings.tests.pdftext import pdf_fonts, pdf_text

pytestmark = pytest.mark.django_db


def _registered(cast: Any) -> Any:
    people = clerks(cast)
    meeting = make_meeting(cast, total_cap=2)
    info, sup = invitation(meeting, cast.city_info_office), invitation(meeting, cast.city_supervision)
    services.attendee_register(actor=people["info"], invitation=info, data=person("韩主任"))
    services.attendee_register(
        actor=people["sup"],
        invitation=sup,
        data=person("欧阳明", phone="13700001111", substitute_for="王局长"),
    )
    services.attendee_register(actor=people["sup"], invitation=sup, data=person("候补人"))
    return meeting


def test_it_exports_the_attendee_list_with_chinese_headers_and_masked_phones(
    cast: Any, client_for: Any
) -> None:
    meeting = _registered(cast)
    response = client_for(cast.city_clerk).get(reverse("meetings:export", args=[meeting.pk]))
    assert response.status_code == 200
    ws = load_workbook(io.BytesIO(response.content)).active
    rows = list(ws.iter_rows(values_only=True))
    assert rows[0][0] == "全市政务信息化工作推进会"
    assert rows[1][:5] == ("序号", "单位", "姓名", "职务", "手机号")
    body = rows[2:]
    assert [r[2] for r in body] == ["韩主任", "欧阳明", "候补人"]
    assert body[0][4] == "139****5678" and body[1][4] == "137****1111"
    assert body[1][5] == "王局长" and body[2][6] == "候补"
    event = AuditEvent.objects.get(action="meeting.export")
    assert event.after == {"rows": 3, "full_phones": False}


def test_it_exports_full_phones_for_logistics_and_records_it(cast: Any, client_for: Any) -> None:
    meeting = _registered(cast)
    response = client_for(cast.city_clerk).get(reverse("meetings:export", args=[meeting.pk]) + "?full=1")
    ws = load_workbook(io.BytesIO(response.content)).active
    phones = [row[4] for row in ws.iter_rows(min_row=3, values_only=True)]
    assert phones == ["13912345678", "13700001111", "13912345678"]
    event = AuditEvent.objects.get(action="meeting.export.full_phones")
    assert event.actor_id == cast.city_clerk.pk and event.after["full_phones"] is True


def test_it_prints_a_sign_in_sheet_with_the_names_in_a_chinese_font(cast: Any, client_for: Any) -> None:
    meeting = _registered(cast)
    document = exports.signin_document(meeting)
    laid_out = exports.document_text(document)
    assert "韩主任" in laid_out and "欧阳明" in laid_out and "代王局长参会" in laid_out
    assert "候补人" not in laid_out  # the waitlist does not sign in
    response = client_for(cast.city_clerk).get(reverse("meetings:signin_pdf", args=[meeting.pk]))
    assert response.status_code == 200 and response["Content-Type"] == "application/pdf"
    assert response.content.startswith(b"%PDF")
    fonts = pdf_fonts(response.content)
    assert "Noto-Sans-CJK-SC" in fonts and any(f.startswith("Noto-Serif-CJK-SC") for f in fonts), fonts
    text = pdf_text(response.content)
    assert "韩主任" in text and "欧阳明" in text and "签到表" in text
