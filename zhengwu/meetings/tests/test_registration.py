"""Registration services: sending, registering, substitutes, deadline, caps, waitlist, decline,
reminders and notices of changes and cancellation."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest
from django.utils import timezone

from zhengwu.core.models import AuditEvent
from zhengwu.meetings import services
from zhengwu.meetings.models import Attendee, AttendeeStatus, Invitation, InvitationStatus, Meeting
from zhengwu.meetings.services import MeetingError
from zhengwu.meetings.tests.helpers import clerks, invitation, make_meeting, person
from zhengwu.notify.models import Delivery, Notice

pytestmark = pytest.mark.django_db


def test_it_sends_one_invitation_per_unit_of_the_group_and_tells_their_clerks(cast: Any) -> None:
    people = clerks(cast)
    meeting = make_meeting(cast, units=[cast.county_a_gov])
    units = set(Invitation.objects.filter(meeting=meeting).values_list("unit__name", flat=True))
    assert units == {"平凉市信息化办公室", "平凉市监察局", "平凉市文化和旅游局", "崆峒区人民政府"}
    assert Notice.objects.filter(
        recipient=people["info"], title__contains="全市政务信息化工作推进会"
    ).exists()
    assert Notice.objects.filter(recipient=cast.outsider).count() == 1
    # Sending again changes nothing and notifies nobody twice.
    assert services.meeting_send(actor=cast.city_clerk, meeting=meeting) == 4
    assert Invitation.objects.filter(meeting=meeting).count() == 4
    assert Notice.objects.filter(recipient=cast.outsider).count() == 1


def test_it_registers_attendees_with_encrypted_phones_and_a_substitute(cast: Any) -> None:
    people = clerks(cast)
    meeting = make_meeting(cast)
    inv = invitation(meeting, cast.city_info_office)
    a = services.attendee_register(actor=people["info"], invitation=inv, data=person("韩主任"))
    b = services.attendee_register(
        actor=people["info"], invitation=inv, data=person("许科员", substitute_for="局长 马局长")
    )
    inv.refresh_from_db()
    assert inv.status == InvitationStatus.REGISTERED and inv.responded_by == people["info"]
    assert a.status == AttendeeStatus.CONFIRMED and not a.is_substitute
    assert b.is_substitute and b.substitute_for == "局长 马局长"
    from django.db import connection

    with connection.cursor() as cur:
        cur.execute("SELECT phone FROM meetings_attendee WHERE id = %s", [a.pk])
        raw = cur.fetchone()[0]
    assert "13912345678" not in raw
    assert Attendee.objects.get(pk=a.pk).phone == "13912345678"
    assert a.phone_masked == "139****5678"
    event = AuditEvent.objects.filter(action="meeting.attendee.register", object_id=str(b.pk)).get()
    assert event.after["substitute_for"] == "局长 马局长" and event.after["phone"] == "139****5678"


def test_it_treats_a_double_submit_as_one_registration(cast: Any) -> None:
    people = clerks(cast)
    inv = invitation(make_meeting(cast), cast.city_info_office)
    first = services.attendee_register(actor=people["info"], invitation=inv, data=person("韩主任"))
    again = services.attendee_register(actor=people["info"], invitation=inv, data=person("韩主任"))
    assert first.pk == again.pk
    assert Attendee.objects.filter(invitation=inv).count() == 1
    assert AuditEvent.objects.filter(action="meeting.attendee.register").count() == 1


def test_it_checks_the_organizers_form(cast: Any) -> None:
    people = clerks(cast)
    inv = invitation(make_meeting(cast), cast.city_info_office)
    with pytest.raises(MeetingError, match="职务"):
        services.attendee_register(
            actor=people["info"], invitation=inv, data={"name": "韩主任", "phone": "13912345678"}
        )
    with pytest.raises(MeetingError, match="手机号"):
        services.attendee_register(actor=people["info"], invitation=inv, data=person("韩主任", phone="12345"))
    assert not Attendee.objects.exists()


def test_it_lets_the_unit_change_attendees_until_the_deadline_and_refuses_after(cast: Any) -> None:
    people = clerks(cast)
    meeting = make_meeting(cast)
    inv = invitation(meeting, cast.city_info_office)
    a = services.attendee_register(actor=people["info"], invitation=inv, data=person("韩主任"))
    services.attendee_change(actor=people["info"], attendee=a, data=person("韩主任", phone="13800000000"))
    assert Attendee.objects.get(pk=a.pk).phone == "13800000000"
    Meeting.objects.filter(pk=meeting.pk).update(deadline=timezone.now() - dt.timedelta(minutes=1))
    with pytest.raises(MeetingError, match=r"报名已于 .* 截止"):
        services.attendee_change(actor=people["info"], attendee=a, data=person("韩主任", phone="13700000000"))
    with pytest.raises(MeetingError, match="截止"):
        services.attendee_register(actor=people["info"], invitation=inv, data=person("新人员"))
    with pytest.raises(MeetingError, match="截止"):
        services.attendee_cancel(actor=people["info"], attendee=a)
    assert Attendee.objects.get(pk=a.pk).phone == "13800000000"
    assert Attendee.objects.filter(invitation=inv).count() == 1


def test_it_enforces_the_cap_per_unit(cast: Any) -> None:
    people = clerks(cast)
    inv = invitation(make_meeting(cast, cap_per_unit=2), cast.city_info_office)
    services.attendee_register(actor=people["info"], invitation=inv, data=person("甲"))
    services.attendee_register(actor=people["info"], invitation=inv, data=person("乙"))
    with pytest.raises(MeetingError, match="每个单位最多报名 2 人"):
        services.attendee_register(actor=people["info"], invitation=inv, data=person("丙"))
    assert Attendee.objects.filter(invitation=inv).count() == 2


def test_it_waitlists_over_the_total_cap_and_promotes_when_someone_cancels(cast: Any) -> None:
    people = clerks(cast)
    meeting = make_meeting(cast, total_cap=2)
    info, sup = invitation(meeting, cast.city_info_office), invitation(meeting, cast.city_supervision)
    a = services.attendee_register(actor=people["info"], invitation=info, data=person("甲"))
    services.attendee_register(actor=people["sup"], invitation=sup, data=person("乙"))
    c = services.attendee_register(actor=people["sup"], invitation=sup, data=person("丙"))
    d = services.attendee_register(actor=people["info"], invitation=info, data=person("丁"))
    assert (c.status, d.status) == (AttendeeStatus.WAITLISTED, AttendeeStatus.WAITLISTED)
    promoted = services.attendee_cancel(actor=people["info"], attendee=a)
    assert [p.name for p in promoted] == ["丙"]  # the longest waiting, from another unit
    assert Attendee.objects.get(pk=c.pk).status == AttendeeStatus.CONFIRMED
    assert Attendee.objects.get(pk=d.pk).status == AttendeeStatus.WAITLISTED
    assert Notice.objects.filter(recipient=people["sup"], title__startswith="候补转正").exists()
    # Cancelling the same person again is harmless: nothing more is promoted.
    assert services.attendee_cancel(actor=people["info"], attendee=a) == []
    assert Attendee.objects.get(pk=d.pk).status == AttendeeStatus.WAITLISTED


def test_it_records_a_decline_with_its_reason_and_frees_the_places(cast: Any) -> None:
    people = clerks(cast)
    meeting = make_meeting(cast, total_cap=1)
    info, sup = invitation(meeting, cast.city_info_office), invitation(meeting, cast.city_supervision)
    services.attendee_register(actor=people["info"], invitation=info, data=person("甲"))
    waiting = services.attendee_register(actor=people["sup"], invitation=sup, data=person("乙"))
    with pytest.raises(MeetingError, match="原因"):
        services.invitation_decline(actor=people["info"], invitation=info, reason="  ")
    services.invitation_decline(actor=people["info"], invitation=info, reason="同日有上级检查")
    info.refresh_from_db()
    assert info.status == InvitationStatus.DECLINED and info.decline_reason == "同日有上级检查"
    assert not info.attendees.filter(status__in=["confirmed", "waitlisted"]).exists()
    assert Attendee.objects.get(pk=waiting.pk).status == AttendeeStatus.CONFIRMED


def test_it_reminds_units_that_have_not_answered_once_a_day(cast: Any) -> None:
    people = clerks(cast)
    meeting = make_meeting(cast)
    services.attendee_register(
        actor=people["info"], invitation=invitation(meeting, cast.city_info_office), data=person("甲")
    )
    assert services.meeting_remind(actor=cast.city_clerk, meeting=meeting) == 2  # 监察局, 文旅局
    sms = Delivery.objects.filter(channel="sms", title__startswith="请尽快报名")
    assert set(sms.values_list("recipient_id", flat=True)) == {people["sup"].pk, cast.outsider.pk}
    assert not Notice.objects.filter(recipient=people["info"], title__startswith="请尽快报名").exists()
    # The same day again: nobody is reminded twice.
    assert services.meeting_remind(actor=cast.city_clerk, meeting=meeting) == 0
    assert sms.count() == 2
    inv = invitation(meeting, cast.city_supervision)
    assert inv.reminded_count == 1 and inv.last_reminded_on == timezone.localdate()
    # The next day the unit can be reminded again.
    Invitation.objects.filter(pk=inv.pk).update(last_reminded_on=timezone.localdate() - dt.timedelta(days=1))
    assert services.meeting_remind(actor=cast.city_clerk, meeting=meeting, unit_ids=[inv.unit_id]) == 1


def test_it_tells_every_registered_unit_of_a_change_and_of_the_cancellation(cast: Any) -> None:
    people = clerks(cast)
    meeting = make_meeting(cast)
    services.attendee_register(
        actor=people["info"], invitation=invitation(meeting, cast.city_info_office), data=person("甲")
    )
    services.attendee_register(
        actor=people["sup"], invitation=invitation(meeting, cast.city_supervision), data=person("乙")
    )
    services.meeting_change(actor=cast.city_clerk, meeting=meeting, place="市民中心二楼报告厅")
    for clerk in (people["info"], people["sup"]):
        assert Notice.objects.filter(recipient=clerk, title__startswith="会议变更").exists()
        assert Delivery.objects.filter(recipient=clerk, channel="sms", title__startswith="会议变更").exists()
    assert not Notice.objects.filter(recipient=cast.outsider, title__startswith="会议变更").exists()
    with pytest.raises(MeetingError, match="取消原因"):
        services.meeting_cancel(actor=cast.city_clerk, meeting=meeting, reason="")
    services.meeting_cancel(actor=cast.city_clerk, meeting=meeting, reason="因故延期")
    services.meeting_cancel(actor=cast.city_clerk, meeting=meeting, reason="因故延期")
    for clerk in (people["info"], people["sup"]):
        assert Notice.objects.filter(recipient=clerk, title__startswith="会议取消").count() == 1
    with pytest.raises(MeetingError, match="会议已取消"):
        services.attendee_register(
            actor=people["info"], invitation=invitation(meeting, cast.city_info_office), data=person("丙")
        )


def test_it_refuses_a_deadline_after_the_start(cast: Any) -> None:
    now = timezone.now()
    with pytest.raises(MeetingError, match="截止时间不能晚于"):
        make_meeting(cast, deadline=now + dt.timedelta(days=5))
    assert not Meeting.objects.exists()


def test_it_checks_in_confirmed_attendees_once_by_a_signed_token(cast: Any) -> None:
    people = clerks(cast)
    meeting = make_meeting(cast)
    a = services.attendee_register(
        actor=people["info"], invitation=invitation(meeting, cast.city_info_office), data=person("甲")
    )
    token = services.checkin_token(a)
    assert services.checkin_token_read(token) == (a.pk, meeting.pk)
    assert services.checkin_token_read(token[:-2] + "xx") is None
    first = services.attendee_check_in(actor=cast.city_clerk, attendee=a, how="qr")
    again = services.attendee_check_in(actor=cast.city_clerk, attendee=a)
    assert first.checked_in_at == again.checked_in_at
    assert AuditEvent.objects.filter(action="meeting.checkin").count() == 1
