"""Writes for meeting notices and registration (会议通知报名). Each function is one transaction that
writes its trail record and sends its notices on commit (through notify's outbox).

Registration writes lock the meeting row first (one order everywhere: meeting, then invitation), so
the per-unit cap, the total cap and waitlist promotion are decided on counts nobody else is changing.
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Iterable
from typing import Any

from django.core import signing
from django.db import transaction
from django.db.models import Q
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import pgettext

from zhengwu.core.audit import audit_record, snapshot
from zhengwu.core.models import Unit, UnitGroup, UnitRole, UnitRoleKind
from zhengwu.core.selectors import unit_group_members
from zhengwu.meetings.models import (
    ACTIVE,
    FIELD_CATALOGUE,
    Attendee,
    AttendeeStatus,
    Invitation,
    InvitationStatus,
    Meeting,
    MeetingStatus,
)
from zhengwu.notify.services import notification_send

CHECKIN_SALT = "zhengwu.meetings.checkin"
PHONE_RE = re.compile(r"^1\d{10}$")
MEETING_FIELDS = ["title", "place", "starts_at", "ends_at", "deadline", "cap_per_unit", "total_cap", "status"]
ATTENDEE_FIELDS = [
    "name",
    "post",
    "gender",
    "ethnicity",
    "plate",
    "dining",
    "accommodation",
    "substitute_for",
]


class MeetingError(Exception):
    """A refused meeting action; the message is for the user (Chinese)."""


# --- Helpers --------------------------------------------------------------------------------------
def _local(value: dt.datetime) -> str:
    return timezone.localtime(value).strftime("%Y-%m-%d %H:%M")


def unit_clerk_ids(unit_ids: Iterable[int]) -> dict[int, list[int]]:
    """{unit_id: [clerk ids]}; a unit without a clerk falls back to its unit admins."""
    ids = list(unit_ids)
    out: dict[int, list[int]] = {}
    admins: dict[int, list[int]] = {}
    rows = UnitRole.objects.filter(
        unit_id__in=ids, role__in=[UnitRoleKind.CLERK, UnitRoleKind.UNIT_ADMIN], user__is_active=True
    ).values_list("unit_id", "user_id", "role")
    for unit_id, user_id, role in rows:
        (out if role == UnitRoleKind.CLERK else admins).setdefault(unit_id, []).append(user_id)
    for unit_id, users in admins.items():
        out.setdefault(unit_id, users)
    return out


def _notify_units(
    meeting: Meeting, unit_ids: Iterable[int], *, title: str, body: str, key: str, sms: bool
) -> int:
    clerks = unit_clerk_ids(unit_ids)
    recipients = sorted({uid for users in clerks.values() for uid in users})
    if recipients:
        notification_send(
            recipients=recipients,
            title=title,
            body=body,
            url=reverse("meetings:list"),
            channels=("app", "sms") if sms else ("app",),
            key=key,
            sms_params={"text": f"{title}。{body}"[:300]},
        )
    return len(recipients)


def clean_form_fields(items: Iterable[dict[str, Any]]) -> list[dict[str, Any]]:
    out: list[dict[str, Any]] = []
    seen: set[str] = set()
    for item in items:
        key = str(item.get("key", ""))
        if key not in FIELD_CATALOGUE:
            raise MeetingError(_("未知的报名字段：%(k)s") % {"k": key})
        if key not in seen:
            seen.add(key)
            out.append({"key": key, "required": bool(item.get("required"))})
    return out


def _check_times(starts_at: dt.datetime, ends_at: dt.datetime, deadline: dt.datetime) -> None:
    if ends_at <= starts_at:
        raise MeetingError(_("结束时间应晚于开始时间"))
    if deadline > starts_at:
        raise MeetingError(_("报名截止时间不能晚于会议开始时间"))


# --- The notice -----------------------------------------------------------------------------------
@transaction.atomic
def meeting_create(
    *,
    actor: Any,
    organizer: Unit,
    title: str,
    place: str,
    starts_at: dt.datetime,
    ends_at: dt.datetime,
    deadline: dt.datetime,
    body: str = "",
    cap_per_unit: int | None = None,
    total_cap: int | None = None,
    form_fields: Iterable[dict[str, Any]] = (),
    units: Iterable[Unit] = (),
    groups: Iterable[UnitGroup] = (),
) -> Meeting:
    """Draft a meeting notice (拟稿) with its recipients and registration form."""
    _check_times(starts_at, ends_at, deadline)
    units, groups = list(units), list(groups)
    if not units and not groups:
        raise MeetingError(_("请至少选择一个通知单位或单位分组"))
    meeting = Meeting.objects.create(
        organizer=organizer,
        created_by=actor,
        title=title.strip(),
        body=body,
        place=place.strip(),
        starts_at=starts_at,
        ends_at=ends_at,
        deadline=deadline,
        cap_per_unit=cap_per_unit or None,
        total_cap=total_cap or None,
        form_fields=clean_form_fields(form_fields),
    )
    meeting.recipient_units.set(units)
    meeting.recipient_groups.set(groups)
    audit_record(
        action="meeting.create",
        obj=meeting,
        actor=actor,
        unit=organizer,
        after=snapshot(meeting, MEETING_FIELDS)
        | {"units": [u.pk for u in units], "groups": [g.code for g in groups]},
    )
    return meeting


def meeting_lock(meeting_id: int) -> Meeting:
    return Meeting.objects.select_for_update().get(pk=meeting_id)


@transaction.atomic
def meeting_send(*, actor: Any, meeting: Meeting) -> int:
    """发出: expand units and groups into one invitation per unit, all in this one transaction.

    Sending twice is harmless: the second call finds the meeting already sent and changes nothing.
    """
    meeting = meeting_lock(meeting.pk)
    if meeting.status == MeetingStatus.CANCELLED:
        raise MeetingError(_("会议已取消，不能发出"))
    if meeting.status == MeetingStatus.OPEN:
        return meeting.invitations.count()
    unit_ids: dict[int, None] = {}
    for unit in meeting.recipient_units.filter(is_active=True).order_by("path"):
        unit_ids[unit.pk] = None
    for group in meeting.recipient_groups.all():
        for pk in unit_group_members(group).values_list("pk", flat=True):
            unit_ids[pk] = None
    unit_ids.pop(meeting.organizer_id, None)  # the organizer does not invite itself
    if not unit_ids:
        raise MeetingError(_("所选单位分组中没有可通知的单位"))
    Invitation.objects.bulk_create(
        [Invitation(meeting=meeting, unit_id=pk) for pk in unit_ids], batch_size=500, ignore_conflicts=True
    )
    meeting.status = MeetingStatus.OPEN
    meeting.sent_at = timezone.now()
    meeting.save(update_fields=["status", "sent_at"])
    audit_record(
        action="meeting.send",
        obj=meeting,
        actor=actor,
        unit=meeting.organizer,
        after={"units": len(unit_ids)},
    )
    _notify_units(
        meeting,
        unit_ids,
        title=_("会议通知：%(t)s") % {"t": meeting.title},
        body=_("%(org)s 通知：%(start)s 在 %(place)s 召开，请于 %(deadline)s 前报名。")
        % {
            "org": meeting.organizer.name,
            "start": _local(meeting.starts_at),
            "place": meeting.place,
            "deadline": _local(meeting.deadline),
        },
        key=f"meeting-sent:{meeting.pk}",
        sms=False,
    )
    return len(unit_ids)


def _registered_unit_ids(meeting: Meeting) -> list[int]:
    return list(
        meeting.invitations.filter(status=InvitationStatus.REGISTERED).values_list("unit_id", flat=True)
    )


@transaction.atomic
def meeting_change(*, actor: Any, meeting: Meeting, **changes: Any) -> Meeting:
    """变更: new time, place, deadline or caps; every registered unit is told (in-app and SMS)."""
    meeting = meeting_lock(meeting.pk)
    if meeting.status == MeetingStatus.CANCELLED:
        raise MeetingError(_("会议已取消，不能变更"))
    allowed = {"title", "body", "place", "starts_at", "ends_at", "deadline", "cap_per_unit", "total_cap"}
    unknown = set(changes) - allowed
    if unknown:
        raise ValueError(f"unknown meeting fields: {unknown}")
    before = snapshot(meeting, MEETING_FIELDS)
    values = {k: ((v or None) if k in {"cap_per_unit", "total_cap"} else v) for k, v in changes.items()}
    changed = [k for k, v in values.items() if getattr(meeting, k) != v]
    if not changed:
        return meeting
    for key in changed:
        setattr(meeting, key, values[key])
    _check_times(meeting.starts_at, meeting.ends_at, meeting.deadline)
    meeting.version += 1
    meeting.changed_at = timezone.now()
    meeting.save(update_fields=[*changed, "version", "changed_at"])
    audit_record(
        action="meeting.change", obj=meeting, actor=actor, unit=meeting.organizer, before=before,
        after=snapshot(meeting, MEETING_FIELDS),
    )  # fmt: skip
    if meeting.status == MeetingStatus.OPEN:
        if {"total_cap"} & set(changed):
            _promote(meeting)
        _notify_units(
            meeting,
            _registered_unit_ids(meeting),
            title=_("会议变更：%(t)s") % {"t": meeting.title},
            body=_("会议时间 %(start)s，地点 %(place)s，请按变更后的安排参会。")
            % {"start": _local(meeting.starts_at), "place": meeting.place},
            key=f"meeting-change:{meeting.pk}:{meeting.version}",
            sms=True,
        )
    return meeting


@transaction.atomic
def meeting_cancel(*, actor: Any, meeting: Meeting, reason: str) -> Meeting:
    """取消会议: every registered unit is told (in-app and SMS). Cancelling twice changes nothing."""
    reason = reason.strip()
    if not reason:
        raise MeetingError(_("请填写取消原因"))
    meeting = meeting_lock(meeting.pk)
    if meeting.status == MeetingStatus.CANCELLED:
        return meeting
    was_open = meeting.status == MeetingStatus.OPEN
    meeting.status = MeetingStatus.CANCELLED
    meeting.cancelled_at = timezone.now()
    meeting.cancel_reason = reason[:200]
    meeting.save(update_fields=["status", "cancelled_at", "cancel_reason"])
    audit_record(
        action="meeting.cancel", obj=meeting, actor=actor, unit=meeting.organizer, after={"reason": reason}
    )
    if was_open:
        _notify_units(
            meeting,
            _registered_unit_ids(meeting),
            title=_("会议取消：%(t)s") % {"t": meeting.title},
            body=_("原定 %(start)s 召开的会议已取消。原因：%(r)s")
            % {"start": _local(meeting.starts_at), "r": reason},
            key=f"meeting-cancel:{meeting.pk}",
            sms=True,
        )
    return meeting


# --- Registration ---------------------------------------------------------------------------------
def _open_for_registration(meeting: Meeting, now: dt.datetime | None = None) -> None:
    if meeting.status == MeetingStatus.CANCELLED:
        raise MeetingError(_("会议已取消，不能报名或修改"))
    if meeting.status != MeetingStatus.OPEN:
        raise MeetingError(_("会议通知尚未发出"))
    if (now or timezone.now()) > meeting.deadline:
        raise MeetingError(
            _("报名已于 %(d)s 截止，不能再报名或修改；如需变更请联系组织单位。")
            % {"d": _local(meeting.deadline)}
        )


def clean_attendee(meeting: Meeting, data: dict[str, Any]) -> dict[str, str]:
    """The attendee's answers checked against the organizer's form; MeetingError names the problem."""
    out: dict[str, str] = {}
    name = str(data.get("name", "")).strip()
    if not name:
        raise MeetingError(_("请填写参会人员姓名"))
    if len(name) > 32:
        raise MeetingError(_("姓名不能超过 32 个字"))
    out["name"] = name
    for spec in meeting.field_specs()[1:]:
        key = spec["key"]
        value = str(data.get(key, "") or "").strip()
        _label, choices, max_len = FIELD_CATALOGUE[key]
        if spec["required"] and not value:
            raise MeetingError(_("请填写%(f)s") % {"f": spec["label"]})
        if value and choices and value not in dict(choices):
            raise MeetingError(
                _("%(f)s只能选择：%(c)s")
                % {
                    "f": spec["label"],
                    "c": pgettext("列表分隔符", "、").join(str(label) for _v, label in choices),
                }
            )
        if len(value) > max_len:
            raise MeetingError(_("%(f)s过长") % {"f": spec["label"]})
        if key == "phone" and value and not PHONE_RE.match(value):
            raise MeetingError(_("手机号应为 11 位数字"))
        out[key] = value
    substitute_for = str(data.get("substitute_for", "") or "").strip()
    if len(substitute_for) > 64:
        raise MeetingError(_("被代替人过长"))
    out["substitute_for"] = substitute_for
    return out


def _confirmed_count(meeting: Meeting) -> int:
    return Attendee.objects.filter(meeting=meeting, status=AttendeeStatus.CONFIRMED).count()


def _promote(meeting: Meeting) -> list[Attendee]:
    """候补递补: fill free places with the longest-waiting attendees, and tell their units."""
    if meeting.total_cap is None:
        free = None
    else:
        free = meeting.total_cap - _confirmed_count(meeting)
        if free <= 0:
            return []
    waiting = Attendee.objects.filter(meeting=meeting, status=AttendeeStatus.WAITLISTED).order_by(
        "registered_at", "id"
    )
    promoted = list(waiting if free is None else waiting[:free])
    for attendee in promoted:
        attendee.status = AttendeeStatus.CONFIRMED
        attendee.changed_at = timezone.now()
        attendee.save(update_fields=["status", "changed_at"])
        audit_record(
            action="meeting.attendee.promote",
            obj=attendee,
            object_label=f"{meeting.title} · {attendee.name}",
            unit=meeting.organizer,
            after={"status": attendee.status},
        )
        _notify_units(
            meeting,
            [attendee.invitation.unit_id],
            title=_("候补转正：%(t)s") % {"t": meeting.title},
            body=_("%(n)s 已由候补转为正式参会。") % {"n": attendee.name},
            key=f"meeting-promote:{attendee.pk}",
            sms=False,
        )
    return promoted


def _lock(invitation: Invitation) -> tuple[Meeting, Invitation]:
    meeting = meeting_lock(invitation.meeting_id)
    invitation = Invitation.objects.select_for_update().select_related("unit").get(pk=invitation.pk)
    return meeting, invitation


def _mark_registered(invitation: Invitation, actor: Any) -> None:
    active = invitation.attendees.filter(status__in=ACTIVE).exists()
    status = InvitationStatus.REGISTERED if active else InvitationStatus.PENDING
    invitation.status = status
    invitation.decline_reason = ""
    invitation.responded_at = timezone.now() if active else None
    invitation.responded_by = actor if active else None
    invitation.save(update_fields=["status", "decline_reason", "responded_at", "responded_by"])


@transaction.atomic
def attendee_register(*, actor: Any, invitation: Invitation, data: dict[str, Any]) -> Attendee:
    """报名一人 (or 代参会 when substitute_for names the invited person).

    The same name submitted again for the same unit updates that attendee instead of adding a second
    one, so a double submit is harmless.
    """
    meeting, invitation = _lock(invitation)
    _open_for_registration(meeting)
    clean = clean_attendee(meeting, data)
    existing = invitation.attendees.filter(status__in=ACTIVE, name=clean["name"]).first()
    if existing is not None:
        return _attendee_apply(actor, meeting, invitation, existing, clean)
    if meeting.cap_per_unit is not None:
        count = invitation.attendees.filter(status__in=ACTIVE).count()
        if count >= meeting.cap_per_unit:
            raise MeetingError(
                _("每个单位最多报名 %(n)d 人，本单位已报 %(c)d 人") % {"n": meeting.cap_per_unit, "c": count}
            )
    full = meeting.total_cap is not None and _confirmed_count(meeting) >= meeting.total_cap
    waiting = Attendee.objects.filter(meeting=meeting, status=AttendeeStatus.WAITLISTED).exists()
    attendee = Attendee.objects.create(
        meeting=meeting,
        invitation=invitation,
        status=AttendeeStatus.WAITLISTED if (full or waiting) else AttendeeStatus.CONFIRMED,
        registered_at=timezone.now(),
        **clean,
    )
    _mark_registered(invitation, actor)
    audit_record(
        action="meeting.attendee.register",
        obj=attendee,
        object_label=f"{meeting.title} · {attendee.name}",
        actor=actor,
        unit=invitation.unit,
        after=snapshot(attendee, [*ATTENDEE_FIELDS, "status"]) | {"phone": attendee.phone_masked},
    )
    return attendee


def _attendee_apply(
    actor: Any, meeting: Meeting, invitation: Invitation, attendee: Attendee, clean: dict[str, str]
) -> Attendee:
    before = snapshot(attendee, ATTENDEE_FIELDS) | {"phone": attendee.phone_masked}
    changed = [k for k, v in clean.items() if getattr(attendee, k) != v]
    if not changed:
        return attendee
    if (
        "name" in changed
        and invitation.attendees.filter(status__in=ACTIVE, name=clean["name"])
        .exclude(pk=attendee.pk)
        .exists()
    ):
        raise MeetingError(_("本单位已报名 %(n)s") % {"n": clean["name"]})
    for key in changed:
        setattr(attendee, key, clean[key])
    attendee.changed_at = timezone.now()
    attendee.save(update_fields=[*changed, "changed_at"])
    audit_record(
        action="meeting.attendee.change",
        obj=attendee,
        object_label=f"{meeting.title} · {attendee.name}",
        actor=actor,
        unit=invitation.unit,
        before=before,
        after=snapshot(attendee, ATTENDEE_FIELDS) | {"phone": attendee.phone_masked},
    )
    return attendee


@transaction.atomic
def attendee_change(*, actor: Any, attendee: Attendee, data: dict[str, Any]) -> Attendee:
    """修改参会人员 (e.g. another person goes instead), until the deadline."""
    meeting, invitation = _lock(attendee.invitation)
    _open_for_registration(meeting)
    attendee = Attendee.objects.select_for_update().get(pk=attendee.pk)
    if attendee.status not in ACTIVE:
        raise MeetingError(_("该人员的报名已取消"))
    return _attendee_apply(actor, meeting, invitation, attendee, clean_attendee(meeting, data))


def _cancel_one(actor: Any, meeting: Meeting, invitation: Invitation, attendee: Attendee) -> None:
    attendee.status = AttendeeStatus.CANCELLED
    attendee.changed_at = timezone.now()
    attendee.save(update_fields=["status", "changed_at"])
    audit_record(
        action="meeting.attendee.cancel",
        obj=attendee,
        object_label=f"{meeting.title} · {attendee.name}",
        actor=actor,
        unit=invitation.unit,
        after={"status": attendee.status},
    )


@transaction.atomic
def attendee_cancel(*, actor: Any, attendee: Attendee) -> list[Attendee]:
    """取消报名; a freed place goes to the first on the waitlist. Returns those promoted."""
    meeting, invitation = _lock(attendee.invitation)
    _open_for_registration(meeting)
    attendee = Attendee.objects.select_for_update().get(pk=attendee.pk)
    if attendee.status not in ACTIVE:
        return []  # cancelled already: a double submit changes nothing
    _cancel_one(actor, meeting, invitation, attendee)
    _mark_registered(invitation, actor)
    return _promote(meeting)


@transaction.atomic
def invitation_decline(*, actor: Any, invitation: Invitation, reason: str) -> Invitation:
    """不参加: the unit will not attend; any attendees it named are cancelled (their places freed)."""
    reason = reason.strip()
    if not reason:
        raise MeetingError(_("请填写不参加的原因"))
    if len(reason) > 200:
        raise MeetingError(_("原因不能超过 200 个字"))
    meeting, invitation = _lock(invitation)
    _open_for_registration(meeting)
    if invitation.status == InvitationStatus.DECLINED and invitation.decline_reason == reason:
        return invitation
    for attendee in invitation.attendees.select_for_update().filter(status__in=ACTIVE):
        _cancel_one(actor, meeting, invitation, attendee)
    invitation.status = InvitationStatus.DECLINED
    invitation.decline_reason = reason
    invitation.responded_at = timezone.now()
    invitation.responded_by = actor
    invitation.save(update_fields=["status", "decline_reason", "responded_at", "responded_by"])
    audit_record(
        action="meeting.decline", obj=invitation, actor=actor, unit=invitation.unit, after={"reason": reason}
    )
    _promote(meeting)
    return invitation


# --- Organizer's tools ----------------------------------------------------------------------------
@transaction.atomic
def meeting_remind(*, actor: Any, meeting: Meeting, unit_ids: Iterable[int] | None = None) -> int:
    """催报: SMS and in-app notice to the clerks of units that have not answered, at most once a day
    per unit (key meeting × unit × day). Returns the number of units reminded now."""
    meeting = meeting_lock(meeting.pk)
    _open_for_registration(meeting)
    today = timezone.localdate()
    qs = meeting.invitations.select_for_update().filter(status=InvitationStatus.PENDING)
    qs = qs.filter(Q(last_reminded_on__isnull=True) | Q(last_reminded_on__lt=today))
    if unit_ids is not None:
        qs = qs.filter(unit_id__in=list(unit_ids))
    invitations = list(qs.select_related("unit"))
    for invitation in invitations:
        _notify_units(
            meeting,
            [invitation.unit_id],
            title=_("请尽快报名：%(t)s") % {"t": meeting.title},
            body=_("%(u)s 尚未报名，报名截止时间 %(d)s。")
            % {"u": invitation.unit.name, "d": _local(meeting.deadline)},
            key=f"meeting-remind:{meeting.pk}:{invitation.unit_id}:{today.isoformat()}",
            sms=True,
        )
        invitation.reminded_count += 1
        invitation.last_reminded_on = today
        invitation.save(update_fields=["reminded_count", "last_reminded_on"])
    if invitations:
        audit_record(
            action="meeting.remind",
            obj=meeting,
            actor=actor,
            unit=meeting.organizer,
            after={"units": [i.unit_id for i in invitations]},
        )
    return len(invitations)


def checkin_token(attendee: Attendee) -> str:
    """The signed token of an attendee's check-in QR code (cannot be forged or moved to another person)."""
    return signing.dumps({"a": attendee.pk, "m": attendee.meeting_id}, salt=CHECKIN_SALT, compress=True)


def checkin_token_read(token: str) -> tuple[int, int] | None:
    try:
        data = signing.loads(token, salt=CHECKIN_SALT)
        return int(data["a"]), int(data["m"])
    except (signing.BadSignature, KeyError, TypeError, ValueError):
        return None


@transaction.atomic
def attendee_check_in(*, actor: Any, attendee: Attendee, how: str = "list") -> Attendee:
    """签到 on the day (by list or QR code); checking in twice keeps the first time."""
    attendee = Attendee.objects.select_for_update().select_related("meeting").get(pk=attendee.pk)
    if attendee.meeting.status == MeetingStatus.CANCELLED:
        raise MeetingError(_("会议已取消"))
    if attendee.status != AttendeeStatus.CONFIRMED:
        raise MeetingError(
            _("%(n)s 不是正式参会人员（%(s)s），不能签到")
            % {"n": attendee.name, "s": attendee.get_status_display()}
        )
    if attendee.checked_in_at is not None:
        return attendee
    attendee.checked_in_at = timezone.now()
    attendee.checked_in_by = actor
    attendee.save(update_fields=["checked_in_at", "checked_in_by"])
    audit_record(
        action="meeting.checkin",
        obj=attendee,
        object_label=f"{attendee.meeting.title} · {attendee.name}",
        actor=actor,
        unit=attendee.meeting.organizer,
        after={"how": how},
    )
    return attendee


@transaction.atomic
def attendees_export(*, actor: Any, meeting: Meeting, full_phones: bool = False) -> tuple[bytes, int]:
    """导出参会人员名单. Every export is in the trail; one with full phone numbers says so."""
    from zhengwu.meetings.exports import attendees_xlsx

    data, rows = attendees_xlsx(meeting, full_phones=full_phones)
    audit_record(
        action="meeting.export.full_phones" if full_phones else "meeting.export",
        obj=meeting,
        actor=actor,
        unit=meeting.organizer,
        after={"rows": rows, "full_phones": full_phones},
    )
    return data, rows
