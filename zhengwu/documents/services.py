"""Writes for official documents: drafting on the process engine (拟稿 → 核稿 → 签发 → 编号 → 用印 → 分发),
document numbers, the fan-out to recipient units and the exchange (签收 / 退文 / 重发 / 撤回 / 催办).

Each function is one transaction with its trail record; notices are written in it (their SMS go out on
commit). The fan-out writes every recipient row of a distribution in one transaction (all or none) and is
idempotent: (document, unit) is unique and a retry only adds the units still missing.
"""

from __future__ import annotations

import json
import os
import time
from collections.abc import Iterable, Sequence
from functools import lru_cache
from pathlib import Path
from typing import Any

from django.core.files.uploadedfile import UploadedFile
from django.db import IntegrityError, transaction
from django.db.models import Q
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _

from zhengwu.core import access
from zhengwu.core.audit import audit_record
from zhengwu.core.models import Department, Unit, UnitGroup, UnitRole, UnitRoleKind
from zhengwu.core.selectors import unit_group_members
from zhengwu.documents.models import (
    UNSIGNED_STATES,
    UPWARD_TYPES,
    DocType,
    Document,
    DocumentFile,
    DocumentNumberCounter,
    DocumentReceipt,
    DocumentRecipient,
    DocumentStatus,
    FileKind,
    IncomingComment,
    IncomingPart,
    IncomingRecord,
    IncomingStatus,
    PartRole,
    ReceiptState,
    RecipientRole,
    Retention,
    Secrecy,
    Urgency,
)
from zhengwu.documents.search import document_index
from zhengwu.flow import selectors as flow_selectors
from zhengwu.flow import services as flow_services
from zhengwu.flow.engine import FlowError
from zhengwu.flow.models import (
    AssignKind,
    ClockStop,
    ProcessDefinition,
    ProcessInstance,
    ReadItem,
    Task,
    TaskStatus,
)
from zhengwu.lib.gmcrypto import Sm3Stream, sm3_hex

PROCESS_KEY = "document_outgoing"
PROCESS_FILE = Path(__file__).resolve().parent / "processes" / "document_outgoing.bpmn"
MAX_FILE_BYTES = 50 * 1024 * 1024
MAX_ATTACHMENTS = 20
MAX_REASON = 500
FANOUT_CHUNK = 1000
# Test hook: seconds to wait after each recipient row (lets a test kill a fan-out half-way through).
FANOUT_DELAY_ENV = "ZHENGWU_DOCUMENTS_FANOUT_DELAY"

CLASSIFIED_MESSAGE = _(
    "本平台仅传输非涉密公文：秘密、机密、绝密公文严禁在本平台制发、传输或存储，请通过涉密渠道办理。"
)

# Accepted files: extension → (content type, leading bytes it must start with).
FILE_TYPES: dict[str, tuple[str, tuple[bytes, ...]]] = {
    "pdf": ("application/pdf", (b"%PDF-",)),
    "ofd": ("application/ofd", (b"PK\x03\x04",)),
    "docx": (
        "application/vnd.openxmlformats-officedocument.wordprocessingml.document",
        (b"PK\x03\x04",),
    ),
    "doc": ("application/msword", (b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1",)),
    "wps": ("application/vnd.ms-works", (b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1",)),
}


class DocumentError(Exception):
    """Bad input or wrong state, explained to the user in Chinese (answered with a 4xx)."""


def _require(cond: bool, message: str) -> None:
    if not cond:
        raise PermissionError(message)


def _check(cond: bool, message: str) -> None:
    if not cond:
        raise DocumentError(message)


def refuse_classified(secrecy: str) -> None:
    """Every entry point calls this: anything but 非密 is refused with the same clear message."""
    if (secrecy or Secrecy.NONE) != Secrecy.NONE:
        raise DocumentError(str(CLASSIFIED_MESSAGE))


# --- Process definition ------------------------------------------------------------------------------


INCOMING_KEY = "document_incoming"


@lru_cache(maxsize=4)
def _process_text(key: str) -> tuple[str, str]:
    text = (PROCESS_FILE.parent / f"{key}.bpmn").read_text(encoding="utf-8")
    return text, flow_services.definition_checksum(text, {})


def process_publish(key: str = PROCESS_KEY) -> ProcessDefinition:
    """A documents process, published from the repository's file when missing or changed."""
    text, checksum = _process_text(key)
    latest = flow_selectors.definition_latest(key)
    if latest is not None and latest.checksum == checksum:
        return latest
    definition, _created = flow_services.definition_publish(
        actor=None, bpmn_xml=text, filename=f"{key}.bpmn", source="repository", from_command=True
    )
    return definition


# --- Files --------------------------------------------------------------------------------------------


def file_validate(upload: UploadedFile) -> tuple[str, str]:
    """(extension, content type) of an acceptable body/attachment file, or a clear refusal."""
    name = (upload.name or "").strip()
    _check(bool(name) and len(name) <= 200, _("文件名不能为空，且不超过 200 字"))
    ext = name.rsplit(".", 1)[-1].lower() if "." in name else ""
    _check(ext in FILE_TYPES, _("只接受 PDF、OFD、Word（doc/docx/wps）格式的文件：%(name)s") % {"name": name})
    size = upload.size or 0
    _check(size > 0, _("文件为空：%(name)s") % {"name": name})
    _check(size <= MAX_FILE_BYTES, _("文件超过 50 MB：%(name)s") % {"name": name})
    content_type, magics = FILE_TYPES[ext]
    upload.seek(0)
    head = upload.read(8)
    upload.seek(0)
    _check(
        any(head.startswith(m) for m in magics),
        _("文件内容与扩展名不符（不是有效的 %(ext)s 文件）：%(name)s") % {"ext": ext.upper(), "name": name},
    )
    return ext, content_type


def _file_sm3(fileobj: Any) -> str:
    digest = Sm3Stream()
    fileobj.seek(0)
    for chunk in iter(lambda: fileobj.read(1024 * 1024), b""):
        digest.update(chunk)
    fileobj.seek(0)
    return digest.hexdigest()


def _file_store(document: Document, upload: UploadedFile, kind: str, actor: Any) -> DocumentFile:
    ext, content_type = file_validate(upload)
    digest = _file_sm3(upload)
    row = DocumentFile(
        document=document,
        kind=kind,
        name=upload.name[:200] if upload.name else f"file.{ext}",
        content_type=content_type,
        size=upload.size or 0,
        sm3=digest,
        uploaded_by=actor,
    )
    # The stored name is random: the original name never reaches the file system.
    row.file.save(f"{os.urandom(12).hex()}.{ext}", upload, save=False)
    row.save(force_insert=True)
    return row


def file_verify(row: DocumentFile) -> bool:
    """Does the stored file still have the digest recorded at upload (防篡改)?"""
    try:
        with row.file.open("rb") as fh:
            return _file_sm3(fh) == row.sm3
    except (FileNotFoundError, OSError):
        return False


def file_tampered(*, actor: Any, row: DocumentFile) -> None:
    """Record a refused download of a file that no longer matches its digest."""
    audit_record(
        action="documents.file.tampered",
        obj=row,
        after={"document": row.document_id, "expected_sm3": row.sm3},
        actor=actor,
        unit=row.document.unit,
    )


@transaction.atomic
def document_file_add(*, actor: Any, document: Document, upload: UploadedFile, kind: str) -> DocumentFile:
    """Add the body or an attachment while the document is still being drafted or checked."""
    _require(access.can_view_unit_work(actor, document.unit), _("只能修改本单位的公文"))
    document = Document.objects.select_for_update().get(pk=document.pk)
    _check(
        document.status in {DocumentStatus.DRAFT, DocumentStatus.CHECK},
        _("公文已签发，不能再更换文件"),
    )
    _check(kind in FileKind.values, _("文件类别无效"))
    if kind == FileKind.BODY:
        document.files.filter(kind=FileKind.BODY).delete()
    else:
        _check(
            document.files.filter(kind=FileKind.ATTACHMENT).count() < MAX_ATTACHMENTS,
            _("附件最多 %(n)s 个") % {"n": MAX_ATTACHMENTS},
        )
    row = _file_store(document, upload, kind, actor)
    audit_record(
        action="documents.file.add",
        obj=row,
        after={"document": document.pk, "kind": kind, "sm3": row.sm3, "size": row.size},
        actor=actor,
        unit=document.unit,
    )
    return row


# --- Drafting -----------------------------------------------------------------------------------------


def _units_active(ids: Iterable[Any]) -> list[Unit]:
    wanted = {int(i) for i in ids}
    units = list(Unit.objects.filter(pk__in=wanted, is_active=True))
    _check(len(units) == len(wanted), _("收文单位不存在或已停用"))
    return units


def _groups(ids: Iterable[Any]) -> list[UnitGroup]:
    wanted = {int(i) for i in ids}
    groups = list(UnitGroup.objects.filter(pk__in=wanted))
    _check(len(groups) == len(wanted), _("收文单位组不存在"))
    return groups


def _names(units: Sequence[Unit], groups: Sequence[UnitGroup]) -> str:
    return "、".join([g.name for g in groups] + [u.name for u in units])[:500]


@transaction.atomic
def document_create(
    *,
    actor: Any,
    unit: Unit,
    doc_type: str,
    title: str,
    number_code: str,
    secrecy: str = Secrecy.NONE,
    urgency: str = Urgency.NORMAL,
    main_units: Sequence[Any] = (),
    main_groups: Sequence[Any] = (),
    copy_units: Sequence[Any] = (),
    copy_groups: Sequence[Any] = (),
    body: UploadedFile | None = None,
    attachments: Sequence[UploadedFile] = (),
    reply_to: DocumentReceipt | None = None,
    body_text: str = "",
    attachment_note: str = "",
    remark: str = "",
    copy_no: str = "",
    written_on: Any = None,
    retention: str = Retention.YEARS_10,
    answers: IncomingRecord | None = None,
) -> Document:
    """拟稿: a new outgoing document of ``unit`` and its sending process (the draft step is the drafter's).

    ``answers``: the received document this one replies to (答复); the record then links to it, a 请示
    is answered by a 批复 linked to the request, anything else by default goes back to its sender."""
    refuse_classified(secrecy)
    _require(access.is_staff_user(actor), _("只有工作人员可以拟稿"))
    _require(access.can_view_unit_work(actor, unit), _("只能以本单位名义拟稿"))
    title = (title or "").strip()
    _check(bool(title) and len(title) <= 200, _("标题不能为空，且不超过 200 字"))
    _check(doc_type in DocType.values, _("请选择文种"))
    _check(urgency in Urgency.values, _("紧急程度无效"))
    _check(retention in Retention.values, _("保管期限无效"))
    number_code = (number_code or "").strip()
    _check(
        bool(number_code) and len(number_code) <= 16 and not any(c in number_code for c in "〔〕[]"),
        _("请填写发文代字（如“平政发”），不超过 16 字"),
    )
    _check(len(attachments) <= MAX_ATTACHMENTS, _("附件最多 %(n)s 个") % {"n": MAX_ATTACHMENTS})
    mu, mg, cu, cg = (
        _units_active(main_units),
        _groups(main_groups),
        _units_active(copy_units),
        _groups(copy_groups),
    )
    request_doc: Document | None = None
    if answers is not None:
        _check(answers.unit_id == unit.pk, _("只能答复本单位登记的收文"))
        _check(
            answers.status in {IncomingStatus.HANDLE, IncomingStatus.REPLY},
            _("收文在承办或答复环节时才能起草答复文件"),
        )
        if answers.receipt.doc_type == DocType.REQUEST and doc_type == DocType.REPLY:
            reply_to = answers.receipt
        elif not (mu or mg) and answers.receipt.document.unit.is_active:
            mu = [answers.receipt.document.unit]
    if doc_type == DocType.REPLY:
        _check(reply_to is not None, _("批复必须针对本单位收到的一份请示"))
    if reply_to is not None:
        _check(reply_to.unit_id == unit.pk, _("只能答复本单位收到的请示"))
        _check(reply_to.doc_type == DocType.REQUEST, _("只能对请示作出批复"))
        _check(doc_type == DocType.REPLY, _("答复请示的文种应为批复"))
        request_doc = reply_to.document
        if not (mu or mg):
            mu = [request_doc.unit]
    if doc_type in UPWARD_TYPES:
        # 上行文 goes to the superior unit (一文一主送); it is filled in when the drafter gave none.
        _check(unit.parent_id is not None, _("本单位没有上级单位，不能报送请示或报告"))
        if not (mu or mg):
            mu = [unit.parent]  # type: ignore[list-item]
        _check(
            not mg and [u.pk for u in mu] == [unit.parent_id],
            _("请示、报告只能主送上级单位：%(name)s") % {"name": unit.parent.name if unit.parent else ""},
        )
    _check(bool(mu or mg), _("请至少选择一个主送单位或单位组"))
    doc = Document.objects.create(
        unit=unit,
        doc_type=doc_type,
        status=DocumentStatus.DRAFT,
        secrecy=Secrecy.NONE,
        urgency=urgency,
        copy_no=(copy_no or "")[:16],
        issuer_mark=f"{unit.name}文件"[:128],
        number_code=number_code,
        title=title,
        main_to=_names(mu, mg),
        cc_to=_names(cu, cg),
        body_text=(body_text or "")[:20000],
        attachment_note=(attachment_note or "")[:500],
        issuer_signature=unit.name,
        printed_by=f"{unit.name}办公室"[:128],
        remark=(remark or "")[:500],
        written_on=written_on,
        reply_to=request_doc,
        retention=retention,
        created_by=actor,
    )
    DocumentRecipient.objects.bulk_create(
        [DocumentRecipient(document=doc, role=RecipientRole.MAIN, unit=u) for u in mu]
        + [DocumentRecipient(document=doc, role=RecipientRole.MAIN, group=g) for g in mg]
        + [DocumentRecipient(document=doc, role=RecipientRole.COPY, unit=u) for u in cu]
        + [DocumentRecipient(document=doc, role=RecipientRole.COPY, group=g) for g in cg]
    )
    document_index(doc)  # 公文检索: the title is searchable by its unit from the draft on
    if body is not None:
        _file_store(doc, body, FileKind.BODY, actor)
    for upload in attachments:
        _file_store(doc, upload, FileKind.ATTACHMENT, actor)
    process_publish()
    instance = flow_services.process_start(
        actor=actor, key=PROCESS_KEY, business=doc, unit=unit, title=f"{doc.get_doc_type_display()}：{title}"
    )
    Document.objects.filter(pk=doc.pk).update(instance_id=instance.pk)
    doc.instance_id = instance.pk
    if answers is not None:
        IncomingRecord.objects.filter(pk=answers.pk).update(reply_document=doc)
    audit_record(
        action="documents.document.create",
        obj=doc,
        after={
            "doc_type": doc_type,
            "title": title,
            "main": doc.main_to,
            "copy": doc.cc_to,
            "reply_to": request_doc.pk if request_doc else None,
            "answers": answers.pk if answers is not None else None,
        },
        actor=actor,
        unit=unit,
    )
    return doc


def document_open_task(document: Document) -> Task | None:
    if document.instance_id is None:
        return None
    return (
        Task.objects.filter(instance_id=document.instance_id, status=TaskStatus.OPEN)
        .select_related("assignee")
        .order_by("id")
        .first()
    )


def document_step_complete(*, actor: Any, document: Document, opinion: str = "") -> Document:
    """Complete the document's current step (核稿 / 签发 / 编号 / 用印 / 分发 …) with an opinion.

    The step's business effect (the signer, the number, the seal, the fan-out) happens in the same
    transaction through the process engine's handler below.
    """
    _require(access.can_view_unit_work(actor, document.unit), _("只能办理本单位的公文"))
    _check(len(opinion or "") <= 1000, _("意见不超过 1000 字"))
    with transaction.atomic():
        task = document_open_task(document)
        _check(task is not None, _("该公文当前没有待办环节，请刷新页面"))
        assert task is not None
        if task.step_id in {"check", "sign_off"}:
            _check(bool((opinion or "").strip()), _("请填写%(step)s意见") % {"step": task.name})
        flow_services.task_complete(actor=actor, task=task, opinion=opinion or "")
    document.refresh_from_db()
    return document


def _document_changed(instance: ProcessInstance, event: str, task: Task | None) -> None:
    """The document follows its process: each step's effect, and the status from the open step."""
    doc = Document.objects.select_for_update().get(pk=int(instance.business_id))
    actor = task.completed_by if task is not None else None
    if event == "step" and task is not None:
        if task.step_id == "sign_off":
            doc.signer = actor
            doc.signer_name = actor.name if actor else ""
            doc.written_on = doc.written_on or timezone.localdate()
            doc.save(update_fields=["signer", "signer_name", "written_on"])
        elif task.step_id == "number":
            _number_assign(doc, actor)
        elif task.step_id == "seal":
            doc.sealed = True
            doc.sealed_at = timezone.now()
            doc.printed_on = timezone.localdate()
            doc.save(update_fields=["sealed", "sealed_at", "printed_on"])
        elif task.step_id == "distribute":
            _distribute(doc, actor)
    status: str
    if event == "completed":
        status = DocumentStatus.SENT
    elif event == "cancelled":
        status = DocumentStatus.CANCELLED
    else:
        open_step = (
            Task.objects.filter(instance=instance, status=TaskStatus.OPEN)
            .values_list("step_id", flat=True)
            .first()
        )
        status = open_step if open_step and open_step in DocumentStatus.values else doc.status
    if status != doc.status:
        Document.objects.filter(pk=doc.pk).update(status=status)


flow_services.business_handler_register("documents.document", _document_changed)


# --- Numbers ------------------------------------------------------------------------------------------


def number_take(*, unit: Unit | int, code: str, year: int) -> int:
    """The next number of (unit, 代字, year), inside the caller's transaction: the counter row is locked
    (select_for_update; on SQLite the IMMEDIATE transaction already holds the write lock), so concurrent
    sign-offs queue, and a rolled-back step gives its number back — never a gap, never a double."""
    unit_id = unit if isinstance(unit, int) else unit.pk
    rows = DocumentNumberCounter.objects.select_for_update()
    counter = rows.filter(unit_id=unit_id, code=code, year=year).first()
    if counter is None:
        try:
            with transaction.atomic():
                DocumentNumberCounter.objects.create(unit_id=unit_id, code=code, year=year, last=0)
        except IntegrityError:
            pass  # another sign-off created it first; lock theirs below
        counter = rows.get(unit_id=unit_id, code=code, year=year)
    counter.last += 1
    counter.save(update_fields=["last"])
    return counter.last


def format_number(code: str, year: int, seq: int) -> str:
    return f"{code}〔{year}〕{seq}号"


def _number_assign(doc: Document, actor: Any) -> None:
    if doc.number_seq is not None:
        return
    year = timezone.localdate().year
    seq = number_take(unit=doc.unit_id, code=doc.number_code, year=year)
    doc.number_year, doc.number_seq = year, seq
    doc.document_number = format_number(doc.number_code, year, seq)
    doc.save(update_fields=["number_year", "number_seq", "document_number"])
    document_index(doc)
    audit_record(
        action="documents.document.number",
        obj=doc,
        after={"document_number": doc.document_number},
        actor=actor,
        unit=doc.unit,
    )


# --- Distribution (分发) -------------------------------------------------------------------------------


def document_digest(doc: Document) -> str:
    """SM3 over the document's elements and its files' digests: what a signed receipt acknowledges."""
    files = list(doc.files.order_by("kind", "id").values_list("kind", "name", "sm3"))
    payload = {
        "unit": doc.unit_id,
        "document_number": doc.document_number,
        "doc_type": doc.doc_type,
        "title": doc.title,
        "signer": doc.signer_name,
        "written_on": str(doc.written_on or ""),
        "main_to": doc.main_to,
        "cc_to": doc.cc_to,
        "body_text": doc.body_text,
        "files": files,
    }
    return sm3_hex(json.dumps(payload, ensure_ascii=False, sort_keys=True))


def recipients_expand(doc: Document) -> dict[int, str]:
    """unit id → role, for every unit the document is addressed to (主送 wins over 抄送; never the sender)."""
    out: dict[int, str] = {}
    for role in (RecipientRole.MAIN, RecipientRole.COPY):
        for r in doc.recipients.filter(role=role).select_related("group"):
            ids: Iterable[int]
            if r.unit_id is not None:
                ids = [r.unit_id]
            else:
                assert r.group is not None
                ids = unit_group_members(r.group).values_list("pk", flat=True)
            for uid in ids:
                out.setdefault(uid, role)
    out.pop(doc.unit_id, None)
    return out


def _clerk_ids(unit_ids: Iterable[int]) -> dict[int, list[int]]:
    by_unit: dict[int, list[int]] = {}
    rows = UnitRole.objects.filter(
        unit_id__in=list(unit_ids), role=UnitRoleKind.CLERK, user__is_active=True
    ).values_list("unit_id", "user_id")
    for unit_id, user_id in rows:
        by_unit.setdefault(unit_id, []).append(user_id)
    return by_unit


def _notify(
    recipients: list[int], *, title: str, url: str, key: str, sms: bool = False, urgent: bool = False
) -> None:
    if not recipients:
        return
    from zhengwu.notify.services import notification_send

    notification_send(
        recipients=recipients,
        title=title,
        url=url,
        key=key,
        channels=("app", "sms") if sms else ("app",),
        urgent=urgent,
        level="warning" if urgent else "info",
    )


def _receipt_rows(doc: Document, targets: dict[int, str], now: Any) -> list[DocumentReceipt]:
    paper = set(Unit.objects.filter(pk__in=list(targets), receives_paper=True).values_list("pk", flat=True))
    sender = doc.unit.short_name or doc.unit.name
    return [
        DocumentReceipt(
            document=doc,
            unit_id=uid,
            role=role,
            state=ReceiptState.DELIVERED,
            title=doc.title,
            document_number=doc.document_number,
            doc_type=doc.doc_type,
            urgency=doc.urgency,
            sender_name=sender,
            sent_at=now,
            first_sent_at=now,
            paper=uid in paper,
        )
        for uid, role in targets.items()
    ]


def _distribute(doc: Document, actor: Any, *, only: Iterable[int] | None = None) -> int:
    """Write the missing recipient rows in the caller's transaction; returns how many were added."""
    _check(bool(doc.document_number), _("公文尚未编号，不能分发"))
    targets = recipients_expand(doc)
    if only is not None:
        wanted = set(only)
        targets = {u: r for u, r in targets.items() if u in wanted}
    existing = set(DocumentReceipt.objects.filter(document=doc).values_list("unit_id", flat=True))
    targets = {u: r for u, r in targets.items() if u not in existing}
    now = timezone.now()
    if not doc.digest:
        doc.digest = document_digest(doc)
    doc.sent_at = doc.sent_at or now
    doc.save(update_fields=["digest", "sent_at"])
    rows = _receipt_rows(doc, targets, now)
    delay = float(os.environ.get(FANOUT_DELAY_ENV, "0") or 0)
    if delay > 0:  # test hook: one row at a time, slowly, so a kill lands mid-way
        for row in rows:
            row.save(force_insert=True)
            print(f"fanout row {row.unit_id}", flush=True)
            time.sleep(delay)
    else:
        for i in range(0, len(rows), FANOUT_CHUNK):
            DocumentReceipt.objects.bulk_create(rows[i : i + FANOUT_CHUNK])
    document_index(doc)  # the recipients find it by its title too, in this same transaction
    clerks = _clerk_ids(targets)
    _notify(
        sorted({uid for ids in clerks.values() for uid in ids}),
        title=_("待签收公文：%(title)s") % {"title": doc.title},
        url="/documents/inbox/",
        key=f"documents.delivered.{doc.pk}",
        urgent=doc.urgency == Urgency.VERY_URGENT,
    )
    audit_record(
        action="documents.document.distribute",
        obj=doc,
        after={"units": len(targets), "paper": sum(1 for r in rows if r.paper), "digest": doc.digest},
        actor=actor,
        unit=doc.unit,
    )
    return len(targets)


def document_distribute(*, actor: Any, document: Document) -> int:
    """分发 (again): add the recipient rows still missing, all in one transaction. Used by the retry after
    an interrupted fan-out; the normal path is completing the 分发 step."""
    if actor is not None:
        _require(
            access.has_unit_role(actor, document.unit, UnitRoleKind.CLERK), _("只有本单位文书可以分发公文")
        )
    with transaction.atomic():
        doc = Document.objects.select_for_update().select_related("unit").get(pk=document.pk)
        _check(
            doc.status in {DocumentStatus.DISTRIBUTE, DocumentStatus.SENT},
            _("公文尚未用印，不能分发"),
        )
        return _distribute(doc, actor)


# --- Exchange -----------------------------------------------------------------------------------------


def _lock_receipt(receipt: DocumentReceipt) -> DocumentReceipt:
    return DocumentReceipt.objects.select_for_update().select_related("document", "unit").get(pk=receipt.pk)


@transaction.atomic
def receipt_read(*, actor: Any, receipt: DocumentReceipt) -> DocumentReceipt:
    """A recipient unit's staff opened the copy: 待签收 becomes 已阅 (first time only)."""
    _require(access.can_view_unit_work(actor, receipt.unit), _("只能查看本单位的收文"))
    if receipt.state != ReceiptState.DELIVERED:
        return receipt
    receipt = _lock_receipt(receipt)
    if receipt.state == ReceiptState.DELIVERED:
        receipt.state = ReceiptState.READ
        receipt.read_at = timezone.now()
        receipt.read_by = actor
        receipt.save(update_fields=["state", "read_at", "read_by"])
        audit_record(action="documents.receipt.read", obj=receipt, actor=actor, unit=receipt.unit)
    return receipt


def _clerk_of(actor: Any, receipt: DocumentReceipt, what: str) -> None:
    _require(
        access.has_unit_role(actor, receipt.unit_id, UnitRoleKind.CLERK),
        _("只有本单位的文书（收发员）可以%(what)s") % {"what": what},
    )


@transaction.atomic
def receipt_receive(*, actor: Any, receipt: DocumentReceipt) -> DocumentReceipt:
    """签收: the clerk acknowledges the copy; who, when and the document's digest are recorded for good."""
    _clerk_of(actor, receipt, _("签收"))
    receipt = _lock_receipt(receipt)
    _check(receipt.state != ReceiptState.RECEIVED, _("该公文已签收"))
    _check(receipt.state in UNSIGNED_STATES, _("该公文已退文或已撤回，不能签收"))
    now = timezone.now()
    receipt.state = ReceiptState.RECEIVED
    receipt.received_at = now
    receipt.received_by = actor
    receipt.received_by_name = actor.name[:64]
    receipt.received_digest = receipt.document.digest
    if receipt.read_at is None:
        receipt.read_at, receipt.read_by = now, actor
    receipt.save(
        update_fields=[
            "state",
            "received_at",
            "received_by",
            "received_by_name",
            "received_digest",
            "read_at",
            "read_by",
        ]
    )
    audit_record(
        action="documents.receipt.receive",
        obj=receipt,
        after={"document": receipt.document_id, "digest": receipt.received_digest, "by": actor.name},
        actor=actor,
        unit=receipt.unit,
    )
    return receipt


@transaction.atomic
def receipt_refuse(*, actor: Any, receipt: DocumentReceipt, reason: str) -> DocumentReceipt:
    """退文: the clerk sends the copy back with a reason; the sender sees it and may fix and re-send."""
    _clerk_of(actor, receipt, _("退文"))
    reason = (reason or "").strip()
    _check(len(reason) >= 2, _("请填写退文理由"))
    _check(len(reason) <= MAX_REASON, _("退文理由不超过 %(n)s 字") % {"n": MAX_REASON})
    receipt = _lock_receipt(receipt)
    _check(receipt.state in UNSIGNED_STATES, _("该公文已签收、退文或撤回，不能退文"))
    receipt.state = ReceiptState.REFUSED
    receipt.refused_at = timezone.now()
    receipt.refused_by = actor
    receipt.refuse_reason = reason
    receipt.save(update_fields=["state", "refused_at", "refused_by", "refuse_reason"])
    doc = receipt.document
    audit_record(
        action="documents.receipt.refuse",
        obj=receipt,
        after={"document": doc.pk, "reason": reason},
        actor=actor,
        unit=receipt.unit,
    )
    senders = set(_clerk_ids([doc.unit_id]).get(doc.unit_id, [])) | {doc.created_by_id}
    _notify(
        sorted(senders),
        title=_("%(unit)s退文：%(title)s") % {"unit": receipt.unit.name, "title": doc.title},
        url=f"/documents/{doc.pk}/status/",
        key=f"documents.refused.{receipt.pk}.{receipt.round}",
    )
    return receipt


def _sender_clerk(actor: Any, document: Document, what: str) -> Document:
    _require(
        access.has_unit_role(actor, document.unit, UnitRoleKind.CLERK),
        _("只有发文单位的文书可以%(what)s") % {"what": what},
    )
    doc = Document.objects.select_for_update().select_related("unit").get(pk=document.pk)
    _check(doc.status == DocumentStatus.SENT, _("公文尚未分发"))
    return doc


def _unit_ids(values: Iterable[Any]) -> list[int]:
    try:
        ids = sorted({int(v) for v in values})
    except (TypeError, ValueError):
        raise DocumentError(_("单位参数无效")) from None
    _check(bool(ids), _("请至少选择一个单位"))
    return ids


@transaction.atomic
def document_resend(*, actor: Any, document: Document, unit_ids: Iterable[Any]) -> int:
    """补发/重发: send again to the chosen units only (refused or recalled copies come back to 待签收;
    addressed units without a copy get one)."""
    doc = _sender_clerk(actor, document, _("重发"))
    ids = _unit_ids(unit_ids)
    receipts = list(
        DocumentReceipt.objects.select_for_update().filter(document=doc, unit_id__in=ids).order_by("pk")
    )
    addressed = recipients_expand(doc)
    missing = [u for u in ids if u not in {r.unit_id for r in receipts}]
    _check(all(u in addressed for u in missing), _("所选单位不在本文的主送或抄送范围内"))
    _check(
        all(r.state in {ReceiptState.REFUSED, ReceiptState.RECALLED} for r in receipts),
        _("只能向已退文、已撤回或未送达的单位重发"),
    )
    now = timezone.now()
    doc.digest = document_digest(doc)  # the sender may have fixed the document before re-sending
    doc.save(update_fields=["digest"])
    for r in receipts:
        r.state = ReceiptState.DELIVERED
        r.sent_at = now
        r.round += 1
        r.refused_at = r.refused_by = r.recalled_at = r.read_at = r.read_by = None  # type: ignore[assignment]
        r.refuse_reason = ""
        r.title, r.document_number = doc.title, doc.document_number
    DocumentReceipt.objects.bulk_update(
        receipts,
        [
            "state",
            "sent_at",
            "round",
            "refused_at",
            "refused_by",
            "recalled_at",
            "read_at",
            "read_by",
            "refuse_reason",
            "title",
            "document_number",
        ],
    )
    added = _receipt_rows(doc, {u: addressed[u] for u in missing}, now)
    DocumentReceipt.objects.bulk_create(added)
    if added:
        document_index(doc)
    clerks = _clerk_ids(ids)
    for uid in ids:
        rnd = next((r.round for r in receipts if r.unit_id == uid), 1)
        _notify(
            clerks.get(uid, []),
            title=_("重发公文待签收：%(title)s") % {"title": doc.title},
            url="/documents/inbox/",
            key=f"documents.resent.{doc.pk}.{uid}.{rnd}",
        )
    audit_record(
        action="documents.document.resend", obj=doc, after={"units": ids}, actor=actor, unit=doc.unit
    )
    return len(ids)


@transaction.atomic
def document_recall(*, actor: Any, document: Document, unit_ids: Iterable[Any]) -> int:
    """撤回: take back copies not yet signed; signed copies stay (a signed receipt cannot be undone)."""
    doc = _sender_clerk(actor, document, _("撤回"))
    ids = _unit_ids(unit_ids)
    n = DocumentReceipt.objects.filter(document=doc, unit_id__in=ids, state__in=UNSIGNED_STATES).update(
        state=ReceiptState.RECALLED, recalled_at=timezone.now()
    )
    _check(n > 0, _("所选单位均已签收或退文，没有可撤回的公文"))
    audit_record(
        action="documents.document.recall",
        obj=doc,
        after={"units": ids, "recalled": n},
        actor=actor,
        unit=doc.unit,
    )
    return n


@transaction.atomic
def document_urge(*, actor: Any, document: Document, unit_ids: Iterable[Any] | None = None) -> int:
    """催办: remind the clerks of units that have not signed (in-app and SMS), at most once a day per unit."""
    doc = _sender_clerk(actor, document, _("催办"))
    rows = DocumentReceipt.objects.filter(document=doc, state__in=UNSIGNED_STATES)
    if unit_ids is not None:
        rows = rows.filter(unit_id__in=_unit_ids(unit_ids))
    units = list(rows.values_list("unit_id", flat=True))
    _check(bool(units), _("没有未签收的单位需要催办"))
    clerks = _clerk_ids(units)
    today = timezone.localdate().isoformat()
    for uid in units:
        _notify(
            clerks.get(uid, []),
            title=_("催办：请尽快签收公文《%(title)s》") % {"title": doc.title},
            url="/documents/inbox/",
            key=f"documents.urge.{doc.pk}.{uid}.{today}",
            sms=True,
            urgent=False,
        )
    audit_record(
        action="documents.document.urge", obj=doc, after={"units": units}, actor=actor, unit=doc.unit
    )
    return len(units)


@transaction.atomic
def receipt_paper_sent(*, actor: Any, receipt: DocumentReceipt) -> DocumentReceipt:
    """双轨制: the sender records that the paper copy for this unit went out."""
    _sender_clerk(actor, receipt.document, _("登记纸质件"))
    receipt = _lock_receipt(receipt)
    _check(receipt.paper, _("该单位不接收纸质件"))
    _check(receipt.paper_sent_at is None, _("纸质件已登记寄出"))
    receipt.paper_sent_at = timezone.now()
    receipt.save(update_fields=["paper_sent_at"])
    audit_record(action="documents.receipt.paper_sent", obj=receipt, actor=actor, unit=receipt.document.unit)
    return receipt


# --- Receiving inside a unit (收文) ------------------------------------------------------------------


@transaction.atomic
def incoming_register(*, actor: Any, receipt: DocumentReceipt, opinion: str = "") -> IncomingRecord:
    """登记: a signed copy gets the unit's receiving number (收〔2026〕15号, no gap, no double) and starts
    its handling: 拟办 → 批办 → 承办 → 归档 on the process engine."""
    _clerk_of(actor, receipt, _("登记收文"))
    receipt = _lock_receipt(receipt)
    _check(receipt.state == ReceiptState.RECEIVED, _("请先签收，再登记"))
    _check(not IncomingRecord.objects.filter(receipt=receipt).exists(), _("该公文已登记"))
    year = timezone.localdate().year
    seq = number_take(unit=receipt.unit_id, code="收", year=year)
    record = IncomingRecord.objects.create(
        receipt=receipt,
        unit=receipt.unit,
        receiving_year=year,
        receiving_seq=seq,
        receiving_number=format_number("收", year, seq),
        registered_by=actor,
    )
    process_publish(INCOMING_KEY)
    instance = flow_services.process_start(
        actor=actor, key=INCOMING_KEY, business=record, unit=receipt.unit, title=f"收文：{receipt.title}"
    )
    IncomingRecord.objects.filter(pk=record.pk).update(instance_id=instance.pk)
    record.instance_id = instance.pk
    task = Task.objects.filter(instance=instance, status=TaskStatus.OPEN, step_id="register").first()
    if task is not None:  # the registering clerk completes 登记 at once
        flow_services.task_complete(actor=actor, task=task, opinion=opinion or _("已登记"))
    audit_record(
        action="documents.incoming.register",
        obj=record,
        after={"receiving_number": record.receiving_number, "receipt": receipt.pk},
        actor=actor,
        unit=receipt.unit,
    )
    record.refresh_from_db()
    return record


MAX_PART_DAYS = 60  # working days: a limit beyond this is a typing mistake, not a plan
MAX_PARTS = 20
MAX_OPINION = 1000


def _incoming_changed(instance: ProcessInstance, event: str, task: Task | None) -> None:
    """The record follows its process: the status from the open steps, and after 批办 each department's
    part is tied to the to-do the engine made for its handler."""
    record_id = int(instance.business_id)
    open_steps = list(
        Task.objects.filter(instance=instance, status=TaskStatus.OPEN).values_list(
            "pk", "step_id", "assignee_id", "delegated_from_id"
        )
    )
    if event == "completed":
        status: str = IncomingStatus.DONE
    else:
        steps = {step for _pk, step, _a, _d in open_steps}
        status = next((s for s in IncomingStatus.values if s in steps), IncomingStatus.REGISTER)
    IncomingRecord.objects.filter(pk=record_id).update(status=status)
    if event == "step" and task is not None and task.step_id == "instruct":
        record = IncomingRecord.objects.only("instruct_round").get(pk=record_id)
        by_handler = {
            (delegated or assignee): pk for pk, step, assignee, delegated in open_steps if step == "handle"
        }
        parts = list(IncomingPart.objects.filter(record_id=record_id, round=record.instruct_round))
        for part in parts:
            part.task_id = by_handler.get(part.handler_id)
        IncomingPart.objects.bulk_update(parts, ["task"])
    if event == "step" and task is not None and task.step_id == "handle":
        # 答复 goes to the lead department's handler as it is now: a re-assignment inside the department
        # (科室内改派) after 批办 moves the reply with the part.
        record = IncomingRecord.objects.only("instruct_round").get(pk=record_id)
        lead = (
            IncomingPart.objects.filter(record_id=record_id, round=record.instruct_round, role=PartRole.LEAD)
            .values_list("handler_id", flat=True)
            .first()
        )
        for pk, step, assignee, delegated in open_steps:
            if step == "reply" and lead is not None and delegated is None and assignee != lead:
                Task.objects.filter(pk=pk).update(assignee_id=lead)
                _notify(
                    [lead],
                    title=_("待办：答复 %(title)s") % {"title": instance.title},
                    url=reverse("flow:task_detail", args=[pk]),
                    key=f"documents.incoming.reply.{pk}.{lead}",
                )


def _incoming_guard(instance: ProcessInstance, task: Task, process_data: dict[str, Any]) -> None:
    """批办 needs the departments and limits only the record page collects; 归档 waits for the readers
    when 批办 asked for it."""
    if task.step_id == "instruct" and "parts" not in process_data:
        raise FlowError(_("批办须在收文页面选择承办科室和办理时限"))
    if task.step_id == "archive":
        waiting = IncomingRecord.objects.filter(
            pk=int(instance.business_id), read_before_archive=True
        ).exists()
        unread = ReadItem.objects.filter(instance=instance, read_at__isnull=True)
        if waiting and unread.exists():
            names = "、".join(unread.order_by("id").values_list("recipient__name", flat=True)[:10])
            raise FlowError(_("批办要求阅毕方可归档，尚未阅读：%(names)s") % {"names": names})


flow_services.business_handler_register("documents.incomingrecord", _incoming_changed)
flow_services.business_guard_register("documents.incomingrecord", _incoming_guard)


def department_members(department_ids: Iterable[int]) -> dict[int, list[tuple[int, str]]]:
    """(id, name) of the active staff holding a post in each department (科室), handlers first; two
    queries for any number of departments."""
    from zhengwu.core.models import PostAssignment

    ids = sorted(set(department_ids))
    rows = set(
        PostAssignment.objects.filter(
            post__department_id__in=ids, user__is_active=True, user__kind="staff"
        ).values_list("post__department_id", "user_id", "user__name")
    )
    handlers = set(
        UnitRole.objects.filter(unit__departments__in=ids, role=UnitRoleKind.HANDLER).values_list(
            "user_id", flat=True
        )
    )
    out: dict[int, list[tuple[int, str]]] = {i: [] for i in ids}
    for dept_id, user_id, name in sorted(rows, key=lambda r: (r[1] not in handlers, r[2], r[1])):
        out[dept_id].append((user_id, name))
    return out


def _int(value: Any, message: str) -> int:
    try:
        return int(str(value).strip())
    except (TypeError, ValueError):
        raise DocumentError(message) from None


def _lock_record(record: IncomingRecord) -> tuple[IncomingRecord, ProcessInstance]:
    """Lock the record's process instance first (the engine's order), then read the record."""
    instance_id = record.instance_id
    _check(instance_id is not None, _("该收文尚未登记"))
    assert instance_id is not None
    instance = ProcessInstance.objects.select_for_update(of=("self",)).get(pk=instance_id)
    return IncomingRecord.objects.select_related("receipt", "unit").get(pk=record.pk), instance


def _open_step(record: IncomingRecord, step: str) -> Task | None:
    return (
        Task.objects.filter(instance_id=record.instance_id, status=TaskStatus.OPEN, step_id=step)
        .order_by("id")
        .first()
    )


def incoming_instruct(
    *,
    actor: Any,
    record: IncomingRecord,
    parts: Sequence[dict[str, Any]],
    needs_reply: bool,
    opinion: str,
    read_before_archive: bool = False,
) -> IncomingRecord:
    """批办: the leader's instruction — the handling departments (exactly one 主办, any 协办), each with its
    handler and its own limit in working days, and whether a reply (答复) is due. Each department's
    handler gets a to-do of their own with its own due date (so its own yellow and red cards)."""
    opinion = (opinion or "").strip()
    _check(bool(opinion), _("请填写批办意见"))
    _check(len(opinion) <= MAX_OPINION, _("意见不超过 %(n)s 字") % {"n": MAX_OPINION})
    _check(bool(parts), _("请至少选择一个承办科室"))
    _check(len(parts) <= MAX_PARTS, _("承办科室最多 %(n)s 个") % {"n": MAX_PARTS})
    wanted = [_int(raw.get("department"), _("承办科室无效")) for raw in parts]
    found = {d.pk: d for d in Department.objects.filter(pk__in=wanted, unit_id=record.unit_id)}
    _check(all(i in found for i in wanted), _("承办科室不存在或不属于本单位"))
    members = department_members(wanted)
    chosen: list[tuple[Department, str, int, int]] = []
    for dept_id, raw in zip(wanted, parts, strict=True):
        dept = found[dept_id]
        _check(
            all(d.pk != dept.pk for d, *_rest in chosen), _("同一科室不能重复选择：%(d)s") % {"d": dept.name}
        )
        role = str(raw.get("role") or PartRole.CO)
        _check(role in PartRole.values, _("请为科室“%(d)s”选择主办或协办") % {"d": dept.name})
        days = _int(raw.get("days"), _("请为科室“%(d)s”填写办理时限（工作日）") % {"d": dept.name})
        _check(
            1 <= days <= MAX_PART_DAYS,
            _("科室“%(d)s”的办理时限应为 1 至 %(n)s 个工作日") % {"d": dept.name, "n": MAX_PART_DAYS},
        )
        staff = [user_id for user_id, _name in members[dept.pk]]
        _check(bool(staff), _("科室“%(d)s”没有在岗的工作人员，不能承办") % {"d": dept.name})
        handler_id = staff[0]
        if raw.get("handler") not in (None, ""):
            handler_id = _int(raw.get("handler"), _("承办人无效"))
            _check(handler_id in staff, _("所选承办人不在科室“%(d)s”任职") % {"d": dept.name})
        _check(
            all(h != handler_id for *_rest, h in chosen),
            _("同一人不能同时承办两个科室，请为科室“%(d)s”另选承办人") % {"d": dept.name},
        )
        chosen.append((dept, role, days, handler_id))
    leads = [c for c in chosen if c[1] == PartRole.LEAD]
    _check(len(leads) == 1, _("请指定且只指定一个主办科室"))
    with transaction.atomic():
        record, _instance = _lock_record(record)
        task = _open_step(record, "instruct")
        _check(task is not None, _("该收文当前不在批办环节，请刷新页面"))
        assert task is not None
        _require(
            task.assignee_id == actor.pk
            or (task.assignee_id is None and flow_selectors.is_candidate(actor, task)),
            _("只有本单位领导可以批办"),
        )
        record.instruct_round += 1
        record.needs_reply = bool(needs_reply)
        record.read_before_archive = bool(read_before_archive)
        record.save(update_fields=["instruct_round", "needs_reply", "read_before_archive"])
        rows = IncomingPart.objects.bulk_create(
            [
                IncomingPart(
                    record=record,
                    round=record.instruct_round,
                    department=dept,
                    role=role,
                    handler_id=handler_id,
                    limit_days=days,
                )
                for dept, role, days, handler_id in chosen
            ]
        )
        lead_handler = leads[0][3]
        process_data = {
            "parts": [
                {
                    "part": i,
                    "department": dept.name,
                    "role": role,
                    "handler": handler_id,
                    "limit": f"{days}wd",
                }
                for i, (dept, role, days, handler_id) in enumerate(chosen)
            ],
            "needs_reply": bool(needs_reply),
            "reply_handler": lead_handler,
        }
        flow_services.task_complete(actor=actor, task=task, opinion=opinion, process_data=process_data)
        audit_record(
            action="documents.incoming.instruct",
            obj=record,
            after={
                "round": record.instruct_round,
                "parts": [
                    {
                        "department": r.department_id,
                        "role": r.role,
                        "handler": r.handler_id,
                        "days": r.limit_days,
                    }
                    for r in rows
                ],
                "needs_reply": bool(needs_reply),
                "read_before_archive": bool(read_before_archive),
            },
            actor=actor,
            unit=record.unit,
        )
    record.refresh_from_db()
    return record


INCOMING_STEPS = {"propose", "handle", "reply", "archive"}


def incoming_step_complete(*, actor: Any, record: IncomingRecord, task_id: Any, opinion: str) -> Task:
    """拟办 / 承办 (one department's part) / 答复 / 归档 from the record page, with an opinion. Only the
    step's holder (or, while unclaimed, a holder of its role) may complete it: a department's handler
    cannot complete another department's part."""
    pk = _int(task_id, _("办理环节无效"))
    _check(len(opinion or "") <= MAX_OPINION, _("意见不超过 %(n)s 字") % {"n": MAX_OPINION})
    with transaction.atomic():
        record, _instance = _lock_record(record)
        task = Task.objects.filter(pk=pk, instance_id=record.instance_id).first()
        _check(task is not None, _("办理环节不存在"))
        assert task is not None
        _check(task.status == TaskStatus.OPEN, _("该环节已办理或已关闭，请刷新页面"))
        _check(task.step_id in INCOMING_STEPS, _("批办请使用批办表单，选择承办科室和时限"))
        if task.step_id == "handle":
            _require(task.assignee_id == actor.pk, _("您不是该科室的承办人，不能办理其他科室的承办事项"))
        flow_services.task_complete(actor=actor, task=task, opinion=opinion or "")
        audit_record(
            action=f"documents.incoming.{task.step_id}",
            obj=record,
            after={"task": task.pk, "opinion": (opinion or "").strip()[:200]},
            actor=actor,
            unit=record.unit,
        )
    task.refresh_from_db()
    return task


def incoming_may_circulate(actor: Any, record: IncomingRecord) -> bool:
    """传阅: the unit's leaders and clerks, and whoever holds or held a step of this record."""
    if access.has_unit_role(actor, record.unit_id, UnitRoleKind.LEADER) or access.has_unit_role(
        actor, record.unit_id, UnitRoleKind.CLERK
    ):
        return True
    return (
        Task.objects.filter(instance_id=record.instance_id)
        .filter(Q(assignee=actor) | Q(completed_by=actor))
        .exists()
    )


def incoming_circulate(
    *, actor: Any, record: IncomingRecord, recipients: Iterable[Any], note: str = ""
) -> int:
    """传阅: send a registered document to named colleagues of the unit to read (待阅 on their workbench);
    opening it is their read receipt. Reading never holds up the handling steps."""
    _require(access.can_view_unit_work(actor, record.unit), _("只能传阅本单位的收文"))
    _require(incoming_may_circulate(actor, record), _("只有本单位领导、文书或办理人可以传阅"))
    try:
        ids = sorted({int(r) for r in recipients})
    except (TypeError, ValueError):
        raise DocumentError(_("传阅对象无效")) from None
    with transaction.atomic():
        record, instance = _lock_record(record)
        _check(record.status != IncomingStatus.DONE, _("该收文已归档，不能再传阅"))
        open_task = Task.objects.filter(instance=instance, status=TaskStatus.OPEN).order_by("id").first()
        try:
            items = flow_services.instance_circulate(
                actor=actor, instance=instance, recipients=ids, note=note, task=open_task
            )
        except FlowError as exc:
            raise DocumentError(str(exc)) from None
        audit_record(
            action="documents.incoming.circulate",
            obj=record,
            after={"recipients": [i.recipient_id for i in items], "note": (note or "").strip()},
            actor=actor,
            unit=record.unit,
        )
    return len(items)


def incoming_may_urge(actor: Any, record: IncomingRecord) -> bool:
    return access.has_unit_role(actor, record.unit_id, UnitRoleKind.LEADER) or access.has_unit_role(
        actor, record.unit_id, UnitRoleKind.CLERK
    )


def incoming_urge(*, actor: Any, record: IncomingRecord, task_id: Any, note: str = "") -> Task:
    """催办 a department's part (or any open step) from the record page: the unit's leaders and clerks;
    the holder is told at once, at most every 30 minutes per step (the flow's rule)."""
    _require(incoming_may_urge(actor, record), _("只有本单位领导或文书可以催办"))
    pk = _int(task_id, _("办理环节无效"))
    task = Task.objects.filter(pk=pk, instance_id=record.instance_id).first()
    _check(task is not None, _("办理环节不存在"))
    assert task is not None
    try:
        return flow_services.task_urge(actor=actor, task=task, note=note)
    except FlowError as exc:
        raise DocumentError(str(exc)) from None


# --- Adjusting a department's part after 批办 (科室内改派, 延长办理时限) ---------------------------------

PART_MANAGER_ROLES = (UnitRoleKind.LEADER, UnitRoleKind.REVIEWER, UnitRoleKind.CLERK)
MAX_EXTEND_DAYS = MAX_PART_DAYS
MAX_ADJUST_REASON = 500


def _department_managers(department_id: int, unit_id: int) -> set[int]:
    """科室负责人和内勤: staff holding a post in the department and, in its unit, the leader or reviewer
    role (the section head) or the clerk role (the section's clerk). The platform has no separate
    "head of section" flag, so the unit's roles say who runs the section."""
    from zhengwu.core.models import PostAssignment

    members = set(
        PostAssignment.objects.filter(
            post__department_id=department_id, user__is_active=True, user__kind="staff"
        ).values_list("user_id", flat=True)
    )
    managers = set(
        UnitRole.objects.filter(
            unit_id=unit_id, role__in=PART_MANAGER_ROLES, user_id__in=members
        ).values_list("user_id", flat=True)
    )
    return managers


def incoming_reassign_departments(actor: Any, record: IncomingRecord) -> set[int]:
    """The departments of the record's current round whose to-do the actor may re-assign (科室内改派)."""
    from zhengwu.core.models import PostAssignment

    if not access.has_unit_role(actor, record.unit_id, *PART_MANAGER_ROLES):
        return set()
    mine = set(
        PostAssignment.objects.filter(user=actor, post__unit_id=record.unit_id).values_list(
            "post__department_id", flat=True
        )
    )
    current = set(
        IncomingPart.objects.filter(record=record, round=record.instruct_round).values_list(
            "department_id", flat=True
        )
    )
    return {d for d in current & mine if d is not None}


def _instruct_leader_id(record: IncomingRecord) -> int | None:
    """Who gave the current instruction (批办): the last completed 批办 step of the record."""
    if record.instance_id is None:
        return None
    return (
        Task.objects.filter(instance_id=record.instance_id, step_id="instruct", status=TaskStatus.COMPLETED)
        .order_by("-completed_at", "-id")
        .values_list("completed_by_id", flat=True)
        .first()
    )


def incoming_may_extend(actor: Any, record: IncomingRecord) -> bool:
    """延长办理时限: the leader who gave the instruction (批办), while the departments are at work."""
    return record.status == IncomingStatus.HANDLE and _instruct_leader_id(record) == getattr(
        actor, "pk", None
    )


def _adjust_reason(reason: str, missing: str) -> str:
    reason = (reason or "").strip()
    _check(bool(reason), missing)
    _check(len(reason) <= MAX_ADJUST_REASON, _("理由不超过 %(n)s 字") % {"n": MAX_ADJUST_REASON})
    return reason


def _lock_part(
    record: IncomingRecord, part_id: int
) -> tuple[IncomingRecord, ProcessInstance, IncomingPart, Task]:
    """Lock the process instance (the engine's order), then the part's to-do; the part must belong to the
    record's current round and its to-do still be open."""
    record, instance = _lock_record(record)
    part = (
        IncomingPart.objects.select_related("department", "handler").filter(pk=part_id, record=record).first()
    )
    _check(part is not None, _("承办科室不存在"))
    assert part is not None
    _check(
        part.round == record.instruct_round and part.task_id is not None,
        _("该承办事项已不在本轮办理中，请刷新页面"),
    )
    task_id = part.task_id
    assert task_id is not None
    task = Task.objects.select_for_update(of=("self",)).get(pk=task_id)
    _check(
        task.status == TaskStatus.OPEN,
        _("科室“%(d)s”的承办事项已办理或已关闭，不能再调整") % {"d": part.department.name},
    )
    return record, instance, part, task


def incoming_part_reassign(
    *, actor: Any, record: IncomingRecord, part_id: Any, handler_id: Any, reason: str
) -> IncomingPart:
    """科室内改派: the head or clerk of a handling department gives its to-do to another member of the
    department. The new handler is told; the former one no longer holds (or may complete) the to-do."""
    pk = _int(part_id, _("承办科室无效"))
    new_id = _int(handler_id, _("请选择新的承办人"))
    reason = _adjust_reason(reason, _("请填写改派理由"))
    with transaction.atomic():
        record, instance, part, task = _lock_part(record, pk)
        _require(
            actor.pk in _department_managers(part.department_id, record.unit_id),
            _("只有科室“%(d)s”的负责人或内勤可以改派本科室的承办事项") % {"d": part.department.name},
        )
        staff = dict(department_members([part.department_id])[part.department_id])
        _check(new_id in staff, _("新的承办人须在科室“%(d)s”任职") % {"d": part.department.name})
        _check(
            new_id != task.assignee_id,
            _("%(name)s 已是该科室的承办人，无需改派") % {"name": staff[new_id]},
        )
        busy = (
            IncomingPart.objects.filter(record=record, round=record.instruct_round, handler_id=new_id)
            .exclude(pk=part.pk)
            .exists()
        )
        _check(not busy, _("%(name)s 已承办本文的另一科室事项，请另选承办人") % {"name": staff[new_id]})
        before = {"handler": part.handler_id, "assignee": task.assignee_id}
        old_id = task.assignee_id
        now = timezone.now()
        task.assignee_id = new_id
        task.assign_kind = AssignKind.PERSON
        task.delegated_from = None
        task.transferred_from = actor
        task.claimed_at = now
        task.save(
            update_fields=["assignee", "assign_kind", "delegated_from", "transferred_from", "claimed_at"]
        )
        part.handler_id = new_id
        part.save(update_fields=["handler"])
        note = _("科室“%(d)s”改派给%(name)s。%(reason)s") % {
            "d": part.department.name,
            "name": staff[new_id],
            "reason": reason,
        }
        flow_services._event(instance, "transferred", actor, task=task, note=note)
        audit_record(
            action="documents.incoming.reassign",
            obj=record,
            before=before,
            after={"part": part.pk, "handler": new_id, "task": task.pk, "reason": reason},
            actor=actor,
            unit=record.unit,
        )
        title = record.receipt.title
        _notify(
            [new_id],
            title=_("改派给您承办：%(title)s") % {"title": title},
            url=record.get_absolute_url(),
            key=f"documents.incoming.reassign.{part.pk}.{new_id}.{now.timestamp():.0f}",
        )
        if old_id and old_id != actor.pk:
            _notify(
                [old_id],
                title=_("承办事项已改派给%(name)s：%(title)s") % {"name": staff[new_id], "title": title},
                url=record.get_absolute_url(),
                key=f"documents.incoming.reassigned.{part.pk}.{old_id}.{now.timestamp():.0f}",
            )
    part.refresh_from_db()
    return part


def _deadline_now(task: Task, now: Any) -> str:
    """The card a step's moments give at ``now`` (the deadline watch moves it forward from there)."""
    from zhengwu.flow.models import DeadlineState

    if task.red_at is not None and task.red_at < now:
        return DeadlineState.RED
    if task.due_at is not None and task.due_at < now:
        return DeadlineState.YELLOW
    if task.warning_at is not None and task.warning_at <= now:
        return DeadlineState.WARNING
    return DeadlineState.NORMAL


def incoming_part_extend(
    *,
    actor: Any,
    record: IncomingRecord,
    part_id: Any,
    days: Any,
    reason: str,
    expected_days: Any = None,
) -> IncomingPart:
    """延长办理时限: the leader who gave the instruction (批办) adds working days to one department's
    limit. The new due date is counted in working days from the to-do's start (zhengwu.workdays, with any
    stopped clock), its warning and red-card moments follow, and a card already shown that the new date
    no longer justifies is taken back. ``expected_days`` is the limit the page showed: a second submit of
    the same form finds it changed and is refused."""
    from zhengwu.flow.models import DeadlineState

    pk = _int(part_id, _("承办科室无效"))
    extra = _int(days, _("请填写延长的工作日数"))
    _check(
        1 <= extra <= MAX_EXTEND_DAYS,
        _("延长的时限应为 1 至 %(n)s 个工作日") % {"n": MAX_EXTEND_DAYS},
    )
    reason = _adjust_reason(reason, _("请填写延长时限理由"))
    expected = None if expected_days in (None, "") else _int(expected_days, _("办理时限无效"))
    with transaction.atomic():
        record, instance, part, task = _lock_part(record, pk)
        _require(
            _instruct_leader_id(record) == actor.pk,
            _("只有作出批办的领导可以延长科室的办理时限"),
        )
        _check(
            expected is None or expected == part.limit_days,
            _("科室“%(d)s”的办理时限已调整为 %(n)s 个工作日，请刷新页面后再操作")
            % {"d": part.department.name, "n": part.limit_days},
        )
        before = {"limit_days": part.limit_days, "due_at": task.due_at, "deadline_state": task.deadline_state}
        new_days = part.limit_days + extra
        part.limit_days = new_days
        part.save(update_fields=["limit_days"])
        now = timezone.now()
        task.limit = part.limit
        task.save(update_fields=["limit"])
        stops = list(ClockStop.objects.filter(instance=instance))
        warning_default = instance.definition.properties.get("warning_before", "")
        flow_services._task_recompute(task, instance, stops, warning_default, now)
        order: list[str] = [
            DeadlineState.NORMAL,
            DeadlineState.WARNING,
            DeadlineState.YELLOW,
            DeadlineState.RED,
        ]
        state = _deadline_now(task, now)
        if order.index(state) < order.index(task.deadline_state):
            task.deadline_state = state
            task.save(update_fields=["deadline_state"])
        due = timezone.localtime(task.due_at).strftime("%Y-%m-%d %H:%M") if task.due_at else ""
        note = _(
            "科室“%(d)s”办理时限由 %(old)s 个工作日延长至 %(new)s 个工作日，到期时间 %(due)s。%(reason)s"
        ) % {
            "d": part.department.name,
            "old": before["limit_days"],
            "new": new_days,
            "due": due,
            "reason": reason,
        }
        flow_services._event(instance, "extended", actor, task=task, note=note)
        audit_record(
            action="documents.incoming.extend",
            obj=record,
            before=before,
            after={
                "part": part.pk,
                "task": task.pk,
                "limit_days": new_days,
                "due_at": task.due_at,
                "deadline_state": task.deadline_state,
                "reason": reason,
            },
            actor=actor,
            unit=record.unit,
        )
        recipients = sorted(
            ({task.assignee_id} if task.assignee_id else set())
            | _department_managers(part.department_id, record.unit_id)
        )
        _notify(
            [i for i in recipients if i != actor.pk],
            title=_("办理时限已延长至 %(due)s：%(title)s") % {"due": due, "title": record.receipt.title},
            url=record.get_absolute_url(),
            key=f"documents.incoming.extend.{part.pk}.{new_days}",
        )
    part.refresh_from_db()
    return part


def incoming_read(*, actor: Any, record: IncomingRecord) -> int:
    """Opening the record is the read receipt (阅读回执) of every item circulated to this reader."""
    if record.instance_id is None:
        return 0
    items = list(
        ReadItem.objects.filter(instance_id=record.instance_id, recipient=actor, read_at__isnull=True)
    )
    for item in items:
        flow_services.read_item_mark_read(actor=actor, item=item)
    return len(items)


@transaction.atomic
def incoming_comment_add(*, actor: Any, record: IncomingRecord, text: str) -> IncomingComment:
    """阅办意见: a reader of a circulated document writes what they think; kept with the record and shown
    to everyone handling it, never overwritten by later steps."""
    text = (text or "").strip()
    _check(bool(text), _("请填写意见"))
    _check(len(text) <= MAX_OPINION, _("意见不超过 %(n)s 字") % {"n": MAX_OPINION})
    item = (
        ReadItem.objects.filter(instance_id=record.instance_id, recipient=actor)
        .order_by("-created_at", "-id")
        .first()
    )
    _require(item is not None, _("只有传阅对象可以填写阅办意见"))
    assert item is not None
    if item.read_at is None:
        flow_services.read_item_mark_read(actor=actor, item=item)
    comment = IncomingComment.objects.create(record=record, author=actor, read_item=item, text=text)
    audit_record(
        action="documents.incoming.comment",
        obj=record,
        after={"comment": comment.pk, "text": text[:200]},
        actor=actor,
        unit=record.unit,
    )
    _notify(
        [item.sent_by_id],
        title=_("%(name)s 对传阅件提出意见：%(title)s") % {"name": actor.name, "title": record.receipt.title},
        url=record.get_absolute_url(),
        key=f"documents.incoming.comment.{comment.pk}",
    )
    return comment


# --- Archives (电子档案) -------------------------------------------------------------------------------


def _package_zip(files: Sequence[DocumentFile], meta: dict[str, Any]) -> bytes:
    """The files as stored (each re-checked against its SM3 first), metadata.json and SM3SUMS, zipped."""
    import io
    import zipfile

    buf = io.BytesIO()
    sums: list[str] = []
    with zipfile.ZipFile(buf, "w", zipfile.ZIP_DEFLATED) as zf:
        for i, f in enumerate(files, start=1):
            with f.file.open("rb") as fh:
                data = fh.read()
            _check(
                sm3_hex(data) == f.sm3, _("文件“%(name)s”校验失败，可能已被篡改，不能归档") % {"name": f.name}
            )
            arcname = f"files/{i:02d}-{f.name}"
            zf.writestr(arcname, data)
            sums.append(f"{f.sm3}  {arcname}")
        meta_bytes = json.dumps(meta, ensure_ascii=False, indent=2, default=str).encode("utf-8")
        zf.writestr("metadata.json", meta_bytes)
        sums.append(f"{sm3_hex(meta_bytes)}  metadata.json")
        zf.writestr("SM3SUMS", "\n".join(sums) + "\n")
    return buf.getvalue()


def _elements(doc: Document) -> dict[str, str]:
    return {
        f.name: (str(getattr(doc, f.attname)) if getattr(doc, f.attname) is not None else "")
        for f in Document._meta.concrete_fields
    }


def archive_package(*, actor: Any, document: Document) -> bytes:
    """An export package a records office can take (归档移交): the files as stored, metadata.json (the
    GB/T 9704 elements, the sending steps with their opinions, every recipient's receipt, the trail
    records), and SM3SUMS with the digest of every file in the package. Only sent documents; the export
    itself is recorded."""
    from zhengwu.core.models import AuditEvent

    _require(access.can_view_unit_work(actor, document.unit), _("只能导出本单位的公文"))
    _check(document.status == DocumentStatus.SENT, _("公文分发后才能归档导出"))
    doc = Document.objects.select_related("unit").get(pk=document.pk)
    elements = _elements(doc)
    steps = list(
        Task.objects.filter(instance_id=doc.instance_id)
        .order_by("id")
        .values("name", "status", "completed_at", "completed_by__name", "opinion")
    )
    receipts = list(
        DocumentReceipt.objects.filter(document=doc)
        .order_by("unit__path")
        .values(
            "unit__name",
            "role",
            "state",
            "round",
            "sent_at",
            "read_at",
            "received_at",
            "received_by_name",
            "received_digest",
            "refused_at",
            "refuse_reason",
        )
    )
    receipt_ids = [str(i) for i in DocumentReceipt.objects.filter(document=doc).values_list("pk", flat=True)]
    trail = list(
        AuditEvent.objects.filter(
            Q(object_type="documents.document", object_id=str(doc.pk))
            | Q(object_type="documents.documentreceipt", object_id__in=receipt_ids)
        )
        .values("seq", "at", "actor_label", "action", "after", "digest")
        .order_by("seq")
    )
    files = list(doc.files.order_by("kind", "id"))
    meta = {
        "document": elements,
        "files": [{"name": f.name, "kind": f.kind, "size": f.size, "sm3": f.sm3} for f in files],
        "steps": steps,
        "receipts": receipts,
        "trail": trail,
        "exported_at": timezone.now(),
        "exported_by": getattr(actor, "name", ""),
    }
    data = _package_zip(files, meta)
    audit_record(
        action="documents.document.archive_export",
        obj=doc,
        after={"files": len(files), "receipts": len(receipts)},
        actor=actor,
        unit=doc.unit,
    )
    return data


def incoming_archive_package(*, actor: Any, record: IncomingRecord) -> bytes:
    """归档 of a received document: the package a records office can take — the files as received (each
    re-checked), metadata.json (the document's elements, the receipt with its signed digest, the
    receiving number, every handling step with its opinion, each department's part, who read it and
    when, the readers' opinions, the reply document, the trail) and SM3SUMS. Only once archived."""
    from zhengwu.core.models import AuditEvent

    _require(access.can_view_unit_work(actor, record.unit), _("只能导出本单位的收文"))
    _check(record.status == IncomingStatus.DONE, _("收文归档后才能导出归档包"))
    receipt = DocumentReceipt.objects.select_related("document", "document__unit").get(pk=record.receipt_id)
    doc = receipt.document
    tasks = Task.objects.filter(instance_id=record.instance_id).order_by("started_at", "id")
    steps = list(
        tasks.values(
            "name", "status", "started_at", "due_at", "completed_at", "completed_by__name", "opinion"
        )
    )
    parts = list(
        IncomingPart.objects.filter(record=record)
        .order_by("round", "-role", "id")
        .values(
            "round",
            "department__name",
            "role",
            "handler__name",
            "limit_days",
            "task__due_at",
            "task__status",
            "task__completed_at",
            "task__deadline_state",
            "task__opinion",
        )
    )
    readings = list(
        ReadItem.objects.filter(instance_id=record.instance_id)
        .order_by("created_at", "id")
        .values("recipient__name", "sent_by__name", "note", "created_at", "read_at")
    )
    comments = list(record.comments.order_by("id").values("author__name", "text", "created_at"))
    trail = list(
        AuditEvent.objects.filter(
            Q(object_type="documents.incomingrecord", object_id=str(record.pk))
            | Q(object_type="documents.documentreceipt", object_id=str(receipt.pk))
            | Q(object_type="flow.processinstance", object_id=str(record.instance_id))
            | Q(object_type="flow.task", object_id__in=[str(i) for i in tasks.values_list("pk", flat=True)])
        )
        .values("seq", "at", "actor_label", "action", "after", "digest")
        .order_by("seq")
    )
    files = list(doc.files.order_by("kind", "id"))
    reply = record.reply_document
    meta = {
        "document": _elements(doc),
        "files": [{"name": f.name, "kind": f.kind, "size": f.size, "sm3": f.sm3} for f in files],
        "receipt": {
            "unit": record.unit.name,
            "received_at": receipt.received_at,
            "received_by": receipt.received_by_name,
            "received_digest": receipt.received_digest,
        },
        "receiving_number": record.receiving_number,
        "registered_at": record.registered_at,
        "steps": steps,
        "parts": parts,
        "readings": readings,
        "comments": comments,
        "reply_document": {"id": reply.pk, "number": reply.document_number, "title": reply.title}
        if reply is not None
        else None,
        "trail": trail,
        "exported_at": timezone.now(),
        "exported_by": getattr(actor, "name", ""),
    }
    data = _package_zip(files, meta)
    audit_record(
        action="documents.incoming.archive_export",
        obj=record,
        after={"files": len(files), "steps": len(steps)},
        actor=actor,
        unit=record.unit,
    )
    return data
