"""Statistics per unit and period: received, signed within one working day, average time to sign, refused."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest
from django.utils import timezone

from zhengwu.documents import selectors, services
from zhengwu.documents.models import DocumentReceipt
from zhengwu.documents.tests.conftest import Office, send_notice

pytestmark = pytest.mark.django_db
TZ = timezone.get_fixed_timezone(8 * 60)


def test_it_counts_received_signed_in_time_late_and_refused(office: Office, client_for: Any) -> None:
    a, b = office.cast.county_a_gov, office.cast.county_b_gov
    docs = [send_notice(office, title=f"通知{i}") for i in range(3)]
    # Monday 2026-03-02 09:00 sent; the first signed the same day, the second the Thursday after.
    monday = dt.datetime(2026, 3, 2, 9, 0, tzinfo=TZ)
    DocumentReceipt.objects.filter(unit=a).update(sent_at=monday, first_sent_at=monday)
    r0, r1, r2 = (DocumentReceipt.objects.get(document=d, unit=a) for d in docs)
    services.receipt_receive(actor=office.clerk_a, receipt=r0)
    services.receipt_receive(actor=office.clerk_a, receipt=r1)
    services.receipt_refuse(actor=office.clerk_a, receipt=r2, reason="非本单位职责")
    DocumentReceipt.objects.filter(pk=r0.pk).update(received_at=monday + dt.timedelta(hours=2))
    DocumentReceipt.objects.filter(pk=r1.pk).update(received_at=monday + dt.timedelta(days=3))
    start, end = dt.datetime(2026, 3, 1, tzinfo=TZ), dt.datetime(2026, 4, 1, tzinfo=TZ)
    s = selectors.unit_document_stats(a, start, end)
    assert (s.received, s.signed, s.signed_within_one_workday, s.refused) == (3, 2, 1, 1)
    assert s.average_sign_hours == 37.0
    assert selectors.unit_document_stats(b, start, end).received == 0  # county B's copies are this month
    page = (
        client_for(office.clerk_a).get("/documents/stats/?start=2026-03-01&end=2026-03-31").content.decode()
    )
    assert "崆峒区人民政府" in page and "37.0" in page
    bad = client_for(office.clerk_a).get("/documents/stats/?start=2026-03-31&end=2026-03-01")
    assert bad.status_code == 400 and "结束日期不能早于开始日期" in bad.content.decode()
