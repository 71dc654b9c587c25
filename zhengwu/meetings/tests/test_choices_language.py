"""The registration form's choices (性别, 就餐, 住宿) read in the user's language, while the answer is stored
as before (男 / 就餐 / 住宿 …), so registrations made in either language, and those made earlier, read alike."""

from __future__ import annotations

import io
from typing import Any

import pytest
from django.test import Client
from django.urls import reverse
from openpyxl import load_workbook

from zhengwu.meetings.models import Attendee
from zhengwu.meetings.tests.helpers import clerks, make_meeting

pytestmark = pytest.mark.django_db

FIELDS = [
    {"key": "gender", "required": True},
    {"key": "dining", "required": True},
    {"key": "accommodation", "required": False},
]


def _client(user: Any, language: str) -> Client:
    c = Client()
    c.force_login(user)
    c.cookies["django_language"] = language
    return c


def _sheet(client: Client, meeting_id: int) -> list[list[Any]]:
    response = client.get(reverse("meetings:export", args=[meeting_id]))
    assert response.status_code == 200
    ws = load_workbook(io.BytesIO(response.content)).active
    return [list(r) for r in ws.iter_rows(values_only=True)]


def test_it_offers_english_choices_and_stores_the_same_values(cast: Any) -> None:
    unit_clerk = clerks(cast)["info"]
    meeting = make_meeting(cast, form_fields=FIELDS)
    register = reverse("meetings:register", args=[meeting.pk, cast.city_info_office.pk])
    add = reverse("meetings:attendee_add", args=[meeting.pk, cast.city_info_office.pk])

    english = _client(unit_clerk, "en")
    page = english.get(register).content.decode()
    for label in ("Male", "Female", "Has meals", "No meals", "Needs accommodation", "No accommodation"):
        assert f">{label}</option>" in page
    assert ">男</option>" not in page and ">不就餐</option>" not in page
    # The option values are what was always stored.
    assert 'value="男"' in page and 'value="不就餐"' in page and 'value="住宿"' in page

    response = english.post(
        add, {"name": "周工程师", "gender": "女", "dining": "不就餐", "accommodation": "住宿"}
    )
    assert response.status_code == 302
    chinese = _client(unit_clerk, "zh-hans")
    assert chinese.post(add, {"name": "郑科长", "gender": "男", "dining": "就餐"}).status_code == 302
    stored = dict(Attendee.objects.values_list("name", "gender"))
    assert stored == {"周工程师": "女", "郑科长": "男"}
    assert Attendee.objects.get(name="周工程师").dining == "不就餐"

    # Each reads in the reader's language on the unit's page and in the organizer's Excel list.
    page = english.get(register).content.decode()
    assert "Female" in page and "No meals" in page and "Needs accommodation" in page
    assert "不就餐" in chinese.get(register).content.decode()
    rows = _sheet(_client(cast.city_clerk, "en"), meeting.pk)
    assert ("周工程师", "Female", "No meals", "Needs accommodation") in [tuple(r[2:6]) for r in rows]
    rows = _sheet(_client(cast.city_clerk, "zh-hans"), meeting.pk)
    assert ("郑科长", "男", "就餐", None) in [tuple(r[2:6]) for r in rows]


def test_it_refuses_a_value_outside_the_choices_with_the_choices_named(cast: Any) -> None:
    from zhengwu.meetings import services
    from zhengwu.meetings.models import Invitation

    clerks(cast)
    meeting = make_meeting(cast, form_fields=FIELDS)
    invitation = Invitation.objects.get(meeting=meeting, unit=cast.city_info_office)
    with pytest.raises(services.MeetingError, match="性别只能选择：男、女"):
        services.clean_attendee(invitation.meeting, {"name": "甲", "gender": "Male", "dining": "就餐"})
    assert not Attendee.objects.exists()
