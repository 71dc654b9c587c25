"""In a real browser: a citizen applies for information on a phone, the township's clerk registers the
application, handles it and replies 予以公开, and the citizen sees the reply in their account."""

from __future__ import annotations

from typing import Any

import pytest

from zhengwu.disclosure.models import DisclosureRequest
from zhengwu.disclosure.tests.conftest import Desk
from zhengwu.testing.browser import PHONE, horizontal_overflow, screenshot, sign_in

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def _public_sign_in(page: Any, base: str, username: str, password: str) -> None:
    page.goto(f"{base}/public/login/")
    page.fill("#id_username", username)
    page.fill("#id_password", password)
    with page.expect_navigation():
        page.locator("main button[type=submit]").click()
    assert "/public/login/" not in page.url


def test_it_lets_a_citizen_apply_and_read_the_unit_s_public_reply(
    live_server: Any, browser: Any, page: Any, desk: Desk
) -> None:
    base = live_server.url
    password = desk.cast.password
    phone_context = browser.new_context(locale="zh-CN", viewport=PHONE, is_mobile=True, has_touch=True)
    citizen = phone_context.new_page()
    citizen.set_default_timeout(15000)
    _public_sign_in(citizen, base, desk.applicant.username, password)
    citizen.goto(f"{base}/disclosure/apply/")
    citizen.select_option("select[name=unit]", label="崆峒镇人民政府")
    assert citizen.input_value("#applicant_name") == "张三"
    citizen.fill("#id_number", "620802199001011234")
    citizen.fill("#phone", "13800001234")
    citizen.fill("#description", "2025年崆峒镇农村危房改造补助资金发放名单")
    citizen.fill("#purpose", "核实本户补助情况")
    assert horizontal_overflow(citizen) == []
    with citizen.expect_navigation():
        citizen.get_by_test_id("submit").click()
    assert citizen.get_by_test_id("status").inner_text() == "待登记受理"
    request = DisclosureRequest.objects.get()
    assert request.number in citizen.locator("h1").inner_text()
    screenshot(citizen, "disclosure-applied")

    sign_in(page, base, desk.clerk.username, password)
    page.goto(f"{base}/disclosure/manage/")
    assert "张*" in page.get_by_test_id("requests").inner_text()  # masked in the list
    with page.expect_navigation():
        page.get_by_role("link", name=request.number).click()
    page.fill("#opinion", "申请要素齐全，予以受理")
    with page.expect_navigation():
        page.get_by_test_id("register").click()
    assert page.get_by_test_id("status").inner_text() == "办理中"
    page.fill("#h-opinion", "已调取名单")
    with page.expect_navigation():
        page.get_by_test_id("handle").click()
    assert page.get_by_test_id("status").inner_text() == "待答复"
    page.select_option("#outcome", label="予以公开")
    page.fill("#reply_text", "经查，崆峒村2025年农村危房改造补助名单已附后，请查收。")
    with page.expect_navigation():
        page.get_by_test_id("reply-submit").click()
    assert page.get_by_test_id("status").inner_text() == "已答复"
    screenshot(page, "disclosure-replied-staff")

    citizen.goto(f"{base}/disclosure/my/")
    assert "已答复（予以公开）" in citizen.get_by_test_id("my-requests").inner_text()
    with citizen.expect_navigation():
        citizen.get_by_role("link", name=request.number).click()
    assert citizen.get_by_test_id("outcome").inner_text() == "予以公开"
    assert "补助名单已附后" in citizen.get_by_test_id("reply-text").inner_text()
    assert horizontal_overflow(citizen) == []
    screenshot(citizen, "disclosure-reply-citizen")
    phone_context.close()
