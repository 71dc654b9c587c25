"""In a real browser: the city government office drafts a 通知; it is checked, signed off, numbered, sealed
and sent to all county governments; one county clerk signs it, the other refuses it with a reason; the
sender watches both arrive on the open status page and re-sends to the refuser."""

from __future__ import annotations

from typing import Any

import pytest

from zhengwu.documents.models import Document, DocumentReceipt
from zhengwu.documents.tests.conftest import PDF, Office
from zhengwu.testing.browser import PHONE, horizontal_overflow, screenshot, sign_in

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def _person(browser: Any, live_server: Any, user: Any, password: str, **options: Any) -> Any:
    context = browser.new_context(locale="zh-CN", **options)
    page = context.new_page()
    page.set_default_timeout(15000)
    sign_in(page, live_server.url, user.username, password)
    assert page.url.endswith("/workbench/"), page.url
    return page


def _complete(page: Any, opinion: str = "") -> None:
    if opinion:
        page.fill("textarea[name=opinion]", opinion)
    with page.expect_navigation():
        page.get_by_test_id("complete-step").click()


def _state(page: Any, unit: str) -> Any:
    return page.locator(f'[data-testid="receipt-row"][data-unit="{unit}"] [data-testid="receipt-state"]')


def test_it_sends_a_notice_to_the_counties_and_the_sender_sees_sign_and_refusal_live(
    live_server: Any, page: Any, browser: Any, office: Office
) -> None:
    password = office.cast.password
    base = live_server.url
    sign_in(page, base, office.drafter.username, password)
    page.goto(f"{base}/documents/new/")
    page.select_option("select[name=doc_type]", label="通知")
    page.fill("input[name=number_code]", "平政发")
    page.fill("input[name=title]", "关于做好春季森林防火工作的通知")
    page.select_option("select[name=main_groups]", label="各县区政府")
    page.set_input_files(
        "input[name=body]", files=[{"name": "正文.pdf", "mimeType": "application/pdf", "buffer": PDF}]
    )
    with page.expect_navigation():
        page.get_by_role("button", name="保存拟稿").click()
    doc = Document.objects.get()
    assert page.get_by_test_id("current-step").inner_text() == "拟稿"
    _complete(page, "请核稿")

    reviewer = _person(browser, live_server, office.reviewer, password)
    reviewer.goto(f"{base}/documents/{doc.pk}/")
    _complete(reviewer, "文字已核，同意")
    leader = _person(browser, live_server, office.leader, password)
    leader.goto(f"{base}/documents/{doc.pk}/")
    assert leader.get_by_test_id("current-step").inner_text() == "签发"
    _complete(leader, "同意印发")
    leader.context.close()
    reviewer.context.close()

    page.goto(f"{base}/documents/{doc.pk}/")
    for step in ("编号", "用印", "分发"):
        assert page.get_by_test_id("current-step").inner_text() == step
        _complete(page)
    doc.refresh_from_db()
    assert page.get_by_test_id("document-number").inner_text() == doc.document_number
    assert "同意印发" in page.content()
    page.get_by_test_id("preview-link").click()
    page.wait_for_selector("#pdf-viewer[data-pages='1'] canvas", timeout=20000)
    assert page.locator("#pdf-status").inner_text() == "共 1 页"
    page.goto(f"{base}/documents/{doc.pk}/")
    page.get_by_test_id("status-link").click()
    page.wait_for_load_state("networkidle")
    assert _state(page, "崆峒区人民政府").inner_text() == "待签收"
    assert _state(page, "泾川县人民政府").inner_text() == "待签收"

    clerk_a = _person(browser, live_server, office.clerk_a, password, viewport=PHONE)
    clerk_a.goto(f"{base}/documents/inbox/")
    assert not horizontal_overflow(clerk_a)
    clerk_a.get_by_role("link", name="关于做好春季森林防火工作的通知").click()
    with clerk_a.expect_navigation():
        clerk_a.get_by_test_id("receive").click()
    assert clerk_a.get_by_test_id("receipt-state").inner_text() == "已签收"

    clerk_b = _person(browser, live_server, office.clerk_b, password)
    clerk_b.goto(f"{base}/documents/inbox/")
    clerk_b.get_by_role("link", name="关于做好春季森林防火工作的通知").click()
    clerk_b.fill("input[name=reason]", "附件缺少防火责任人名单")
    with clerk_b.expect_navigation():
        clerk_b.get_by_test_id("refuse").click()
    assert clerk_b.get_by_test_id("receipt-state").inner_text() == "已退文"

    # The sender's page was not reloaded: the rows follow by themselves.
    page.wait_for_function(
        """() => [...document.querySelectorAll('[data-testid=receipt-state]')].map(e => e.textContent).sort().join()
        === ['已签收', '已退文'].sort().join()""",
        timeout=15000,
    )
    assert page.get_by_test_id("refuse-reason").inner_text() == "附件缺少防火责任人名单"
    assert "签收率 50.0%" in page.get_by_test_id("sign-rate").inner_text()
    screenshot(page, "documents-status-live")

    page.check('[data-testid="receipt-row"][data-unit="泾川县人民政府"] input[name=units]')
    with page.expect_navigation():
        page.get_by_test_id("resend").click()
    assert _state(page, "泾川县人民政府").inner_text() == "待签收"
    assert _state(page, "崆峒区人民政府").inner_text() == "已签收"
    receipts = dict(DocumentReceipt.objects.filter(document=doc).values_list("unit__name", "round"))
    assert receipts == {"崆峒区人民政府": 1, "泾川县人民政府": 2}
    clerk_b.goto(f"{base}/documents/inbox/")
    assert clerk_b.get_by_test_id("inbox-row").count() == 1
    clerk_a.context.close()
    clerk_b.context.close()
