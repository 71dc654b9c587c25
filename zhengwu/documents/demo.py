"""Demo documents (演示公文): the city government's notices to the county governments, in every exchange
state, and a county's request to the city. Registered as a step of `zhengwu demo` (zhengwu.core.demo)."""

from __future__ import annotations

import datetime as dt

from django.utils import timezone

from zhengwu.core.demo import DemoContext, DemoStep, register_step
from zhengwu.core.models import Unit, UnitKind, User
from zhengwu.documents.models import (
    Document,
    DocumentNumberCounter,
    DocumentReceipt,
    DocumentStatus,
    ReceiptState,
)
from zhengwu.documents.search import document_index, index_prune
from zhengwu.documents.services import document_digest, format_number, number_take

NOTICES = (
    "关于做好春季森林防火工作的通知",
    "关于开展安全生产大检查的通知",
    "关于印发《平凉市防汛抗旱应急预案》的通知",
    "关于做好元旦春节期间有关工作的通知",
)
STATES = (
    ReceiptState.RECEIVED,
    ReceiptState.RECEIVED,
    ReceiptState.READ,
    ReceiptState.DELIVERED,
    ReceiptState.REFUSED,
)


def _units(ctx: DemoContext) -> list[int]:
    return list(ctx.data.get("units", {}).values()) or list(Unit.objects.values_list("pk", flat=True))


def build(ctx: DemoContext) -> dict[str, int]:
    clerk = User.objects.filter(username="city_clerk").select_related("primary_unit").first()
    if clerk is None or clerk.primary_unit is None:
        return {"documents": 0}
    sender = clerk.primary_unit
    counties = list(
        Unit.objects.filter(kind=UnitKind.GOVERNMENT, level="county", is_active=True).exclude(pk=sender.pk)
    )
    rng = ctx.rng("documents")
    year = timezone.localdate().year
    receipts = 0
    for i, title in enumerate(NOTICES):
        seq = number_take(unit=sender, code="平政发", year=year)
        sent = ctx.now - dt.timedelta(days=3 * (len(NOTICES) - i))
        doc = Document.objects.create(
            unit=sender,
            doc_type="notice",
            status=DocumentStatus.SENT,
            number_code="平政发",
            number_year=year,
            number_seq=seq,
            document_number=format_number("平政发", year, seq),
            title=title,
            main_to="各县区人民政府",
            issuer_mark=f"{sender.name}文件",
            issuer_signature=sender.name,
            signer=User.objects.filter(username="city_leader").first(),
            signer_name="刘市长",
            written_on=sent.date(),
            sealed=True,
            sealed_at=sent,
            printed_by=f"{sender.name}办公室",
            printed_on=sent.date(),
            created_by=clerk,
            sent_at=sent,
        )
        doc.digest = document_digest(doc)
        doc.save(update_fields=["digest"])
        rows = []
        for unit in counties:
            state = rng.choice(STATES) if i < len(NOTICES) - 1 else ReceiptState.DELIVERED
            rows.append(
                DocumentReceipt(
                    document=doc,
                    unit=unit,
                    state=state,
                    title=title,
                    document_number=doc.document_number,
                    doc_type=doc.doc_type,
                    sender_name=sender.short_name or sender.name,
                    sent_at=sent,
                    first_sent_at=sent,
                    read_at=sent + dt.timedelta(hours=2) if state != ReceiptState.DELIVERED else None,
                    received_at=sent + dt.timedelta(hours=rng.randint(1, 40))
                    if state == ReceiptState.RECEIVED
                    else None,
                    received_by_name="文书" if state == ReceiptState.RECEIVED else "",
                    received_digest=doc.digest if state == ReceiptState.RECEIVED else "",
                    refused_at=sent + dt.timedelta(hours=3) if state == ReceiptState.REFUSED else None,
                    refuse_reason="附件不全，请补充后重发" if state == ReceiptState.REFUSED else "",
                    paper=unit.receives_paper,
                )
            )
        DocumentReceipt.objects.bulk_create(rows)
        document_index(doc)
        receipts += len(rows)
    return {"documents": len(NOTICES), "receipts": receipts}


def reset(ctx: DemoContext) -> dict[str, int]:
    units = _units(ctx)
    docs = Document.objects.filter(unit_id__in=units)
    receipts = DocumentReceipt.objects.filter(document__in=docs).count()
    n = docs.count()
    DocumentReceipt.objects.filter(document__in=docs).delete()
    docs.filter(reply_to__isnull=False).delete()
    docs.delete()
    DocumentNumberCounter.objects.filter(unit_id__in=units).delete()
    index_prune()
    return {"documents": n, "receipts": receipts}


register_step(DemoStep("documents", "公文交换 / document exchange", build, reset))
