"""The demo step: the city government's notices in the county governments' inboxes, and its reset."""

from __future__ import annotations

from typing import Any

import pytest
from django.utils import timezone

from zhengwu.core.demo import DemoContext, demo_steps
from zhengwu.core.models import AuditEvent
from zhengwu.documents import demo, selectors
from zhengwu.documents.models import Document, DocumentReceipt

pytestmark = pytest.mark.django_db


def test_it_adds_demo_documents_to_the_county_inboxes_and_resets_them(cast: Any) -> None:
    assert "documents" in [s.name for s in demo_steps()]
    ctx = DemoContext(scale="small", password_hash="", now=timezone.now(), log=lambda _m: None)
    counts = demo.build(ctx)
    assert counts == {"documents": 4, "receipts": 8}
    assert AuditEvent.objects.count() == 0  # the demo's one trail record is written by demo_build
    numbers = sorted(Document.objects.values_list("number_seq", flat=True))
    assert numbers == [1, 2, 3, 4]
    latest = selectors.inbox(cast.county_a_gov, state="pending")
    assert "关于做好元旦春节期间有关工作的通知" in [r["title"] for r in latest]
    assert demo.reset(ctx) == {"documents": 4, "receipts": 8}
    assert Document.objects.count() == 0 and DocumentReceipt.objects.count() == 0
