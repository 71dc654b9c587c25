"""Reads and access for meetings. Every *_for_* helper raises Http404 both for "does not exist" and for
"not yours", so a guessed id reveals nothing.

Who sees what: the organizer unit's staff manage a meeting and see every attendee; an invited unit's
staff see the notice and their own unit's attendees; only its clerks register for it.
"""

from __future__ import annotations

from typing import Any

from django.db.models import Count, Q, QuerySet
from django.http import Http404
from django.utils import timezone
from django.utils.translation import gettext as _

from zhengwu.core import access
from zhengwu.core.models import UnitRoleKind
from zhengwu.meetings.models import (
    ACTIVE,
    Attendee,
    AttendeeStatus,
    Invitation,
    InvitationStatus,
    Meeting,
    MeetingStatus,
)


def _int(value: Any) -> int:
    try:
        return int(value)
    except (TypeError, ValueError):
        raise Http404(_("会议不存在或无权访问")) from None


def meeting_for_organizer(user: Any, meeting_id: Any) -> Meeting:
    """A meeting its organizer unit's staff manage (or the platform system admin)."""
    meeting = Meeting.objects.select_related("organizer").filter(pk=_int(meeting_id)).first()
    if meeting is None or not access.can_view_unit_work(user, meeting.organizer):
        raise Http404(_("会议不存在或无权访问"))
    return meeting


def invitation_for_unit(user: Any, meeting_id: Any, unit_id: Any, *, register: bool = False) -> Invitation:
    """The invitation of a unit the user works in (with `register`: where the user is its clerk)."""
    invitation = (
        Invitation.objects.select_related("meeting", "meeting__organizer", "unit")
        .filter(meeting_id=_int(meeting_id), unit_id=_int(unit_id))
        .first()
    )
    if invitation is None or not access.is_staff_user(user):
        raise Http404(_("会议不存在或无权访问"))
    if register:
        allowed = access.has_unit_role(user, invitation.unit_id, UnitRoleKind.CLERK)
    else:
        allowed = invitation.unit_id in access.user_unit_ids(user)
    if not allowed:
        raise Http404(_("会议不存在或无权访问"))
    return invitation


def attendee_for_invitation(invitation: Invitation, attendee_id: Any) -> Attendee:
    attendee = Attendee.objects.filter(pk=_int(attendee_id), invitation=invitation).first()
    if attendee is None:
        raise Http404(_("人员不存在或无权访问"))
    return attendee


def attendee_for_meeting(meeting: Meeting, attendee_id: Any) -> Attendee:
    attendee = (
        Attendee.objects.select_related("invitation__unit")
        .filter(pk=_int(attendee_id), meeting=meeting)
        .first()
    )
    if attendee is None:
        raise Http404(_("人员不存在或无权访问"))
    return attendee


def meetings_organized(user: Any) -> QuerySet[Meeting]:
    return Meeting.objects.filter(organizer_id__in=access.user_unit_ids(user)).select_related("organizer")


def invitations_received(user: Any) -> QuerySet[Invitation]:
    return (
        Invitation.objects.filter(
            unit_id__in=access.user_unit_ids(user), meeting__status__in=["open", "cancelled"]
        )
        .select_related("meeting", "meeting__organizer", "unit")
        .order_by("-meeting__starts_at", "unit__path")
    )


def invitations_to_register(user: Any) -> QuerySet[Invitation]:
    """待报名: notices still open for registration to units where the user is the clerk (文书), which the
    unit has not answered yet; the nearest deadline first."""
    return (
        Invitation.objects.filter(
            unit_id__in=access.units_with_role(user, UnitRoleKind.CLERK),
            status=InvitationStatus.PENDING,
            meeting__status=MeetingStatus.OPEN,
            meeting__deadline__gte=timezone.now(),
        )
        .select_related("meeting", "meeting__organizer", "unit")
        .order_by("meeting__deadline", "meeting_id", "unit__path")
    )


def meeting_counts(meeting: Meeting) -> dict[str, int]:
    by_status = dict(
        meeting.invitations.values_list("status").annotate(n=Count("id")).values_list("status", "n")
    )
    attendees = dict(
        Attendee.objects.filter(meeting=meeting)
        .values_list("status")
        .annotate(n=Count("id"))
        .values_list("status", "n")
    )
    return {
        "units": sum(by_status.values()),
        "registered": by_status.get(InvitationStatus.REGISTERED, 0),
        "declined": by_status.get(InvitationStatus.DECLINED, 0),
        "pending": by_status.get(InvitationStatus.PENDING, 0),
        "confirmed": attendees.get(AttendeeStatus.CONFIRMED, 0),
        "waitlisted": attendees.get(AttendeeStatus.WAITLISTED, 0),
        "checked_in": Attendee.objects.filter(
            meeting=meeting, status=AttendeeStatus.CONFIRMED, checked_in_at__isnull=False
        ).count(),
    }


def invitations_with_counts(meeting: Meeting, *, status: str = "") -> QuerySet[Invitation]:
    """统计: per invited unit, its answer and how many it registered (confirmed / waitlisted)."""
    qs = meeting.invitations.select_related("unit").annotate(
        confirmed=Count("attendees", filter=Q(attendees__status=AttendeeStatus.CONFIRMED)),
        waitlisted=Count("attendees", filter=Q(attendees__status=AttendeeStatus.WAITLISTED)),
    )
    if status:
        qs = qs.filter(status=status)
    return qs.order_by("unit__path")


def attendees_active(meeting: Meeting) -> QuerySet[Attendee]:
    return (
        Attendee.objects.filter(meeting=meeting, status__in=ACTIVE)
        .select_related("invitation__unit")
        .order_by("invitation__unit__path", "registered_at", "id")
    )
