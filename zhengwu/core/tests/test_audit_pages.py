"""The trail's pages: the audit admin reads everything, supervisors their subtree; filters, an event's
before/after side by side, and an Excel export that is itself recorded."""

from __future__ import annotations

import datetime as dt
import io
from typing import Any

import pytest
from django.db import connection
from django.urls import reverse
from django.utils import timezone
from openpyxl import load_workbook

from zhengwu.core.audit import audit_record
from zhengwu.core.models import AuditEvent, UnitRole

pytestmark = pytest.mark.django_db


@pytest.fixture
def trail(cast: Any) -> dict[str, AuditEvent]:
    """A few records in different units, by different people."""
    return {
        "a1": audit_record(
            action="document.send",
            object_type="oa.document",
            object_id=41,
            object_label="关于春耕生产的通知",
            actor=cast.township_clerk,
            unit=cast.township_a1_gov,
            before={"state": "draft", "mobile": "13900000001"},
            after={"state": "sent", "mobile": "13900000001", "id_number": "620802199001011234"},
        ),
        "b1": audit_record(
            action="document.send",
            object_type="oa.document",
            object_id=42,
            object_label="泾川县文件",
            actor=cast.county_b_clerk,
            unit=cast.county_b_gov,
            after={"state": "sent"},
        ),
        "grant": audit_record(
            action="permission.grant",
            object_type="core.user",
            object_id=cast.township_clerk.pk,
            object_label="李文书",
            actor=cast.township_admin,
            unit=cast.township_a1_gov,
            before={"roles": ["clerk"]},
            after={"roles": ["clerk", "reviewer"]},
        ),
        "formula": audit_record(
            action="message.reply",
            object_type="portal.message",
            object_id=7,
            object_label='=HYPERLINK("http://evil.example","点我")',
            actor=cast.township_clerk,
            unit=cast.township_a1_gov,
        ),
    }


@pytest.fixture
def county_supervisor(cast: Any) -> Any:
    """A supervisor placed at county A's government: watches it and every unit below it."""
    UnitRole.objects.create(user=cast.outsider, unit=cast.county_a_gov, role="supervisor")
    return cast.outsider


def _ids(resp: Any) -> set[int]:
    return {e.pk for e in resp.context["page"].object_list}


def test_it_shows_the_audit_admin_every_record(
    cast: Any, client_for: Any, trail: dict[str, AuditEvent]
) -> None:
    resp = client_for(cast.audit_admin).get(reverse("core:audit_list"))
    assert resp.status_code == 200
    assert {e.pk for e in trail.values()} <= _ids(resp)
    assert "关于春耕生产的通知" in resp.content.decode()


def test_it_shows_a_supervisor_only_their_subtree(
    cast: Any, client_for: Any, trail: dict[str, AuditEvent], county_supervisor: Any
) -> None:
    resp = client_for(county_supervisor).get(reverse("core:audit_list"))
    assert resp.status_code == 200
    ids = _ids(resp)
    assert trail["a1"].pk in ids and trail["grant"].pk in ids
    assert trail["b1"].pk not in ids
    # The other county's record is a 404, also by its guessed id.
    assert (
        client_for(county_supervisor).get(reverse("core:audit_detail", args=[trail["b1"].pk])).status_code
        == 404
    )
    assert (
        client_for(county_supervisor).get(reverse("core:audit_detail", args=[trail["a1"].pk])).status_code
        == 200
    )


def test_it_gives_the_city_supervision_bureau_only_its_own_unit(
    cast: Any, client_for: Any, trail: dict[str, AuditEvent]
) -> None:
    own = audit_record(action="test.own", unit=cast.city_supervision, actor=cast.supervisor)
    ids = _ids(client_for(cast.supervisor).get(reverse("core:audit_list")))
    assert own.pk in ids and trail["a1"].pk not in ids


@pytest.mark.parametrize(
    ("params", "expected", "absent"),
    [
        ({"person": "周文书"}, ["b1"], ["a1", "grant"]),
        ({"action": "permission"}, ["grant"], ["a1", "b1"]),
        ({"action": "document.send"}, ["a1", "b1"], ["grant"]),
        ({"object_type": "oa.document", "object_id": "42"}, ["b1"], ["a1"]),
        ({"unit_name": "崆峒镇"}, ["a1", "grant"], ["b1"]),
    ],
)
def test_it_filters_the_trail(
    cast: Any,
    client_for: Any,
    trail: dict[str, AuditEvent],
    params: dict[str, str],
    expected: list[str],
    absent: list[str],
) -> None:
    resp = client_for(cast.audit_admin).get(reverse("core:audit_list"), params)
    assert resp.status_code == 200
    ids = _ids(resp)
    assert all(trail[k].pk in ids for k in expected)
    assert not any(trail[k].pk in ids for k in absent)


def test_it_filters_by_person_id_and_unit_with_its_subunits(
    cast: Any, client_for: Any, trail: dict[str, AuditEvent]
) -> None:
    c = client_for(cast.audit_admin)
    ids = _ids(c.get(reverse("core:audit_list"), {"actor": str(cast.township_admin.pk)}))
    assert trail["grant"].pk in ids and trail["a1"].pk not in ids
    ids = _ids(c.get(reverse("core:audit_list"), {"unit": str(cast.county_a_gov.pk)}))
    assert trail["a1"].pk not in ids
    ids = _ids(c.get(reverse("core:audit_list"), {"unit": str(cast.county_a_gov.pk), "subunits": "on"}))
    assert trail["a1"].pk in ids and trail["b1"].pk not in ids


def test_it_filters_by_time_range(cast: Any, client_for: Any, trail: dict[str, AuditEvent]) -> None:
    old_at = timezone.now() - dt.timedelta(days=10)
    # Move one record back in time directly (the chain breaks, which does not matter to the filter).
    with connection.cursor() as cur:
        cur.execute(f"UPDATE {AuditEvent._meta.db_table} SET at = %s WHERE id = %s", [old_at, trail["b1"].pk])
    day = timezone.localtime(old_at).date()
    c = client_for(cast.audit_admin)
    ids = _ids(c.get(reverse("core:audit_list"), {"since": day.isoformat(), "until": day.isoformat()}))
    assert ids == {trail["b1"].pk}
    ids = _ids(c.get(reverse("core:audit_list"), {"since": (day + dt.timedelta(days=1)).isoformat()}))
    assert trail["b1"].pk not in ids and trail["a1"].pk in ids
    ids = _ids(c.get(reverse("core:audit_list"), {"until": f"{day.isoformat()} 23:59"}))
    assert trail["b1"].pk in ids and trail["a1"].pk not in ids


@pytest.mark.parametrize(
    ("params", "message"),
    [
        ({"since": "2026-13-45"}, "时间格式不正确"),
        ({"until": "yesterday"}, "时间格式不正确"),
        ({"since": "2026-02-01", "until": "2026-01-01"}, "结束时间须晚于开始时间"),
        ({"actor": "abc"}, "请输入数字编号"),
        ({"unit": "1 OR 1=1"}, "请输入数字编号"),
        ({"actor": "9" * 30}, "不超过 20"),
        ({"action": "'; DROP TABLE"}, "操作名称只能包含"),
        ({"person": "长" * 65}, "不超过 64"),
    ],
)
def test_it_answers_bad_filters_with_a_chinese_message(
    cast: Any, client_for: Any, trail: dict[str, AuditEvent], params: dict[str, str], message: str
) -> None:
    c = client_for(cast.audit_admin)
    for name in ("core:audit_list", "core:audit_export"):
        exports = AuditEvent.objects.filter(action="audit.export").count()
        resp = c.get(reverse(name), params)
        assert resp.status_code == 400
        assert message in resp.content.decode()
        assert AuditEvent.objects.filter(action="audit.export").count() == exports


def test_it_shows_before_and_after_side_by_side_with_personal_data_masked(
    cast: Any, client_for: Any, trail: dict[str, AuditEvent]
) -> None:
    resp = client_for(cast.audit_admin).get(reverse("core:audit_detail", args=[trail["a1"].pk]))
    assert resp.status_code == 200
    rows = {r["key"]: r for r in resp.context["rows"]}
    assert (
        rows["state"]["before"] == "draft" and rows["state"]["after"] == "sent" and rows["state"]["changed"]
    )
    assert not rows["mobile"]["changed"]
    html = resp.content.decode()
    assert "139****0001" in html and "13900000001" not in html
    assert "620802199001011234" not in html and "6208**********1234" in html
    assert "变更前" in html and "变更后" in html
    assert "摘要校验一致" in html


def test_it_flags_a_tampered_record_on_its_detail_page(
    cast: Any, client_for: Any, trail: dict[str, AuditEvent]
) -> None:
    with connection.cursor() as cur:
        cur.execute(
            f"UPDATE {AuditEvent._meta.db_table} SET object_label = %s WHERE id = %s",
            ["改过", trail["b1"].pk],
        )
    html = (
        client_for(cast.audit_admin).get(reverse("core:audit_detail", args=[trail["b1"].pk])).content.decode()
    )
    assert "可能已被篡改" in html


def _sheet(resp: Any) -> list[tuple[Any, ...]]:
    wb = load_workbook(io.BytesIO(b"".join(resp.streaming_content)))
    return list(wb.active.iter_rows(values_only=True))


def test_it_exports_the_filtered_list_to_excel_and_records_the_export(
    cast: Any, client_for: Any, trail: dict[str, AuditEvent]
) -> None:
    c = client_for(cast.audit_admin)
    resp = c.get(reverse("core:audit_export"), {"action": "document.send"})
    assert resp.status_code == 200
    assert resp["Content-Type"].startswith("application/vnd.openxmlformats-officedocument.spreadsheetml")
    assert ".xlsx" in resp["Content-Disposition"]
    rows = _sheet(resp)
    header, body = rows[0], rows[1:]
    assert header[:5] == ("序号", "时间", "人员", "人员ID", "单位")
    assert "变更前" in header and "变更后" in header
    assert {r[0] for r in body} == {trail["a1"].seq, trail["b1"].seq}
    flat = str(body)
    assert "13900000001" not in flat and "139****0001" in flat
    assert "620802199001011234" not in flat

    event = AuditEvent.objects.filter(action="audit.export").order_by("-seq").first()
    assert event is not None
    assert event.actor_id == cast.audit_admin.pk
    assert event.after == {"filter": {"action": "document.send"}, "rows": 2}


def test_it_keeps_formulas_out_of_the_export(
    cast: Any, client_for: Any, trail: dict[str, AuditEvent]
) -> None:
    resp = client_for(cast.audit_admin).get(reverse("core:audit_export"), {"action": "message.reply"})
    (row,) = _sheet(resp)[1:]
    assert row[10] == '\'=HYPERLINK("http://evil.example","点我")'


def test_it_exports_only_a_supervisors_subtree(
    cast: Any, client_for: Any, trail: dict[str, AuditEvent], county_supervisor: Any
) -> None:
    resp = client_for(county_supervisor).get(reverse("core:audit_export"))
    assert resp.status_code == 200
    seqs = {r[0] for r in _sheet(resp)[1:]}
    assert trail["a1"].seq in seqs and trail["b1"].seq not in seqs
    event = AuditEvent.objects.filter(action="audit.export").order_by("-seq").first()
    assert event is not None and event.actor_id == county_supervisor.pk


def test_it_refuses_an_export_over_the_cap_with_a_clear_message(
    cast: Any, client_for: Any, trail: dict[str, AuditEvent], settings: Any
) -> None:
    settings.AUDIT_EXPORT_MAX_ROWS = 2
    c = client_for(cast.audit_admin)
    exports = AuditEvent.objects.filter(action="audit.export").count()
    resp = c.get(reverse("core:audit_export"))
    assert resp.status_code == 400
    html = resp.content.decode()
    assert "超过单次导出上限 2 条" in html and "缩小时间范围" in html
    assert AuditEvent.objects.filter(action="audit.export").count() == exports
    assert c.get(reverse("core:audit_export"), {"action": "permission"}).status_code == 200
