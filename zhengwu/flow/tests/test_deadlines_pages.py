"""超期督办清单 and the step's deadline page: supervisors read their subtree, leaders their unit, nobody
else — not by guessing a unit id either; filters, export, the state history of a step; on a phone."""

from __future__ import annotations

import csv
import datetime as dt
import io
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from django.urls import reverse
from freezegun import freeze_time

from zhengwu.flow.deadlines import deadline_sweep
from zhengwu.flow.tests.helpers import only_open, start
from zhengwu.testing.cast import _staff

pytestmark = pytest.mark.django_db
BJ = ZoneInfo("Asia/Shanghai")
URL = "/flow/deadlines/"


def at(day: str, time: str = "09:00:00") -> dt.datetime:
    return dt.datetime.fromisoformat(f"{day}T{time}").replace(tzinfo=BJ)


@pytest.fixture
def carded(processes: Any, people: Any, cast: Any) -> dict[str, Any]:
    """A yellow step in township A1 (county A), a red one in county B, and a step still in time in A1."""
    with freeze_time(at("2026-04-02", "10:00:00")):
        a1 = only_open(
            start(people.starter, "simple_approval", cast.township_a1_gov, title="崆峒镇清明值班"), "register"
        )
        b = only_open(
            start(cast.county_b_clerk, "simple_approval", cast.county_b_gov, title="泾川县防汛"), "register"
        )
    with freeze_time(at("2026-03-27", "10:00:00")):  # a week earlier: red by 10 April
        b_old = only_open(
            start(cast.county_b_clerk, "simple_approval", cast.county_b_gov, title="泾川县旧件"), "register"
        )
    with freeze_time(at("2026-04-07", "09:00:00")):
        fresh = only_open(
            start(people.starter, "simple_approval", cast.township_a1_gov, title="崆峒镇新件"), "register"
        )
    deadline_sweep(now=at("2026-04-07", "10:00:00"))
    for task in (a1, b, b_old, fresh):
        task.refresh_from_db()
    assert (a1.deadline_state, b.deadline_state, b_old.deadline_state, fresh.deadline_state) == (
        "yellow",
        "yellow",
        "red",
        "normal",
    )
    county_a_supervisor = _staff("ka_sup", "郑监察", cast.county_a_gov, "纪检监察员", ["supervisor"])
    return {"a1": a1, "b": b, "b_old": b_old, "fresh": fresh, "county_a_supervisor": county_a_supervisor}


def _rows(html: str) -> list[str]:
    return [line for line in html.splitlines() if 'data-testid="carded-task"' in line]


def test_it_shows_a_supervisor_the_cards_of_their_subtree_only(carded: Any, client_for: Any) -> None:
    page = client_for(carded["county_a_supervisor"]).get(URL)
    html = page.content.decode()
    assert page.status_code == 200
    assert "崆峒镇清明值班" in html and "泾川县" not in html and "崆峒镇新件" not in html
    assert 'data-testid="count-yellow">1<' in html


def test_it_shows_a_leader_the_cards_of_their_unit_only(
    carded: Any, people: Any, cast: Any, client_for: Any
) -> None:
    leader = client_for(people.leader)
    html = leader.get(URL).content.decode()
    assert "崆峒镇清明值班" in html and "泾川县" not in html
    assert leader.get(URL, {"unit": cast.township_a1_gov.pk}).status_code == 200
    # Another unit's cards, whatever id is tried: not found.
    for guess in (cast.county_b_gov.pk, cast.township_a2_gov.pk, 10**9, "abc", "-1"):
        page = leader.get(URL, {"unit": guess})
        assert page.status_code == 404, guess
        assert "泾川县" not in page.content.decode()


def test_it_refuses_staff_who_neither_supervise_nor_lead(
    carded: Any, people: Any, cast: Any, client_for: Any
) -> None:
    for user in (people.starter, people.reviewer, cast.other_township_clerk, cast.outsider):
        page = client_for(user).get(URL)
        assert page.status_code == 403
        assert "只有监察员和单位领导可以查看超期督办清单" in page.content.decode()
    assert client_for(cast.citizen).get(URL).status_code == 403
    assert client_for(people.starter).get(reverse("flow:tasks")).content.decode().count("超期督办") == 0
    assert "超期督办" in client_for(people.leader).get(reverse("flow:tasks")).content.decode()


def test_it_filters_by_state_title_and_process(carded: Any, cast: Any, client_for: Any) -> None:
    county_b_leader = _staff("jc_leader", "钱县长", cast.county_b_gov, "县长", ["leader"])
    client = client_for(county_b_leader)
    both = _rows(client.get(URL).content.decode())
    assert len(both) == 2 and "泾川县旧件" in both[0]  # red first
    red = client.get(URL, {"state": "red"}).content.decode()
    assert "泾川县旧件" in red and "泾川县防汛" not in red
    titled = client.get(URL, {"q": "防汛"}).content.decode()
    assert "泾川县防汛" in titled and "泾川县旧件" not in titled
    assert len(_rows(client.get(URL, {"key": "simple_approval"}).content.decode())) == 2
    assert len(_rows(client.get(URL, {"key": "solicit_opinions"}).content.decode())) == 0


def test_it_refuses_bad_filters_with_a_message(carded: Any, people: Any, client_for: Any) -> None:
    client = client_for(people.leader)
    for params in (
        {"state": "purple"},
        {"q": "长" * 51},
        {"scope": "everything"},
        {"key": "no_such_process"},
    ):
        page = client.get(URL, params)
        assert page.status_code == 400, params
        assert "筛选条件无效" in page.content.decode()


def test_it_exports_the_filtered_list_as_csv(carded: Any, people: Any, client_for: Any) -> None:
    with freeze_time(at("2026-04-07", "11:00:00")):
        page = client_for(people.leader).get(URL, {"format": "csv"})
    assert page["Content-Type"].startswith("text/csv")
    rows = list(csv.reader(io.StringIO(page.content.decode("utf-8-sig"))))
    assert rows[0][:2] == ["状态", "事项"]
    assert rows[1][0] == "黄牌" and rows[1][1] == "登记：崆峒镇清明值班" and rows[1][4] == "2026-04-03 23:59"
    assert rows[1][6] == "1"  # Tue 7 April: one working day past the due date (Mon 6 April a holiday)
    assert len(rows) == 2


def test_it_lists_carded_cases_too(carded: Any, people: Any, cast: Any, client_for: Any) -> None:
    deadline_sweep(now=at("2026-04-11"))  # past the promised 5 working days of the A1 case
    html = client_for(people.leader).get(URL, {"scope": "cases"}).content.decode()
    assert "崆峒镇清明值班" in html and 'data-state="yellow"' in html and "崆峒镇新件" not in html
    case = carded["a1"].instance
    page = client_for(people.starter).get(reverse("flow:instance_detail", args=[case.pk])).content.decode()
    assert 'data-testid="instance-deadline-state">办件黄牌<' in page


def test_it_shows_the_state_history_on_the_deadline_page(
    carded: Any, people: Any, cast: Any, client_for: Any
) -> None:
    task = carded["a1"]
    deadline_sweep(now=at("2026-04-10"))
    page = client_for(people.starter).get(reverse("flow:task_deadline", args=[task.pk]))
    html = page.content.decode()
    assert page.status_code == 200
    assert 'data-testid="deadline-state">红牌<' in html
    assert html.count('data-testid="deadline-event"') == 2  # normal → yellow, yellow → red
    assert "正常 → " in html and "红牌时间 2026-04-09 23:59" in html
    assert (
        client_for(cast.other_township_clerk).get(reverse("flow:task_deadline", args=[task.pk])).status_code
        == 404
    )


@pytest.mark.browser
@pytest.mark.django_db(transaction=True)
def test_it_reads_the_carded_list_on_a_phone(
    live_server: Any, page: Any, carded: Any, people: Any, cast: Any
) -> None:
    from zhengwu.testing.browser import PHONE, horizontal_overflow, screenshot, sign_in

    page.set_viewport_size(PHONE)
    sign_in(page, live_server.url, people.leader.username, cast.password)
    page.goto(f"{live_server.url}{URL}")
    assert page.get_by_test_id("count-yellow").inner_text() == "1"
    page.select_option("#id_state", "yellow")
    with page.expect_navigation():
        page.get_by_role("button", name="筛选").click()
    assert page.get_by_test_id("carded-task").count() == 1
    assert horizontal_overflow(page) == []
    screenshot(page, "deadlines-carded-list-phone")
