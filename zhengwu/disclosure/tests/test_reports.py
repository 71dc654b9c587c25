"""The annual disclosure report (年度报告): figures generated from the data, the unit's text, published
by its leader and shown on the public pages."""

from __future__ import annotations

import datetime as dt
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from freezegun import freeze_time

from zhengwu.disclosure import services
from zhengwu.disclosure.models import AnnualReport
from zhengwu.disclosure.services import DisclosureError
from zhengwu.disclosure.tests.conftest import Desk, submit, to_reply
from zhengwu.portal.tests.factories import make_column, make_site, make_staff, publish

pytestmark = pytest.mark.django_db
BJ = ZoneInfo("Asia/Shanghai")


def at(day: str) -> dt.datetime:
    return dt.datetime.fromisoformat(f"{day}T10:00").replace(tzinfo=BJ)


def test_it_counts_the_year_from_the_data_and_publishes_the_report(
    desk: Desk, publish_root: Any, client_for: Any, client: Any
) -> None:
    a1 = desk.cast.township_a1_gov
    site = make_site("ktz", "崆峒镇人民政府", "county", a1)
    news, finance = make_column(site, "工作动态", "gzdt"), make_column(site, "财政信息", "czxx")
    editor = make_staff("ktz_editor", "宋编辑", a1, ["handler"])
    reviewer = make_staff("ktz_reviewer", "韩审核", a1, ["reviewer"])
    with freeze_time(at("2025-12-01")):
        publish(editor, reviewer, site, news, "崆峒镇召开安全生产会议")
        publish(editor, reviewer, site, news, "崆峒镇开展冬季防火检查")
        publish(editor, reviewer, site, finance, "崆峒镇2025年预算执行情况")
        answered, late, _still_open = submit(desk), submit(desk), submit(desk, applicant=desk.cast.enterprise)
    with freeze_time(at("2025-12-02")):
        services.request_reply(
            actor=desk.clerk, request=to_reply(desk, answered), outcome="public", reply_text="已公开"
        )
    with freeze_time(at("2026-01-20")):  # past the due date (2025-12-29)
        services.request_reply(
            actor=desk.clerk,
            request=to_reply(desk, late),
            outcome="withheld",
            withheld_reason="process",
            reply_text="属于过程性信息",
        )
    with freeze_time(at("2026-02-02")):
        report = services.annual_report_generate(actor=desk.clerk, unit=a1, year=2025)
        figures = report.figures
        assert figures["proactive"] == [
            {"category": "财政信息", "count": 1},
            {"category": "工作动态", "count": 2},
        ]
        assert figures["proactive_total"] == 3
        r = figures["requests"]
        assert (r["carried_in"], r["received"], r["by_enterprise"], r["answered"]) == (0, 3, 1, 1)
        assert {o["code"]: o["count"] for o in r["outcomes"]}["public"] == 1
        assert (r["overdue"], r["carried_over"]) == (2, 2)
        next_year = services.report_figures(unit=a1, year=2026)["requests"]
        assert (next_year["carried_in"], next_year["answered"], next_year["overdue"]) == (2, 1, 2)
        with pytest.raises(DisclosureError, match="年度须在"):
            services.annual_report_generate(actor=desk.clerk, unit=a1, year=2027)
        with pytest.raises(PermissionError):
            services.annual_report_generate(actor=desk.other_clerk, unit=a1, year=2025)
    url = f"/disclosure/reports/{report.pk}/"
    assert client.get(url).status_code == 404  # a draft is the unit's own
    assert client_for(desk.other_clerk).get(url).status_code == 404
    clerk = client_for(desk.clerk)
    response = clerk.post(f"{url}publish/")
    assert response.status_code == 403  # the leader or unit admin publishes
    response = client_for(desk.leader).post(f"{url}publish/")
    assert response.status_code == 400 and "总体情况" in response.content.decode()
    assert (
        clerk.post(f"{url}edit/", {"overview": "2025年，崆峒镇认真贯彻《政府信息公开条例》。"}).status_code
        == 302
    )
    assert client_for(desk.leader).post(f"{url}publish/").status_code == 302
    report.refresh_from_db()
    assert report.status == "published"
    page = client.get(url).content.decode()
    assert "崆峒镇人民政府2025年政府信息公开工作年度报告" in page and "认真贯彻" in page
    assert "崆峒镇人民政府" in client.get("/disclosure/reports/").content.decode()
    response = clerk.post(f"{url}edit/", {"overview": "改动"})
    assert response.status_code == 400 and "已发布" in response.content.decode()
    assert AnnualReport.objects.get(pk=report.pk).overview.startswith("2025年")
