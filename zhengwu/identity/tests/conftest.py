"""Fixtures for the sign-in tests: SMS into a file of this test's own, codes read back from it."""

from __future__ import annotations

import re
from typing import Any

import pytest


class Inbox:
    """The codes that reached a phone (file SMS backend) or a mailbox (Django's locmem outbox)."""

    def __init__(self, mailoutbox: list[Any]) -> None:
        self.mailoutbox = mailoutbox

    def sms(self, phone: str) -> list[dict[str, Any]]:
        from zhengwu.notify.gateways import read_sms_file

        return [m for m in read_sms_file() if m["phone"] == phone]

    def code(self, target: str) -> str:
        if "@" in target:
            mails = [m for m in self.mailoutbox if target in m.to]
            assert mails, f"no e-mail to {target}"
            match = re.search(r"验证码为 (\d{6})", mails[-1].body)
            assert match, mails[-1].body
            return match.group(1)
        messages = self.sms(target)
        assert messages, f"no SMS to {target}"
        return str(messages[-1]["params"]["code"])


@pytest.fixture
def inbox(settings: Any, tmp_path: Any, mailoutbox: list[Any]) -> Inbox:
    settings.SMS_BACKEND = "zhengwu.notify.gateways.FileSmsBackend"
    settings.SMS_FILE_DIR = tmp_path / "sms"
    return Inbox(mailoutbox)
