"""In a real browser: the sample parallel approval from start to finish, each holder signing in in turn,
and the flowchart showing what is done, what is current and who holds it."""

from __future__ import annotations

from typing import Any

import pytest

from zhengwu.flow.models import InstanceStatus, ProcessInstance, SampleCase
from zhengwu.testing.browser import PHONE, horizontal_overflow, screenshot, sign_in

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def _as(page: Any, live_server: Any, user: Any, password: str) -> None:
    page.context.clear_cookies()
    sign_in(page, live_server.url, user.username, password)
    assert page.url.endswith("/workbench/"), page.url


def _open_from_workbench(page: Any, title_start: str) -> None:
    page.get_by_role("link", name=title_start).first.click()
    page.wait_for_load_state("networkidle")


def _flowchart(page: Any) -> Any:
    page.wait_for_selector('.bpmn-canvas[data-rendered="true"]', timeout=15000)
    return page.locator(".bpmn-canvas")


def _marked(page: Any, element_id: str, marker: str) -> bool:
    return page.locator(f'g.djs-element.{marker}[data-element-id="{element_id}"]').count() == 1


def _complete(page: Any, *, select: dict[str, str] | None = None, opinion: str = "") -> None:
    for field, value in (select or {}).items():
        page.select_option(f"#id_{field}", value)
    if opinion:
        page.fill("#id_opinion", opinion)
    with page.expect_navigation():
        page.get_by_test_id("complete").click()
    page.wait_for_load_state("networkidle")


def test_it_runs_the_sample_process_end_to_end_and_the_flowchart_follows(
    live_server: Any, page: Any, processes: Any, people: Any, cast: Any
) -> None:
    password = cast.password
    # 1. The city government's clerk opens a case with three parallel departments.
    _as(page, live_server, cast.city_clerk, password)
    page.goto(f"{live_server.url}/flow/sample/")
    page.fill("#id_title", "某某产业园项目备案")
    page.fill("#id_applicant", "某某实业有限公司")
    page.select_option("#id_lead", str(cast.city_gov.pk))
    page.select_option("#id_dept_1", str(cast.county_a_gov.pk))
    page.select_option("#id_dept_2", str(cast.county_b_gov.pk))
    page.select_option("#id_dept_3", str(cast.township_a1_gov.pk))
    with page.expect_navigation():
        page.locator('[data-testid="sample-form"] button[type=submit]').click()
    _flowchart(page)
    assert _marked(page, "accept", "zw-current") and _marked(page, "start", "zw-done")
    assert "待签收" in page.locator(".zw-holder").first.inner_text()
    assert page.locator(".bjs-powered-by").is_visible()  # the bpmn.io watermark stays
    instance = ProcessInstance.objects.get()

    # 2. 受理: claim, find the materials incomplete → 补正, which stops the clock.
    page.goto(f"{live_server.url}/workbench/")
    _open_from_workbench(page, "受理：某某产业园项目备案")
    with page.expect_navigation():
        page.get_by_test_id("claim").click()
    _complete(page, select={"materials": "incomplete"}, opinion="缺少环评批复")
    _flowchart(page)
    assert _marked(page, "accept", "zw-done") and _marked(page, "supplement", "zw-current")
    page.goto(f"{live_server.url}/workbench/")
    _open_from_workbench(page, "补正：某某产业园项目备案")
    with page.expect_navigation():
        page.get_by_test_id("claim").click()
    assert page.get_by_test_id("clock-stopped").is_visible()
    _complete(page, opinion="申请人已补交环评批复")
    _flowchart(page)
    for step in ("review_1", "review_2", "review_3"):
        assert _marked(page, step, "zw-current"), step
    holders = " ".join(page.locator(".zw-holder").all_inner_texts())
    assert "陈审核" in holders and "周文书" in holders and "钱审核" in holders
    screenshot(page, "flow-sample-parallel")

    # 3. Each department countersigns in its own unit.
    for user, field in (
        (cast.county_reviewer, "vote_1"),
        (cast.county_b_clerk, "vote_2"),
        (people.reviewer, "vote_3"),
    ):
        _as(page, live_server, user, password)
        _open_from_workbench(page, "部门")
        _complete(page, select={field: "agree"}, opinion="同意")
    # township A1 has two reviewers: the countersign needs the second one too.
    _as(page, live_server, people.reviewer2, password)
    _open_from_workbench(page, "部门三会签")
    _complete(page, select={"vote_3": "agree"}, opinion="同意")
    _flowchart(page)
    assert _marked(page, "review_3", "zw-done") and _marked(page, "sign_off", "zw-current")

    # 4. The city leader signs off; the case is finished and the chart shows every step done.
    _as(page, live_server, cast.city_leader, password)
    _open_from_workbench(page, "签发：某某产业园项目备案")
    with page.expect_navigation():
        page.get_by_test_id("claim").click()
    _complete(page, opinion="同意备案")
    _flowchart(page)
    assert page.get_by_test_id("instance-status").inner_text() == "已办结"
    for step in ("accept", "supplement", "review_1", "review_2", "review_3", "sign_off", "end"):
        assert _marked(page, step, "zw-done"), step
    assert page.locator("g.djs-element.zw-current").count() == 0
    instance.refresh_from_db()
    assert instance.status == InstanceStatus.COMPLETED
    assert SampleCase.objects.get().status == "done"

    # On a phone the case page does not scroll sideways; the chart keeps its watermark.
    page.set_viewport_size(PHONE)
    page.reload()
    _flowchart(page)
    assert horizontal_overflow(page) == []
    assert page.locator(".bjs-powered-by").is_visible()
    screenshot(page, "flow-sample-done-phone")
