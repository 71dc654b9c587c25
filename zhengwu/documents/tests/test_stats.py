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


def _march_and_april(office: Office) -> None:
    """County A: three copies in March (one signed in time, one late, one refused) and one in April
    signed in time; county B: the same three March copies, only the first signed (in time)."""
    a, b = office.cast.county_a_gov, office.cast.county_b_gov
    docs = [send_notice(office, title=f"通知{i}") for i in range(4)]
    monday = dt.datetime(2026, 3, 2, 9, 0, tzinfo=TZ)
    april = dt.datetime(2026, 4, 7, 9, 0, tzinfo=TZ)
    DocumentReceipt.objects.filter(document__in=docs[:3]).update(sent_at=monday, first_sent_at=monday)
    DocumentReceipt.objects.filter(document=docs[3]).update(sent_at=april, first_sent_at=april)
    ra = [DocumentReceipt.objects.get(document=d, unit=a) for d in docs]
    services.receipt_receive(actor=office.clerk_a, receipt=ra[0])
    services.receipt_receive(actor=office.clerk_a, receipt=ra[1])
    services.receipt_refuse(actor=office.clerk_a, receipt=ra[2], reason="非本单位职责")
    services.receipt_receive(actor=office.clerk_a, receipt=ra[3])
    DocumentReceipt.objects.filter(pk=ra[0].pk).update(received_at=monday + dt.timedelta(hours=2))
    DocumentReceipt.objects.filter(pk=ra[1].pk).update(received_at=monday + dt.timedelta(days=3))
    DocumentReceipt.objects.filter(pk=ra[3].pk).update(received_at=april + dt.timedelta(hours=4))
    rb = DocumentReceipt.objects.get(document=docs[0], unit=b)
    services.receipt_receive(actor=office.clerk_b, receipt=rb)
    DocumentReceipt.objects.filter(pk=rb.pk).update(received_at=monday + dt.timedelta(hours=6))


def _rows(page: str) -> dict[str, list[str]]:
    """Unit name → its cells, from the statistics table."""
    import re

    out = {}
    for row in re.findall(r'<tr data-testid="stats-(?:row|total)">(.*?)</tr>', page, re.S):
        cells = [re.sub(r"<[^>]+>", "", c).strip() for c in re.findall(r"<t[dh]>(.*?)</t[dh]>", row, re.S)]
        out[cells[0]] = cells[1:]
    return out


def test_it_counts_a_month_a_quarter_or_a_year_by_its_key(office: Office, client_for: Any) -> None:
    _march_and_april(office)
    client = client_for(office.clerk_a)
    march = _rows(client.get("/documents/stats/?period=2026-03").content.decode())
    # received, signed, within one working day, average hours, refused, sign rate, prompt rate
    assert march["崆峒区人民政府"] == ["3", "2", "1", "37.0", "1", "66.7%", "50.0%"]
    same = _rows(client.get("/documents/stats/?start=2026-03-01&end=2026-03-31").content.decode())
    assert same == march
    april = _rows(client.get("/documents/stats/?period=2026-04").content.decode())
    assert april["崆峒区人民政府"] == ["1", "1", "1", "4.0", "0", "100.0%", "100.0%"]
    quarter = _rows(client.get("/documents/stats/?period=2026-Q1").content.decode())
    assert quarter == march
    year = _rows(client.get("/documents/stats/?period=2026").content.decode())
    assert year["崆峒区人民政府"][:5] == ["4", "3", "2", "26.0", "1"]


def test_it_shows_a_clerk_only_their_own_unit(office: Office, client_for: Any) -> None:
    _march_and_april(office)
    page = client_for(office.clerk_a).get("/documents/stats/?period=2026-03").content.decode()
    assert list(_rows(page)) == ["崆峒区人民政府"]
    assert "泾川县人民政府" not in page
    book = client_for(office.clerk_a).get("/documents/stats/?period=2026-03&format=xlsx")
    names = [r[0] for r in _sheet(book.content)[2:]]
    assert names == ["崆峒区人民政府", "合计"]


def test_it_gives_the_city_leader_every_unit_below_with_a_total(office: Office, client_for: Any) -> None:
    _march_and_april(office)
    page = client_for(office.cast.city_leader).get("/documents/stats/?period=2026-03").content.decode()
    rows = _rows(page)
    for name in ("平凉市人民政府", "崆峒区人民政府", "泾川县人民政府", "崆峒镇人民政府", "平凉市监察局"):
        assert name in rows
    assert rows["泾川县人民政府"] == ["3", "1", "1", "6.0", "0", "33.3%", "100.0%"]
    # Total: 6 copies, 3 signed (2 h, 72 h, 6 h → 26.7 h), 2 within a working day, 1 refused.
    assert rows["合计"] == ["6", "3", "2", "26.7", "1", "50.0%", "66.7%"]
    # Lowest sign rate first, for an assessment that names the units that lag.
    ranked = list(
        _rows(
            client_for(office.cast.city_leader)
            .get("/documents/stats/?period=2026-03&order=sign_rate")
            .content.decode()
        )
    )
    assert ranked[:2] == ["泾川县人民政府", "崆峒区人民政府"]  # 33.3% before 66.7%; no copies: last


def test_it_gives_a_supervisor_their_subtree_only(office: Office, client_for: Any) -> None:
    _march_and_april(office)
    page = client_for(office.cast.supervisor).get("/documents/stats/?period=2026-03").content.decode()
    assert list(_rows(page)) == ["平凉市监察局"]


def _sheet(data: bytes) -> list[tuple[Any, ...]]:
    import io

    from openpyxl import load_workbook

    book = load_workbook(io.BytesIO(data), read_only=True)
    return [tuple(r) for r in book.worksheets[0].iter_rows(values_only=True)]


def test_it_exports_the_table_to_excel(office: Office, client_for: Any) -> None:
    _march_and_april(office)
    response = client_for(office.cast.city_leader).get("/documents/stats/?period=2026-03&format=xlsx")
    assert response.status_code == 200
    assert "document-stats-20260301-20260331.xlsx" in response["Content-Disposition"]
    rows = _sheet(response.content)
    assert "2026-03-01" in rows[0][0] and rows[1][0] == "单位"
    by_name = {r[0]: r[1:] for r in rows[2:]}
    assert by_name["崆峒区人民政府"] == (3, 2, 1, 37.0, 1, 66.7, 50.0)
    assert by_name["合计"][:5] == (6, 3, 2, 26.7, 1)


@pytest.mark.parametrize(
    ("query", "message"),
    [
        ("period=2026-13", "月份应为 01 至 12"),
        ("period=last-year", "统计期间应为"),
        ("start=2026-02-30", "开始日期格式应为"),
        ("end=tomorrow", "结束日期格式应为"),
        ("start=2015-01-01&end=2026-01-01", "不能超过五年"),
        ("period=2026-03&order=drop", "未知的排序方式"),
    ],
)
def test_it_refuses_a_bad_period_with_a_message(
    office: Office, client_for: Any, query: str, message: str
) -> None:
    response = client_for(office.clerk_a).get(f"/documents/stats/?{query}")
    assert response.status_code == 400
    assert message in response.content.decode()
