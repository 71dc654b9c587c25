"""In a real browser at phone width: a clerk works out a deadline across 国庆; the admin edits the calendar."""

from __future__ import annotations

from typing import Any

import pytest

from zhengwu.testing.browser import PHONE, horizontal_overflow, screenshot, sign_in
from zhengwu.workdays.models import CalendarDay

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def phone_page(browser: Any) -> tuple[Any, Any]:
    context = browser.new_context(locale="zh-CN", viewport=PHONE, device_scale_factor=2, is_mobile=True)
    page = context.new_page()
    page.set_default_timeout(15000)
    return context, page


def test_it_explains_a_deadline_to_a_clerk_on_a_phone(live_server: Any, browser: Any, cast: Any) -> None:
    context, page = phone_page(browser)
    try:
        sign_in(page, live_server.url, "kt_clerk", cast.password)
        page.get_by_test_id("modules").get_by_role("link", name="期限计算器").click()
        page.wait_for_load_state("networkidle")
        page.fill("#start", "2026-09-28T10:00")
        page.fill("#limit", "5wd")
        page.fill("#stop_start_1", "2026-09-29T09:00")
        page.fill("#stop_end_1", "2026-10-09T09:00")
        page.select_option("#stop_reason_1", "hearing")
        with page.expect_navigation():
            page.get_by_role("button", name="计算").click()
        assert page.get_by_test_id("due-at").inner_text().startswith("2026年10月14日 23:59")
        skipped = page.get_by_test_id("skipped-days").inner_text()
        assert "2026年10月1日" in skipped and "国庆节" in skipped
        assert "听证" in page.get_by_test_id("stopped-periods").inner_text()
        assert horizontal_overflow(page) == []
        screenshot(page, "workdays-explain-phone")
    finally:
        context.close()


def test_it_lets_the_system_admin_enter_a_holiday_on_a_phone(
    live_server: Any, browser: Any, cast: Any, client_for: Any
) -> None:
    context, page = phone_page(browser)
    try:
        # Signed in with the second factor already passed (the sign-in flow has its own browser tests).
        session = client_for(cast.system_admin).cookies["sessionid"].value
        context.add_cookies([{"name": "sessionid", "value": session, "url": live_server.url}])
        page.goto(f"{live_server.url}/workdays/calendar/?year=2027")
        assert "尚未录入节假日" in page.get_by_test_id("coverage").inner_text()
        assert horizontal_overflow(page) == []
        page.fill("#id_date", "2027-10-01")
        page.check("input[name=kind][value=holiday]")
        page.fill("#id_name", "国庆节")
        with page.expect_navigation():
            page.get_by_role("button", name="保存").click()
        assert "已添加 2027-10-01 的调整" in page.locator(".messages").inner_text()
        assert "国庆节" in page.get_by_test_id("overrides").inner_text()
        assert "人工录入的节假日" in page.get_by_test_id("coverage").inner_text()
        assert page.locator('td[data-date="2027-10-01"]').get_attribute("class") == "cal-holiday cal-override"
        assert CalendarDay.objects.get().name == "国庆节"
        assert horizontal_overflow(page) == []
        screenshot(page, "workdays-calendar-phone")
    finally:
        context.close()
