"""Pluggable SMS gateways (短信网关). Console and file backends by default; an HTTP adapter for real use.

A backend sends one SMS built from a template id and parameters (the shape of the common Chinese SMS
APIs), and returns the provider's message id. Delivery records, idempotency, rate limits and quiet
hours are in `zhengwu.notify.services`, above the backend, so every backend gets them.
"""

from __future__ import annotations

import json
import threading
import uuid
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from django.conf import settings
from django.utils import timezone
from django.utils.module_loading import import_string

# The text each template renders to (the provider holds the same templates under these ids).
SMS_TEMPLATES: dict[str, str] = {
    "verify_code": "您的验证码为{code}，{minutes}分钟内有效。如非本人操作请忽略。",
    "generic": "{text}",
}


class SmsError(Exception):
    """The gateway refused or failed; `retryable` says whether trying again may help."""

    def __init__(self, message: str, *, retryable: bool = True) -> None:
        super().__init__(message)
        self.retryable = retryable


@dataclass
class SmsMessage:
    phone: str
    template: str
    params: dict[str, Any] = field(default_factory=dict)
    idempotency_key: str = ""

    def render(self) -> str:
        text = SMS_TEMPLATES.get(self.template, "{text}")
        return f"【{settings.SMS_SIGN_NAME}】" + text.format(**self.params)


class BaseSmsBackend:
    def send(self, message: SmsMessage) -> str:
        raise NotImplementedError


class ConsoleSmsBackend(BaseSmsBackend):
    """Prints the message (embedded default)."""

    def send(self, message: SmsMessage) -> str:
        print(f"[SMS → {message.phone}] {message.render()}", flush=True)
        return f"console-{uuid.uuid4().hex[:12]}"


class FileSmsBackend(BaseSmsBackend):
    """Appends each message as one JSON line to SMS_FILE_DIR/sms.jsonl (tests and demos read it)."""

    _lock = threading.Lock()

    def send(self, message: SmsMessage) -> str:
        directory = Path(settings.SMS_FILE_DIR)
        directory.mkdir(parents=True, exist_ok=True)
        provider_id = f"file-{uuid.uuid4().hex[:12]}"
        line = json.dumps(
            {
                "id": provider_id,
                "at": timezone.now().isoformat(),
                "phone": message.phone,
                "template": message.template,
                "params": message.params,
                "text": message.render(),
                "key": message.idempotency_key,
            },
            ensure_ascii=False,
        )
        with self._lock, (directory / "sms.jsonl").open("a", encoding="utf-8") as fh:
            fh.write(line + "\n")
        return provider_id


def sms_backend() -> BaseSmsBackend:
    return import_string(settings.SMS_BACKEND)()


def read_sms_file() -> list[dict[str, Any]]:
    path = Path(settings.SMS_FILE_DIR) / "sms.jsonl"
    if not path.exists():
        return []
    return [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines() if line.strip()]
