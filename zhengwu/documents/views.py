"""Pages for official documents: drafting and the sending steps, the sender's live status, the inbox,
the incoming copy with 签收/退文, file downloads (digest-checked) and statistics."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from django.contrib import messages
from django.core.exceptions import PermissionDenied
from django.http import FileResponse, Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_POST

from zhengwu.core import access
from zhengwu.core.models import Unit, UnitGroup
from zhengwu.documents import selectors, services
from zhengwu.documents.models import (
    DocType,
    DocumentReceipt,
    DocumentStatus,
    FileKind,
    IncomingRecord,
    IncomingStatus,
    PartRole,
    ReceiptState,
    Retention,
    Secrecy,
    Urgency,
)
from zhengwu.documents.services import DocumentError
from zhengwu.flow import selectors as flow_selectors
from zhengwu.flow.engine import FlowError


def _refused(request: HttpRequest, message: str, status: int = 400) -> HttpResponse:
    return render(request, "documents/refused.html", {"message": message}, status=status)


def _act(request: HttpRequest, call: Callable[[], Any], done: str, success: str) -> HttpResponse:
    """Run one service call; a bad request or wrong state answers 400 with the reason, nothing written."""
    try:
        call()
    except (DocumentError, FlowError) as exc:
        return _refused(request, str(exc))
    except PermissionError as exc:
        raise PermissionDenied(str(exc)) from exc
    if success:
        messages.success(request, success)
    return redirect(done)


def _unit_from(request: HttpRequest, raw: Any) -> Unit:
    units = selectors.user_units(request.user)
    if raw:
        return access.unit_get_for_user(request.user, raw)
    if not units:
        raise PermissionDenied(_("您不属于任何单位"))
    return units[0]


@access.staff_required
@require_GET
def outgoing(request: HttpRequest) -> HttpResponse:
    status = request.GET.get("status", "")
    if status not in DocumentStatus.values:
        status = ""
    rows = selectors.outgoing_for(request.user, status=status)[:200]
    return render(
        request,
        "documents/outgoing.html",
        {"rows": rows, "status": status, "statuses": DocumentStatus.choices},
    )


@access.staff_required
def create(request: HttpRequest) -> HttpResponse:
    reply_receipt: DocumentReceipt | None = None
    answers: IncomingRecord | None = None
    raw_reply = request.POST.get("reply_to") or request.GET.get("reply_to")
    raw_answers = request.POST.get("answers") or request.GET.get("answers")
    if raw_answers:  # 答复 a registered incoming document (a 请示 gets a 批复 linked to it)
        answers = selectors.incoming_record_get_for_user(request.user, raw_answers)
        if answers.receipt.doc_type == DocType.REQUEST:
            reply_receipt = answers.receipt
    elif raw_reply:
        reply_receipt = selectors.receipt_get_for_user(request.user, raw_reply)
    unit = (
        reply_receipt.unit
        if reply_receipt
        else answers.unit
        if answers
        else _unit_from(request, request.POST.get("unit") or request.GET.get("unit"))
    )
    context: dict[str, Any] = {
        "unit": unit,
        "units": selectors.user_units(request.user),
        "doc_types": DocType.choices,
        "secrecies": Secrecy.choices,
        "urgencies": Urgency.choices,
        "retentions": Retention.choices,
        "all_units": Unit.objects.filter(is_active=True).order_by("path").only("pk", "name"),
        "groups": UnitGroup.objects.order_by("sort", "name"),
        "reply_to": reply_receipt,
        "answers": answers,
        "values": request.POST if request.method == "POST" else {},
    }
    if request.method != "POST":
        return render(request, "documents/new.html", context)
    try:
        doc = services.document_create(
            actor=request.user,
            unit=unit,
            doc_type=request.POST.get("doc_type", DocType.REPLY if reply_receipt else ""),
            title=request.POST.get("title", ""),
            number_code=request.POST.get("number_code", ""),
            secrecy=request.POST.get("secrecy", Secrecy.NONE),
            urgency=request.POST.get("urgency", Urgency.NORMAL),
            main_units=request.POST.getlist("main_units"),
            main_groups=request.POST.getlist("main_groups"),
            copy_units=request.POST.getlist("copy_units"),
            copy_groups=request.POST.getlist("copy_groups"),
            body=request.FILES.get("body"),
            attachments=request.FILES.getlist("attachments"),
            reply_to=reply_receipt,
            body_text=request.POST.get("body_text", ""),
            attachment_note=request.POST.get("attachment_note", ""),
            remark=request.POST.get("remark", ""),
            retention=request.POST.get("retention", Retention.YEARS_10),
            answers=answers,
        )
    except (DocumentError, FlowError, ValueError) as exc:
        context["error"] = str(exc)
        return render(request, "documents/new.html", context, status=400)
    except PermissionError as exc:
        raise PermissionDenied(str(exc)) from exc
    messages.success(request, _("已拟稿，请完成拟稿环节送核稿"))
    return redirect(doc.get_absolute_url())


@access.staff_required
@require_GET
def detail(request: HttpRequest, pk: int) -> HttpResponse:
    doc = selectors.document_get_for_user(request.user, pk)
    task = services.document_open_task(doc)
    can_act = bool(
        task
        and (
            task.assignee_id == request.user.pk
            or (task.assignee_id is None and flow_selectors.is_candidate(request.user, task))
        )
    )
    history = []
    if doc.instance_id:
        instance = flow_selectors.instance_get_for_user(request.user, doc.instance_id)
        history = flow_selectors.instance_history(instance)
    return render(
        request,
        "documents/detail.html",
        {
            "doc": doc,
            "task": task,
            "can_act": can_act,
            "history": history,
            "files": doc.files.all(),
            "recipients": doc.recipients.select_related("unit", "group"),
            "editable": doc.status in {DocumentStatus.DRAFT, DocumentStatus.CHECK},
        },
    )


@access.staff_required
@require_POST
def step(request: HttpRequest, pk: int) -> HttpResponse:
    doc = selectors.document_get_for_user(request.user, pk)
    return _act(
        request,
        lambda: services.document_step_complete(
            actor=request.user, document=doc, opinion=request.POST.get("opinion", "")
        ),
        doc.get_absolute_url(),
        _("已办理"),
    )


@access.staff_required
@require_POST
def file_add(request: HttpRequest, pk: int) -> HttpResponse:
    doc = selectors.document_get_for_user(request.user, pk)
    upload = request.FILES.get("file")
    if upload is None:
        return _refused(request, _("请选择文件"))
    kind = request.POST.get("kind", FileKind.ATTACHMENT)
    return _act(
        request,
        lambda: services.document_file_add(actor=request.user, document=doc, upload=upload, kind=kind),
        doc.get_absolute_url(),
        _("文件已上传"),
    )


def _status_context(request: HttpRequest, pk: int) -> dict[str, Any]:
    doc = selectors.document_get_for_user(request.user, pk)
    state = request.GET.get("state", "")
    if state != "pending" and state not in ReceiptState.values:
        state = ""
    return {
        "doc": doc,
        "status": selectors.exchange_status(doc, state=state),
        "state": state,
        "states": ReceiptState.choices,
        "is_clerk": access.has_unit_role(request.user, doc.unit, "clerk"),
    }


@access.staff_required
@require_GET
def status(request: HttpRequest, pk: int) -> HttpResponse:
    return render(request, "documents/status.html", _status_context(request, pk))


@access.staff_required
@require_GET
def status_rows(request: HttpRequest, pk: int) -> HttpResponse:
    return render(request, "documents/_status_rows.html", _status_context(request, pk))


@access.staff_required
@require_POST
def distribute(request: HttpRequest, pk: int) -> HttpResponse:
    doc = selectors.document_get_for_user(request.user, pk)
    return _act(
        request,
        lambda: services.document_distribute(actor=request.user, document=doc),
        f"/documents/{doc.pk}/status/",
        _("已补齐分发"),
    )


@access.staff_required
@require_POST
def exchange_action(request: HttpRequest, pk: int) -> HttpResponse:
    """重发 / 撤回 / 催办 for the chosen units (催办 with none chosen: every unsigned unit)."""
    doc = selectors.document_get_for_user(request.user, pk)
    action = request.POST.get("action", "")
    units = request.POST.getlist("units")
    calls: dict[str, tuple[Callable[[], Any], str]] = {
        "resend": (
            lambda: services.document_resend(actor=request.user, document=doc, unit_ids=units),
            _("已重发"),
        ),
        "recall": (
            lambda: services.document_recall(actor=request.user, document=doc, unit_ids=units),
            _("已撤回"),
        ),
        "urge": (
            lambda: services.document_urge(actor=request.user, document=doc, unit_ids=units or None),
            _("已催办（站内通知和短信）"),
        ),
    }
    if action not in calls:
        return _refused(request, _("未知操作"))
    call, done = calls[action]
    return _act(request, call, f"/documents/{doc.pk}/status/", done)


@access.staff_required
@require_GET
def inbox(request: HttpRequest) -> HttpResponse:
    unit = _unit_from(request, request.GET.get("unit"))
    state = request.GET.get("state", "pending")
    if state not in {"pending", "all"} and state not in ReceiptState.values:
        state = "pending"
    doc_type = request.GET.get("type", "")
    if doc_type not in DocType.values:
        doc_type = ""
    query = request.GET.get("q", "").strip()[:100]
    rows = selectors.inbox(unit, state="" if state == "all" else state, query=query, doc_type=doc_type)
    return render(
        request,
        "documents/inbox.html",
        {
            "unit": unit,
            "units": selectors.user_units(request.user),
            "rows": rows,
            "state": state,
            "states": ReceiptState.choices,
            "doc_type": doc_type,
            "doc_types": DocType.choices,
            "query": query,
            "pending": selectors.inbox_pending_count(unit),
        },
    )


@access.staff_required
@require_GET
def incoming(request: HttpRequest, pk: int) -> HttpResponse:
    receipt = selectors.receipt_get_for_user(request.user, pk)
    receipt = services.receipt_read(actor=request.user, receipt=receipt)
    doc = receipt.document
    record = IncomingRecord.objects.filter(receipt=receipt).select_related("reply_document").first()
    context: dict[str, Any] = {
        "receipt": receipt,
        "doc": doc,
        "files": doc.files.all(),
        "is_clerk": access.has_unit_role(request.user, receipt.unit_id, "clerk"),
        "can_reply": doc.doc_type == DocType.REQUEST and record is None,
        "record": record,
    }
    if record is not None:
        services.incoming_read(actor=request.user, record=record)  # the read receipt of a circulated copy
        overview = selectors.incoming_overview(record, with_choices=True)
        mine = [t for t in overview.steps if t.status == "open" and _may_act(request.user, t)]
        staff_of = {dept.pk: staff for dept, staff in overview.departments}
        for part in overview.parts:  # the 改派 choice: the department's members
            part.staff_choices = staff_of.get(part.department_id, [])
        context.update(
            {
                "overview": overview,
                "my_steps": [t for t in mine if t.step_id != "instruct"],
                "instruct_task": next((t for t in mine if t.step_id == "instruct"), None),
                "may_urge": services.incoming_may_urge(request.user, record),
                "reassign_departments": services.incoming_reassign_departments(request.user, record),
                "may_extend": services.incoming_may_extend(request.user, record),
                "max_extend_days": services.MAX_EXTEND_DAYS,
                "may_circulate": services.incoming_may_circulate(request.user, record)
                and record.status != IncomingStatus.DONE,
                "is_reader": any(r.recipient_id == request.user.pk for r in overview.readings),
                "may_draft_reply": record.status in {IncomingStatus.HANDLE, IncomingStatus.REPLY}
                and record.reply_document_id is None,
                "part_roles": PartRole.choices,
                "max_days": services.MAX_PART_DAYS,
            }
        )
    return render(request, "documents/incoming.html", context)


def _may_act(user: Any, task: Any) -> bool:
    return bool(
        task.assignee_id == user.pk or (task.assignee_id is None and flow_selectors.is_candidate(user, task))
    )


def _record_for(request: HttpRequest, pk: int) -> tuple[DocumentReceipt, IncomingRecord | None]:
    receipt = selectors.receipt_get_for_user(request.user, pk)
    return receipt, IncomingRecord.objects.filter(receipt=receipt).first()


def _not_registered(request: HttpRequest) -> HttpResponse:
    return _refused(request, _("该公文尚未登记，请先签收并登记"))


@access.staff_required
@require_POST
def instruct(request: HttpRequest, pk: int) -> HttpResponse:
    """批办: the chosen departments (department_<id> = lead|co), each with its days and handler."""
    receipt, record = _record_for(request, pk)
    if record is None:
        return _not_registered(request)
    parts = []
    for raw in request.POST.getlist("departments"):
        key = str(raw).strip()
        parts.append(
            {
                "department": key,
                "role": request.POST.get(f"role_{key}", ""),
                "days": request.POST.get(f"days_{key}", ""),
                "handler": request.POST.get(f"handler_{key}", ""),
            }
        )
    return _act(
        request,
        lambda: services.incoming_instruct(
            actor=request.user,
            record=record,
            parts=parts,
            needs_reply=request.POST.get("needs_reply") == "1",
            read_before_archive=request.POST.get("read_before_archive") == "1",
            opinion=request.POST.get("opinion", ""),
        ),
        receipt.get_absolute_url(),
        _("已批办，各承办科室已收到待办"),
    )


@access.staff_required
@require_POST
def incoming_step(request: HttpRequest, pk: int) -> HttpResponse:
    receipt, record = _record_for(request, pk)
    if record is None:
        return _not_registered(request)
    return _act(
        request,
        lambda: services.incoming_step_complete(
            actor=request.user,
            record=record,
            task_id=request.POST.get("task", ""),
            opinion=request.POST.get("opinion", ""),
        ),
        receipt.get_absolute_url(),
        _("已办理"),
    )


@access.staff_required
@require_POST
def urge(request: HttpRequest, pk: int) -> HttpResponse:
    receipt, record = _record_for(request, pk)
    if record is None:
        return _not_registered(request)
    return _act(
        request,
        lambda: services.incoming_urge(
            actor=request.user,
            record=record,
            task_id=request.POST.get("task", ""),
            note=request.POST.get("note", ""),
        ),
        receipt.get_absolute_url(),
        _("已催办"),
    )


@access.staff_required
@require_POST
def reassign(request: HttpRequest, pk: int) -> HttpResponse:
    """科室内改派: a department's head or clerk gives its to-do to another member of the department."""
    receipt, record = _record_for(request, pk)
    if record is None:
        return _not_registered(request)
    return _act(
        request,
        lambda: services.incoming_part_reassign(
            actor=request.user,
            record=record,
            part_id=request.POST.get("part", ""),
            handler_id=request.POST.get("handler", ""),
            reason=request.POST.get("reason", ""),
        ),
        receipt.get_absolute_url(),
        _("已改派，新的承办人已收到待办"),
    )


@access.staff_required
@require_POST
def extend(request: HttpRequest, pk: int) -> HttpResponse:
    """延长办理时限 of one department, by the leader who gave the instruction."""
    receipt, record = _record_for(request, pk)
    if record is None:
        return _not_registered(request)
    return _act(
        request,
        lambda: services.incoming_part_extend(
            actor=request.user,
            record=record,
            part_id=request.POST.get("part", ""),
            days=request.POST.get("days", ""),
            reason=request.POST.get("reason", ""),
            expected_days=request.POST.get("current", ""),
        ),
        receipt.get_absolute_url(),
        _("已延长办理时限，承办科室已收到通知"),
    )


@access.staff_required
@require_POST
def circulate(request: HttpRequest, pk: int) -> HttpResponse:
    receipt, record = _record_for(request, pk)
    if record is None:
        return _not_registered(request)
    return _act(
        request,
        lambda: services.incoming_circulate(
            actor=request.user,
            record=record,
            recipients=request.POST.getlist("recipients"),
            note=request.POST.get("note", ""),
        ),
        receipt.get_absolute_url(),
        _("已传阅"),
    )


@access.staff_required
@require_POST
def comment(request: HttpRequest, pk: int) -> HttpResponse:
    receipt, record = _record_for(request, pk)
    if record is None:
        return _not_registered(request)
    return _act(
        request,
        lambda: services.incoming_comment_add(
            actor=request.user, record=record, text=request.POST.get("text", "")
        ),
        receipt.get_absolute_url(),
        _("意见已保存"),
    )


@access.staff_required
@require_POST
def receive(request: HttpRequest, pk: int) -> HttpResponse:
    receipt = selectors.receipt_get_for_user(request.user, pk)
    return _act(
        request,
        lambda: services.receipt_receive(actor=request.user, receipt=receipt),
        receipt.get_absolute_url(),
        _("已签收"),
    )


@access.staff_required
@require_POST
def refuse(request: HttpRequest, pk: int) -> HttpResponse:
    receipt = selectors.receipt_get_for_user(request.user, pk)
    return _act(
        request,
        lambda: services.receipt_refuse(
            actor=request.user, receipt=receipt, reason=request.POST.get("reason", "")
        ),
        receipt.get_absolute_url(),
        _("已退文"),
    )


@access.staff_required
@require_POST
def register(request: HttpRequest, pk: int) -> HttpResponse:
    receipt = selectors.receipt_get_for_user(request.user, pk)
    return _act(
        request,
        lambda: services.incoming_register(
            actor=request.user, receipt=receipt, opinion=request.POST.get("opinion", "")
        ),
        receipt.get_absolute_url(),
        _("已登记，转入拟办"),
    )


@access.staff_required
@require_POST
def paper_sent(request: HttpRequest, pk: int) -> HttpResponse:
    try:
        receipt = DocumentReceipt.objects.select_related("document", "document__unit").get(pk=int(pk))
    except DocumentReceipt.DoesNotExist:
        raise Http404(_("公文不存在或无权访问")) from None
    doc = selectors.document_get_for_user(request.user, receipt.document_id)
    return _act(
        request,
        lambda: services.receipt_paper_sent(actor=request.user, receipt=receipt),
        f"/documents/{doc.pk}/status/",
        _("纸质件已登记寄出"),
    )


@access.staff_required
@require_GET
def file_download(request: HttpRequest, pk: int) -> HttpResponse:
    """Every download checks the file against its SM3 digest; a mismatch is refused and recorded."""
    row = selectors.file_get_for_user(request.user, pk)
    if not services.file_verify(row):
        services.file_tampered(actor=request.user, row=row)
        return _refused(
            request,
            _("文件校验失败：该文件与登记时的 SM3 摘要不一致，可能已被篡改，已拒绝下载并记录审计。"),
            409,
        )
    inline = request.GET.get("inline") == "1" and row.is_pdf
    response = FileResponse(
        row.file.open("rb"), as_attachment=not inline, filename=row.name, content_type=row.content_type
    )
    response["X-Content-SM3"] = row.sm3
    return response  # type: ignore[return-value]  # a streaming response, served like any other


@access.staff_required
@require_GET
def archive_export(request: HttpRequest, pk: int) -> HttpResponse:
    """归档导出: the records office's package (files, metadata.json, SM3SUMS)."""
    doc = selectors.document_get_for_user(request.user, pk)
    try:
        data = services.archive_package(actor=request.user, document=doc)
    except DocumentError as exc:
        return _refused(request, str(exc))
    except PermissionError as exc:
        raise PermissionDenied(str(exc)) from exc
    response = HttpResponse(data, content_type="application/zip")
    response["Content-Disposition"] = f'attachment; filename="document-{doc.pk}-archive.zip"'
    return response


@access.staff_required
@require_GET
def incoming_archive(request: HttpRequest, pk: int) -> HttpResponse:
    """归档导出 of a received document (files, metadata.json with every step, part and reader, SM3SUMS)."""
    _receipt, record = _record_for(request, pk)
    if record is None:
        return _not_registered(request)
    try:
        data = services.incoming_archive_package(actor=request.user, record=record)
    except DocumentError as exc:
        return _refused(request, str(exc))
    except PermissionError as exc:
        raise PermissionDenied(str(exc)) from exc
    response = HttpResponse(data, content_type="application/zip")
    response["Content-Disposition"] = f'attachment; filename="incoming-{record.pk}-archive.zip"'
    return response


@access.staff_required
@require_GET
def file_preview(request: HttpRequest, pk: int) -> HttpResponse:
    """PDF preview in the browser (PDF.js); the file itself is fetched through the digest-checked download."""
    row = selectors.file_get_for_user(request.user, pk)
    if not row.is_pdf:
        return _refused(request, _("只有 PDF 文件可以在线预览，其他格式请下载后查看"))
    return render(request, "documents/preview.html", {"row": row})


@access.staff_required
@require_GET
def stats(request: HttpRequest) -> HttpResponse:
    """公文签收统计: per unit and period — the user's units and the units they assess; Excel on request."""
    from zhengwu.documents import stats as document_stats

    order = request.GET.get("order") or "unit"
    try:
        period = document_stats.period_parse(request.GET)
        table = document_stats.stats_table(document_stats.stats_units_for(request.user), period, order=order)
    except document_stats.StatsError as exc:
        return _refused(request, str(exc))
    if request.GET.get("format") == "xlsx":
        response = HttpResponse(
            document_stats.stats_xlsx(table),
            content_type="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
        )
        name = f"document-stats-{period.start:%Y%m%d}-{period.end:%Y%m%d}.xlsx"
        response["Content-Disposition"] = f'attachment; filename="{name}"'
        return response
    export = request.GET.copy()
    export["format"] = "xlsx"
    return render(
        request,
        "documents/stats.html",
        {
            "table": table,
            "period": period,
            "order": order,
            "shortcuts": document_stats.period_shortcuts(),
            "export_query": export.urlencode(),
        },
    )
