"""In a real browser on a phone screen: a citizen registers with an SMS code; a platform admin binds TOTP."""

from __future__ import annotations

import base64
from typing import Any

import pytest
from django_otp.oath import totp

from zhengwu.testing.browser import PHONE, horizontal_overflow, screenshot, sign_in


@pytest.mark.browser
@pytest.mark.django_db(transaction=True)
def test_it_registers_a_citizen_on_a_phone(live_server: Any, page: Any, inbox: Any) -> None:
    page.set_viewport_size(PHONE)
    page.goto(f"{live_server.url}/")
    with page.expect_navigation():
        page.click("text=注册")
    page.check("input[name=kind][value=citizen]")
    page.fill("#id_name", "马小花")
    page.fill("#id_contact", "13993300001")
    with page.expect_navigation():
        page.click("button[value=send]")
    assert "验证码已发送至 139****0001" in page.inner_text("[data-testid=code-notice]")
    assert page.input_value("#id_name") == "马小花"  # what was typed is kept
    assert horizontal_overflow(page) == []
    screenshot(page, "identity-register-phone")

    page.fill("#id_code", inbox.code("13993300001"))
    page.fill("#id_password", "Pingliang-Hua#2026")
    page.fill("#id_password2", "Pingliang-Hua#2026")
    with page.expect_navigation():
        page.click("button[value=register]")
    assert page.inner_text("h1") == "我的账号"
    assert page.inner_text("[data-testid=mobile]") == "139****0001"
    assert "注册成功" in page.inner_text("main") or "注册成功" in page.content()
    assert horizontal_overflow(page) == []


@pytest.mark.browser
@pytest.mark.django_db(transaction=True)
def test_it_makes_a_platform_admin_bind_an_authenticator_in_the_browser(
    live_server: Any, page: Any, cast: Any
) -> None:
    page.set_viewport_size(PHONE)
    sign_in(page, live_server.url, "secadmin", cast.password)
    assert "/accounts/otp/setup/" in page.url
    assert "平台管理员必须使用动态口令" in page.inner_text("main")
    assert horizontal_overflow(page) == []
    # What the authenticator app does with the key shown under the QR code.
    secret = page.inner_text("[data-testid=otp-secret]")
    key = base64.b32decode(secret + "=" * (-len(secret) % 8))
    page.fill("#id_token", f"{totp(key):06d}")
    with page.expect_navigation():
        page.click("main button[type=submit]")
    page.goto(f"{live_server.url}/accounts/lockouts/")
    assert page.inner_text("h1") == "锁定账号"
