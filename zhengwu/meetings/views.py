"""Meeting pages. Views parse, check access through the selectors (404 for what is not yours), call one
service and render; a refused action comes back with a Chinese message and a 4xx, having written nothing."""

from __future__ import annotations

from typing import Any

from django.contrib import messages
from django.db.models import Q
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.http import require_http_methods, require_POST

from zhengwu.core import access
from zhengwu.core.access import staff_required
from zhengwu.core.models import Unit, UnitGroup
from zhengwu.meetings import exports, selectors, services
from zhengwu.meetings.forms import MeetingChangeForm, MeetingForm, attendee_form_class
from zhengwu.meetings.models import ACTIVE, AttendeeStatus, InvitationStatus, MeetingStatus
from zhengwu.meetings.services import MeetingError


def _refused(request: HttpRequest, exc: Exception, url: str) -> HttpResponse:
    messages.error(request, str(exc))
    response = redirect(url)
    response.status_code = 400 if not isinstance(exc, PermissionError) else 403
    return response


def _refused_page(request: HttpRequest, template: str, ctx: dict[str, Any], exc: Exception) -> HttpResponse:
    messages.error(request, str(exc))
    return render(request, template, ctx, status=400)


@staff_required
def meeting_list(request: HttpRequest) -> HttpResponse:
    """会议通知: those my units organize, and those sent to my units."""
    organized = selectors.meetings_organized(request.user)[:100]
    received = list(selectors.invitations_received(request.user)[:100])
    clerk_units = set(access.units_with_role(request.user, "clerk"))
    for inv in received:
        inv.can_register = inv.unit_id in clerk_units  # type: ignore[attr-defined]
    return render(
        request,
        "meetings/list.html",
        {
            "organized": organized,
            "received": received,
            "can_create": bool(access.user_unit_ids(request.user)),
        },
    )


def _organizer_units(user: Any) -> Any:
    return Unit.objects.filter(pk__in=access.user_unit_ids(user)).order_by("path")


def _groups(user: Any) -> Any:
    return UnitGroup.objects.filter(Q(owner__isnull=True) | Q(owner_id__in=access.user_unit_ids(user)))


@staff_required
@require_http_methods(["GET", "POST"])
def meeting_new(request: HttpRequest) -> HttpResponse:
    """拟稿: a new meeting notice, its recipients and the registration form."""
    kwargs = {"organizers": _organizer_units(request.user), "groups": _groups(request.user)}
    if request.method == "POST":
        form = MeetingForm(request.POST, **kwargs)
        if form.is_valid():
            d = form.cleaned_data
            try:
                meeting = services.meeting_create(
                    actor=request.user,
                    organizer=d["organizer"],
                    title=d["title"],
                    place=d["place"],
                    starts_at=d["starts_at"],
                    ends_at=d["ends_at"],
                    deadline=d["deadline"],
                    body=d["body"],
                    cap_per_unit=d["cap_per_unit"],
                    total_cap=d["total_cap"],
                    form_fields=form.form_fields(),
                    units=d["units"],
                    groups=d["groups"],
                )
            except MeetingError as exc:
                return _refused_page(request, "meetings/new.html", {"form": form}, exc)
            messages.success(request, _("会议通知已保存，请核对后发出"))
            return redirect(meeting.get_absolute_url())
        messages.error(request, _("请检查表单中标出的错误"))
        return render(request, "meetings/new.html", {"form": form}, status=400)
    initial = {"field_post": "required", "field_phone": "required"}
    return render(request, "meetings/new.html", {"form": MeetingForm(initial=initial, **kwargs)})


def _manage_context(request: HttpRequest, meeting: Any, **extra: Any) -> dict[str, Any]:
    status = request.GET.get("status", "")
    if status not in InvitationStatus.values:
        status = ""
    change = extra.pop("change_form", None) or MeetingChangeForm(
        initial={
            k: getattr(meeting, k)
            for k in ("title", "place", "starts_at", "ends_at", "deadline", "cap_per_unit", "total_cap")
        }
    )
    return {
        "meeting": meeting,
        "counts": selectors.meeting_counts(meeting),
        "invitations": selectors.invitations_with_counts(meeting, status=status),
        "status": status,
        "statuses": InvitationStatus.choices,
        "attendees": selectors.attendees_active(meeting),
        "change_form": change,
        "is_open": meeting.status == MeetingStatus.OPEN,
        "deadline_passed": timezone.now() > meeting.deadline,
        **extra,
    }


@staff_required
def meeting_manage(request: HttpRequest, meeting_id: int) -> HttpResponse:
    """组织单位的管理页: live counts by unit, who has not answered, attendees, exports, changes."""
    meeting = selectors.meeting_for_organizer(request.user, meeting_id)
    return render(request, "meetings/manage.html", _manage_context(request, meeting))


@staff_required
@require_POST
def meeting_send(request: HttpRequest, meeting_id: int) -> HttpResponse:
    meeting = selectors.meeting_for_organizer(request.user, meeting_id)
    try:
        n = services.meeting_send(actor=request.user, meeting=meeting)
    except MeetingError as exc:
        return _refused(request, exc, meeting.get_absolute_url())
    messages.success(request, _("会议通知已发出至 %(n)d 个单位") % {"n": n})
    return redirect(meeting.get_absolute_url())


@staff_required
@require_POST
def meeting_change(request: HttpRequest, meeting_id: int) -> HttpResponse:
    meeting = selectors.meeting_for_organizer(request.user, meeting_id)
    form = MeetingChangeForm(request.POST)
    if not form.is_valid():
        messages.error(request, _("请检查表单中标出的错误"))
        ctx = _manage_context(request, meeting, change_form=form)
        return render(request, "meetings/manage.html", ctx, status=400)
    try:
        services.meeting_change(actor=request.user, meeting=meeting, **form.cleaned_data)
    except MeetingError as exc:
        ctx = _manage_context(request, meeting, change_form=form)
        return _refused_page(request, "meetings/manage.html", ctx, exc)
    messages.success(request, _("会议信息已变更，已通知已报名单位"))
    return redirect(meeting.get_absolute_url())


@staff_required
@require_POST
def meeting_cancel(request: HttpRequest, meeting_id: int) -> HttpResponse:
    meeting = selectors.meeting_for_organizer(request.user, meeting_id)
    try:
        services.meeting_cancel(actor=request.user, meeting=meeting, reason=request.POST.get("reason", ""))
    except MeetingError as exc:
        return _refused(request, exc, meeting.get_absolute_url())
    messages.success(request, _("会议已取消，已通知已报名单位"))
    return redirect(meeting.get_absolute_url())


@staff_required
@require_POST
def meeting_remind(request: HttpRequest, meeting_id: int) -> HttpResponse:
    meeting = selectors.meeting_for_organizer(request.user, meeting_id)
    unit_ids = [int(v) for v in request.POST.getlist("unit") if v.isdigit()] or None
    try:
        n = services.meeting_remind(actor=request.user, meeting=meeting, unit_ids=unit_ids)
    except MeetingError as exc:
        return _refused(request, exc, meeting.get_absolute_url())
    if n:
        messages.success(request, _("已向 %(n)d 个未报名单位的文书发送短信和站内提醒") % {"n": n})
    else:
        messages.info(request, _("没有需要提醒的单位（今天已提醒过的单位不再重复提醒）"))
    return redirect(meeting.get_absolute_url())


@staff_required
def meeting_export(request: HttpRequest, meeting_id: int) -> HttpResponse:
    """参会人员名单 (Excel): phones masked unless full numbers are asked for (audited as such)."""
    meeting = selectors.meeting_for_organizer(request.user, meeting_id)
    full = request.GET.get("full") == "1"
    data, _rows = services.attendees_export(actor=request.user, meeting=meeting, full_phones=full)
    response = HttpResponse(
        data, content_type="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
    )
    name = f"meeting-{meeting.pk}-attendees{'-full' if full else ''}.xlsx"
    response["Content-Disposition"] = f'attachment; filename="{name}"'
    return response


@staff_required
def meeting_signin_pdf(request: HttpRequest, meeting_id: int) -> HttpResponse:
    """签到表 (PDF)."""
    meeting = selectors.meeting_for_organizer(request.user, meeting_id)
    response = HttpResponse(exports.signin_pdf(meeting), content_type="application/pdf")
    response["Content-Disposition"] = f'attachment; filename="meeting-{meeting.pk}-signin.pdf"'
    return response


@staff_required
def meeting_checkin(request: HttpRequest, meeting_id: int) -> HttpResponse:
    """现场签到 by list: the organizer's staff tick attendees as they arrive."""
    meeting = selectors.meeting_for_organizer(request.user, meeting_id)
    attendees = selectors.attendees_active(meeting).filter(status=AttendeeStatus.CONFIRMED)
    q = request.GET.get("q", "").strip()[:32]
    if q:
        attendees = attendees.filter(Q(name__contains=q) | Q(invitation__unit__name__contains=q))
    return render(
        request,
        "meetings/checkin.html",
        {"meeting": meeting, "attendees": attendees, "q": q, "counts": selectors.meeting_counts(meeting)},
    )


@staff_required
@require_POST
def attendee_check_in(request: HttpRequest, meeting_id: int, attendee_id: int) -> HttpResponse:
    meeting = selectors.meeting_for_organizer(request.user, meeting_id)
    attendee = selectors.attendee_for_meeting(meeting, attendee_id)
    back = reverse("meetings:checkin", args=[meeting.pk])
    try:
        services.attendee_check_in(actor=request.user, attendee=attendee, how="list")
    except MeetingError as exc:
        return _refused(request, exc, back)
    messages.success(request, _("%(n)s 已签到") % {"n": attendee.name})
    return redirect(back)


@staff_required
@require_http_methods(["GET", "POST"])
def checkin_scan(request: HttpRequest, token: str) -> HttpResponse:
    """扫码签到: the QR code opens this page; only the organizer's staff can check the person in."""
    found = services.checkin_token_read(token)
    if found is None:
        return render(request, "meetings/scan.html", {"invalid": True}, status=404)
    attendee_id, meeting_id = found
    meeting = selectors.meeting_for_organizer(request.user, meeting_id)
    attendee = selectors.attendee_for_meeting(meeting, attendee_id)
    if request.method == "POST":
        try:
            attendee = services.attendee_check_in(actor=request.user, attendee=attendee, how="qr")
        except MeetingError as exc:
            return _refused_page(
                request, "meetings/scan.html", {"meeting": meeting, "attendee": attendee}, exc
            )
        messages.success(request, _("%(n)s 已签到") % {"n": attendee.name})
    return render(request, "meetings/scan.html", {"meeting": meeting, "attendee": attendee})


# --- The invited unit -----------------------------------------------------------------------------
def _register_context(request: HttpRequest, invitation: Any, **extra: Any) -> dict[str, Any]:
    meeting = invitation.meeting
    can_register = access.has_unit_role(request.user, invitation.unit_id, "clerk")
    closed = meeting.status != MeetingStatus.OPEN or timezone.now() > meeting.deadline
    form = extra.pop("form", None) or attendee_form_class(meeting)()
    return {
        "meeting": meeting,
        "invitation": invitation,
        "attendees": invitation.attendees.filter(status__in=ACTIVE).order_by("registered_at", "id"),
        "cancelled": invitation.attendees.filter(status=AttendeeStatus.CANCELLED).order_by("-changed_at")[
            :20
        ],
        "can_register": can_register,
        "closed": closed,
        "form": form,
        **extra,
    }


@staff_required
def invitation_detail(request: HttpRequest, meeting_id: int, unit_id: int) -> HttpResponse:
    """本单位报名: the notice, the unit's attendees, and (for its clerks) the registration form."""
    invitation = selectors.invitation_for_unit(request.user, meeting_id, unit_id)
    return render(request, "meetings/register.html", _register_context(request, invitation))


@staff_required
@require_POST
def attendee_add(request: HttpRequest, meeting_id: int, unit_id: int) -> HttpResponse:
    invitation = selectors.invitation_for_unit(request.user, meeting_id, unit_id, register=True)
    form = attendee_form_class(invitation.meeting)(request.POST)
    if not form.is_valid():
        messages.error(request, _("请检查表单中标出的错误"))
        ctx = _register_context(request, invitation, form=form)
        return render(request, "meetings/register.html", ctx, status=400)
    try:
        attendee = services.attendee_register(
            actor=request.user, invitation=invitation, data=form.cleaned_data
        )
    except MeetingError as exc:
        ctx = _register_context(request, invitation, form=form)
        return _refused_page(request, "meetings/register.html", ctx, exc)
    if attendee.status == AttendeeStatus.WAITLISTED:
        messages.warning(
            request, _("会议名额已满，%(n)s 已列入候补，有人取消时自动递补") % {"n": attendee.name}
        )
    else:
        messages.success(request, _("%(n)s 已报名") % {"n": attendee.name})
    return redirect(invitation.get_absolute_url())


@staff_required
@require_http_methods(["GET", "POST"])
def attendee_edit(request: HttpRequest, meeting_id: int, unit_id: int, attendee_id: int) -> HttpResponse:
    invitation = selectors.invitation_for_unit(request.user, meeting_id, unit_id, register=True)
    attendee = selectors.attendee_for_invitation(invitation, attendee_id)
    form_class = attendee_form_class(invitation.meeting)
    ctx: dict[str, Any] = {"meeting": invitation.meeting, "invitation": invitation, "attendee": attendee}
    if request.method == "POST":
        form = form_class(request.POST)
        if not form.is_valid():
            messages.error(request, _("请检查表单中标出的错误"))
            return render(request, "meetings/attendee_edit.html", ctx | {"form": form}, status=400)
        try:
            services.attendee_change(actor=request.user, attendee=attendee, data=form.cleaned_data)
        except MeetingError as exc:
            return _refused_page(request, "meetings/attendee_edit.html", ctx | {"form": form}, exc)
        messages.success(request, _("参会人员信息已修改"))
        return redirect(invitation.get_absolute_url())
    initial = {f: getattr(attendee, f) for f in form_class.base_fields}  # type: ignore[attr-defined]
    return render(request, "meetings/attendee_edit.html", ctx | {"form": form_class(initial=initial)})


@staff_required
@require_POST
def attendee_cancel(request: HttpRequest, meeting_id: int, unit_id: int, attendee_id: int) -> HttpResponse:
    invitation = selectors.invitation_for_unit(request.user, meeting_id, unit_id, register=True)
    attendee = selectors.attendee_for_invitation(invitation, attendee_id)
    try:
        services.attendee_cancel(actor=request.user, attendee=attendee)
    except MeetingError as exc:
        return _refused(request, exc, invitation.get_absolute_url())
    messages.success(request, _("已取消 %(n)s 的报名") % {"n": attendee.name})
    return redirect(invitation.get_absolute_url())


@staff_required
@require_POST
def invitation_decline(request: HttpRequest, meeting_id: int, unit_id: int) -> HttpResponse:
    invitation = selectors.invitation_for_unit(request.user, meeting_id, unit_id, register=True)
    try:
        services.invitation_decline(
            actor=request.user, invitation=invitation, reason=request.POST.get("reason", "")
        )
    except MeetingError as exc:
        return _refused(request, exc, invitation.get_absolute_url())
    messages.success(request, _("已回复不参加"))
    return redirect(invitation.get_absolute_url())


@staff_required
def attendee_qr(request: HttpRequest, meeting_id: int, unit_id: int, attendee_id: int) -> HttpResponse:
    """签到二维码 of one attendee (for the unit to pass on); it opens the organizer's check-in page."""
    import qrcode
    import qrcode.image.svg

    invitation = selectors.invitation_for_unit(request.user, meeting_id, unit_id)
    attendee = selectors.attendee_for_invitation(invitation, attendee_id)
    url = request.build_absolute_uri(reverse("meetings:scan", args=[services.checkin_token(attendee)]))
    svg = qrcode.make(url, image_factory=qrcode.image.svg.SvgPathImage, box_size=10).to_string(
        encoding="unicode"
    )
    return render(
        request,
        "meetings/qr.html",
        {
            "meeting": invitation.meeting,
            "invitation": invitation,
            "attendee": attendee,
            "svg": svg,
            "url": url,
        },
    )
