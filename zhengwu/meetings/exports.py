"""The organizer's files: the attendee list (参会人员名单, Excel) and the sign-in sheet (签到表, PDF)."""

from __future__ import annotations

import io

from django.template.loader import render_to_string
from django.utils import timezone
from django.utils.translation import gettext as _
from openpyxl import Workbook
from openpyxl.cell import WriteOnlyCell
from openpyxl.styles import Font

from zhengwu.core.exports import _cell
from zhengwu.meetings.models import Meeting, field_value_label
from zhengwu.meetings.selectors import attendees_active


def attendee_headers(meeting: Meeting) -> list[str]:
    return [
        _("序号"),
        _("单位"),
        *[str(spec["label"]) for spec in meeting.field_specs()],
        _("代参会（代替）"),
        _("状态"),
        _("报名时间"),
        _("签到时间"),
    ]


def attendees_xlsx(meeting: Meeting, *, full_phones: bool = False) -> tuple[bytes, int]:
    """The attendee list; phones masked unless the organizer asked for full numbers (logistics)."""
    wb = Workbook(write_only=True)
    ws = wb.create_sheet(title=_("参会人员名单"))
    bold = Font(bold=True)
    title = WriteOnlyCell(ws, value=meeting.title)
    title.font = bold
    ws.append([title])
    header = []
    for text in attendee_headers(meeting):
        cell = WriteOnlyCell(ws, value=text)
        cell.font = bold
        header.append(cell)
    ws.append(header)
    specs = meeting.field_specs()
    rows = 0
    for rows, a in enumerate(attendees_active(meeting).iterator(chunk_size=2000), start=1):
        values = []
        for spec in specs:
            if spec["key"] == "phone":
                values.append(a.phone if full_phones else a.phone_masked)
            else:
                values.append(field_value_label(spec["key"], getattr(a, spec["key"])))
        ws.append(
            [
                _cell(v)
                for v in (
                    rows,
                    a.invitation.unit.name,
                    *values,
                    a.substitute_for,
                    a.get_status_display(),
                    timezone.localtime(a.registered_at).strftime("%Y-%m-%d %H:%M"),
                    timezone.localtime(a.checked_in_at).strftime("%Y-%m-%d %H:%M") if a.checked_in_at else "",
                )
            ]
        )
    out = io.BytesIO()
    wb.save(out)
    return out.getvalue(), rows


def signin_html(meeting: Meeting) -> str:
    attendees = [a for a in attendees_active(meeting) if a.status == "confirmed"]
    return render_to_string("meetings/signin_sheet.html", {"meeting": meeting, "attendees": attendees})


def signin_document(meeting: Meeting):  # type: ignore[no-untyped-def]
    """WeasyPrint's laid-out document (pages), before writing the PDF."""
    from weasyprint import HTML

    return HTML(string=signin_html(meeting)).render()


def signin_pdf(meeting: Meeting) -> bytes:
    """签到表: confirmed attendees by unit, a column to sign, in a Chinese font (Noto CJK)."""
    data: bytes = signin_document(meeting).write_pdf()
    return data


def document_text(document) -> str:  # type: ignore[no-untyped-def]
    """The text WeasyPrint laid out on the pages (to check what the PDF shows)."""
    parts: list[str] = []

    def walk(box) -> None:  # type: ignore[no-untyped-def]
        text = getattr(box, "text", None)
        if isinstance(text, str):
            parts.append(text)
        for child in getattr(box, "children", []) or []:
            walk(child)

    for page in document.pages:
        walk(page._page_box)
    return "".join(parts)
