"""In a real browser: county A's clerk registers a signed notice and proposes how to handle it; the leader
instructs two departments (a lead and a co-handler, each with its own limit) and circulates it to a deputy;
the deputy opens it from 待阅 on the workbench and adds an opinion; each department handles its own part,
the lead department replies, the clerk archives — and the record page shows every step, part and reader."""

from __future__ import annotations

from typing import Any

import pytest

from zhengwu.core.models import Department
from zhengwu.documents import services
from zhengwu.documents.models import DocumentReceipt, IncomingRecord, IncomingStatus
from zhengwu.documents.tests.conftest import Office, dept_staff, send_notice
from zhengwu.testing.browser import PHONE, horizontal_overflow, screenshot, sign_in
from zhengwu.testing.cast import _staff

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def _person(browser: Any, live_server: Any, user: Any, password: str, **options: Any) -> Any:
    context = browser.new_context(locale="zh-CN", **options)
    page = context.new_page()
    page.set_default_timeout(15000)
    sign_in(page, live_server.url, user.username, password)
    return page


def _submit(page: Any, test_id: str) -> None:
    with page.expect_navigation():
        page.get_by_test_id(test_id).click()


def test_it_handles_a_received_notice_by_two_departments_with_circulation_and_reply(
    live_server: Any, page: Any, browser: Any, office: Office
) -> None:
    password = office.cast.password
    base = live_server.url
    a = office.cast.county_a_gov
    leader = _staff("kd_leader", "韩区长", a, "区长", ["leader"])
    emergency = dept_staff("kd_yj", "王应急", a, "应急科", ["handler"])
    forestry = dept_staff("kd_ly", "李林业", a, "林业科", ["handler"])
    deputy = dept_staff("kd_fu", "赵副区长", a, "领导班子", [])
    doc = send_notice(office, title="关于做好春季森林防火工作的通知")
    receipt = DocumentReceipt.objects.get(document=doc, unit=a)
    services.receipt_receive(actor=office.clerk_a, receipt=receipt)
    url = f"{base}/documents/incoming/{receipt.pk}/"

    sign_in(page, base, office.clerk_a.username, password)
    page.goto(url)
    _submit(page, "register")
    assert page.get_by_test_id("incoming-status").inner_text() == "拟办"
    page.fill('[data-testid="step-form-propose"] textarea[name=opinion]', "拟请应急科牵头，林业科配合")
    _submit(page, "complete-propose")
    assert page.get_by_test_id("incoming-status").inner_text() == "批办"

    boss = _person(browser, live_server, leader, password)
    boss.goto(url)
    yj = Department.objects.get(unit=a, name="应急科")
    ly = Department.objects.get(unit=a, name="林业科")
    form = boss.get_by_test_id("instruct-form")
    form.get_by_test_id(f"dept-{yj.pk}").check()
    form.get_by_test_id(f"dept-{ly.pk}").check()
    form.locator("textarea[name=opinion]").fill("请应急科牵头办理，林业科配合")
    _submit(boss, "instruct")  # a mistake: no lead department — refused, nothing written
    assert "请指定且只指定一个主办科室" in boss.content()
    boss.go_back()
    boss.reload()
    form = boss.get_by_test_id("instruct-form")
    form.get_by_test_id(f"dept-{yj.pk}").check()
    form.locator(f"select[name=role_{yj.pk}]").select_option("lead")
    form.locator(f"input[name=days_{yj.pk}]").fill("3")
    form.get_by_test_id(f"dept-{ly.pk}").check()
    form.locator(f"input[name=days_{ly.pk}]").fill("7")
    form.locator("input[name=needs_reply]").check()
    form.locator("textarea[name=opinion]").fill("请应急科牵头办理，林业科配合")
    screenshot(boss, "documents-receiving-instruct")
    _submit(boss, "instruct")
    assert boss.get_by_test_id("incoming-status").inner_text() == "承办"
    assert boss.get_by_test_id(f"part-{yj.pk}").inner_text().count("3 个工作日") == 1
    boss.select_option('[data-testid="circulate-form"] select[name=recipients]', label="赵副区长")
    with boss.expect_navigation():
        boss.locator('[data-testid="circulate-form"] button').click()
    assert "未阅" in boss.get_by_test_id(f"reading-{deputy.pk}").inner_text()

    reader = _person(browser, live_server, deputy, password, viewport=PHONE)
    assert reader.get_by_test_id("to-read-count").inner_text() == "1"
    with reader.expect_navigation():
        reader.get_by_role("link", name="收文：关于做好春季森林防火工作的通知", exact=True).click()
    assert reader.url == url
    assert "已阅" in reader.get_by_test_id(f"reading-{deputy.pk}").inner_text()
    reader.fill("textarea[name=text]", "同意，注意夜间巡查")
    with reader.expect_navigation():
        reader.get_by_role("button", name="提交意见").click()
    assert "同意，注意夜间巡查" in reader.get_by_test_id("comments").inner_text()
    assert not horizontal_overflow(reader)
    reader.context.close()

    for person, opinion in ((forestry, "林区巡护已加强"), (emergency, "已部署落实")):
        handler = _person(browser, live_server, person, password)
        handler.goto(url)
        assert handler.get_by_test_id("step-form-handle").count() == 1  # only their own part
        handler.fill('[data-testid="step-form-handle"] textarea[name=opinion]', opinion)
        _submit(handler, "complete-handle")
        if person == emergency:
            handler.fill('[data-testid="step-form-reply"] textarea[name=opinion]', "已书面答复市政府")
            _submit(handler, "complete-reply")
        handler.context.close()

    page.goto(url)
    page.fill('[data-testid="step-form-archive"] textarea[name=opinion]', "归档")
    _submit(page, "complete-archive")
    assert page.get_by_test_id("incoming-status").inner_text() == "已归档"
    steps = page.get_by_test_id("steps").inner_text()
    for text in ("拟请应急科牵头", "请应急科牵头办理", "林区巡护已加强", "已部署落实", "已书面答复市政府"):
        assert text in steps
    assert "已阅" in page.get_by_test_id(f"reading-{deputy.pk}").inner_text()
    screenshot(page, "documents-receiving-record")
    assert IncomingRecord.objects.get().status == IncomingStatus.DONE
    boss.context.close()
