"""Excel exports (导出). Written row by row (openpyxl write-only mode) so memory stays flat."""

from __future__ import annotations

import json
import tempfile
from typing import IO, Any

from django.db.models import QuerySet
from django.utils import timezone
from django.utils.translation import gettext as _
from openpyxl import Workbook
from openpyxl.cell import WriteOnlyCell
from openpyxl.styles import Font

from zhengwu.core.models import AuditEvent
from zhengwu.lib.masking import mask_contact, mask_email, mask_id_number, mask_phone

# Keys whose values are personal data in before/after snapshots, wherever an app put them.
_SECRET_KEYS = ("password", "secret", "token", "code_hash", "otp")
_MASKERS = (
    ("mobile", mask_phone),
    ("email", mask_email),
    ("id_number", mask_id_number),
    ("id_card", mask_id_number),
    ("contact", mask_contact),
)


def _mask_value(key: str, value: Any) -> Any:
    lowered = key.lower()
    if any(s in lowered for s in _SECRET_KEYS):
        return "******" if value else value
    for needle, masker in _MASKERS:
        if needle in lowered and isinstance(value, str) and value:
            return masker(value)
    return mask_personal(value)


def mask_personal(value: Any) -> Any:
    """A before/after snapshot with personal data masked, at any depth (脱敏)."""
    if isinstance(value, dict):
        return {k: _mask_value(str(k), v) for k, v in value.items()}
    if isinstance(value, list):
        return [mask_personal(v) for v in value]
    return value


def _json(value: Any) -> str:
    if value is None:
        return ""
    return json.dumps(mask_personal(value), ensure_ascii=False, sort_keys=True)


def _cell(value: Any) -> Any:
    """Text that Excel would run as a formula (=, +, -, @ …) is kept as text (formula injection)."""
    if isinstance(value, str) and value[:1] in ("=", "+", "-", "@", "\t", "\r"):
        return "'" + value
    return value


def audit_headers() -> list[str]:
    return [
        _("序号"),
        _("时间"),
        _("人员"),
        _("人员ID"),
        _("单位"),
        _("单位ID"),
        _("来源地址"),
        _("操作"),
        _("对象类型"),
        _("对象ID"),
        _("对象"),
        _("变更前"),
        _("变更后"),
        _("摘要(SM3)"),
    ]


def audit_events_xlsx(events: QuerySet[AuditEvent], *, limit: int) -> tuple[IO[bytes], int]:
    """The events as an .xlsx file (Chinese headers, personal data masked) and the number of rows."""
    wb = Workbook(write_only=True)
    ws = wb.create_sheet(title=_("留痕记录"))
    widths = [10, 20, 14, 8, 24, 8, 16, 22, 18, 10, 30, 50, 50, 20]
    for i, width in enumerate(widths):
        ws.column_dimensions[chr(ord("A") + i)].width = width
    bold = Font(bold=True)
    header = []
    for title in audit_headers():
        cell = WriteOnlyCell(ws, value=title)
        cell.font = bold
        header.append(cell)
    ws.append(header)
    rows = 0
    tz = timezone.get_current_timezone()
    for e in events[:limit].iterator(chunk_size=2000):
        ws.append(
            [
                _cell(v)
                for v in (
                    e.seq,
                    e.at.astimezone(tz).strftime("%Y-%m-%d %H:%M:%S"),
                    e.actor_label,
                    e.actor_id,
                    e.unit_label,
                    e.unit_id,
                    e.ip,
                    e.action,
                    e.object_type,
                    e.object_id,
                    e.object_label,
                    _json(e.before),
                    _json(e.after),
                    e.digest[:16],
                )
            ]
        )
        rows += 1
    out: IO[bytes] = tempfile.SpooledTemporaryFile(max_size=8 * 1024 * 1024)  # noqa: SIM115
    wb.save(out)
    out.seek(0)
    return out, rows
