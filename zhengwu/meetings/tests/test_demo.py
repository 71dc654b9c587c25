"""The demo step: `zhengwu demo` fills the demo city with meeting notices in every registration state."""

from __future__ import annotations

from typing import Any

import pytest
from django.db import connection
from django.utils import timezone

from zhengwu.core.demo import DemoContext, demo_steps
from zhengwu.core.demo import org as demo_org
from zhengwu.core.models import AuditEvent, Unit, User
from zhengwu.meetings import demo, selectors
from zhengwu.meetings.exports import attendees_xlsx
from zhengwu.meetings.models import Attendee, AttendeeStatus, Invitation, InvitationStatus, Meeting

pytestmark = pytest.mark.django_db


@pytest.fixture
def ctx() -> DemoContext:
    ctx = DemoContext(scale="small", password_hash="", now=timezone.now(), log=lambda _m: None)
    demo_org.build(ctx)
    return ctx


def _meeting(title_part: str) -> Meeting:
    return Meeting.objects.get(title__contains=title_part)


def _answers() -> list[tuple[Any, ...]]:
    return list(
        Attendee.objects.order_by("meeting__title", "invitation__unit__code", "registered_at").values_list(
            "meeting__title", "invitation__unit__code", "name", "post", "status", "substitute_for"
        )
    )


def test_it_is_a_step_of_the_demo_after_the_organisation(ctx: DemoContext) -> None:
    names = [s.name for s in demo_steps()]
    assert names[0] == "core.organisation" and "meetings" in names


def test_it_sends_notices_to_groups_of_units_with_registrations_substitutes_and_a_waitlist(
    ctx: DemoContext,
) -> None:
    counts = demo.build(ctx)
    assert counts["meetings"] == 4
    assert AuditEvent.objects.count() == 0  # the demo's one trail record is written by demo_build
    assert counts["attendees"] == Attendee.objects.count() > 20

    fire = _meeting("森林草原防灭火")
    county_govs = Unit.objects.filter(kind="government", level="county").count()
    assert fire.invitations.count() == county_govs == 7
    fire_counts = selectors.meeting_counts(fire)
    assert (fire_counts["registered"], fire_counts["declined"], fire_counts["pending"]) == (2, 1, 4)
    substitutes = Attendee.objects.filter(meeting=fire).exclude(substitute_for="")
    assert substitutes.count() == 1 and "主要负责同志" in substitutes.get().substitute_for
    # Units that have not answered were reminded (the organizer's page shows it).
    pending = fire.invitations.filter(status=InvitationStatus.PENDING)
    assert all(inv.reminded_count == 1 for inv in pending)
    assert fire.deadline > timezone.now() and fire.starts_at > fire.deadline

    training = _meeting("业务培训会")
    assert training.invitations.count() == 60  # every city department (市直部门)
    assert training.total_cap == 8
    assert training.attendees.filter(status=AttendeeStatus.CONFIRMED).count() == 8
    waiting = training.attendees.filter(status=AttendeeStatus.WAITLISTED)
    assert waiting.count() == 4
    first_waiting = waiting.order_by("registered_at").first()
    assert first_waiting is not None
    assert all(
        a.registered_at <= first_waiting.registered_at
        for a in training.attendees.filter(status=AttendeeStatus.CONFIRMED)
    )
    # No unit registered more people than the cap per unit allows.
    for inv in selectors.invitations_with_counts(training):
        assert inv.confirmed + inv.waitlisted <= 2  # type: ignore[attr-defined]


def test_it_holds_a_past_meeting_with_check_ins_only_of_confirmed_attendees(ctx: DemoContext) -> None:
    demo.build(ctx)
    past = _meeting("经济运行分析会")
    assert past.ends_at < timezone.now()
    counts = selectors.meeting_counts(past)
    assert counts["registered"] == counts["units"] == 7
    assert 0 < counts["checked_in"] < counts["confirmed"]
    for attendee in past.attendees.exclude(checked_in_at=None):
        assert attendee.status == AttendeeStatus.CONFIRMED
        assert attendee.checked_in_at is not None and attendee.checked_in_at <= past.starts_at
    data, rows = attendees_xlsx(past)
    assert rows == counts["confirmed"] and data[:2] == b"PK"


def test_it_keeps_the_township_clerks_own_notice_waiting_for_registration(ctx: DemoContext) -> None:
    demo.build(ctx)
    kt_clerk = User.objects.get(username="kt_clerk")
    waiting = list(selectors.invitations_to_register(kt_clerk))
    assert [inv.meeting.title for inv in waiting] == ["崆峒区乡村振兴重点工作推进会"]
    assert waiting[0].unit_id == kt_clerk.primary_unit_id
    rural = waiting[0].meeting
    assert rural.organizer.short_name == "崆峒区政府"
    assert Invitation.objects.filter(meeting=rural, status=InvitationStatus.REGISTERED).count() == 2


def test_it_stores_attendee_phones_encrypted(ctx: DemoContext) -> None:
    demo.build(ctx)
    attendee = Attendee.objects.order_by("pk").first()
    assert attendee is not None and len(attendee.phone) == 11
    with connection.cursor() as cursor:
        cursor.execute("SELECT phone FROM meetings_attendee WHERE id = %s", [attendee.pk])
        raw = cursor.fetchone()[0]
    assert attendee.phone not in raw


def test_it_builds_the_same_meetings_again_after_a_reset(ctx: DemoContext) -> None:
    counts = demo.build(ctx)
    before = _answers()
    removed = demo.reset(ctx)
    assert removed == {
        "meetings": 4,
        "invitations": counts["invitations"],
        "attendees": counts["attendees"],
    }
    assert Meeting.objects.count() == 0 and Invitation.objects.count() == 0
    assert demo.build(ctx) == counts
    assert _answers() == before
