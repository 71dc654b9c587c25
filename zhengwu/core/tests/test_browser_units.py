"""In a real browser on a phone screen: a township's unit admin opens an account and reads its password
once; the address book and the trail fit the screen."""

from __future__ import annotations

from typing import Any

import pytest

from zhengwu.core.audit import audit_record
from zhengwu.core.models import User
from zhengwu.testing.browser import PHONE, horizontal_overflow, screenshot, sign_in

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_it_lets_a_unit_admin_open_an_account_on_a_phone(live_server: Any, page: Any, cast: Any) -> None:
    page.set_viewport_size(PHONE)
    sign_in(page, live_server.url, "kt_admin", cast.password)
    unit = cast.township_a1_gov
    page.goto(f"{live_server.url}/units/{unit.pk}/")
    assert page.get_by_test_id("unit-name").inner_text() == "崆峒镇人民政府"
    assert horizontal_overflow(page) == []
    screenshot(page, "unit-home-phone")

    page.get_by_role("link", name="开设账号").click()
    page.fill("#id_username", "kt_browser")
    page.fill("#id_name", "孙新来")
    page.select_option("#id_post", label="文书")
    page.fill("#id_mobile", "13811112222")
    assert horizontal_overflow(page) == []
    with page.expect_navigation():
        page.get_by_role("button", name="保存").click()
    password = page.get_by_test_id("password-once").inner_text()
    assert "只显示这一次" in page.locator("main").inner_text()
    assert User.objects.get(username="kt_browser").check_password(password)
    screenshot(page, "password-once-phone")

    page.get_by_role("link", name="我已记下，返回").click()
    assert "孙新来" in page.locator("h1").inner_text()
    assert password not in page.content()
    assert "138****2222" in page.locator("main").inner_text()


def test_it_fits_the_address_book_and_the_trail_on_a_phone(live_server: Any, page: Any, cast: Any) -> None:
    audit_record(
        action="document.send",
        object_label="关于做好春季森林防火工作的紧急通知（平政办发〔2026〕12号）",
        actor=cast.supervisor,
        unit=cast.city_supervision,
    )
    page.set_viewport_size(PHONE)
    sign_in(page, live_server.url, "supervisor", cast.password)
    page.goto(f"{live_server.url}/address-book/?person=文书")
    assert "李文书" in page.locator("main").inner_text()
    assert horizontal_overflow(page) == []
    screenshot(page, "address-book-phone")

    page.goto(f"{live_server.url}/audit/")
    assert "春季森林防火" in page.locator("main").inner_text()
    assert horizontal_overflow(page) == []
    screenshot(page, "audit-list-phone")
    page.get_by_role("link", name="1", exact=True).first.click()
    assert "变更前后对比" in page.locator("main").inner_text()
    assert horizontal_overflow(page) == []
