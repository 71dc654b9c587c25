"""In a real browser: the demo city's township clerk signs in and works from the workbench, on a desktop
and on a phone; another township's pages stay closed to them even when the address is typed in."""

from __future__ import annotations

import io
from dataclasses import dataclass
from typing import Any

import pytest
from django.core.management import call_command

from zhengwu.core.models import Unit, User
from zhengwu.testing.browser import PHONE, horizontal_overflow, rendered_fonts, screenshot, sign_in

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


@dataclass
class DemoCity:
    password: str
    clerk: User  # kt_clerk, 李文书, clerk of 崆峒镇
    own_township: Unit
    other_township: Unit  # 白水镇, a neighbouring township in the same district


@pytest.fixture
def demo_city() -> DemoCity:
    """The demo city exactly as `bin/start` builds it (a few seconds; live-server tests start empty)."""
    from zhengwu.core.demo import DEMO_PASSWORD

    call_command("demo", stdout=io.StringIO())
    clerk = User.objects.select_related("primary_unit").get(username="kt_clerk")
    other = User.objects.select_related("primary_unit").get(username="bs_clerk").primary_unit
    assert clerk.primary_unit is not None and other is not None
    return DemoCity(DEMO_PASSWORD, clerk, clerk.primary_unit, other)


def test_it_signs_the_demo_township_clerk_in_to_the_workbench(
    live_server: Any, page: Any, demo_city: DemoCity
) -> None:
    sign_in(page, live_server.url, "kt_clerk", demo_city.password)
    assert page.url == f"{live_server.url}/workbench/"
    me = page.get_by_test_id("me")
    assert "李文书" in me.inner_text()
    assert f"{demo_city.own_township.name} 文书" in me.inner_text()
    assert page.get_by_role("heading", name="我的待办").is_visible()
    assert page.get_by_role("heading", name="待阅", exact=True).is_visible()
    assert page.get_by_role("heading", name="已办", exact=True).is_visible()
    assert page.get_by_role("heading", name="通知", exact=True).is_visible()
    assert page.get_by_role("link", name="本单位").is_visible()
    # The navigation marks where the clerk is, for screen readers too.
    assert page.locator(".topnav a[aria-current=page]").inner_text() == "工作台"
    shot = screenshot(page, "workbench-kt_clerk")
    assert shot.stat().st_size > 10_000
    # Chinese is drawn with a real CJK font (fonts-noto-cjk), not boxes: ask Chromium what it used.
    fonts = rendered_fonts(page, "main h1")
    assert any("CJK" in family for family in fonts), fonts


def test_it_gives_another_townships_unit_page_as_not_found(
    live_server: Any, page: Any, demo_city: DemoCity
) -> None:
    sign_in(page, live_server.url, "kt_clerk", demo_city.password)
    other = demo_city.other_township
    assert "白水镇" in other.name

    response = page.goto(f"{live_server.url}/units/{other.pk}/")
    assert response.status == 404
    assert page.get_by_role("heading", name="页面不存在").is_visible()
    body = page.locator("main").inner_text()
    assert "白水镇" not in body and "王文书" not in body
    # A guessed id of no unit at all looks exactly the same.
    missing = page.goto(f"{live_server.url}/units/{Unit.objects.order_by('-pk').first().pk + 1000}/")
    assert missing.status == 404
    assert page.locator("main").inner_text() == body
    screenshot(page, "unit-of-another-township-404")

    own = page.goto(f"{live_server.url}/units/{demo_city.own_township.pk}/")
    assert own.status == 200
    assert demo_city.own_township.name in page.locator("main").inner_text()


def test_it_fits_the_workbench_on_a_phone_screen(live_server: Any, browser: Any, cast: Any) -> None:
    context = browser.new_context(locale="zh-CN", viewport=PHONE, device_scale_factor=2, is_mobile=True)
    page = context.new_page()
    page.set_default_timeout(15000)
    try:
        sign_in(page, live_server.url, "kt_clerk", cast.password)
        assert page.url == f"{live_server.url}/workbench/"
        assert horizontal_overflow(page) == []
        # The navigation stays readable: each link on one line, not squeezed into a column of characters.
        for link in page.locator("header a, header button").all():
            box = link.bounding_box()
            assert box is not None and box["height"] < 40, link.inner_text()
        # Every module entry can be reached and lies within the screen's width.
        entries = page.get_by_test_id("modules").get_by_role("link")
        assert entries.count() >= 2
        for i in range(entries.count()):
            entry = entries.nth(i)
            entry.scroll_into_view_if_needed()
            box = entry.bounding_box()
            assert box is not None and box["x"] >= 0 and box["x"] + box["width"] <= PHONE["width"]
            assert box["height"] >= 40  # a finger-sized target
        screenshot(page, "workbench-phone")

        # 适老化 large text on the smallest screen still does not scroll sideways.
        page.get_by_role("button", name="适老化").click()
        assert "large-text" in (page.locator("html").get_attribute("class") or "")
        assert horizontal_overflow(page) == []
        screenshot(page, "workbench-phone-large-text")

        page.get_by_test_id("modules").get_by_role("link", name="本单位").click()
        page.wait_for_load_state("networkidle")
        assert page.get_by_test_id("unit-name").inner_text() == "崆峒镇人民政府"
        assert horizontal_overflow(page) == []
    finally:
        context.close()
