"""In a real browser: a department editor drafts, the reviewer approves, the item appears on the
sub-site, on the main site's column after the push, and in search; withdrawn, it leaves all three and
the reason stays on record."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import pytest
from playwright.sync_api import expect

from zhengwu.core.models import AuditEvent
from zhengwu.portal.models import Item, ItemState
from zhengwu.portal.tests.factories import Cluster
from zhengwu.testing.browser import screenshot, sign_in
from zhengwu.testing.cast import PASSWORD

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

TITLE = "市文旅局发布暑期旅游安全提示"
BODY = "暑期将至，各县区景区要落实安全生产责任，崆峒山景区实行预约限流。\n请游客合理安排行程。"
SECONDS = 5_000  # "within seconds": each public view must show the change within this many ms


def _as(browser: Any, base: str, username: str) -> Any:
    context = browser.new_context(locale="zh-CN", viewport={"width": 1280, "height": 900})
    page = context.new_page()
    page.set_default_timeout(15000)
    sign_in(page, base, username, PASSWORD)
    return page


def _shows(page: Any, url: str, text: str) -> None:
    """The public page at url contains text within SECONDS (reloading, as a reader would)."""
    page.goto(url)
    expect(page.locator("body")).to_contain_text(text, timeout=SECONDS)


def _gone(page: Any, url: str, text: str) -> None:
    response = page.goto(url)
    assert response is not None
    if response.status == 404:
        return
    expect(page.locator("body")).not_to_contain_text(text, timeout=SECONDS)


def test_it_publishes_pushes_finds_and_withdraws_an_article(
    live_server: Any, page: Any, browser: Any, cluster: Cluster, publish_root: Path
) -> None:
    c = cluster
    base = live_server.url
    # 1. The department editor drafts an article on the department's sub-site and submits it.
    sign_in(page, base, c.dept_editor.username, PASSWORD)
    page.goto(f"{base}/cms/sites/{c.dept.pk}/items/new/?column={c.dept_news.pk}")
    page.fill("#id_title", TITLE)
    page.fill("#id_body", BODY)
    page.get_by_role("button", name="保存草稿").click()
    expect(page.locator("#item-state")).to_have_text("草稿")
    page.get_by_role("button", name="提交审核").click()
    expect(page.locator("#item-state")).to_have_text("待审核")
    item = Item.objects.get(title=TITLE)

    # 2. The department's reviewer finds it waiting and approves it.
    reviewer = _as(browser, base, c.dept_reviewer.username)
    reviewer.goto(f"{base}/cms/")
    reviewer.get_by_role("link", name=TITLE).click()
    reviewer.get_by_role("button", name="审核通过").click()
    expect(reviewer.locator("#item-state")).to_have_text("已发布")

    # 3. On the sub-site: its column page, its home page, the article page — static files.
    reader = browser.new_context(locale="zh-CN").new_page()
    _shows(reader, f"{base}/site/wlj/gzdt/", TITLE)
    _shows(reader, f"{base}/site/wlj/", TITLE)
    reader.get_by_role("link", name=TITLE).first.click()
    expect(reader).to_have_url(re.compile(rf"/site/wlj/art/{item.pk}\.html$"))
    expect(reader.locator("article h1")).to_have_text(TITLE)
    screenshot(reader, "portal-subsite-article")
    assert (publish_root / "site" / "wlj" / "art" / f"{item.pk}.html").exists()

    # 4. The editor pushes it to the main site; the main site's reviewer accepts it.
    page.goto(f"{base}/cms/items/{item.pk}/")
    page.select_option("#id_column", str(c.main_dept_news.pk))
    page.get_by_role("button", name="报送", exact=True).click()
    expect(page.locator(".messages")).to_contain_text("已报送到主站")
    _gone(reader, f"{base}/site/pl/bmdt/", TITLE)
    main = _as(browser, base, c.main_reviewer.username)
    main.goto(f"{base}/cms/")
    main.get_by_role("button", name="采用", exact=True).click()
    expect(main.locator(".messages")).to_contain_text("已采用")
    _shows(reader, f"{base}/site/pl/bmdt/", TITLE)
    expect(reader.get_by_role("link", name=re.compile(TITLE))).to_have_attribute(
        "href", f"/site/wlj/art/{item.pk}.html"
    )
    screenshot(reader, "portal-main-column")

    # 5. Search finds it by a word inside the text.
    _shows(reader, f"{base}/search/?q=县区", TITLE)
    expect(reader.locator(".hit mark").first).to_have_text("县区")
    screenshot(reader, "portal-search-found")

    # 6. Withdrawn with a reason: gone from the sub-site, the main site and search; the reason kept.
    reviewer.goto(f"{base}/cms/items/{item.pk}/")
    reviewer.select_option("#id_reason", "error")
    reviewer.fill("#id_note", "景区预约政策表述有误，待更正后重发")
    reviewer.get_by_role("button", name="撤稿").click()
    expect(reviewer.locator("#item-state")).to_have_text("已撤稿")
    _gone(reader, f"{base}/site/wlj/gzdt/", TITLE)
    _gone(reader, f"{base}/site/wlj/", TITLE)
    _gone(reader, f"{base}/site/pl/bmdt/", TITLE)
    _gone(reader, f"{base}/site/wlj/art/{item.pk}.html", TITLE)
    _gone(reader, f"{base}/search/?q=县区", TITLE)
    expect(reviewer.locator("#trail")).to_contain_text("发布有误：景区预约政策表述有误，待更正后重发")
    item.refresh_from_db()
    assert item.state == ItemState.WITHDRAWN
    withdraw = AuditEvent.objects.get(action="portal.item.withdraw", object_id=str(item.pk))
    assert withdraw.actor_id == c.dept_reviewer.pk and withdraw.after["reason"] == "error"
