"""Gateways for tests that run real worker processes (never configured in production)."""

from __future__ import annotations

import os
import time

from zhengwu.notify.gateways import FileSmsBackend, SmsMessage


class SlowFileSmsBackend(FileSmsBackend):
    """The file backend with a provider's latency on both sides of accepting the message.

    ZHENGWU_TEST_SMS_DELAY="before,after" in seconds (default "0.02,0.08"). Most of the time is spent
    after the message is in the file and before the worker hears back: a worker killed then leaves a
    delivery the provider has accepted but the database still shows as `sending` — the case that must
    not turn into a second message.
    """

    def send(self, message: SmsMessage) -> str:
        before, _sep, after = os.environ.get("ZHENGWU_TEST_SMS_DELAY", "0.02,0.08").partition(",")
        time.sleep(float(before or 0))
        provider_id = super().send(message)
        time.sleep(float(after or 0))
        return provider_id
