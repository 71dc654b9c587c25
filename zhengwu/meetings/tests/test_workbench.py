"""The workbench (工作台): a 会议通知 entry for staff, and a unit clerk's notices still to register for."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest
from django.urls import reverse
from django.utils import timezone

from zhengwu.meetings import services
from zhengwu.meetings.models import Meeting
from zhengwu.meetings.tests.helpers import clerks, invitation, make_meeting, person

pytestmark = pytest.mark.django_db


def _page(client_for: Any, user: Any) -> str:
    response = client_for(user).get("/workbench/")
    assert response.status_code == 200
    return response.content.decode()


def _to_register(page: str) -> str:
    """The 待报名会议 card only (the notices card may name the same meeting)."""
    start = page.find('id="to-register"')
    return "" if start < 0 else page[start : page.index("</section>", start)]


def test_it_offers_the_meetings_entry_to_staff_of_a_unit(cast: Any, client_for: Any) -> None:
    page = _page(client_for, cast.township_clerk)
    assert f'class="tile" href="{reverse("meetings:list")}"' in page


def test_it_lists_a_notice_the_clerks_unit_has_not_answered_until_it_registers(
    cast: Any, client_for: Any
) -> None:
    clerk = clerks(cast)["info"]
    meeting = make_meeting(cast)
    url = reverse("meetings:register", args=[meeting.pk, cast.city_info_office.pk])
    page = _page(client_for, clerk)
    assert meeting.title in _to_register(page) and url in _to_register(page)
    assert 'data-testid="to-register-count">1<' in page
    services.attendee_register(
        actor=clerk, invitation=invitation(meeting, cast.city_info_office), data=person("钱进")
    )
    page = _page(client_for, clerk)
    assert "待报名会议" not in page and url not in page


def test_it_shows_no_notice_to_other_units_or_to_staff_who_do_not_register(
    cast: Any, client_for: Any
) -> None:
    make_meeting(cast)  # to the city departments
    for user in (cast.township_clerk, cast.supervisor, cast.city_clerk):
        # another unit's clerk; staff of an invited unit without the clerk role; the organizer
        assert _to_register(_page(client_for, user)) == ""


def test_it_drops_notices_past_their_deadline_and_cancelled_ones(cast: Any, client_for: Any) -> None:
    clerk = clerks(cast)["info"]
    late = make_meeting(cast, title="截止已过的会议")
    Meeting.objects.filter(pk=late.pk).update(deadline=timezone.now() - dt.timedelta(minutes=1))
    cancelled = make_meeting(cast, title="已取消的会议")
    services.meeting_cancel(actor=cast.city_clerk, meeting=cancelled, reason="时间调整")
    open_one = make_meeting(cast, title="仍可报名的会议")
    card = _to_register(_page(client_for, clerk))
    assert open_one.title in card
    assert late.title not in card and cancelled.title not in card
