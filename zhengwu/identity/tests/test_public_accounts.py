"""Public accounts (公众/企业): registration with a verification code, sign-in, password reset, my account."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest
from django.test import Client
from django.urls import reverse
from django.utils import timezone
from freezegun import freeze_time

from zhengwu.core.models import AccountKind, AuditEvent, User
from zhengwu.identity.models import CodeSend, SendResult, VerificationCode

PASSWORD = "Gansu-Pingliang#2026"
REGISTER = reverse("identity:public_register")
RESET = reverse("identity:public_password_reset")
PUBLIC_LOGIN = reverse("identity:public_login")
STAFF_LOGIN = reverse("identity:login")


def send_code(client: Client, url: str, contact: str, **extra: Any) -> Any:
    return client.post(url, {"action": "send", "contact": contact}, **extra)


def register(client: Client, contact: str, code: str, **overrides: str) -> Any:
    data = {
        "action": "register",
        "kind": "citizen",
        "name": "王小明",
        "contact": contact,
        "code": code,
        "password": PASSWORD,
        "password2": PASSWORD,
    }
    data.update(overrides)
    return client.post(REGISTER, data)


@pytest.mark.django_db
def test_it_registers_a_citizen_by_phone_with_the_code_from_the_sms(client: Client, inbox: Any) -> None:
    response = send_code(client, REGISTER, "138 0013 8000")
    assert response.status_code == 200
    assert "验证码已发送至 138****8000" in response.content.decode()
    code = inbox.code("13800138000")

    response = register(client, "13800138000", code)
    assert response.status_code == 302 and response["Location"] == reverse("identity:public_account")
    user = User.objects.exclude(kind=AccountKind.STAFF).get(name="王小明")
    assert user.kind == AccountKind.CITIZEN and user.mobile == "13800138000"
    assert AuditEvent.objects.filter(action="account.register", object_id=str(user.pk)).exists()

    page = client.get(reverse("identity:public_account")).content.decode()
    assert "138****8000" in page and "13800138000" not in page
    assert user.username in page


@pytest.mark.django_db
def test_it_registers_an_enterprise_by_email(client: Client, inbox: Any, mailoutbox: list[Any]) -> None:
    assert send_code(client, REGISTER, "Office@Example.COM").status_code == 200
    assert mailoutbox[-1].to == ["office@example.com"]
    assert "验证码" in mailoutbox[-1].subject
    code = inbox.code("office@example.com")

    response = register(client, "office@example.com", code, kind="enterprise", name="平凉市某某建材有限公司")
    assert response.status_code == 302
    user = User.objects.get(name="平凉市某某建材有限公司")
    assert user.kind == AccountKind.ENTERPRISE and user.email == "office@example.com"
    page = client.get(reverse("identity:public_account")).content.decode()
    assert "o***@example.com" in page and "企业" in page


@pytest.mark.django_db
def test_it_keeps_only_a_digest_of_the_code_and_no_plain_phone(client: Client, inbox: Any) -> None:
    send_code(client, REGISTER, "13800138001")
    code = inbox.code("13800138001")
    stored = VerificationCode.objects.get()
    send = CodeSend.objects.get()
    assert code not in stored.code_hash and len(stored.code_hash) == 64
    for row in (stored, send):
        assert row.target_masked == "138****8001"
        assert "13800138001" not in row.target_index
    assert send.result == SendResult.SENT and send.ip == "127.0.0.1" and send.channel == "sms"
    assert send.purpose == "register"
    assert stored.expires_at - stored.created_at == dt.timedelta(minutes=10)


@pytest.mark.django_db
def test_it_refuses_a_second_code_within_the_interval_with_429(client: Client, inbox: Any) -> None:
    assert send_code(client, REGISTER, "13800138002").status_code == 200
    response = send_code(client, REGISTER, "13800138002")
    assert response.status_code == 429
    assert "获取验证码过于频繁" in response.content.decode()
    assert len(inbox.sms("13800138002")) == 1
    results = list(CodeSend.objects.order_by("id").values_list("result", flat=True))
    assert results == [SendResult.SENT, SendResult.REFUSED_INTERVAL]


@pytest.mark.django_db
def test_it_refuses_more_codes_a_day_than_the_daily_limit(client: Client, inbox: Any, settings: Any) -> None:
    settings.VERIFICATION_CODE_MIN_INTERVAL_SECONDS = 0
    settings.VERIFICATION_CODE_DAILY_LIMIT = 3
    for _ in range(3):
        assert send_code(client, REGISTER, "13800138003").status_code == 200
    response = send_code(client, REGISTER, "13800138003")
    assert response.status_code == 429
    assert "今日获取验证码已达 3 次上限" in response.content.decode()
    assert len(inbox.sms("13800138003")) == 3
    assert CodeSend.objects.filter(result=SendResult.REFUSED_DAILY).count() == 1


@pytest.mark.django_db
def test_it_refuses_more_codes_an_hour_from_one_address_than_the_limit(
    client: Client, inbox: Any, settings: Any
) -> None:
    settings.VERIFICATION_CODE_IP_HOURLY_LIMIT = 2
    for phone in ("13800138004", "13800138005"):
        assert send_code(client, REGISTER, phone, REMOTE_ADDR="10.1.2.3").status_code == 200
    response = send_code(client, REGISTER, "13800138006", REMOTE_ADDR="10.1.2.3")
    assert response.status_code == 429
    assert "您所在的网络获取验证码过于频繁" in response.content.decode()
    assert inbox.sms("13800138006") == []
    refused = CodeSend.objects.get(result=SendResult.REFUSED_IP)
    assert refused.ip == "10.1.2.3" and refused.target_masked == "138****8006"
    # Another address is not held back.
    assert send_code(client, REGISTER, "13800138006", REMOTE_ADDR="10.9.9.9").status_code == 200


@pytest.mark.django_db
def test_it_kills_a_code_after_five_wrong_tries(client: Client, inbox: Any) -> None:
    send_code(client, REGISTER, "13800138007")
    code = inbox.code("13800138007")
    wrong = f"{(int(code) + 1) % 1000000:06d}"
    for _attempt in range(5):
        response = register(client, "13800138007", wrong)
        assert response.status_code == 400
        assert "验证码" in response.content.decode()
    assert VerificationCode.objects.get().failed_attempts == 5
    response = register(client, "13800138007", code)
    assert response.status_code == 400
    assert "验证码错误次数过多，请重新获取" in response.content.decode()
    assert not User.objects.filter(name="王小明").exists()


@pytest.mark.django_db
def test_it_tells_how_many_tries_are_left(client: Client, inbox: Any) -> None:
    send_code(client, REGISTER, "13800138008")
    code = inbox.code("13800138008")
    response = register(client, "13800138008", f"{(int(code) + 7) % 1000000:06d}")
    assert "验证码不正确，还可再试 4 次" in response.content.decode()


@pytest.mark.django_db
def test_it_refuses_an_expired_code(client: Client, inbox: Any) -> None:
    send_code(client, REGISTER, "13800138009")
    code = inbox.code("13800138009")
    with freeze_time(timezone.now() + dt.timedelta(minutes=10, seconds=1)):
        response = register(client, "13800138009", code)
    assert response.status_code == 400
    assert "验证码已过期" in response.content.decode()
    assert not User.objects.filter(name="王小明").exists()


@pytest.mark.django_db
def test_it_uses_a_code_once_only(client: Client, inbox: Any) -> None:
    send_code(client, REGISTER, "13800138010")
    code = inbox.code("13800138010")
    assert register(client, "13800138010", code).status_code == 302
    other = Client()
    response = register(other, "13800138010", code, name="李四")
    assert response.status_code == 400
    assert not User.objects.filter(name="李四").exists()


@pytest.mark.django_db
def test_it_only_accepts_the_newest_code(client: Client, inbox: Any, settings: Any) -> None:
    settings.VERIFICATION_CODE_MIN_INTERVAL_SECONDS = 0
    send_code(client, REGISTER, "13800138011")
    first = inbox.code("13800138011")
    send_code(client, REGISTER, "13800138011")
    second = inbox.code("13800138011")
    if first != second:
        assert register(client, "13800138011", first).status_code == 400
    assert register(client, "13800138011", second).status_code == 302


@pytest.mark.django_db
def test_it_refuses_a_phone_already_registered_clearly(client: Client, cast: Any, inbox: Any) -> None:
    # The cast's citizen 张三 registered 13800001234.
    response = send_code(client, REGISTER, "13800001234")
    assert response.status_code == 409
    assert "该手机号已注册" in response.content.decode()
    assert inbox.sms("13800001234") == []
    assert CodeSend.objects.get().result == SendResult.REGISTERED


@pytest.mark.django_db
def test_it_refuses_an_address_registered_while_the_code_was_on_its_way(
    client: Client, cast: Any, inbox: Any
) -> None:
    send_code(client, REGISTER, "new@example.com")
    code = inbox.code("new@example.com")
    cast.enterprise.email = "new@example.com"
    cast.enterprise.save()
    response = register(client, "new@example.com", code)
    assert response.status_code == 400
    assert "该电子邮箱已注册" in response.content.decode()
    # The code was not spent on the refused attempt.
    assert VerificationCode.objects.get().used_at is None


@pytest.mark.django_db
def test_it_lets_a_staff_members_phone_register_a_public_account(
    client: Client, cast: Any, inbox: Any
) -> None:
    # Staff and public accounts are separate: the clerk's work phone does not block a private account.
    assert send_code(client, REGISTER, cast.township_clerk.mobile).status_code == 200


@pytest.mark.django_db
def test_it_applies_the_password_policy_at_registration(client: Client, inbox: Any) -> None:
    send_code(client, REGISTER, "13800138012")
    code = inbox.code("13800138012")
    response = register(client, "13800138012", code, password="Short1!", password2="Short1!")
    assert response.status_code == 400
    assert "密码太短，至少需要 12 个字符" in response.content.decode()
    response = register(client, "13800138012", code, password="woaini1314520", password2="woaini1314520")
    assert response.status_code == 400
    assert "已泄露密码库" in response.content.decode() or "太常见" in response.content.decode()
    response = register(client, "13800138012", code, password2=PASSWORD + "x")
    assert "两次输入的密码不一致" in response.content.decode()
    # A refused password does not spend the code or a try.
    assert VerificationCode.objects.get().failed_attempts == 0
    assert register(client, "13800138012", code).status_code == 302


@pytest.mark.django_db
def test_it_signs_the_public_in_by_phone_email_or_username(cast: Any) -> None:
    for identifier in ("13800001234", "+86 138-0000-1234", "ZhangSan@Example.com", "citizen"):
        c = Client()
        response = c.post(PUBLIC_LOGIN, {"username": identifier, "password": cast.password})
        assert response.status_code == 302, identifier
        assert response["Location"] == reverse("identity:public_account")
        assert c.get(reverse("identity:public_account")).context["account"] == cast.citizen


@pytest.mark.django_db
def test_it_never_signs_staff_in_on_the_public_page(client: Client, cast: Any) -> None:
    response = client.post(PUBLIC_LOGIN, {"username": "kt_clerk", "password": cast.password})
    assert response.status_code == 400
    assert "账号或密码不正确" in response.content.decode()
    assert "_auth_user_id" not in client.session
    failed = AuditEvent.objects.get(action="auth.login_failed")
    assert failed.object_label == "kt_clerk"


@pytest.mark.django_db
def test_it_never_signs_the_public_in_on_the_staff_page(client: Client, cast: Any) -> None:
    response = client.post(STAFF_LOGIN, {"username": "citizen", "password": cast.password})
    assert response.status_code == 400
    assert "用户名或密码不正确" in response.content.decode()
    assert "_auth_user_id" not in client.session


@pytest.mark.django_db
def test_it_records_an_unknown_phone_at_sign_in_only_masked(client: Client, cast: Any) -> None:
    response = client.post(PUBLIC_LOGIN, {"username": "13912345678", "password": "whatever-it-is"})
    assert response.status_code == 400
    failed = AuditEvent.objects.get(action="auth.login_failed")
    assert failed.object_label == "139****5678"
    assert "13912345678" not in str(failed.after)


@pytest.mark.django_db
def test_it_resets_a_public_password_with_a_code(cast: Any, inbox: Any) -> None:
    old_session = Client()
    old_session.force_login(cast.citizen)
    client = Client()
    response = send_code(client, RESET, "13800001234")
    assert response.status_code == 200
    assert "验证码已发送至 138****1234" in response.content.decode()
    code = inbox.code("13800001234")
    new_password = "Kongtong-Shan#2026"
    response = client.post(
        RESET,
        {
            "action": "reset",
            "contact": "13800001234",
            "code": code,
            "password": new_password,
            "password2": new_password,
        },
    )
    assert response.status_code == 302 and response["Location"] == PUBLIC_LOGIN
    assert client.post(PUBLIC_LOGIN, {"username": "13800001234", "password": new_password}).status_code == 302
    assert AuditEvent.objects.filter(action="auth.password_reset", object_id=str(cast.citizen.pk)).exists()
    # Every other session of the account has ended.
    assert old_session.get(reverse("identity:public_account")).status_code == 302


@pytest.mark.django_db
def test_it_answers_a_reset_for_an_unknown_address_alike_but_sends_nothing(
    client: Client, inbox: Any
) -> None:
    response = send_code(client, RESET, "13700000000")
    assert response.status_code == 200
    assert "如该手机号已注册，验证码已发送至 137****0000" in response.content.decode()
    assert inbox.sms("13700000000") == []
    assert CodeSend.objects.get().result == SendResult.NO_ACCOUNT
    # …and the limits apply as if it had been sent.
    assert send_code(client, RESET, "13700000000").status_code == 429


@pytest.mark.django_db
def test_it_never_resets_a_staff_password_from_the_public_page(client: Client, cast: Any, inbox: Any) -> None:
    response = send_code(client, RESET, cast.township_clerk.mobile)
    assert response.status_code == 200
    assert inbox.sms(cast.township_clerk.mobile) == []


@pytest.mark.django_db
def test_it_keeps_the_my_account_page_for_public_accounts(client_for: Any, cast: Any) -> None:
    url = reverse("identity:public_account")
    anonymous = Client().get(url)
    assert anonymous.status_code == 302 and anonymous["Location"].startswith(PUBLIC_LOGIN)
    assert client_for(cast.township_clerk).get(url).status_code == 403
    page = client_for(cast.citizen).get(url).content.decode()
    assert "138****1234" in page and "z***@example.com" in page
    assert "13800001234" not in page and "zhangsan@example.com" not in page


@pytest.mark.django_db
def test_it_links_registration_from_the_portal_and_the_public_sign_in(client: Client) -> None:
    assert REGISTER in client.get("/").content.decode()
    assert REGISTER in client.get(PUBLIC_LOGIN).content.decode()


@pytest.mark.django_db
def test_it_signs_an_idle_public_session_out_to_the_public_sign_in(
    client_for: Any, cast: Any, settings: Any
) -> None:
    import time

    client = client_for(cast.citizen)
    url = reverse("identity:public_account")
    assert client.get(url).status_code == 200
    session = client.session
    session["zw_last_seen"] = int(time.time()) - settings.IDLE_TIMEOUT_SECONDS - 1
    session.save()
    response = client.get(url)
    assert response.status_code == 302 and response["Location"].startswith(PUBLIC_LOGIN)
    assert "您已长时间未操作" in client.get(response["Location"]).content.decode()


@pytest.mark.django_db
def test_it_changes_a_public_password_and_returns_to_my_account(client_for: Any, cast: Any) -> None:
    client = client_for(cast.enterprise)
    new_password = "Jingchuan-Co#2026"
    response = client.post(
        reverse("identity:password_change"),
        {"old_password": cast.password, "new_password1": new_password, "new_password2": new_password},
    )
    assert response.status_code == 302 and response["Location"] == reverse("identity:public_account")
    login = Client().post(PUBLIC_LOGIN, {"username": "company@example.com", "password": new_password})
    assert login.status_code == 302


class BrokenGateway:
    """An SMS gateway that is down."""

    def send(self, message: Any) -> str:
        from zhengwu.notify.gateways import SmsError

        raise SmsError("gateway unreachable")


@pytest.mark.django_db
def test_it_records_a_send_the_gateway_failed_and_says_so(client: Client, settings: Any) -> None:
    settings.SMS_BACKEND = f"{__name__}.BrokenGateway"
    response = send_code(client, REGISTER, "13800138020")
    assert response.status_code == 503
    assert "验证码发送失败，请稍后再试" in response.content.decode()
    send = CodeSend.objects.get()
    assert send.result == SendResult.FAILED and send.target_masked == "138****8020"
    # The code that never arrived cannot be used.
    assert VerificationCode.objects.get().used_at is not None


@pytest.mark.django_db
def test_it_sends_a_signed_in_account_from_either_sign_in_page_to_its_own_home(
    client_for: Any, cast: Any
) -> None:
    citizen, clerk = client_for(cast.citizen), client_for(cast.township_clerk)
    for url in (STAFF_LOGIN, PUBLIC_LOGIN):
        assert citizen.get(url)["Location"] == reverse("identity:public_account")
        assert clerk.get(url)["Location"] == reverse("workbench:home")
