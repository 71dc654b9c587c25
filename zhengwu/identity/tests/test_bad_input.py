"""Bad input on every sign-in page and form: a clear Chinese message, a 4xx, nothing written."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from axes.models import AccessAttempt
from django.test import Client
from django.urls import reverse
from django_otp.plugins.otp_totp.models import TOTPDevice
from oauth2_provider.models import Application

from zhengwu.core.models import AuditEvent, User
from zhengwu.identity.models import CodeSend, VerificationCode

LOGIN = reverse("identity:login")
PUBLIC_LOGIN = reverse("identity:public_login")
REGISTER = reverse("identity:public_register")
RESET = reverse("identity:public_password_reset")


def _counts() -> tuple[int, ...]:
    return tuple(
        model.objects.count()
        for model in (User, AuditEvent, VerificationCode, CodeSend, AccessAttempt, TOTPDevice, Application)
    )


class Ledger:
    """What was in the tables when the test marked it; checked unchanged when the test ends."""

    before: tuple[int, ...] | None = None

    def mark(self) -> None:
        self.before = _counts()


@pytest.fixture
def ledger(db: Any) -> Iterator[Ledger]:
    ledger = Ledger()
    yield ledger
    assert ledger.before is not None, "the test never marked the ledger"
    assert _counts() == ledger.before, "something was written"


def text(response: Any) -> str:
    return str(response.content.decode())


@pytest.mark.parametrize(
    ("data", "message"),
    [
        ({"username": "k" * 500, "password": "Zw-Test-Passw0rd!"}, "不超过 64"),
        ({"username": "kt_clerk", "password": "x" * 5000}, "不超过 128"),
        ({"username": "kt_\x00clerk", "password": "Zw-Test-Passw0rd!"}, "不允许"),
        ({"username": "", "password": "Zw-Test-Passw0rd!"}, "这个字段是必填项"),
        ({"username": "kt_clerk"}, "这个字段是必填项"),
    ],
)
def test_it_refuses_malformed_staff_sign_in(cast: Any, ledger: Ledger, data: dict, message: str) -> None:
    ledger.mark()
    response = Client().post(LOGIN, data)
    assert response.status_code == 400
    assert message in text(response)


@pytest.mark.parametrize(
    ("data", "message"),
    [
        ({"username": "1" * 300, "password": "Zw-Test-Passw0rd!"}, "不超过 254"),
        ({"username": "citizen", "password": "p" * 129}, "不超过 128"),
        ({"password": "Zw-Test-Passw0rd!"}, "这个字段是必填项"),
    ],
)
def test_it_refuses_malformed_public_sign_in(cast: Any, ledger: Ledger, data: dict, message: str) -> None:
    ledger.mark()
    response = Client().post(PUBLIC_LOGIN, data)
    assert response.status_code == 400
    assert message in text(response)


@pytest.mark.parametrize(
    ("contact", "message"),
    [
        ("12345", "请输入正确的 11 位手机号或电子邮箱"),
        ("23800138000", "请输入正确的 11 位手机号或电子邮箱"),
        ("not-an-address@", "电子邮箱格式不正确"),
        ("a" * 250 + "@example.com", "不超过 254"),
        ("", "请输入手机号或电子邮箱"),
        ("<script>alert(1)</script>", "请输入正确的 11 位手机号或电子邮箱"),
    ],
)
@pytest.mark.parametrize("url", [REGISTER, RESET])
def test_it_refuses_a_code_for_a_malformed_address(
    inbox: Any, ledger: Ledger, url: str, contact: str, message: str
) -> None:
    ledger.mark()
    response = Client().post(url, {"action": "send", "contact": contact})
    assert response.status_code == 400
    assert message in text(response)
    assert "<script>alert(1)</script>" not in text(response)


VALID = {
    "action": "register",
    "kind": "citizen",
    "name": "王小明",
    "contact": "13800138100",
    "code": "123456",
    "password": "Gansu-Pingliang#2026",
    "password2": "Gansu-Pingliang#2026",
}


@pytest.mark.parametrize(
    ("field", "value", "message"),
    [
        ("kind", "staff", "请选择账号类型"),
        ("kind", "", "请选择账号类型"),
        ("name", "名" * 65, "不超过 64"),
        ("name", "", "请填写姓名或企业名称"),
        ("name", "王\x00小明", "不允许"),
        ("contact", "1380013810", "请输入正确的 11 位手机号"),
        ("code", "12ab56", "请输入数字"),
        ("code", "1234567", "验证码为 6 位数字"),
        ("code", "", "请输入验证码"),
        ("password", "P" * 200, "不超过 128"),
    ],
)
def test_it_refuses_a_malformed_registration(
    inbox: Any, ledger: Ledger, field: str, value: str, message: str
) -> None:
    ledger.mark()
    response = Client().post(REGISTER, {**VALID, field: value})
    assert response.status_code == 400
    assert message in text(response)


def test_it_never_registers_a_staff_account_even_with_a_good_code(inbox: Any, db: Any) -> None:
    client = Client()
    client.post(REGISTER, {"action": "send", "contact": "13800138101"})
    code = inbox.code("13800138101")
    response = client.post(REGISTER, {**VALID, "contact": "13800138101", "code": code, "kind": "staff"})
    assert response.status_code == 400
    assert not User.objects.filter(name="王小明").exists()
    assert VerificationCode.objects.get().used_at is None


@pytest.mark.parametrize(
    ("field", "value", "message"),
    [
        ("contact", "abc", "请输入正确的 11 位手机号或电子邮箱"),
        ("code", "9999999", "验证码为 6 位数字"),
        ("password", "x" * 129, "不超过 128"),
    ],
)
def test_it_refuses_a_malformed_password_reset(
    cast: Any, inbox: Any, ledger: Ledger, field: str, value: str, message: str
) -> None:
    ledger.mark()
    data = {
        "action": "reset",
        "contact": "13800001234",
        "code": "123456",
        "password": "Gansu-Pingliang#2026",
        "password2": "Gansu-Pingliang#2026",
        field: value,
    }
    response = Client().post(RESET, data)
    assert response.status_code == 400
    assert message in text(response)
    cast.citizen.refresh_from_db()
    assert cast.citizen.check_password(cast.password)


@pytest.mark.parametrize(
    ("token", "message"),
    [("abcdef", "请输入数字"), ("1" * 30, "动态口令为 6 位数字"), ("", "请输入动态口令")],
)
def test_it_refuses_a_malformed_totp_code(cast: Any, ledger: Ledger, token: str, message: str) -> None:
    TOTPDevice.objects.create(user=cast.security_admin, name="app", confirmed=True)
    client = Client()
    client.force_login(cast.security_admin)
    ledger.mark()
    response = client.post(reverse("identity:otp_verify"), {"token": token})
    assert response.status_code == 400
    assert message in text(response)


def test_it_refuses_a_malformed_password_change(client_for: Any, cast: Any, ledger: Ledger) -> None:
    client = client_for(cast.township_clerk)
    ledger.mark()
    response = client.post(
        reverse("identity:password_change"),
        {"old_password": cast.password, "new_password1": "N" * 300, "new_password2": "N" * 300},
    )
    assert response.status_code == 400
    assert "不超过 128" in text(response)
    response = client.post(reverse("identity:password_change"), {"old_password": cast.password})
    assert response.status_code == 400
    assert "这个字段是必填项" in text(response)
    response = client.post(reverse("identity:password_change"), {})
    assert response.status_code == 400
    assert "这个字段是必填项" in text(response)


def test_it_says_what_is_missing_from_an_empty_form(client_for: Any, cast: Any, ledger: Ledger) -> None:
    ledger.mark()
    for url in (LOGIN, PUBLIC_LOGIN, REGISTER, RESET):
        response = Client().post(url, {})
        assert response.status_code == 400, url
        assert "这个字段是必填项" in text(response) or "请" in text(response), url
    response = Client().post(REGISTER, {})
    assert "请填写姓名或企业名称" in text(response) and "请输入验证码" in text(response)


def test_it_refuses_a_malformed_unlock_request(client_for: Any, cast: Any, ledger: Ledger) -> None:
    client = client_for(cast.security_admin)
    ledger.mark()
    for data, message in (({"username": "u" * 500}, "不超过 64"), ({}, "这个字段是必填项")):
        response = client.post(reverse("identity:lockouts"), data)
        assert response.status_code == 400
        assert message in text(response)


def test_it_refuses_an_unknown_client_at_the_authorization_endpoint(
    client_for: Any, cast: Any, ledger: Ledger
) -> None:
    client = client_for(cast.township_clerk)
    ledger.mark()
    response = client.get(
        reverse("oauth2_provider:authorize"),
        {"response_type": "code", "client_id": "guessed-" * 20, "redirect_uri": "http://x.example/cb"},
    )
    assert response.status_code == 400
    assert "授权请求无效" in text(response)


def test_it_refuses_signing_out_by_get(client_for: Any, cast: Any) -> None:
    client = client_for(cast.township_clerk)
    assert client.get(reverse("identity:logout")).status_code == 405
    assert client.get(reverse("identity:logout_everywhere")).status_code == 405
    assert client.get(reverse("workbench:home")).status_code == 200
