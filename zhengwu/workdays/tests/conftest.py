from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest


@pytest.fixture(autouse=True)
def fresh_calendar() -> Iterator[None]:
    """Each test starts from the database it sees: overrides written by a rolled-back test are gone."""
    from zhengwu.workdays.calendar import calendar_cache_clear

    calendar_cache_clear()
    yield
    calendar_cache_clear()


@pytest.fixture
def sysadmin(db: Any) -> Any:
    from zhengwu.core.models import AccountKind, PlatformRole, User

    return User.objects.create(
        username="cal_admin",
        name="日历管理员",
        kind=AccountKind.STAFF,
        platform_role=PlatformRole.SYSTEM_ADMIN,
    )
