"""In a real browser: a meeting notice goes to all city departments; two units register (one with a
substitute), the third is reminded; the organizer downloads the Excel list and the PDF sign-in sheet."""

from __future__ import annotations

import datetime as dt
from pathlib import Path
from typing import Any

import pytest
from django.utils import timezone
from openpyxl import load_workbook

from zhengwu.meetings.models import Attendee, Invitation, Meeting
from zhengwu.meetings.tests.helpers import clerks
from zhengwu.meetings.tests.pdftext import pdf_text
from zhengwu.notify.models import Delivery
from zhengwu.testing.browser import PHONE, horizontal_overflow, screenshot, sign_in

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def _as(page: Any, live_server: Any, user: Any, password: str) -> None:
    page.context.clear_cookies()
    sign_in(page, live_server.url, user.username, password)


def _submit(page: Any, locator: Any) -> None:
    with page.expect_navigation():
        locator.click()
    page.wait_for_load_state("networkidle")


def _register(page: Any, live_server: Any, clerk: Any, password: str, people: list[dict[str, str]]) -> None:
    _as(page, live_server, clerk, password)
    page.goto(f"{live_server.url}/meetings/")
    page.get_by_test_id("invitation-link").first.click()
    page.wait_for_load_state("networkidle")
    for p in people:
        page.fill("#id_name", p["name"])
        page.fill("#id_post", p["post"])
        page.fill("#id_phone", p["phone"])
        page.select_option("#id_dining", p["dining"])
        if p.get("substitute_for"):
            page.fill("#id_substitute_for", p["substitute_for"])
        _submit(page, page.locator('[data-testid="attendee-form"] button[type=submit]'))
        assert f"{p['name']} 已报名" in page.inner_text(".messages")


def test_it_runs_a_meeting_notice_from_sending_to_the_sign_in_sheet(
    live_server: Any, page: Any, cast: Any, tmp_path: Path
) -> None:
    people = clerks(cast)
    password = cast.password
    local = timezone.localtime()
    fmt = "%Y-%m-%dT%H:%M"

    # 1. The city government's clerk drafts the notice to all city departments and sends it.
    _as(page, live_server, cast.city_clerk, password)
    page.goto(f"{live_server.url}/meetings/")
    _submit(page, page.get_by_test_id("meeting-new"))
    page.select_option("#id_organizer", str(cast.city_gov.pk))
    page.fill("#id_title", "全市政务信息化工作推进会")
    page.fill("#id_place", "市政府三楼会议室")
    page.fill("#id_starts_at", (local + dt.timedelta(days=3)).strftime(fmt))
    page.fill("#id_ends_at", (local + dt.timedelta(days=3, hours=2)).strftime(fmt))
    page.fill("#id_deadline", (local + dt.timedelta(days=2)).strftime(fmt))
    page.fill("#id_body", "请各部门分管领导参加。")
    page.get_by_label("市直部门").check()
    page.select_option("#id_field_dining", "required")
    _submit(page, page.locator("main form button[type=submit]"))
    _submit(page, page.get_by_test_id("send"))
    assert "会议通知已发出至 3 个单位" in page.inner_text(".messages")
    meeting = Meeting.objects.get(title="全市政务信息化工作推进会")
    assert Invitation.objects.filter(meeting=meeting).count() == 3

    # 2. Two departments register; the supervision bureau sends a substitute for its director.
    _register(
        page,
        live_server,
        people["info"],
        password,
        [{"name": "韩主任", "post": "副主任", "phone": "13912345678", "dining": "就餐"}],
    )
    _register(
        page,
        live_server,
        people["sup"],
        password,
        [
            {
                "name": "欧阳明",
                "post": "科长",
                "phone": "13700001111",
                "dining": "不就餐",
                "substitute_for": "王局长",
            }
        ],
    )
    assert "代王局长" in page.inner_text('[data-testid="my-attendees"]')
    assert "137****1111" in page.inner_text('[data-testid="my-attendees"]')
    page.set_viewport_size(PHONE)
    page.reload()
    assert horizontal_overflow(page) == []
    screenshot(page, "meetings-register-phone")
    page.set_viewport_size({"width": 1280, "height": 900})

    # 3. The organizer sees the counts live and reminds the unit that has not answered.
    _as(page, live_server, cast.city_clerk, password)
    page.goto(f"{live_server.url}/meetings/{meeting.pk}/")
    assert page.inner_text('[data-testid="count-registered"]') == "2"
    assert page.inner_text('[data-testid="count-pending"]') == "1"
    assert page.inner_text('[data-testid="count-confirmed"]') == "2"
    table = page.inner_text('[data-testid="attendee-table"]')
    assert "韩主任" in table and "139****5678" in table and "13912345678" not in table
    page.get_by_label("提醒平凉市文化和旅游局").check()
    _submit(page, page.get_by_test_id("remind"))
    assert "已向 1 个未报名单位" in page.inner_text(".messages")
    assert Delivery.objects.filter(recipient=cast.outsider, channel="sms").count() == 1
    row = page.locator('tr[data-unit="平凉市文化和旅游局"]')
    assert "1 次" in row.inner_text()
    screenshot(page, "meetings-organizer")

    # 4. The Excel list and the PDF sign-in sheet, downloaded as a person would.
    with page.expect_download() as got:
        page.get_by_test_id("export-xlsx").click()
    xlsx = tmp_path / "list.xlsx"
    got.value.save_as(xlsx)
    rows = list(load_workbook(xlsx).active.iter_rows(values_only=True))
    assert rows[1][:5] == ("序号", "单位", "姓名", "职务", "手机号")
    assert [(r[1], r[2], r[4]) for r in rows[2:]] == [
        ("平凉市信息化办公室", "韩主任", "139****5678"),
        ("平凉市监察局", "欧阳明", "137****1111"),
    ]
    assert "王局长" in rows[3]
    with page.expect_download() as got:
        page.get_by_test_id("export-pdf").click()
    pdf = tmp_path / "signin.pdf"
    got.value.save_as(pdf)
    data = pdf.read_bytes()
    assert data.startswith(b"%PDF")
    text = pdf_text(data)
    assert "韩主任" in text and "欧阳明" in text and "签到表" in text
    assert Attendee.objects.filter(meeting=meeting).count() == 2
