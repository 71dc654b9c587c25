"""In a real browser: the portal shell switches to English and back, remembers the choice, and the
large-text mode (适老化) stays on from page to page."""

from __future__ import annotations

from typing import Any

import pytest

from zhengwu.testing.browser import screenshot

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_it_switches_the_portal_to_english_and_keeps_it(live_server: Any, page: Any) -> None:
    page.goto(f"{live_server.url}/")
    assert page.get_by_role("heading", name="政府门户网站").is_visible()
    with page.expect_navigation():
        page.get_by_role("button", name="English").click()
    assert page.url == f"{live_server.url}/"
    assert page.locator("html").get_attribute("lang") == "en"
    assert page.get_by_role("heading", name="Government Portal").is_visible()
    assert page.get_by_role("link", name="Citizen sign-in").is_visible()
    assert page.get_by_role("link", name="Staff sign-in").is_visible()
    assert page.get_by_role("link", name="Skip to content").count() == 1
    screenshot(page, "portal-english")

    # Another page, reached by its address: still English (the choice is kept in a cookie).
    page.goto(f"{live_server.url}/accounts/login/")
    assert page.get_by_role("heading", name="Staff sign-in").is_visible()
    assert any(c["name"] == "django_language" and c["value"] == "en" for c in page.context.cookies())

    with page.expect_navigation():
        page.get_by_role("button", name="简体中文").click()
    assert page.get_by_role("heading", name="工作人员登录").is_visible()
    assert page.locator("html").get_attribute("lang") == "zh-hans"


def test_it_keeps_large_text_on_across_pages(live_server: Any, page: Any) -> None:
    page.goto(f"{live_server.url}/")
    toggle = page.get_by_role("button", name="适老化")
    size_before = page.evaluate("parseFloat(getComputedStyle(document.querySelector('main h1')).fontSize)")
    toggle.click()
    assert toggle.get_attribute("aria-pressed") == "true"
    size_after = page.evaluate("parseFloat(getComputedStyle(document.querySelector('main h1')).fontSize)")
    assert size_after >= size_before * 1.2

    page.goto(f"{live_server.url}/accounts/login/")
    assert "large-text" in (page.locator("html").get_attribute("class") or "")
    assert page.get_by_role("button", name="适老化").get_attribute("aria-pressed") == "true"
    page.get_by_role("button", name="适老化").click()
    page.reload()
    assert "large-text" not in (page.locator("html").get_attribute("class") or "")


def test_it_moves_keyboard_focus_to_the_content_with_the_skip_link(live_server: Any, page: Any) -> None:
    page.goto(f"{live_server.url}/")
    page.keyboard.press("Tab")
    skip = page.get_by_role("link", name="跳到正文")
    assert skip.evaluate("el => el === document.activeElement")
    assert skip.is_visible()  # it appears when focused
    page.keyboard.press("Enter")
    assert page.evaluate("document.activeElement.id") == "main"


def test_it_signs_a_citizen_in_from_the_portal_by_mobile_number(
    live_server: Any, page: Any, cast: Any
) -> None:
    page.goto(f"{live_server.url}/")
    page.get_by_role("link", name="公众登录").first.click()
    page.wait_for_load_state("networkidle")
    page.fill("#id_username", cast.citizen.mobile)
    page.fill("#id_password", cast.password)
    with page.expect_navigation():
        page.locator("main button[type=submit]").click()
    assert "/public/login/" not in page.url  # signed in, wherever identity lands the citizen
    page.goto(f"{live_server.url}/")
    assert page.get_by_test_id("welcome").inner_text().startswith("欢迎，张三。")
    assert page.get_by_role("link", name="公众登录").count() == 0
    # A citizen account is not staff: the workbench stays closed.
    response = page.goto(f"{live_server.url}/workbench/")
    assert response.status == 403
