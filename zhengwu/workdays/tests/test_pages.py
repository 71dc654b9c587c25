"""The calendar page (system admins), its read-only view (audit admin) and the due-date calculator (staff)."""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

import pytest
from django.template.loader import render_to_string

from zhengwu.core.models import AuditEvent
from zhengwu.workdays.calendar import SHANGHAI, Limit, StoppedPeriod, StopReason, explain_due
from zhengwu.workdays.models import CalendarDay

pytestmark = pytest.mark.django_db
CALENDAR = "/workdays/calendar/"
SAVE = "/workdays/calendar/days/"
EXPLAIN = "/workdays/explain/"


def test_it_shows_the_system_admin_a_year_with_its_holidays(cast: Any, client_for: Any) -> None:
    response = client_for(cast.system_admin).get(CALENDAR, {"year": 2026})
    assert response.status_code == 200
    page = response.content.decode()
    assert "工作日历 · 2026年" in page
    assert 'data-date="2026-10-01"' in page and "国庆节" in page
    assert 'class="cal-adjusted" title="2026-10-10 调休上班"' in page
    assert "国务院放假安排（chinesecalendar 数据）" in page
    assert 'action="/workdays/calendar/days/"' in page


def test_it_marks_a_year_without_data_as_not_entered(cast: Any, client_for: Any) -> None:
    page = client_for(cast.system_admin).get(CALENDAR, {"year": 2027}).content.decode()
    assert "尚未录入节假日，暂按仅周末休息计算" in page


def test_it_lets_the_audit_admin_read_but_not_change_the_calendar(cast: Any, client_for: Any) -> None:
    client = client_for(cast.audit_admin)
    response = client.get(CALENDAR, {"year": 2026})
    assert response.status_code == 200
    assert 'action="/workdays/calendar/days/"' not in response.content.decode()
    response = client.post(SAVE, {"date": "2026-06-01", "kind": "holiday", "name": "停工"})
    assert response.status_code == 403
    assert not CalendarDay.objects.exists()


def test_it_refuses_the_calendar_to_other_staff_and_the_public(
    cast: Any, client_for: Any, client: Any
) -> None:
    for who in (cast.township_clerk, cast.township_admin, cast.security_admin, cast.city_leader):
        assert client_for(who).get(CALENDAR).status_code == 403
        assert client_for(who).post(SAVE, {"date": "2026-06-01", "kind": "holiday"}).status_code == 403
    assert client_for(cast.citizen).get(CALENDAR).status_code == 403
    assert client.get(CALENDAR).status_code == 302
    assert not CalendarDay.objects.exists()


def test_it_adds_edits_and_deletes_a_day(cast: Any, client_for: Any) -> None:
    client = client_for(cast.system_admin)
    response = client.post(
        SAVE, {"date": "2027-10-01", "kind": "holiday", "name": "国庆节", "note": "国办发明电〔2026〕X号"}
    )
    assert response.status_code == 302 and response["Location"] == "/workdays/calendar/?year=2027"
    row = CalendarDay.objects.get(date=date(2027, 10, 1))
    assert (row.is_workday, row.name, row.changed_by) == (False, "国庆节", cast.system_admin)
    page = client.get(CALENDAR, {"year": 2027}).content.decode()
    assert "人工录入的节假日" in page and "国办发明电〔2026〕X号" in page

    edit = client.get(CALENDAR, {"year": 2027, "edit": "2027-10-01"}).content.decode()
    assert 'value="2027-10-01"' in edit and 'value="国庆节"' in edit

    client.post(SAVE, {"date": "2027-10-01", "kind": "workday", "name": "调休上班"})
    row.refresh_from_db()
    assert row.is_workday and row.name == "调休上班"

    response = client.post("/workdays/calendar/days/2027-10-01/delete/")
    assert response.status_code == 302
    assert not CalendarDay.objects.exists()
    actions = list(
        AuditEvent.objects.filter(object_type="workdays.calendarday").values_list("action", flat=True)
    )
    assert actions == [
        "workdays.calendar_day.create",
        "workdays.calendar_day.update",
        "workdays.calendar_day.delete",
    ]


@pytest.mark.parametrize(
    ("data", "message"),
    [
        ({"kind": "holiday"}, "请填写日期"),
        ({"date": "2026-02-30", "kind": "holiday"}, "日期格式不正确"),
        ({"date": "明天", "kind": "holiday"}, "日期格式不正确"),
        ({"date": "1999-10-01", "kind": "holiday"}, "日期须在2000年至2100年之间"),
        ({"date": "2027-10-01"}, "请选择节假日或工作日"),
        ({"date": "2027-10-01", "kind": "sometimes"}, "请选择节假日或工作日"),
        ({"date": "2027-10-01", "kind": "holiday", "name": "节" * 33}, "名称不能超过32个字"),
        ({"date": "2027-10-01", "kind": "holiday", "note": "注" * 201}, "说明不能超过200个字"),
    ],
)
def test_it_refuses_bad_input_with_a_chinese_message(
    cast: Any, client_for: Any, data: dict[str, str], message: str
) -> None:
    response = client_for(cast.system_admin).post(SAVE, data)
    assert response.status_code == 400
    assert message in response.content.decode()
    assert not CalendarDay.objects.exists()
    assert not AuditEvent.objects.filter(object_type="workdays.calendarday").exists()


def test_it_answers_a_bad_year_or_an_unknown_day_clearly(cast: Any, client_for: Any) -> None:
    client = client_for(cast.system_admin)
    response = client.get(CALENDAR, {"year": "abc"})
    assert response.status_code == 400 and "年份无效" in response.content.decode()
    assert client.get(CALENDAR, {"year": "3000"}).status_code == 400
    assert client.post("/workdays/calendar/days/2027-10-01/delete/").status_code == 404
    assert client.post("/workdays/calendar/days/2027-13-01/delete/").status_code == 404
    assert client.post("/workdays/calendar/days/not-a-day/delete/").status_code == 404
    assert client.get("/workdays/calendar/days/2027-10-01/delete/").status_code == 405


def test_it_refuses_deletion_to_the_audit_admin(cast: Any, client_for: Any) -> None:
    client_for(cast.system_admin).post(SAVE, {"date": "2027-10-01", "kind": "holiday"})
    response = client_for(cast.audit_admin).post("/workdays/calendar/days/2027-10-01/delete/")
    assert response.status_code == 403
    assert CalendarDay.objects.filter(date=date(2027, 10, 1)).exists()


def test_it_explains_a_due_date_to_a_clerk(cast: Any, client_for: Any) -> None:
    response = client_for(cast.township_clerk).get(EXPLAIN, {"start": "2026-09-28T10:00", "limit": "5wd"})
    assert response.status_code == 200
    page = response.content.decode()
    assert "2026年10月10日 23:59" in page
    assert "国庆节" in page
    assert "事件发生当日（9月28日）不计入期限" in page
    assert "预警时间" in page and "2026年10月9日 23:59" in page


def test_it_explains_a_stopped_clock_on_the_calculator(cast: Any, client_for: Any) -> None:
    response = client_for(cast.township_clerk).get(
        EXPLAIN,
        {
            "start": "2026-11-02T09:00",
            "limit": "10wd",
            "stop_start": ["2026-11-05T10:00", ""],
            "stop_end": ["2026-11-10T15:00", ""],
            "stop_reason": ["supplement", "supplement"],
        },
    )
    assert response.status_code == 200
    page = response.content.decode()
    assert "2026年11月19日 23:59" in page
    assert "补正材料" in page and "3个工作日" in page
    assert "暂停当日仍计入期限" in page


@pytest.mark.parametrize(
    ("params", "message"),
    [
        ({"start": "2026-09-28T10:00", "limit": "20 weeks"}, "无法识别的期限"),
        ({"start": "下周一", "limit": "5wd"}, "起算时间格式不正确"),
        ({"start": "1990-01-01T10:00", "limit": "5wd"}, "起算时间须在2000年至2100年之间"),
        ({"start": "2026-09-28T10:00", "limit": "5wd", "warn": "soon"}, "预警提前量格式不正确"),
        (
            {
                "start": "2026-09-28T10:00",
                "limit": "5wd",
                "stop_start": "2026-10-09T10:00",
                "stop_end": "2026-10-08",
            },
            "恢复时间不能早于暂停时间",
        ),
        (
            {
                "start": "2026-09-28T10:00",
                "limit": "5wd",
                "stop_start": "2026-10-09",
                "stop_reason": "holiday",
            },
            "事由无效",
        ),
    ],
)
def test_it_refuses_bad_calculator_input_with_a_chinese_message(
    cast: Any, client_for: Any, params: dict[str, str], message: str
) -> None:
    response = client_for(cast.township_clerk).get(EXPLAIN, params)
    assert response.status_code == 400
    assert message in response.content.decode()


def test_it_keeps_the_calculator_to_staff(cast: Any, client_for: Any, client: Any) -> None:
    assert client_for(cast.citizen).get(EXPLAIN, {"start": "2026-09-28", "limit": "5wd"}).status_code == 403
    assert client.get(EXPLAIN).status_code == 302
    assert client_for(cast.outsider).get(EXPLAIN).status_code == 200


def test_it_renders_the_explanation_partial_for_the_deadline_page(db: Any) -> None:
    start = datetime(2026, 9, 28, 10, tzinfo=SHANGHAI)
    stop = StoppedPeriod(
        datetime(2026, 9, 29, 9, tzinfo=SHANGHAI),
        datetime(2026, 10, 9, 9, tzinfo=SHANGHAI),
        StopReason.HEARING,
    )
    html = render_to_string(
        "workdays/_due_explanation.html", {"explanation": explain_due(start, Limit.parse("5wd"), [stop])}
    )
    assert "2026年9月28日 10:00" in html  # start
    assert "5个工作日" in html  # limit
    assert "2026年10月1日" in html and "国庆节" in html  # skipped holiday with its name
    # Stopped 30 Sep, 8 Oct and 9 Oct (the restart day is still stopped); 29 Sep, the stop day, counts.
    assert "听证" in html and "3个工作日" in html
    assert "2026年10月14日 23:59" in html  # due: 10 Oct + three working days (12, 13, 14 Oct)


def test_it_prefills_the_form_from_a_day_in_the_grid(cast: Any, client_for: Any) -> None:
    client = client_for(cast.system_admin)
    page = client.get(CALENDAR, {"year": 2026}).content.decode()
    assert 'href="?year=2026&amp;edit=2026-10-08#day-form"' in page
    # A working day is offered as a holiday, a holiday as a working day.
    workday = client.get(CALENDAR, {"year": 2026, "edit": "2026-10-08"}).content.decode()
    assert 'value="2026-10-08"' in workday and 'value="holiday" required id="id_kind_0" checked' in workday
    holiday = client.get(CALENDAR, {"year": 2026, "edit": "2026-10-02"}).content.decode()
    assert 'value="workday" required id="id_kind_1" checked' in holiday
    # The audit admin sees the grid without edit links.
    read_only = client_for(cast.audit_admin).get(CALENDAR, {"year": 2026}).content.decode()
    assert "edit=2026-10-08" not in read_only
