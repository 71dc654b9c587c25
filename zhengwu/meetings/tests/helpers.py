"""Meetings for the tests: a notice from the city government office to the city departments."""

from __future__ import annotations

import datetime as dt
from typing import Any

from django.utils import timezone

from zhengwu.meetings import services
from zhengwu.meetings.models import Invitation, Meeting
from zhengwu.testing.cast import _staff


def clerks(cast: Any) -> dict[str, Any]:
    """Clerks (文书) of the two city departments that have none in the shared cast."""
    return {
        "info": _staff(
            "info_clerk", "钱文书", cast.city_info_office, "文书", ["clerk"], mobile="13900000011"
        ),
        "sup": _staff("sup_clerk", "冯文书", cast.city_supervision, "文书", ["clerk"], mobile="13900000012"),
    }


def make_meeting(cast: Any, *, send: bool = True, **overrides: Any) -> Meeting:
    now = timezone.now()
    kwargs: dict[str, Any] = {
        "actor": cast.city_clerk,
        "organizer": cast.city_gov,
        "title": "全市政务信息化工作推进会",
        "place": "市政府三楼会议室",
        "starts_at": now + dt.timedelta(days=3),
        "ends_at": now + dt.timedelta(days=3, hours=2),
        "deadline": now + dt.timedelta(days=2),
        "form_fields": [{"key": "post", "required": True}, {"key": "phone", "required": True}],
        "groups": [cast.groups["city_departments"]],
    }
    kwargs.update(overrides)
    meeting = services.meeting_create(**kwargs)
    if send:
        services.meeting_send(actor=cast.city_clerk, meeting=meeting)
    return meeting


def invitation(meeting: Meeting, unit: Any) -> Invitation:
    return Invitation.objects.get(meeting=meeting, unit=unit)


def person(name: str, phone: str = "13912345678", **extra: str) -> dict[str, str]:
    return {"name": name, "post": "科长", "phone": phone, **extra}
