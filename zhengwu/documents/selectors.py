"""Reads for official documents: access-checked lookups, the inbox, the sender's status, statistics."""

from __future__ import annotations

import datetime as dt
import re
from dataclasses import dataclass, field
from typing import Any

from django.db.models import Count, Q, QuerySet
from django.http import Http404
from django.utils.translation import gettext as _

from zhengwu.core import access
from zhengwu.core.models import Unit
from zhengwu.documents.models import (
    UNSIGNED_STATES,
    Document,
    DocumentFile,
    DocumentReceipt,
    ReceiptState,
)
from zhengwu.workdays.calendar import Limit, due_at

INBOX_PAGE = 50
NUMBER_RE = re.compile(r"^\S+〔\d{4}〕\d+号$")


def _pk(value: Any) -> int:
    try:
        return int(value)
    except (TypeError, ValueError):
        raise Http404(_("公文不存在或无权访问")) from None


def document_get_for_user(user: Any, document_id: Any) -> Document:
    """An outgoing document, for staff of the sending unit only; 404 otherwise (existing or not)."""
    doc = Document.objects.select_related("unit", "signer", "created_by").filter(pk=_pk(document_id)).first()
    if doc is None or not access.can_view_unit_work(user, doc.unit):
        raise Http404(_("公文不存在或无权访问"))
    return doc


def receipt_get_for_user(user: Any, receipt_id: Any) -> DocumentReceipt:
    """A unit's incoming copy, for that unit's staff only; recalled copies are gone from its view."""
    receipt = (
        DocumentReceipt.objects.select_related("document", "document__unit", "unit", "received_by")
        .filter(pk=_pk(receipt_id))
        .exclude(state=ReceiptState.RECALLED)
        .first()
    )
    if receipt is None or not access.can_view_unit_work(user, receipt.unit):
        raise Http404(_("公文不存在或无权访问"))
    return receipt


def incoming_record_get_for_user(user: Any, record_id: Any) -> Any:
    """A registered incoming document (收文登记), for the receiving unit's staff only; 404 otherwise."""
    from zhengwu.documents.models import IncomingRecord

    record = (
        IncomingRecord.objects.select_related(
            "receipt", "receipt__document", "receipt__document__unit", "unit"
        )
        .filter(pk=_pk(record_id))
        .first()
    )
    if record is None or not access.can_view_unit_work(user, record.unit):
        raise Http404(_("公文不存在或无权访问"))
    return record


def file_get_for_user(user: Any, file_id: Any) -> DocumentFile:
    """A file of a document the user's unit sent, or received (not recalled)."""
    row = DocumentFile.objects.select_related("document", "document__unit").filter(pk=_pk(file_id)).first()
    if row is None:
        raise Http404(_("文件不存在或无权访问"))
    units = access.user_unit_ids(user)
    allowed = row.document.unit_id in units or access.is_system_admin(user)
    if not allowed and row.document.sent_at is not None:
        allowed = (
            DocumentReceipt.objects.filter(document_id=row.document_id, unit_id__in=units)
            .exclude(state=ReceiptState.RECALLED)
            .exists()
        )
    if not allowed:
        raise Http404(_("文件不存在或无权访问"))
    return row


def user_units(user: Any) -> list[Unit]:
    return list(Unit.objects.filter(pk__in=access.user_unit_ids(user), is_active=True).order_by("path"))


def outgoing_for(user: Any, *, status: str = "") -> QuerySet[Document]:
    rows = Document.objects.filter(unit_id__in=access.user_unit_ids(user)).select_related("unit")
    if status:
        rows = rows.filter(status=status)
    return rows.order_by("-created_at", "-id")


INBOX_FIELDS = (
    "id",
    "document_id",
    "title",
    "document_number",
    "doc_type",
    "urgency",
    "sender_name",
    "state",
    "sent_at",
    "role",
    "paper",
)


def inbox(
    unit: Unit | int,
    *,
    state: str = "",
    query: str = "",
    doc_type: str = "",
    before: dt.datetime | None = None,
    limit: int = INBOX_PAGE,
) -> list[dict[str, Any]]:
    """A unit's incoming copies, newest first (index: unit, state, -sent_at). ``state`` "pending" means
    not yet signed; ``before`` pages by time (keyset, no OFFSET)."""
    unit_id = unit if isinstance(unit, int) else unit.pk
    rows = DocumentReceipt.objects.filter(unit_id=unit_id)
    if state == "pending":
        rows = rows.filter(state__in=UNSIGNED_STATES)
    elif state:
        rows = rows.filter(state=state)
    else:
        rows = rows.exclude(state=ReceiptState.RECALLED)
    if doc_type:
        rows = rows.filter(doc_type=doc_type)
    if query and NUMBER_RE.match(query):
        rows = rows.filter(document_number=query)  # a whole 发文字号: straight from the (unit, number) index
    elif query:
        rows = rows.filter(Q(title__contains=query) | Q(document_number__contains=query))
    if before is not None:
        rows = rows.filter(sent_at__lt=before)
    return list(rows.order_by("-sent_at", "-id").values(*INBOX_FIELDS)[:limit])


def inbox_pending_count(unit: Unit | int) -> int:
    unit_id = unit if isinstance(unit, int) else unit.pk
    return DocumentReceipt.objects.filter(unit_id=unit_id, state__in=UNSIGNED_STATES).count()


@dataclass
class ExchangeStatus:
    total: int
    counts: dict[str, int]
    signed: int
    sign_rate: float  # 0..100
    rows: list[DocumentReceipt]


def exchange_status(document: Document, *, state: str = "") -> ExchangeStatus:
    """The sender's live view: every recipient's state and the sign rate (签收率, recalled copies excluded)."""
    counts = {
        r["state"]: r["n"]
        for r in DocumentReceipt.objects.filter(document=document).values("state").annotate(n=Count("id"))
    }
    total = sum(n for s, n in counts.items() if s != ReceiptState.RECALLED)
    signed = counts.get(ReceiptState.RECEIVED, 0)
    rows = DocumentReceipt.objects.filter(document=document).select_related("unit").order_by("unit__path")
    if state == "pending":
        rows = rows.filter(state__in=UNSIGNED_STATES)
    elif state:
        rows = rows.filter(state=state)
    return ExchangeStatus(
        total=total,
        counts=counts,
        signed=signed,
        sign_rate=round(100.0 * signed / total, 1) if total else 0.0,
        rows=list(rows[:2000]),
    )


# --- Statistics (the assessment subsystem reads these) -----------------------------------------------


@dataclass
class UnitDocumentStats:
    unit_id: int
    received: int  # copies delivered to the unit in the period (recalled ones excluded)
    signed: int
    signed_within_one_workday: int
    average_sign_hours: float | None
    refused: int

    @property
    def sign_rate(self) -> float:
        return round(100.0 * self.signed / self.received, 1) if self.received else 0.0

    @property
    def prompt_rate(self) -> float:
        return round(100.0 * self.signed_within_one_workday / self.signed, 1) if self.signed else 0.0


ONE_WORKDAY = Limit.parse("1wd")


def units_document_stats(
    unit_ids: list[int], start: dt.datetime, end: dt.datetime
) -> dict[int, UnitDocumentStats]:
    """Per unit, copies first sent in [start, end): received, signed, signed within one working day (the
    day it arrived counts as day zero: signed by the end of the next working day), average time to sign,
    refused. One query for all the units."""
    out = {uid: UnitDocumentStats(uid, 0, 0, 0, None, 0) for uid in unit_ids}
    hours: dict[int, list[float]] = {}
    rows = (
        DocumentReceipt.objects.filter(unit_id__in=unit_ids, first_sent_at__gte=start, first_sent_at__lt=end)
        .exclude(state=ReceiptState.RECALLED)
        .values_list("unit_id", "state", "sent_at", "received_at")
    )
    for unit_id, state, sent_at, received_at in rows.iterator(chunk_size=5000):
        s = out[unit_id]
        s.received += 1
        if state == ReceiptState.REFUSED:
            s.refused += 1
        elif state == ReceiptState.RECEIVED and received_at is not None:
            s.signed += 1
            if received_at <= due_at(sent_at, ONE_WORKDAY):
                s.signed_within_one_workday += 1
            hours.setdefault(unit_id, []).append((received_at - sent_at).total_seconds() / 3600)
    for unit_id, values in hours.items():
        out[unit_id].average_sign_hours = round(sum(values) / len(values), 1)
    return out


def unit_document_stats(unit: Unit | int, start: dt.datetime, end: dt.datetime) -> UnitDocumentStats:
    unit_id = unit if isinstance(unit, int) else unit.pk
    return units_document_stats([unit_id], start, end)[unit_id]


# --- Receiving inside a unit (收文办理) ----------------------------------------------------------------


@dataclass
class IncomingOverview:
    steps: list[Any]  # every to-do of the handling, in order, with its holder, opinion and dates
    parts: list[Any]  # the current round's departments, each with its to-do (status, due date, card)
    readings: list[Any]  # 传阅: who was sent it, by whom, when, and when they read it
    comments: list[Any]  # 阅办意见
    departments: list[tuple[Any, list[Any]]]  # for the 批办 form: the unit's departments and their staff
    colleagues: list[Any]  # for the 传阅 form
    # 科室内改派 and 延长办理时限 of the departments' to-dos (flow events with their reasons), oldest first
    adjustments: list[Any] = field(default_factory=list)


def incoming_overview(record: Any, *, with_choices: bool = False) -> IncomingOverview:
    """What the record page shows: each step's opinion, each department's status and due date, and who
    has read the document."""
    from zhengwu.core.models import Department
    from zhengwu.documents.models import IncomingComment, IncomingPart
    from zhengwu.documents.services import department_members
    from zhengwu.flow.models import InstanceEvent, ReadItem, Task
    from zhengwu.flow.selectors import unit_colleagues

    steps: list[Any] = []
    readings: list[Any] = []
    if record.instance_id:
        steps = list(
            Task.objects.filter(instance_id=record.instance_id)
            .select_related("assignee", "completed_by", "unit")
            .order_by("started_at", "id")
        )
        readings = list(
            ReadItem.objects.filter(instance_id=record.instance_id)
            .select_related("recipient", "sent_by")
            .order_by("created_at", "id")
        )
    parts = list(
        IncomingPart.objects.filter(record=record, round=record.instruct_round)
        .select_related("department", "handler", "task", "task__assignee", "task__completed_by")
        .order_by("-role", "id")
    )
    comments = list(IncomingComment.objects.filter(record=record).select_related("author").order_by("id"))
    departments: list[tuple[Any, list[Any]]] = []
    colleagues: list[Any] = []
    if with_choices:
        units_departments = list(Department.objects.filter(unit_id=record.unit_id).order_by("sort", "id"))
        members = department_members(d.pk for d in units_departments)
        departments = [(d, members[d.pk]) for d in units_departments]
        colleagues = unit_colleagues(record.unit_id)
    adjustments: list[Any] = []
    if record.instance_id:
        adjustments = list(
            InstanceEvent.objects.filter(
                instance_id=record.instance_id, action__in=("transferred", "extended"), task__step_id="handle"
            )
            .select_related("actor")
            .order_by("at", "id")
        )
    return IncomingOverview(steps, parts, readings, comments, departments, colleagues, adjustments)
