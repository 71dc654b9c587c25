"""Writes for sign-in and accounts: verification codes, public registration and password reset, password
change, second factor, sign-out everywhere, unlocking, and the OIDC client register.

Each service is one transaction that writes its trail record. Verification codes go out after the
transaction that created them has committed, so a gateway that hangs never holds a database lock.
"""

from __future__ import annotations

import datetime as dt
import hmac
import logging
import secrets
from collections.abc import Callable
from dataclasses import dataclass
from functools import lru_cache
from typing import Any, TypeVar

from django.conf import settings
from django.contrib.auth.password_validation import validate_password
from django.core.exceptions import ValidationError
from django.core.mail import send_mail
from django.db import IntegrityError, transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from zhengwu.core import access
from zhengwu.core.audit import audit_record, snapshot
from zhengwu.core.models import AccountKind, User, _new_salt
from zhengwu.identity import selectors
from zhengwu.identity.contacts import Contact
from zhengwu.identity.models import (
    COUNTED_RESULTS,
    CodeChannel,
    CodePurpose,
    CodeSend,
    SendResult,
    ThrottleKey,
    VerificationCode,
)
from zhengwu.lib.gmcrypto import derive_key, sm3_hmac_hex

log = logging.getLogger(__name__)
T = TypeVar("T")

CODE_DIGITS = 6
MAX_PASSWORD_LENGTH = 128


class CodeRefused(Exception):
    """A code send refused by a rate limit (HTTP 429) or because it cannot be served (4xx/5xx)."""

    def __init__(self, message: str, *, status: int = 429) -> None:
        super().__init__(message)
        self.message = message
        self.status = status


# --- Verification codes ---------------------------------------------------------------------------


@lru_cache(maxsize=2)
def _code_key(secret: str) -> bytes:
    return derive_key(secret, "verification-code")


def _code_digest(salt: str, target_index: str, purpose: str, code: str) -> str:
    return sm3_hmac_hex(_code_key(settings.FIELD_ENCRYPTION_KEY), f"{salt}:{target_index}:{purpose}:{code}")


def _lock(keys: list[str]) -> None:
    """Take the throttle lock rows in a fixed order (sorted), so two requests never deadlock."""
    for key in sorted(set(keys)):
        ThrottleKey.objects.get_or_create(key=key)
        ThrottleKey.objects.select_for_update().get(key=key)


def _refusal(contact: Contact, ip: str, now: dt.datetime) -> tuple[str, str] | None:
    """(result, message) if a limit forbids another send now, else None."""
    counted = CodeSend.objects.filter(result__in=COUNTED_RESULTS)
    last = counted.filter(target_index=contact.index).order_by("-at").first()
    interval = settings.VERIFICATION_CODE_MIN_INTERVAL_SECONDS
    if last is not None and (now - last.at).total_seconds() < interval:
        wait = max(1, int(interval - (now - last.at).total_seconds()) + 1)
        return SendResult.REFUSED_INTERVAL, _("获取验证码过于频繁，请 %(s)d 秒后再试。") % {"s": wait}
    day_start = timezone.localtime(now).replace(hour=0, minute=0, second=0, microsecond=0)
    limit = settings.VERIFICATION_CODE_DAILY_LIMIT
    if counted.filter(target_index=contact.index, at__gte=day_start).count() >= limit:
        return SendResult.REFUSED_DAILY, _("该%(label)s今日获取验证码已达 %(n)d 次上限，请明天再试。") % {
            "label": contact.label,
            "n": limit,
        }
    ip_limit = settings.VERIFICATION_CODE_IP_HOURLY_LIMIT
    if ip and counted.filter(ip=ip, at__gte=now - dt.timedelta(hours=1)).count() >= ip_limit:
        return SendResult.REFUSED_IP, _("您所在的网络获取验证码过于频繁，请一小时后再试。")
    return None


def _deliver(contact: Contact, code: str, purpose: str, idempotency_key: str) -> str:
    minutes = settings.VERIFICATION_CODE_TTL_SECONDS // 60
    if contact.channel == CodeChannel.SMS:
        from zhengwu.notify.gateways import SmsMessage, sms_backend

        return sms_backend().send(
            SmsMessage(
                phone=contact.value,
                template="verify_code",
                params={"code": code, "minutes": minutes},
                idempotency_key=idempotency_key,
            )
        )
    subject = _("【统一电子政务平台】验证码")
    body = _("您正在%(purpose)s，验证码为 %(code)s，%(minutes)d 分钟内有效。如非本人操作请忽略本邮件。") % {
        "purpose": CodePurpose(purpose).label,
        "code": code,
        "minutes": minutes,
    }
    send_mail(subject, body, None, [contact.value])
    return ""


def verification_code_send(*, contact: Contact, purpose: str, ip: str = "") -> CodeSend:
    """发送验证码: record the request, enforce the limits, create a code and send it.

    Refused requests are recorded too and raise CodeRefused (429 for a limit). A password-reset request
    for an address with no account is answered like a real one but nothing goes out.
    """
    if purpose not in CodePurpose.values:
        raise ValueError(f"unknown purpose {purpose!r}")
    now = timezone.now()
    code = salt = message = ""
    with transaction.atomic():
        _lock([f"t:{contact.index}", f"ip:{ip}"])
        record = CodeSend(
            at=now,
            target_index=contact.index,
            target_masked=contact.masked,
            channel=contact.channel,
            purpose=purpose,
            ip=ip[:45],
        )
        refusal = _refusal(contact, ip, now)
        account = selectors.public_account_by_contact(contact)
        if refusal is not None:
            record.result, message = refusal
            record.save()
        elif purpose == CodePurpose.REGISTER and account is not None:
            record.result = SendResult.REGISTERED
            record.save()
        elif purpose == CodePurpose.RESET_PASSWORD and account is None:
            record.result = SendResult.NO_ACCOUNT
            record.save()
            return record
        else:
            code = f"{secrets.randbelow(10**CODE_DIGITS):0{CODE_DIGITS}d}"
            salt = secrets.token_hex(16)
            record.code = VerificationCode.objects.create(
                target_index=contact.index,
                target_masked=contact.masked,
                channel=contact.channel,
                purpose=purpose,
                salt=salt,
                code_hash=_code_digest(salt, contact.index, purpose, code),
                created_at=now,
                expires_at=now + dt.timedelta(seconds=settings.VERIFICATION_CODE_TTL_SECONDS),
            )
            record.result = SendResult.SENT
            record.save()
    if refusal is not None:
        raise CodeRefused(message, status=429)
    if record.result == SendResult.REGISTERED:
        raise CodeRefused(
            _("该%(label)s已注册，请直接登录；忘记密码可通过“找回密码”重设。") % {"label": contact.label},
            status=409,
        )
    try:
        provider_id = _deliver(contact, code, purpose, f"verify-code-{salt}")
    except Exception:
        log.exception("verification code delivery failed (send %s)", record.pk)
        CodeSend.objects.filter(pk=record.pk).update(result=SendResult.FAILED)
        if record.code_id is not None:
            VerificationCode.objects.filter(pk=record.code_id).update(used_at=timezone.now())
        raise CodeRefused(_("验证码发送失败，请稍后再试。"), status=503) from None
    if provider_id:
        CodeSend.objects.filter(pk=record.pk).update(provider_id=provider_id[:64])
    return record


def verification_code_consume(*, contact: Contact, purpose: str, code: str, then: Callable[[], T]) -> T:
    """Check a code and, if right, run `then` in the same transaction that marks the code used.

    A wrong code is counted (committed, even though the caller's action fails); after the fifth wrong
    try, or after 10 minutes, or once used, the code is dead and a new one must be requested. If `then`
    fails, the code stays unused.
    """
    problem = ""
    result: Any = None
    with transaction.atomic():
        latest = (
            VerificationCode.objects.select_for_update()
            .filter(target_index=contact.index, purpose=purpose)
            .order_by("-created_at", "-id")
            .first()
        )
        now = timezone.now()
        max_attempts = settings.VERIFICATION_CODE_MAX_ATTEMPTS
        if latest is None:
            problem = _("验证码不正确，请先获取验证码。")
        elif latest.used_at is not None:
            problem = _("验证码已失效，请重新获取。")
        elif latest.expires_at <= now:
            problem = _("验证码已过期，请重新获取。")
        elif latest.failed_attempts >= max_attempts:
            problem = _("验证码错误次数过多，请重新获取。")
        elif not hmac.compare_digest(
            latest.code_hash, _code_digest(latest.salt, contact.index, purpose, code)
        ):
            latest.failed_attempts += 1
            latest.save(update_fields=["failed_attempts"])
            left = max_attempts - latest.failed_attempts
            problem = (
                _("验证码不正确，还可再试 %(n)d 次。") % {"n": left}
                if left > 0
                else _("验证码错误次数过多，请重新获取。")
            )
        else:
            latest.used_at = now
            latest.save(update_fields=["used_at"])
            result = then()
    if problem:
        raise ValidationError({"code": problem})
    return result


# --- Public accounts ------------------------------------------------------------------------------


def _new_public_username() -> str:
    while True:
        username = f"u{secrets.randbelow(10**9):09d}"
        if not User.objects.filter(username=username).exists():
            return username


def _duplicate_message(contact: Contact) -> str:
    return _("该%(label)s已注册，请直接登录；忘记密码可通过“找回密码”重设。") % {"label": contact.label}


def public_account_register(*, kind: str, name: str, contact: Contact, code: str, password: str) -> User:
    """注册公众/企业账号 with a verified phone number or e-mail address."""
    if kind not in (AccountKind.CITIZEN, AccountKind.ENTERPRISE):
        raise ValidationError({"kind": _("请选择账号类型。")})
    user = User(username=_new_public_username(), name=name.strip(), kind=kind)
    if contact.channel == CodeChannel.SMS:
        user.mobile = contact.value
    else:
        user.email = contact.value
    try:
        validate_password(password, user)
    except ValidationError as exc:
        raise ValidationError({"password": exc.messages}) from None
    if selectors.public_account_by_contact(contact) is not None:
        raise ValidationError({"contact": _duplicate_message(contact)})

    def create() -> User:
        user.set_password(password)
        user.password_changed_at = timezone.now()
        user.save()
        audit_record(
            action="account.register",
            obj=user,
            actor=user,
            after=snapshot(user, ["username", "name", "kind", "mobile", "email"]),
        )
        return user

    try:
        return verification_code_consume(
            contact=contact, purpose=CodePurpose.REGISTER, code=code, then=create
        )
    except IntegrityError:
        # Someone registered the same address a moment ago (the partial unique constraint caught it).
        raise ValidationError({"contact": _duplicate_message(contact)}) from None


def _rotate_and_set_password(user: User, password: str) -> None:
    user.set_password(password)
    user.password_changed_at = timezone.now()
    # A new salt changes the session hash: every other session of the account ends here.
    user.session_salt = _new_salt()
    user.save(update_fields=["password", "password_changed_at", "session_salt"])


def public_password_reset(*, contact: Contact, code: str, password: str) -> User:
    """找回密码: a public account sets a new password with a code sent to its phone or mailbox."""
    user = selectors.public_account_by_contact(contact)
    if user is None:
        # No code was ever sent to an address without an account; answer as for a wrong code.
        raise ValidationError({"code": _("验证码不正确，请先获取验证码。")})
    try:
        validate_password(password, user)
    except ValidationError as exc:
        raise ValidationError({"password": exc.messages}) from None

    def reset() -> User:
        from axes.utils import reset as axes_reset

        locked = User.objects.select_for_update().get(pk=user.pk)
        _rotate_and_set_password(locked, password)
        # Proving control of the phone or mailbox also lifts a lockout of the account.
        axes_reset(username=locked.username)
        audit_record(action="auth.password_reset", obj=locked, actor=locked)
        return locked

    return verification_code_consume(
        contact=contact, purpose=CodePurpose.RESET_PASSWORD, code=code, then=reset
    )


# --- Any account ----------------------------------------------------------------------------------


@transaction.atomic
def password_change(*, user: User, new_password: str) -> User:
    """修改密码 (the form has checked the old password and the policy); other sessions end."""
    locked = User.objects.select_for_update().get(pk=user.pk)
    _rotate_and_set_password(locked, new_password)
    audit_record(action="auth.password_change", obj=locked, actor=locked, unit=locked.primary_unit)
    return locked


@transaction.atomic
def sign_out_everywhere(*, user: User) -> User:
    """退出所有设备: a new session salt invalidates every session; OIDC tokens are revoked too."""
    from oauth2_provider.models import get_access_token_model, get_refresh_token_model

    locked = User.objects.select_for_update().get(pk=user.pk)
    locked.session_salt = _new_salt()
    locked.save(update_fields=["session_salt"])
    get_refresh_token_model().objects.filter(user=locked, revoked__isnull=True).update(revoked=timezone.now())
    get_access_token_model().objects.filter(user=locked).delete()
    audit_record(action="auth.logout_everywhere", obj=locked, actor=locked, unit=locked.primary_unit)
    return locked


# --- Second factor --------------------------------------------------------------------------------


@transaction.atomic
def otp_device_confirm(*, user: User, device: Any) -> None:
    """Binding confirmed: the new authenticator replaces any earlier one."""
    from django_otp.plugins.otp_totp.models import TOTPDevice

    TOTPDevice.objects.filter(user=user).exclude(pk=device.pk).delete()
    device.confirmed = True
    device.save(update_fields=["confirmed"])
    audit_record(action="auth.otp_bind", obj=user, actor=user, unit=user.primary_unit)


@transaction.atomic
def otp_disable(*, user: User) -> None:
    """Turn the second factor off (staff who opted in); platform administrators may not."""
    from django_otp.plugins.otp_totp.models import TOTPDevice

    if access.is_platform_admin(user):
        raise PermissionError(_("平台管理员必须使用动态口令，不能停用。"))
    deleted, _n = TOTPDevice.objects.filter(user=user).delete()
    if deleted:
        audit_record(action="auth.otp_unbind", obj=user, actor=user, unit=user.primary_unit)


# --- Lockout --------------------------------------------------------------------------------------


@transaction.atomic
def account_unlock(*, actor: Any, username: str) -> int:
    """解除锁定: only the security admin lifts a lockout before it expires."""
    from axes.utils import reset as axes_reset

    if not access.is_security_admin(actor):
        raise PermissionError(_("只有安全保密管理员可以解除账号锁定。"))
    if username not in {row.username for row in selectors.locked_accounts()}:
        raise ValidationError(_("该账号当前未被锁定。"))
    count = axes_reset(username=username)
    target = User.objects.filter(username=username).first()
    audit_record(
        action="auth.unlock",
        obj=target,
        object_type="core.user",
        object_label=username,
        actor=actor,
        after={"username": username, "attempt_records": count},
    )
    return count


# --- OIDC clients ---------------------------------------------------------------------------------

CLIENT_FIELDS = [
    "name",
    "client_id",
    "client_type",
    "authorization_grant_type",
    "redirect_uris",
    "post_logout_redirect_uris",
    "skip_authorization",
    "algorithm",
]


@dataclass
class ClientWithSecret:
    application: Any
    secret: str


def _require_system_admin(actor: Any) -> None:
    if not access.is_system_admin(actor):
        raise PermissionError(_("只有平台系统管理员可以管理接入系统。"))


@transaction.atomic
def oidc_client_create(
    *,
    actor: Any,
    name: str,
    client_type: str,
    redirect_uris: str,
    post_logout_redirect_uris: str = "",
    skip_authorization: bool = False,
) -> ClientWithSecret:
    """登记接入系统: an OIDC client using the authorization-code flow, ID tokens signed RS256.

    The secret is stored hashed and returned once, to be shown to the administrator a single time.
    """
    from oauth2_provider.generators import generate_client_secret
    from oauth2_provider.models import get_application_model

    _require_system_admin(actor)
    application_model = get_application_model()
    secret = generate_client_secret()
    app = application_model(
        user=actor,
        name=name,
        client_type=client_type,
        authorization_grant_type=application_model.GRANT_AUTHORIZATION_CODE,
        redirect_uris=redirect_uris,
        post_logout_redirect_uris=post_logout_redirect_uris,
        skip_authorization=skip_authorization,
        algorithm=application_model.RS256_ALGORITHM,
        client_secret=secret,
        hash_client_secret=True,
    )
    app.full_clean()
    app.save()
    audit_record(action="oidc_client.create", obj=app, actor=actor, after=snapshot(app, CLIENT_FIELDS))
    return ClientWithSecret(app, secret)


@transaction.atomic
def oidc_client_update(*, actor: Any, application: Any, **changes: Any) -> Any:
    from oauth2_provider.models import get_application_model

    _require_system_admin(actor)
    allowed = {"name", "client_type", "redirect_uris", "post_logout_redirect_uris", "skip_authorization"}
    unknown = set(changes) - allowed
    if unknown:
        raise ValidationError(_("不能修改这些字段：%(f)s") % {"f": ", ".join(sorted(unknown))})
    app = get_application_model().objects.select_for_update().get(pk=application.pk)
    before = snapshot(app, CLIENT_FIELDS)
    for key, value in changes.items():
        setattr(app, key, value)
    app.full_clean()
    app.save(update_fields=[*changes.keys(), "updated"])
    audit_record(
        action="oidc_client.update", obj=app, actor=actor, before=before, after=snapshot(app, CLIENT_FIELDS)
    )
    return app


@transaction.atomic
def oidc_client_reset_secret(*, actor: Any, application: Any) -> ClientWithSecret:
    from oauth2_provider.generators import generate_client_secret
    from oauth2_provider.models import get_application_model

    _require_system_admin(actor)
    app = get_application_model().objects.select_for_update().get(pk=application.pk)
    secret = generate_client_secret()
    app.client_secret = secret
    app.hash_client_secret = True
    app.save(update_fields=["client_secret", "hash_client_secret", "updated"])
    audit_record(action="oidc_client.reset_secret", obj=app, actor=actor)
    return ClientWithSecret(app, secret)


@transaction.atomic
def oidc_client_delete(*, actor: Any, application: Any) -> None:
    """Remove a client; its grants and tokens go with it, so its users are signed out of it."""
    from oauth2_provider.models import get_application_model

    _require_system_admin(actor)
    app = get_application_model().objects.select_for_update().get(pk=application.pk)
    before = snapshot(app, CLIENT_FIELDS)
    label = str(app)[:200]
    pk = app.pk
    app.delete()
    audit_record(
        action="oidc_client.delete",
        object_type="oauth2_provider.application",
        object_id=pk,
        object_label=label,
        actor=actor,
        before=before,
    )


@transaction.atomic
def oidc_consent_record(*, user: User, application: Any, scopes: str) -> None:
    """A staff member granted a system access to their identity (授权登录)."""
    audit_record(
        action="oidc.authorize",
        obj=application,
        actor=user,
        unit=user.primary_unit,
        after={"scopes": scopes.split()},
    )
