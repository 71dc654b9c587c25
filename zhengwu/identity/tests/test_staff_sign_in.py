"""Staff sign-in: password policy, lockout and unlocking, idle timeout, TOTP, sign-out everywhere."""

from __future__ import annotations

import time
from typing import Any

import pytest
from django.test import Client
from django.urls import reverse
from django_otp.oath import totp
from django_otp.plugins.otp_totp.models import TOTPDevice

from zhengwu.core.models import AuditEvent

LOGIN = reverse("identity:login")
WORKBENCH = reverse("workbench:home")
PASSWORD_CHANGE = reverse("identity:password_change")
SECURITY = reverse("identity:account_security")
LOCKOUTS = reverse("identity:lockouts")
NEW_PASSWORD = "Kongtong-Town#2026"


def sign_in(client: Client, username: str, password: str) -> Any:
    return client.post(LOGIN, {"username": username, "password": password})


def token_for(device: TOTPDevice) -> str:
    """The code an authenticator app shows for the device's next usable time step.

    Computed from the device key with django_otp.oath.totp: the current step, or — when the current
    step's code was already used (codes are single-use) — the step after it, which the device accepts
    as clock drift."""
    device.refresh_from_db()
    now_step = int((time.time() - device.t0) // device.step)
    ahead = max(0, device.last_t + 1 - now_step)
    value = totp(device.bin_key, step=device.step, t0=device.t0, digits=device.digits, drift=ahead)
    return f"{value:0{device.digits}d}"


def change_password(client: Client, old: str, new: str, again: str | None = None) -> Any:
    return client.post(
        PASSWORD_CHANGE, {"old_password": old, "new_password1": new, "new_password2": again or new}
    )


# --- Password policy and password change ----------------------------------------------------------


@pytest.mark.django_db
def test_it_refuses_a_password_shorter_than_twelve_characters_in_chinese(client_for: Any, cast: Any) -> None:
    client = client_for(cast.township_clerk)
    response = change_password(client, cast.password, "Ab1!short")
    assert response.status_code == 400
    assert "密码太短，至少需要 12 个字符" in response.content.decode()
    cast.township_clerk.refresh_from_db()
    assert cast.township_clerk.check_password(cast.password)
    assert not AuditEvent.objects.filter(action="auth.password_change").exists()


@pytest.mark.django_db
@pytest.mark.parametrize("weak", ["woaini1314520", "Woaini1314!!", "Password123456", "qwertyuiop123"])
def test_it_refuses_a_breached_or_common_password_in_chinese(client_for: Any, cast: Any, weak: str) -> None:
    response = change_password(client_for(cast.township_clerk), cast.password, weak)
    assert response.status_code == 400
    page = response.content.decode()
    assert "已泄露密码库" in page or "这个密码太常见了" in page
    cast.township_clerk.refresh_from_db()
    assert cast.township_clerk.check_password(cast.password)


@pytest.mark.django_db
def test_it_refuses_a_password_without_three_kinds_of_character(client_for: Any, cast: Any) -> None:
    response = change_password(client_for(cast.township_clerk), cast.password, "kongtongzhenwenshu")
    assert response.status_code == 400
    assert "三类" in response.content.decode()


@pytest.mark.django_db
def test_it_refuses_a_wrong_old_password_and_records_the_attempt(client_for: Any, cast: Any) -> None:
    response = change_password(client_for(cast.township_clerk), "Not-The-Old-One#1", NEW_PASSWORD)
    assert response.status_code == 400
    assert "原密码不正确" in response.content.decode()
    assert AuditEvent.objects.filter(action="auth.password_change_failed").count() == 1


@pytest.mark.django_db
def test_it_changes_the_password_and_ends_the_other_sessions(cast: Any) -> None:
    here, elsewhere = Client(), Client()
    assert sign_in(here, "kt_clerk", cast.password).status_code == 302
    assert sign_in(elsewhere, "kt_clerk", cast.password).status_code == 302
    response = change_password(here, cast.password, NEW_PASSWORD)
    assert response.status_code == 302 and response["Location"] == SECURITY
    assert here.get(WORKBENCH).status_code == 200
    assert elsewhere.get(WORKBENCH).status_code == 302
    event = AuditEvent.objects.get(action="auth.password_change")
    assert event.actor_id == cast.township_clerk.pk and event.unit_id == cast.township_a1_gov.pk
    assert sign_in(Client(), "kt_clerk", NEW_PASSWORD).status_code == 302
    assert sign_in(Client(), "kt_clerk", cast.password).status_code == 400


# --- Lockout --------------------------------------------------------------------------------------


@pytest.mark.django_db
def test_it_locks_the_account_after_five_failures_and_refuses_the_right_password(cast: Any) -> None:
    client = Client()
    statuses = [sign_in(client, "kt_clerk", f"Wrong-Password-{i}!").status_code for i in range(5)]
    assert statuses[:4] == [400] * 4
    assert statuses[4] == 429
    response = sign_in(client, "kt_clerk", cast.password)
    assert response.status_code == 429
    assert "账号已锁定" in response.content.decode()
    assert "_auth_user_id" not in client.session
    # From another machine too: the lock is on the account, not the address.
    other = Client(REMOTE_ADDR="10.20.30.40")
    assert sign_in(other, "kt_clerk", cast.password).status_code == 429

    failures = AuditEvent.objects.filter(action="auth.login_failed", object_label="kt_clerk")
    assert failures.count() >= 5
    assert all(e.object_id == str(cast.township_clerk.pk) for e in failures)
    assert AuditEvent.objects.filter(action="auth.locked_out", object_label="kt_clerk").exists()
    assert not AuditEvent.objects.filter(action="auth.login").exists()


@pytest.mark.django_db
def test_it_counts_failures_per_account_not_per_address(cast: Any) -> None:
    for i in range(5):
        sign_in(Client(REMOTE_ADDR=f"10.0.0.{i + 1}"), "kt_clerk", "Wrong-Password-1!")
    assert sign_in(Client(REMOTE_ADDR="10.0.0.99"), "kt_clerk", cast.password).status_code == 429
    # Another account behind the same government NAT address is not affected.
    assert sign_in(Client(REMOTE_ADDR="10.0.0.1"), "bs_clerk", cast.password).status_code == 302


@pytest.mark.django_db
def test_it_lets_the_security_admin_unlock_an_account(client_for: Any, cast: Any) -> None:
    for _ in range(5):
        sign_in(Client(), "kt_clerk", "Wrong-Password-1!")
    security = client_for(cast.security_admin)
    page = security.get(LOCKOUTS)
    assert page.status_code == 200
    assert "kt_clerk" in page.content.decode() and "李文书" in page.content.decode()

    response = security.post(LOCKOUTS, {"username": "kt_clerk"})
    assert response.status_code == 302
    assert "当前没有被锁定的账号" in security.get(LOCKOUTS).content.decode()
    event = AuditEvent.objects.get(action="auth.unlock")
    assert event.actor_id == cast.security_admin.pk and event.object_id == str(cast.township_clerk.pk)
    assert sign_in(Client(), "kt_clerk", cast.password).status_code == 302


@pytest.mark.django_db
@pytest.mark.parametrize("who", ["township_admin", "audit_admin", "system_admin", "township_clerk"])
def test_it_lets_nobody_else_unlock(client_for: Any, cast: Any, who: str) -> None:
    for _ in range(5):
        sign_in(Client(), "bs_clerk", "Wrong-Password-1!")
    client = client_for(getattr(cast, who))
    assert client.get(LOCKOUTS).status_code == 403
    assert client.post(LOCKOUTS, {"username": "bs_clerk"}).status_code == 403
    assert sign_in(Client(), "bs_clerk", cast.password).status_code == 429
    assert not AuditEvent.objects.filter(action="auth.unlock").exists()


@pytest.mark.django_db
def test_it_refuses_to_unlock_an_account_that_is_not_locked(client_for: Any, cast: Any) -> None:
    response = client_for(cast.security_admin).post(LOCKOUTS, {"username": "bs_clerk"})
    assert response.status_code == 400
    assert "该账号当前未被锁定" in response.content.decode()
    assert not AuditEvent.objects.filter(action="auth.unlock").exists()


@pytest.mark.django_db
def test_it_sends_public_accounts_on_a_locked_account_to_password_reset(cast: Any) -> None:
    client = Client()
    for _ in range(5):
        client.post(
            reverse("identity:public_login"), {"username": "13800001234", "password": "Wrong-Pass-1!"}
        )
    response = client.post(
        reverse("identity:public_login"), {"username": "citizen", "password": cast.password}
    )
    assert response.status_code == 429
    assert reverse("identity:public_password_reset") in response.content.decode()


# --- Idle timeout ---------------------------------------------------------------------------------


@pytest.mark.django_db
def test_it_signs_an_idle_session_out(cast: Any, settings: Any) -> None:
    client = Client()
    sign_in(client, "kt_clerk", cast.password)
    assert client.get(WORKBENCH).status_code == 200
    session = client.session
    session["zw_last_seen"] = int(time.time()) - settings.IDLE_TIMEOUT_SECONDS - 5
    session.save()

    response = client.get(WORKBENCH)
    assert response.status_code == 302
    assert response["Location"].startswith(LOGIN) and "next=%2Fworkbench%2F" in response["Location"]
    assert "_auth_user_id" not in client.session
    assert client.get(WORKBENCH).status_code == 302
    assert AuditEvent.objects.filter(action="auth.idle_timeout", actor_id=cast.township_clerk.pk).exists()
    page = client.get(LOGIN).content.decode()
    assert "您已长时间未操作" in page


@pytest.mark.django_db
def test_it_keeps_a_session_that_is_in_use(cast: Any, settings: Any) -> None:
    client = Client()
    sign_in(client, "kt_clerk", cast.password)
    session = client.session
    session["zw_last_seen"] = int(time.time()) - settings.IDLE_TIMEOUT_SECONDS + 60
    session.save()
    assert client.get(WORKBENCH).status_code == 200
    assert client.session["zw_last_seen"] >= int(time.time()) - 5


# --- TOTP second factor ---------------------------------------------------------------------------


@pytest.mark.django_db
def test_it_makes_a_platform_admin_bind_totp_at_first_sign_in(cast: Any) -> None:
    client = Client()
    response = sign_in(client, "sysadmin", cast.password)
    assert response.status_code == 302
    response = client.get(WORKBENCH)
    assert response.status_code == 302 and response["Location"].startswith(reverse("identity:otp_setup"))
    setup = client.get(response["Location"])
    assert setup.status_code == 200 and "平台管理员必须使用动态口令" in setup.content.decode()
    # Nothing else opens until the authenticator is bound.
    assert client.get(reverse("oauth2_provider:list")).status_code == 302
    assert client.get(SECURITY).status_code == 302

    device = TOTPDevice.objects.get(user=cast.system_admin, confirmed=False)
    assert device.key in setup.content.decode().lower() or "otp-secret" in setup.content.decode()
    response = client.post(reverse("identity:otp_setup") + "?next=/workbench/", {"token": token_for(device)})
    assert response.status_code == 302 and response["Location"] == WORKBENCH
    assert client.get(WORKBENCH).status_code == 200
    assert AuditEvent.objects.filter(action="auth.otp_bind", actor_id=cast.system_admin.pk).exists()

    # The next sign-in asks for the code again.
    later = Client()
    sign_in(later, "sysadmin", cast.password)
    response = later.get(WORKBENCH)
    assert response["Location"].startswith(reverse("identity:otp_verify"))
    response = later.post(reverse("identity:otp_verify") + "?next=/workbench/", {"token": token_for(device)})
    assert response.status_code == 302 and response["Location"] == WORKBENCH
    assert later.get(WORKBENCH).status_code == 200


@pytest.mark.django_db
def test_it_refuses_a_wrong_totp_code_and_records_it(cast: Any) -> None:
    device = TOTPDevice.objects.create(user=cast.security_admin, name="app", confirmed=True)
    client = Client()
    sign_in(client, "secadmin", cast.password)
    wrong = f"{(int(token_for(device)) + 1) % 1000000:06d}"
    response = client.post(reverse("identity:otp_verify"), {"token": wrong})
    assert response.status_code == 400
    assert "动态口令不正确" in response.content.decode()
    assert client.get(LOCKOUTS).status_code == 302
    assert AuditEvent.objects.filter(action="auth.otp_failed", actor_id=cast.security_admin.pk).exists()


@pytest.mark.django_db
def test_it_does_not_let_a_bound_account_bind_a_second_authenticator_without_the_first(cast: Any) -> None:
    TOTPDevice.objects.create(user=cast.township_clerk, name="app", confirmed=True)
    client = Client()
    sign_in(client, "kt_clerk", cast.password)
    response = client.get(reverse("identity:otp_setup"))
    assert response.status_code == 302 and response["Location"].startswith(reverse("identity:otp_verify"))
    assert TOTPDevice.objects.filter(user=cast.township_clerk).count() == 1


@pytest.mark.django_db
def test_it_lets_other_staff_turn_totp_on_and_then_asks_at_every_sign_in(cast: Any) -> None:
    client = Client()
    sign_in(client, "kt_clerk", cast.password)
    assert client.get(WORKBENCH).status_code == 200  # optional: not asked before opting in
    page = client.get(SECURITY).content.decode()
    assert "未启用" in page and reverse("identity:otp_setup") in page

    client.get(reverse("identity:otp_setup"))
    device = TOTPDevice.objects.get(user=cast.township_clerk)
    response = client.post(reverse("identity:otp_setup"), {"token": token_for(device)})
    assert response.status_code == 302 and response["Location"] == SECURITY
    assert "已启用" in client.get(SECURITY).content.decode()

    again = Client()
    sign_in(again, "kt_clerk", cast.password)
    assert again.get(WORKBENCH)["Location"].startswith(reverse("identity:otp_verify"))
    again.post(reverse("identity:otp_verify"), {"token": token_for(device)})
    assert again.get(WORKBENCH).status_code == 200

    # Turning it off needs a current code; then sign-in asks for the password only.
    response = again.post(reverse("identity:otp_disable"), {"token": token_for(device)})
    assert response.status_code == 302
    assert not TOTPDevice.objects.filter(user=cast.township_clerk).exists()
    assert AuditEvent.objects.filter(action="auth.otp_unbind", actor_id=cast.township_clerk.pk).exists()
    third = Client()
    sign_in(third, "kt_clerk", cast.password)
    assert third.get(WORKBENCH).status_code == 200


@pytest.mark.django_db
def test_it_refuses_to_turn_totp_off_for_a_platform_admin(client_for: Any, cast: Any) -> None:
    client = client_for(cast.system_admin)
    device = TOTPDevice.objects.get(user=cast.system_admin)
    assert "不能停用" in client.get(SECURITY).content.decode()
    assert client.post(reverse("identity:otp_disable"), {"token": token_for(device)}).status_code == 403
    assert TOTPDevice.objects.filter(user=cast.system_admin).exists()


@pytest.mark.django_db
def test_it_keeps_public_accounts_out_of_the_staff_security_pages(client_for: Any, cast: Any) -> None:
    client = client_for(cast.citizen)
    for url in (SECURITY, reverse("identity:otp_setup"), reverse("identity:otp_verify"), LOCKOUTS):
        assert client.get(url).status_code == 403, url
    assert not TOTPDevice.objects.filter(user=cast.citizen).exists()


# --- Sign-out everywhere --------------------------------------------------------------------------


@pytest.mark.django_db
def test_it_signs_out_everywhere(cast: Any) -> None:
    phone, desk = Client(), Client()
    sign_in(phone, "kt_clerk", cast.password)
    sign_in(desk, "kt_clerk", cast.password)
    assert phone.get(WORKBENCH).status_code == 200 and desk.get(WORKBENCH).status_code == 200

    response = desk.post(reverse("identity:logout_everywhere"))
    assert response.status_code == 302 and response["Location"] == LOGIN
    assert phone.get(WORKBENCH).status_code == 302
    assert desk.get(WORKBENCH).status_code == 302
    assert AuditEvent.objects.filter(
        action="auth.logout_everywhere", actor_id=cast.township_clerk.pk
    ).exists()
    # Signing in again works as before.
    fresh = Client()
    sign_in(fresh, "kt_clerk", cast.password)
    assert fresh.get(WORKBENCH).status_code == 200


@pytest.mark.django_db
def test_it_shows_recent_sign_ins_on_the_security_page(cast: Any) -> None:
    client = Client(REMOTE_ADDR="10.62.8.1")
    sign_in(client, "kt_clerk", cast.password)
    page = client.get(SECURITY).content.decode()
    assert "10.62.8.1" in page and "登录" in page


@pytest.mark.django_db
def test_it_offers_account_security_on_the_workbench_and_lockouts_to_the_security_admin(
    client_for: Any, cast: Any
) -> None:
    clerk_page = client_for(cast.township_clerk).get(WORKBENCH).content.decode()
    assert SECURITY in clerk_page and LOCKOUTS not in clerk_page
    assert LOCKOUTS in client_for(cast.security_admin).get(WORKBENCH).content.decode()
