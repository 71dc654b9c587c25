"""The demo step: categories, three applications to 崆峒镇 in different states, and its reset."""

from __future__ import annotations

from typing import Any

import pytest
from django.utils import timezone

from zhengwu.core.demo import DemoContext, demo_steps
from zhengwu.disclosure import demo
from zhengwu.disclosure.models import Category, DisclosureRequest, RequestStatus

pytestmark = pytest.mark.django_db


def test_it_adds_applications_in_different_states_and_resets_them(cast: Any, client_for: Any) -> None:
    assert "disclosure" in [s.name for s in demo_steps()]
    ctx = DemoContext(scale="small", password_hash="", now=timezone.now(), log=lambda _m: None)
    counts = demo.build(ctx)
    assert counts["requests"] == 3
    assert Category.objects.filter(name__in=["机构职能", "政策文件", "财政信息", "人事信息"]).count() == 4
    states = set(DisclosureRequest.objects.values_list("status", flat=True))
    assert states == {RequestStatus.REGISTER, RequestStatus.SUPPLEMENT, RequestStatus.ANSWERED}
    page = client_for(cast.township_clerk).get("/disclosure/manage/").content.decode()
    assert page.count("YSQ") == 3
    assert demo.reset(ctx)["requests"] == 3
    assert DisclosureRequest.objects.count() == 0
