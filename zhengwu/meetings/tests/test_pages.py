"""The meeting pages: who may manage, who may register, what others get (404, also by guessed ids),
and refused input with a Chinese message and nothing written."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest
from django.urls import reverse
from django.utils import timezone

from zhengwu.core.models import AuditEvent
from zhengwu.meetings import services
from zhengwu.meetings.models import Attendee, Invitation, Meeting, MeetingStatus
from zhengwu.meetings.tests.helpers import clerks, invitation, make_meeting, person
from zhengwu.testing.cast import _staff

pytestmark = pytest.mark.django_db


def _local(value: dt.datetime) -> str:
    return timezone.localtime(value).strftime("%Y-%m-%dT%H:%M")


def test_it_drafts_and_sends_a_notice_from_the_form(cast: Any, client_for: Any) -> None:
    people = clerks(cast)
    c = client_for(cast.city_clerk)
    now = timezone.now()
    response = c.post(
        reverse("meetings:new"),
        {
            "organizer": cast.city_gov.pk,
            "title": "防汛工作会议",
            "place": "市应急指挥中心",
            "starts_at": _local(now + dt.timedelta(days=2)),
            "ends_at": _local(now + dt.timedelta(days=2, hours=1)),
            "deadline": _local(now + dt.timedelta(days=1)),
            "groups": [cast.groups["city_departments"].pk],
            "field_post": "required",
            "field_dining": "optional",
        },
    )
    meeting = Meeting.objects.get(title="防汛工作会议")
    assert response.status_code == 302 and meeting.status == MeetingStatus.DRAFT
    assert meeting.form_fields == [{"key": "post", "required": True}, {"key": "dining", "required": False}]
    response = c.post(reverse("meetings:send", args=[meeting.pk]), follow=True)
    assert "会议通知已发出至 3 个单位" in response.content.decode()
    page = client_for(people["info"]).get(reverse("meetings:list")).content.decode()
    assert "防汛工作会议" in page


def test_it_refuses_a_notice_without_recipients_and_writes_nothing(cast: Any, client_for: Any) -> None:
    now = timezone.now()
    response = client_for(cast.city_clerk).post(
        reverse("meetings:new"),
        {
            "organizer": cast.city_gov.pk,
            "title": "无人会议",
            "place": "某地",
            "starts_at": _local(now + dt.timedelta(days=2)),
            "ends_at": _local(now + dt.timedelta(days=2, hours=1)),
            "deadline": _local(now + dt.timedelta(days=1)),
        },
    )
    assert response.status_code == 400
    assert "请至少选择一个通知单位或单位分组" in response.content.decode()
    assert not Meeting.objects.exists()


def test_it_refuses_to_organize_for_a_unit_that_is_not_mine(cast: Any, client_for: Any) -> None:
    now = timezone.now()
    response = client_for(cast.outsider).post(
        reverse("meetings:new"),
        {
            "organizer": cast.city_gov.pk,
            "title": "冒名会议",
            "place": "某地",
            "starts_at": _local(now + dt.timedelta(days=2)),
            "ends_at": _local(now + dt.timedelta(days=2, hours=1)),
            "deadline": _local(now + dt.timedelta(days=1)),
            "groups": [cast.groups["everyone"].pk],
        },
    )
    assert response.status_code == 400 and not Meeting.objects.exists()


def test_it_shows_the_organizer_counts_and_masked_phones(cast: Any, client_for: Any) -> None:
    people = clerks(cast)
    meeting = make_meeting(cast)
    services.attendee_register(
        actor=people["info"], invitation=invitation(meeting, cast.city_info_office), data=person("韩主任")
    )
    page = client_for(cast.city_leader).get(reverse("meetings:manage", args=[meeting.pk])).content.decode()
    assert "韩主任" in page and "139****5678" in page and "13912345678" not in page
    assert 'data-testid="count-registered">1<' in page and 'data-testid="count-pending">2<' in page
    pending = client_for(cast.city_leader).get(
        reverse("meetings:manage", args=[meeting.pk]) + "?status=pending"
    )
    assert "平凉市监察局" in pending.content.decode() and "平凉市信息化办公室" not in pending.content.decode()


@pytest.mark.parametrize("name", ["manage", "export", "signin_pdf", "checkin"])
def test_it_hides_the_meeting_from_other_units_and_guessed_ids(cast: Any, client_for: Any, name: str) -> None:
    clerks(cast)
    meeting = make_meeting(cast)
    # An invited unit's clerk is not the organizer; nor is a county clerk; an unknown id is the same 404.
    for user in (cast.outsider, cast.county_b_clerk):
        assert client_for(user).get(reverse(f"meetings:{name}", args=[meeting.pk])).status_code == 404
    assert (
        client_for(cast.city_clerk).get(reverse(f"meetings:{name}", args=[meeting.pk + 999])).status_code
        == 404
    )
    assert not AuditEvent.objects.filter(action__startswith="meeting.export").exists()


def test_it_refuses_organizer_actions_to_other_units(cast: Any, client_for: Any) -> None:
    clerks(cast)
    meeting = make_meeting(cast)
    c = client_for(cast.outsider)
    assert c.post(reverse("meetings:cancel", args=[meeting.pk]), {"reason": "x"}).status_code == 404
    assert c.post(reverse("meetings:remind", args=[meeting.pk])).status_code == 404
    assert c.post(reverse("meetings:change", args=[meeting.pk]), {"title": "改"}).status_code == 404
    meeting.refresh_from_db()
    assert meeting.status == MeetingStatus.OPEN and meeting.title == "全市政务信息化工作推进会"


def test_it_lets_only_the_invited_units_clerks_register(cast: Any, client_for: Any) -> None:
    people = clerks(cast)
    meeting = make_meeting(cast)
    url = reverse("meetings:attendee_add", args=[meeting.pk, cast.city_info_office.pk])
    # Another invited unit's clerk, a county clerk, and the info office itself via a guessed meeting id.
    for user in (people["sup"], cast.county_b_clerk, cast.city_clerk):
        assert client_for(user).post(url, person("冒名")).status_code == 404
    wrong = reverse("meetings:attendee_add", args=[meeting.pk + 999, cast.city_info_office.pk])
    assert client_for(people["info"]).post(wrong, person("甲")).status_code == 404
    # A unit that was not invited (the county government) has no page, even for its own clerk.
    county = reverse("meetings:register", args=[meeting.pk, cast.county_b_gov.pk])
    assert client_for(cast.county_b_clerk).get(county).status_code == 404
    # A staff member of the invited unit without the clerk role sees the notice but cannot register.
    reader = _staff("info_reader", "卫科员", cast.city_info_office, "科员", ["handler"])
    page = client_for(reader).get(reverse("meetings:register", args=[meeting.pk, cast.city_info_office.pk]))
    assert page.status_code == 200 and "提交报名" not in page.content.decode()
    assert client_for(reader).post(url, person("甲")).status_code == 404
    assert not Attendee.objects.exists()
    response = client_for(people["info"]).post(url, person("韩主任", substitute_for="马局长"), follow=True)
    assert "韩主任 已报名" in response.content.decode()
    assert Attendee.objects.get().substitute_for == "马局长"


def test_it_keeps_a_units_attendees_from_other_invited_units(cast: Any, client_for: Any) -> None:
    people = clerks(cast)
    meeting = make_meeting(cast)
    a = services.attendee_register(
        actor=people["info"], invitation=invitation(meeting, cast.city_info_office), data=person("韩主任")
    )
    own = client_for(people["sup"]).get(
        reverse("meetings:register", args=[meeting.pk, cast.city_supervision.pk])
    )
    assert own.status_code == 200 and "韩主任" not in own.content.decode()
    c = client_for(people["sup"])
    for name in ("attendee_edit", "attendee_qr"):
        # The attendee's id under the guesser's own unit, and under the attendee's unit: both 404.
        assert (
            c.get(reverse(f"meetings:{name}", args=[meeting.pk, cast.city_supervision.pk, a.pk])).status_code
            == 404
        )
        assert (
            c.get(reverse(f"meetings:{name}", args=[meeting.pk, cast.city_info_office.pk, a.pk])).status_code
            == 404
        )
    cancel = reverse("meetings:attendee_cancel", args=[meeting.pk, cast.city_supervision.pk, a.pk])
    assert c.post(cancel).status_code == 404
    assert Attendee.objects.get(pk=a.pk).status == "confirmed"


def test_it_answers_a_late_change_with_a_clear_message_and_writes_nothing(cast: Any, client_for: Any) -> None:
    people = clerks(cast)
    meeting = make_meeting(cast)
    a = services.attendee_register(
        actor=people["info"], invitation=invitation(meeting, cast.city_info_office), data=person("韩主任")
    )
    Meeting.objects.filter(pk=meeting.pk).update(deadline=timezone.now() - dt.timedelta(hours=1))
    url = reverse("meetings:attendee_edit", args=[meeting.pk, cast.city_info_office.pk, a.pk])
    response = client_for(people["info"]).post(url, person("韩主任", phone="13800000000"))
    assert response.status_code == 400
    assert "报名已于" in response.content.decode() and "联系组织单位" in response.content.decode()
    assert Attendee.objects.get(pk=a.pk).phone == "13912345678"
    add = reverse("meetings:attendee_add", args=[meeting.pk, cast.city_info_office.pk])
    assert client_for(people["info"]).post(add, person("新人")).status_code == 400
    assert Attendee.objects.count() == 1


def test_it_refuses_a_bad_phone_with_a_chinese_message(cast: Any, client_for: Any) -> None:
    people = clerks(cast)
    meeting = make_meeting(cast)
    add = reverse("meetings:attendee_add", args=[meeting.pk, cast.city_info_office.pk])
    response = client_for(people["info"]).post(add, person("韩主任", phone="abc"))
    assert response.status_code == 400 and "手机号应为 11 位数字" in response.content.decode()
    assert not Attendee.objects.exists()


def test_it_checks_in_by_list_and_by_the_qr_code(cast: Any, client_for: Any) -> None:
    people = clerks(cast)
    meeting = make_meeting(cast)
    inv = invitation(meeting, cast.city_info_office)
    a = services.attendee_register(actor=people["info"], invitation=inv, data=person("韩主任"))
    b = services.attendee_register(actor=people["info"], invitation=inv, data=person("许科员"))
    qr = client_for(people["info"]).get(reverse("meetings:attendee_qr", args=[meeting.pk, inv.unit_id, a.pk]))
    assert qr.status_code == 200 and "<svg" in qr.content.decode()
    scan = reverse("meetings:scan", args=[services.checkin_token(a)])
    # The attendee's own unit cannot check itself in by the code; the organizer's staff can.
    assert client_for(people["info"]).post(scan).status_code == 404
    assert client_for(cast.city_clerk).post(scan).status_code == 200
    assert Attendee.objects.get(pk=a.pk).checked_in_at is not None
    bad = client_for(cast.city_clerk).get(reverse("meetings:scan", args=["forged-token"]))
    assert bad.status_code == 404 and "签到码无效" in bad.content.decode()
    response = client_for(cast.city_clerk).post(
        reverse("meetings:check_in", args=[meeting.pk, b.pk]), follow=True
    )
    assert "许科员 已签到" in response.content.decode()
    assert (
        client_for(cast.outsider).post(reverse("meetings:check_in", args=[meeting.pk, b.pk])).status_code
        == 404
    )


def test_it_reminds_from_the_page_only_once_a_day(cast: Any, client_for: Any) -> None:
    clerks(cast)
    meeting = make_meeting(cast)
    c = client_for(cast.city_clerk)
    first = c.post(reverse("meetings:remind", args=[meeting.pk]), follow=True).content.decode()
    assert "已向 3 个未报名单位的文书发送短信和站内提醒" in first
    again = c.post(reverse("meetings:remind", args=[meeting.pk]), follow=True).content.decode()
    assert "今天已提醒过的单位不再重复提醒" in again
    assert list(Invitation.objects.filter(meeting=meeting).values_list("reminded_count", flat=True)) == [
        1,
        1,
        1,
    ]
