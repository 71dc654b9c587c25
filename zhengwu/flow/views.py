"""Pages for to-do items, instances, definitions and the sample case. Views parse, check access through
the selectors (404 for what is not yours), call one service and render; refused actions come back with
a Chinese message and a 4xx, having written nothing."""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

from django.contrib import messages
from django.core.paginator import Paginator
from django.db.models import CharField, OuterRef, Q, Subquery
from django.db.models.functions import Cast
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.http import require_http_methods, require_POST

from zhengwu.core import access
from zhengwu.core.access import role_required, staff_required
from zhengwu.core.models import Unit
from zhengwu.flow import engine, forms, selectors, services, timing
from zhengwu.flow.engine import FlowError
from zhengwu.flow.models import ClockStop, Delegation, InstanceStatus, SampleCase, TaskStatus


def _people(users: list[Any]) -> list[tuple[int, str]]:
    return [(u.pk, u.name or u.username) for u in users]


def _refused(request: HttpRequest, exc: Exception) -> int:
    messages.error(request, str(exc))
    return 403 if isinstance(exc, PermissionError) else 400


# --- To-do items ----------------------------------------------------------------------------------


@staff_required
def task_list(request: HttpRequest) -> HttpResponse:
    """待办 / 已办 / 待阅."""
    tab = request.GET.get("tab", "todo")
    if tab == "done":
        qs: Any = selectors.done_for(request.user)
    elif tab == "to_read":
        qs = selectors.to_read_for(request.user, unread_only=False)
    else:
        tab = "todo"
        qs = selectors.todos_for(request.user)
    page = Paginator(qs, 30).get_page(request.GET.get("page"))
    return render(request, "flow/task_list.html", {"tab": tab, "page": page})


def _task_context(request: HttpRequest, task: Any, **bound: Any) -> dict[str, Any]:
    user = request.user
    holder = selectors.is_holder(user, task)
    candidate = selectors.is_candidate(user, task)
    step = task.instance.definition.step(task.step_id)
    ctx: dict[str, Any] = {
        "task": task,
        "instance": task.instance,
        "step": step,
        "is_holder": holder,
        "is_candidate": candidate,
        "clock_stops": selectors.clock_stops_for_task(task).select_related("started_by", "ended_by"),
        "history": [e for e in selectors.instance_history(task.instance) if e.task_id == task.pk],
    }
    # A step of a business object (a document, a disclosure request …) is best done on its own page,
    # which collects what the generic form cannot.
    business = task.instance.business
    ctx["business_url"] = business.get_absolute_url() if hasattr(business, "get_absolute_url") else ""
    if holder:
        ctx["form"] = bound.get("form") or forms.StepForm(step, initial=task.form_data or None)
    if holder:
        ctx["send_back_form"] = bound.get("send_back_form") or forms.SendBackForm(
            services.send_back_targets(task)
        )
        ctx["transfer_form"] = bound.get("transfer_form") or forms.TransferForm(
            _people(selectors.unit_colleagues(task.unit_id, exclude=user))
        )
        ctx["clock_form"] = bound.get("clock_form") or forms.ClockStopForm()
    if holder or task.completed_by_id == user.pk:
        ctx["circulate_form"] = bound.get("circulate_form") or forms.CirculateForm(
            _people(selectors.colleagues_of(user))
        )
    return ctx


@staff_required
def task_detail(request: HttpRequest, task_id: int) -> HttpResponse:
    task = selectors.task_get_for_user(request.user, task_id)
    return render(request, "flow/task_detail.html", _task_context(request, task))


def _task_action(
    request: HttpRequest,
    task_id: int,
    run: Callable[[Any], Any],
    *,
    done: str,
    bound: str = "",
    form: Any = None,
) -> HttpResponse:
    task = selectors.task_get_for_user(request.user, task_id, act=True)
    try:
        run(task)
    except (FlowError, PermissionError) as exc:
        status = _refused(request, exc)
        task = selectors.task_get_for_user(request.user, task_id)
        extra = {bound: form} if bound and form is not None else {}
        return render(request, "flow/task_detail.html", _task_context(request, task, **extra), status=status)
    messages.success(request, done)
    task.refresh_from_db()
    if task.status == TaskStatus.OPEN and task.assignee_id == request.user.pk:
        return redirect("flow:task_detail", task_id=task.pk)
    return redirect("flow:instance_detail", instance_id=task.instance_id)


@require_POST
@staff_required
def task_claim(request: HttpRequest, task_id: int) -> HttpResponse:
    return _task_action(
        request, task_id, lambda t: services.task_claim(actor=request.user, task=t), done=_("已签收")
    )


@require_POST
@staff_required
def task_complete(request: HttpRequest, task_id: int) -> HttpResponse:
    task = selectors.task_get_for_user(request.user, task_id, act=True)
    step = task.instance.definition.step(task.step_id)
    form = forms.StepForm(step, request.POST)
    if not form.is_valid():
        messages.error(request, _("请检查表单中标出的错误"))
        return render(request, "flow/task_detail.html", _task_context(request, task, form=form), status=400)
    return _task_action(
        request,
        task_id,
        lambda t: services.task_complete(
            actor=request.user, task=t, data=form.step_data(), opinion=form.cleaned_data.get("opinion") or ""
        ),
        done=_("已办理"),
        bound="form",
        form=form,
    )


@require_POST
@staff_required
def task_send_back(request: HttpRequest, task_id: int) -> HttpResponse:
    task = selectors.task_get_for_user(request.user, task_id, act=True)
    form = forms.SendBackForm(services.send_back_targets(task), request.POST)
    if not form.is_valid():
        messages.error(request, _("请选择退回环节并填写理由"))
        return render(
            request, "flow/task_detail.html", _task_context(request, task, send_back_form=form), status=400
        )
    return _task_action(
        request,
        task_id,
        lambda t: services.task_send_back(
            actor=request.user, task=t, target=form.cleaned_data["target"], reason=form.cleaned_data["reason"]
        ),
        done=_("已退回"),
        bound="send_back_form",
        form=form,
    )


@require_POST
@staff_required
def task_transfer(request: HttpRequest, task_id: int) -> HttpResponse:
    task = selectors.task_get_for_user(request.user, task_id, act=True)
    form = forms.TransferForm(
        _people(selectors.unit_colleagues(task.unit_id, exclude=request.user)), request.POST
    )
    if not form.is_valid():
        messages.error(request, _("请选择本单位的转办对象"))
        return render(
            request, "flow/task_detail.html", _task_context(request, task, transfer_form=form), status=400
        )
    return _task_action(
        request,
        task_id,
        lambda t: services.task_transfer(
            actor=request.user,
            task=t,
            to_user=form.cleaned_data["to_user"],
            reason=form.cleaned_data["reason"],
        ),
        done=_("已转办"),
        bound="transfer_form",
        form=form,
    )


@require_POST
@staff_required
def task_circulate(request: HttpRequest, task_id: int) -> HttpResponse:
    task = selectors.task_get_for_user(request.user, task_id)
    form = forms.CirculateForm(_people(selectors.colleagues_of(request.user)), request.POST)
    if not form.is_valid():
        messages.error(request, _("请选择传阅对象"))
        return render(
            request, "flow/task_detail.html", _task_context(request, task, circulate_form=form), status=400
        )
    try:
        services.task_circulate(
            actor=request.user,
            task=task,
            recipients=form.cleaned_data["recipients"],
            note=form.cleaned_data["note"],
        )
    except (FlowError, PermissionError) as exc:
        status = _refused(request, exc)
        return render(
            request, "flow/task_detail.html", _task_context(request, task, circulate_form=form), status=status
        )
    messages.success(request, _("已传阅"))
    return redirect("flow:task_detail", task_id=task.pk)


@require_POST
@staff_required
def task_urge(request: HttpRequest, task_id: int) -> HttpResponse:
    """催办 from the instance page: anyone who may read the case, except the holder."""
    task = selectors.task_get_for_user(request.user, task_id, case_reader=True)
    instance = selectors.instance_get_for_user(request.user, task.instance_id)
    form = forms.UrgeForm(request.POST)
    note = form.cleaned_data["note"] if form.is_valid() else ""
    try:
        services.task_urge(actor=request.user, task=task, note=note)
    except (FlowError, PermissionError) as exc:
        status = _refused(request, exc)
        return render(
            request, "flow/instance_detail.html", _instance_context(request, instance), status=status
        )
    messages.success(request, _("已催办"))
    return redirect("flow:instance_detail", instance_id=instance.pk)


@require_POST
@staff_required
def task_clock_stop(request: HttpRequest, task_id: int) -> HttpResponse:
    task = selectors.task_get_for_user(request.user, task_id, act=True)
    form = forms.ClockStopForm(request.POST)
    if not form.is_valid():
        messages.error(request, _("请选择暂停事由"))
        return render(
            request, "flow/task_detail.html", _task_context(request, task, clock_form=form), status=400
        )
    return _task_action(
        request,
        task_id,
        lambda t: services.clock_stop_start(
            actor=request.user, task=t, reason=form.cleaned_data["reason"], note=form.cleaned_data["note"]
        ),
        done=_("已暂停计时"),
        bound="clock_form",
        form=form,
    )


@require_POST
@staff_required
def clock_stop_end(request: HttpRequest, stop_id: int) -> HttpResponse:
    stop = ClockStop.objects.filter(pk=stop_id).first()
    if stop is None:
        raise Http404(_("暂停记录不存在或无权访问"))
    if stop.task_id:
        task = selectors.task_get_for_user(request.user, stop.task_id)
        instance = task.instance
    else:
        instance = selectors.instance_get_for_user(request.user, stop.instance_id)
    try:
        services.clock_stop_end(actor=request.user, stop=stop)
    except (FlowError, PermissionError) as exc:
        status = _refused(request, exc)
        return render(
            request, "flow/instance_detail.html", _instance_context(request, instance), status=status
        )
    messages.success(request, _("已恢复计时"))
    return redirect("flow:instance_detail", instance_id=instance.pk)


@staff_required
def task_deadline(request: HttpRequest, task_id: int) -> HttpResponse:
    """The deadline page: each due date of the step and of the case, with its arithmetic shown."""
    task = selectors.task_get_for_user(request.user, task_id)
    instance = task.instance
    now = timezone.now() if task.status == TaskStatus.OPEN else task.completed_at
    stops = list(selectors.clock_stops_for_task(task))
    task_periods = timing.periods(stops, not_before=task.started_at)
    instance_periods = timing.periods([s for s in stops if s.instance_id])
    rows = []
    for label, start, text, periods in (
        (_("环节时限"), task.started_at, task.limit, task_periods),
        (_("环节法定时限"), task.started_at, task.legal_limit, task_periods),
        (_("环节承诺时限"), task.started_at, task.promised_limit, task_periods),
        (_("办件法定时限"), instance.started_at, instance.legal_limit, instance_periods),
        (_("办件承诺时限"), instance.started_at, instance.promised_limit, instance_periods),
    ):
        explanation = timing.explain(start, text, periods, now)
        if explanation is not None:
            rows.append({"label": label, "limit": text, "explanation": explanation})
    return render(
        request,
        "flow/task_deadline.html",
        {"task": task, "instance": instance, "rows": rows, "stops": stops},
    )


# --- Instances --------------------------------------------------------------------------------------


def _instance_context(request: HttpRequest, instance: Any) -> dict[str, Any]:
    progress = selectors.instance_progress(instance)
    tasks = list(selectors.instance_tasks(instance))
    for t in tasks:
        t.outcome_label = selectors.outcome_label(instance.definition, t)  # type: ignore[attr-defined]
    user = request.user
    return {
        "instance": instance,
        "definition": instance.definition,
        "progress_json": json.dumps(progress, ensure_ascii=False),
        "progress": progress,
        "tasks": tasks,
        "my_open_tasks": [
            t for t in tasks if selectors.is_holder(user, t) or selectors.is_candidate(user, t)
        ],
        "history": selectors.instance_history(instance),
        "read_items": instance.read_items.select_related("recipient", "sent_by").order_by("created_at"),
        "clock_stops": instance.clock_stops.filter(task__isnull=True).select_related(
            "started_by", "ended_by"
        ),
        "urge_form": forms.UrgeForm(),
        "clock_form": forms.ClockStopForm(),
        "can_stop_clock": instance.status == InstanceStatus.RUNNING
        and services._may_stop_clock(user, instance, None),
        "steps": instance.definition.steps,
    }


@staff_required
def instance_detail(request: HttpRequest, instance_id: int) -> HttpResponse:
    """The case: its flowchart with progress, the to-do items and who holds them, history, receipts."""
    instance = selectors.instance_get_for_user(request.user, instance_id)
    return render(request, "flow/instance_detail.html", _instance_context(request, instance))


@require_POST
@staff_required
def instance_clock_stop(request: HttpRequest, instance_id: int) -> HttpResponse:
    instance = selectors.instance_get_for_user(request.user, instance_id)
    form = forms.ClockStopForm(request.POST)
    try:
        if not form.is_valid():
            raise FlowError(_("请选择暂停事由"))
        services.clock_stop_start(
            actor=request.user,
            instance=instance,
            reason=form.cleaned_data["reason"],
            note=form.cleaned_data["note"],
        )
    except (FlowError, PermissionError) as exc:
        status = _refused(request, exc)
        return render(
            request, "flow/instance_detail.html", _instance_context(request, instance), status=status
        )
    messages.success(request, _("已暂停计时"))
    return redirect("flow:instance_detail", instance_id=instance.pk)


@staff_required
def instance_list(request: HttpRequest) -> HttpResponse:
    page = Paginator(selectors.instances_for(request.user), 30).get_page(request.GET.get("page"))
    return render(request, "flow/instance_list.html", {"page": page})


def _xml(text: str) -> HttpResponse:
    response = HttpResponse(text, content_type="application/xml; charset=utf-8")
    response["X-Content-Type-Options"] = "nosniff"
    response["Content-Disposition"] = "inline"
    return response


@staff_required
def instance_bpmn(request: HttpRequest, instance_id: int) -> HttpResponse:
    instance = selectors.instance_get_for_user(request.user, instance_id)
    return _xml(instance.definition.bpmn_xml)


@staff_required
def read_item_open(request: HttpRequest, item_id: int) -> HttpResponse:
    item = selectors.read_item_get_for_user(request.user, item_id)
    services.read_item_mark_read(actor=request.user, item=item)
    # A case of the reader's own unit that belongs to a business object (a received document …) is read
    # on that object's page, which checks access again.
    if item.instance.unit_id in access.user_unit_ids(request.user):
        url = getattr(item.instance.business, "get_absolute_url", None)
        if callable(url):
            return redirect(url())
    return redirect("flow:instance_detail", instance_id=item.instance_id)


# --- Definitions ------------------------------------------------------------------------------------


@staff_required
def definition_list(request: HttpRequest) -> HttpResponse:
    return render(
        request,
        "flow/definition_list.html",
        {"definitions": selectors.definitions_latest(), "can_publish": access.is_system_admin(request.user)},
    )


@staff_required
def definition_detail(request: HttpRequest, definition_id: int) -> HttpResponse:
    definition = selectors.definition_get(definition_id)
    versions = (
        type(definition)
        .objects.filter(key=definition.key)
        .defer("bpmn_xml", "dmn_files")
        .order_by("-version")
    )
    steps = [s for s in definition.steps.values() if s["kind"] in {"userTask", "manualTask"}]
    return render(
        request,
        "flow/definition_detail.html",
        {"definition": definition, "versions": versions, "user_steps": steps},
    )


@staff_required
def definition_bpmn(request: HttpRequest, definition_id: int) -> HttpResponse:
    return _xml(selectors.definition_get(definition_id).bpmn_xml)


def _read_upload(f: Any) -> str:
    raw = f.read(engine.MAX_XML_BYTES + 1)
    if len(raw) > engine.MAX_XML_BYTES:
        raise FlowError(_("文件过大（上限 2 MB）：%(name)s") % {"name": f.name})
    try:
        return raw.decode("utf-8")
    except UnicodeDecodeError:
        raise FlowError(_("文件不是 UTF-8 编码：%(name)s") % {"name": f.name}) from None


@require_http_methods(["GET", "POST"])
@role_required(access.is_system_admin)
def definition_upload(request: HttpRequest) -> HttpResponse:
    """Publish a BPMN file (and its DMN tables) as a new version: platform system admins only."""
    form = forms.DefinitionUploadForm(request.POST or None, request.FILES or None)
    if request.method == "POST":
        if form.is_valid():
            try:
                bpmn = _read_upload(form.cleaned_data["bpmn"])
                dmn = {f.name: _read_upload(f) for f in form.cleaned_data["dmn"]}
                definition, created = services.definition_publish(
                    actor=request.user, bpmn_xml=bpmn, dmn_files=dmn, filename=form.cleaned_data["bpmn"].name
                )
            except (FlowError, PermissionError) as exc:
                status = _refused(request, exc)
                return render(request, "flow/definition_upload.html", {"form": form}, status=status)
            if created:
                messages.success(
                    request,
                    _("已发布 %(name)s 第 %(v)d 版") % {"name": definition.name, "v": definition.version},
                )
            else:
                messages.info(request, _("内容与第 %(v)d 版相同，未产生新版本") % {"v": definition.version})
            return redirect("flow:definition_detail", definition_id=definition.pk)
        messages.error(request, _("请检查表单中标出的错误"))
        return render(request, "flow/definition_upload.html", {"form": form}, status=400)
    return render(request, "flow/definition_upload.html", {"form": form})


# --- Delegation -------------------------------------------------------------------------------------


@require_http_methods(["GET", "POST"])
@staff_required
def delegations(request: HttpRequest) -> HttpResponse:
    """委托: my delegations (and those made to me); create one while away."""
    people = _people(selectors.colleagues_of(request.user))
    form = forms.DelegationForm(people, request.POST or None)
    status = 200
    if request.method == "POST":
        if form.is_valid():
            try:
                services.delegation_create(
                    actor=request.user,
                    delegate=form.cleaned_data["delegate"],
                    starts_on=form.cleaned_data["starts_on"],
                    ends_on=form.cleaned_data["ends_on"],
                    reason=form.cleaned_data["reason"],
                )
            except (FlowError, PermissionError) as exc:
                status = _refused(request, exc)
            else:
                messages.success(request, _("委托已设置"))
                return redirect("flow:delegations")
        else:
            messages.error(request, _("请检查表单中标出的错误"))
            status = 400
    me = request.user.pk
    mine = Delegation.objects.filter(Q(delegator_id=me) | Q(delegate_id=me)).select_related(
        "delegator", "delegate"
    )
    return render(request, "flow/delegations.html", {"form": form, "delegations": mine}, status=status)


@require_POST
@staff_required
def delegation_cancel(request: HttpRequest, delegation_id: int) -> HttpResponse:
    delegation = Delegation.objects.filter(pk=delegation_id, delegator_id=request.user.pk).first()
    if delegation is None:
        raise Http404(_("委托不存在或无权访问"))
    try:
        services.delegation_cancel(actor=request.user, delegation=delegation)
    except FlowError as exc:
        messages.error(request, str(exc))
        return redirect("flow:delegations")
    messages.success(request, _("委托已撤销"))
    return redirect("flow:delegations")


# --- The sample case --------------------------------------------------------------------------------


@require_http_methods(["GET", "POST"])
@staff_required
def sample_cases(request: HttpRequest) -> HttpResponse:
    """示例办件: start the sample parallel approval against a demonstration case."""
    user = request.user
    my_units = Unit.objects.filter(pk__in=sorted(access.user_unit_ids(user)), is_active=True).order_by("path")
    all_units = Unit.objects.filter(is_active=True).order_by("path")
    form = forms.SampleCaseForm(
        [(u.pk, u.name) for u in my_units], [(u.pk, u.name) for u in all_units], request.POST or None
    )
    status = 200
    if request.method == "POST":
        if form.is_valid():
            data = form.cleaned_data
            units = {u.pk: u for u in all_units}
            try:
                case = services.sample_case_start(
                    actor=user,
                    title=data["title"],
                    applicant=data["applicant"],
                    lead=units[data["lead"]],
                    departments=[units[data["dept_1"]], units[data["dept_2"]], units[data["dept_3"]]],
                )
            except (FlowError, PermissionError) as exc:
                status = _refused(request, exc)
            else:
                messages.success(request, _("已发起：%(title)s") % {"title": case.title})
                instance = services.ProcessInstance.objects.filter(
                    business_type__model="samplecase", business_id=str(case.pk)
                ).first()
                if instance is not None:
                    return redirect("flow:instance_detail", instance_id=instance.pk)
                return redirect("flow:sample_cases")
        else:
            messages.error(request, _("请检查表单中标出的错误"))
            status = 400
    instance_of = services.ProcessInstance.objects.filter(
        business_type__app_label="flow",
        business_type__model="samplecase",
        business_id=Cast(OuterRef("pk"), CharField()),
    ).values("pk")[:1]
    cases = (
        SampleCase.objects.filter(unit__in=my_units)
        .select_related("unit")
        .annotate(instance_id=Subquery(instance_of))[:50]
    )
    return render(
        request,
        "flow/sample_cases.html",
        {
            "form": form,
            "cases": cases,
            "published": selectors.definition_latest(services.SAMPLE_KEY) is not None,
        },
        status=status,
    )
