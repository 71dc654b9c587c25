"""Pluggable gateways: SMS (短信网关) and e-mail. Console and file backends by default; HTTP and SMTP for real use.

A backend sends one SMS built from a template id and parameters (the shape of the common Chinese SMS
APIs), and returns the provider's message id. Every backend honours the message's idempotency key: a
second send with the same key is recognised as the same message and not delivered again (the file
backend checks its own file, the HTTP adapter hands the key to the provider as its out-id). Delivery
records, rate limits, quiet hours and retries are in `zhengwu.notify.services`, above the backends.
"""

from __future__ import annotations

import base64
import contextlib
import fcntl
import hashlib
import hmac
import json
import smtplib
import urllib.error
import urllib.parse
import urllib.request
import uuid
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, BinaryIO

from django.conf import settings
from django.core.mail import EmailMessage, get_connection
from django.utils import timezone
from django.utils.module_loading import import_string

from zhengwu.lib.masking import mask_phone

# The text each template renders to (the provider holds the same templates under its own codes).
SMS_TEMPLATES: dict[str, str] = {
    "verify_code": "您的验证码为{code}，{minutes}分钟内有效。如非本人操作请忽略。",
    "generic": "{text}",
}


class GatewayError(Exception):
    """The gateway refused or failed; `retryable` says whether trying again may help."""

    def __init__(self, message: str, *, retryable: bool = True) -> None:
        super().__init__(message)
        self.retryable = retryable


class SmsError(GatewayError):
    pass


class EmailError(GatewayError):
    pass


@dataclass
class SmsMessage:
    phone: str
    template: str
    params: dict[str, Any] = field(default_factory=dict)
    idempotency_key: str = ""

    def render(self) -> str:
        text = SMS_TEMPLATES.get(self.template, "{text}")
        try:
            body = text.format(**self.params)
        except (KeyError, IndexError) as exc:
            raise SmsError(f"模板 {self.template} 缺少参数 {exc}", retryable=False) from exc
        return f"【{settings.SMS_SIGN_NAME}】" + body


class BaseSmsBackend:
    def send(self, message: SmsMessage) -> str:
        raise NotImplementedError


class ConsoleSmsBackend(BaseSmsBackend):
    """Prints the message (embedded default). Nothing is delivered, so there is nothing to de-duplicate."""

    def send(self, message: SmsMessage) -> str:
        # The number is masked: this output ends up in service logs (脱敏).
        print(f"[SMS → {mask_phone(message.phone)}] {message.render()}", flush=True)
        return f"console-{(message.idempotency_key or uuid.uuid4().hex)[:16]}"


@contextlib.contextmanager
def _locked(path: Path) -> Iterator[BinaryIO]:
    """An exclusive lock across processes (flock on a side file), held while the block runs."""
    with path.open("ab") as fh:
        fcntl.flock(fh.fileno(), fcntl.LOCK_EX)
        try:
            yield fh
        finally:
            fcntl.flock(fh.fileno(), fcntl.LOCK_UN)


class FileSmsBackend(BaseSmsBackend):
    """Appends each message as one JSON line to SMS_FILE_DIR/sms.jsonl (tests and demos read it).

    Behaves like a provider that honours out-ids: under a file lock shared by every process, a key
    already in the file returns the id it was first given instead of appending a second line.
    """

    file_name = "sms.jsonl"

    def path(self) -> Path:
        directory = Path(settings.SMS_FILE_DIR)
        directory.mkdir(parents=True, exist_ok=True)
        return directory / self.file_name

    def _existing_id(self, path: Path, key: str) -> str:
        if not key or not path.exists():
            return ""
        needle = json.dumps(key)
        with path.open(encoding="utf-8") as fh:
            for line in fh:
                if needle in line:
                    record = json.loads(line)
                    if record.get("key") == key:
                        return str(record["id"])
        return ""

    def send(self, message: SmsMessage) -> str:
        path = self.path()
        text = message.render()
        with _locked(path.with_name(path.name + ".lock")):
            existing = self._existing_id(path, message.idempotency_key)
            if existing:
                return existing
            provider_id = f"file-{uuid.uuid4().hex[:12]}"
            line = json.dumps(
                {
                    "id": provider_id,
                    "at": timezone.now().isoformat(),
                    "phone": message.phone,
                    "template": message.template,
                    "params": message.params,
                    "text": text,
                    "key": message.idempotency_key,
                },
                ensure_ascii=False,
            )
            with path.open("a", encoding="utf-8") as fh:
                fh.write(line + "\n")
                fh.flush()
            return provider_id


# Error codes of the common Chinese SMS APIs that a later attempt may get past (throttling, the
# provider's own faults). Everything else with a code (bad number, bad template, bad signature, no
# balance) is permanent: sending the same request again would fail the same way.
RETRYABLE_SMS_CODES = frozenset(
    {
        "isv.BUSINESS_LIMIT_CONTROL",
        "isv.DAY_LIMIT_CONTROL",
        "Throttling",
        "Throttling.User",
        "ServiceUnavailable",
        "InternalError",
        "SignatureNonceUsed",
        "RequestTimeout",
    }
)


def _percent(value: str) -> str:
    return urllib.parse.quote(value, safe="-_.~")


def sms_http_signature(params: dict[str, str], secret: str, *, method: str = "POST") -> str:
    """HMAC-SHA256 over the sorted, percent-encoded parameters (the RPC signing scheme of these APIs)."""
    canonical = "&".join(f"{_percent(k)}={_percent(params[k])}" for k in sorted(params))
    to_sign = f"{method}&{_percent('/')}&{_percent(canonical)}"
    digest = hmac.new(f"{secret}&".encode(), to_sign.encode(), hashlib.sha256).digest()
    return base64.b64encode(digest).decode()


class HttpSmsBackend(BaseSmsBackend):
    """An SMS provider over HTTPS, shaped like the common Chinese SMS APIs.

    POSTs a signed form (PhoneNumbers, SignName, TemplateCode, TemplateParam as JSON, OutId) and reads a
    JSON answer whose Code is "OK" or an error code. The idempotency key travels as OutId and as the
    Idempotency-Key header, so a provider that de-duplicates answers a re-send with the first BizId.
    """

    def send(self, message: SmsMessage) -> str:
        url = settings.SMS_HTTP_URL
        if not url:
            raise SmsError("未配置短信网关地址 ZHENGWU_SMS_HTTP_URL", retryable=False)
        message.render()  # a template missing parameters fails here, before the provider sees it
        codes: dict[str, str] = getattr(settings, "SMS_HTTP_TEMPLATE_CODES", {}) or {}
        params = {
            "Action": "SendSms",
            "Format": "JSON",
            "AccessKeyId": settings.SMS_HTTP_KEY_ID,
            "PhoneNumbers": message.phone,
            "SignName": settings.SMS_SIGN_NAME,
            "TemplateCode": codes.get(message.template, message.template),
            "TemplateParam": json.dumps(message.params, ensure_ascii=False, separators=(",", ":")),
            "OutId": message.idempotency_key,
            "SignatureMethod": "HMAC-SHA256",
            "SignatureVersion": "1.0",
            "SignatureNonce": uuid.uuid4().hex,
            "Timestamp": timezone.now().strftime("%Y-%m-%dT%H:%M:%SZ"),
        }
        params["Signature"] = sms_http_signature(params, settings.SMS_HTTP_KEY)
        request = urllib.request.Request(
            url,
            data=urllib.parse.urlencode(params).encode(),
            method="POST",
            headers={
                "Content-Type": "application/x-www-form-urlencoded; charset=utf-8",
                "Accept": "application/json",
                "Idempotency-Key": message.idempotency_key,
            },
        )
        try:
            with urllib.request.urlopen(request, timeout=settings.SMS_HTTP_TIMEOUT) as response:
                status, raw = response.status, response.read()
        except urllib.error.HTTPError as exc:
            status, raw = exc.code, exc.read()
        except (urllib.error.URLError, TimeoutError, OSError) as exc:
            raise SmsError(f"短信网关无法连接：{exc}", retryable=True) from exc
        return self._interpret(status, raw)

    @staticmethod
    def _interpret(status: int, raw: bytes) -> str:
        try:
            answer = json.loads(raw.decode("utf-8") or "{}")
        except (UnicodeDecodeError, json.JSONDecodeError):
            answer = {}
        code = str(answer.get("Code", "")) if isinstance(answer, dict) else ""
        text = str(answer.get("Message", "")) if isinstance(answer, dict) else ""
        if status == 200 and code == "OK":
            return str(answer.get("BizId") or answer.get("RequestId") or "")
        if code:
            retryable = code in RETRYABLE_SMS_CODES or code.startswith("isp.")
            raise SmsError(f"短信网关返回 {code}：{text}", retryable=retryable)
        # No code: judge by the HTTP status. 5xx, 429 and 408 are the provider's trouble; other 4xx ours.
        retryable = status >= 500 or status in {408, 429}
        raise SmsError(f"短信网关 HTTP {status}", retryable=retryable)


def sms_backend() -> BaseSmsBackend:
    return import_string(settings.SMS_BACKEND)()


def read_sms_file() -> list[dict[str, Any]]:
    path = Path(settings.SMS_FILE_DIR) / FileSmsBackend.file_name
    if not path.exists():
        return []
    return [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines() if line.strip()]


# --- E-mail -------------------------------------------------------------------------------------------
def message_id_for(key: str) -> str:
    """A Message-ID fixed by the idempotency key: a re-send is the same message to every mail system."""
    domain = settings.DEFAULT_FROM_EMAIL.rpartition("@")[2] or "zhengwu.local"
    return f"<zw-{hashlib.sha256(key.encode()).hexdigest()[:32]}@{domain}>"


@dataclass
class EmailSpec:
    to: str
    subject: str
    body: str
    idempotency_key: str


def send_email(spec: EmailSpec) -> str:
    """Send one e-mail through Django's configured backend (console by default, SMTP in production).

    Returns the Message-ID. SMTP replies are mapped to retryable (4xx, connection trouble) or permanent
    (5xx: unknown mailbox, refused sender).
    """
    message_id = message_id_for(spec.idempotency_key)
    email = EmailMessage(
        subject=spec.subject,
        body=spec.body,
        from_email=settings.DEFAULT_FROM_EMAIL,
        to=[spec.to],
        headers={"Message-ID": message_id, "X-Zhengwu-Key": spec.idempotency_key},
    )
    try:
        connection = get_connection(fail_silently=False, timeout=settings.EMAIL_TIMEOUT)
    except TypeError:  # backends without a timeout option
        connection = get_connection(fail_silently=False)
    try:
        sent = connection.send_messages([email])
    except smtplib.SMTPRecipientsRefused as exc:
        codes = [code for code, _msg in exc.recipients.values()]
        raise EmailError(f"收件人被拒绝：{codes}", retryable=all(c < 500 for c in codes)) from exc
    except smtplib.SMTPResponseException as exc:
        raise EmailError(f"邮件服务器返回 {exc.smtp_code}", retryable=exc.smtp_code < 500) from exc
    except (smtplib.SMTPException, OSError) as exc:
        raise EmailError(f"邮件服务器无法连接：{exc}", retryable=True) from exc
    if not sent:
        raise EmailError("邮件未被接受", retryable=False)
    return message_id
