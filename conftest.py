"""Fixtures for every test: the cast of characters, signed-in clients, a browser."""

from __future__ import annotations

import os
from collections.abc import Iterator
from typing import Any

import pytest

os.environ.setdefault("DJANGO_ALLOW_ASYNC_UNSAFE", "true")  # Playwright's sync API beside live_server


@pytest.fixture(autouse=True)
def _default_language_after_each_test() -> Iterator[None]:
    """A request in English leaves English active on the thread (LocaleMiddleware does not switch back);
    the next test starts in the default language again, whatever order the tests run in."""
    yield
    from django.utils import translation

    translation.deactivate()


@pytest.fixture(autouse=True)
def _workdays_calendar_follows_rollback() -> Iterator[None]:
    """Calendar overrides written in a test roll back with it; the in-memory calendar must forget them."""
    yield
    from zhengwu.workdays.calendar import calendar_cache_clear_if_overridden

    calendar_cache_clear_if_overridden()


@pytest.fixture
def cast(db: Any) -> Any:
    from zhengwu.testing.cast import build_cast

    return build_cast()


@pytest.fixture
def client_for(client: Any) -> Any:
    """Sign a test client in as someone (bypassing the second factor only where a test says so)."""
    from django.test import Client

    def make(user: Any, *, otp: bool = True) -> Client:
        c = Client()
        c.force_login(user)
        if otp and getattr(user, "platform_role", ""):
            from django_otp.plugins.otp_totp.models import TOTPDevice

            device, _ = TOTPDevice.objects.get_or_create(user=user, name="test", defaults={"confirmed": True})
            session = c.session
            session["otp_device_id"] = device.persistent_id
            session.save()
        return c

    return make


@pytest.fixture(scope="session")
def browser() -> Iterator[Any]:
    from zhengwu.testing.browser import launch

    with launch() as b:
        yield b


@pytest.fixture
def page(browser: Any) -> Iterator[Any]:
    context = browser.new_context(locale="zh-CN", viewport={"width": 1280, "height": 900})
    pg = context.new_page()
    pg.set_default_timeout(15000)
    yield pg
    context.close()
