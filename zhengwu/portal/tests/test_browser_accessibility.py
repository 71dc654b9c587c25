"""Every reader: published pages, search and the editors' desk pass axe-core with no serious or critical
violations, fit a phone screen, and offer the large-text mode (适老化)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from django.utils import timezone

from zhengwu.portal import services
from zhengwu.portal.tests.factories import Cluster, publish
from zhengwu.testing.browser import PHONE, horizontal_overflow, sign_in
from zhengwu.testing.cast import PASSWORD

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

AXE = Path(__file__).resolve().parent / "vendor" / "axe-core" / "axe.min.js"


def _serious(page: Any) -> list[str]:
    """Serious and critical axe-core violations on the page, as 'rule: selector' lines."""
    page.add_script_tag(path=str(AXE))
    result: list[str] = page.evaluate(
        """async () => {
            const r = await axe.run(document, {resultTypes: ['violations']});
            return r.violations
              .filter(v => v.impact === 'serious' || v.impact === 'critical')
              .flatMap(v => v.nodes.map(n => `${v.id}: ${n.target.join(' ')}`));
        }"""
    )
    return result


def test_the_published_pages_and_the_desk_pass_an_accessibility_check(
    live_server: Any, browser: Any, cluster: Cluster
) -> None:
    c = cluster
    item = publish(
        c.dept_editor,
        c.dept_reviewer,
        c.dept,
        c.dept_news,
        "文旅惠民消费季启动",
        body="各县区同步开展惠民活动。\n详情见附件。",
    )
    placement = services.item_push(actor=c.dept_editor, item=item, column=c.main_dept_news)
    services.placement_approve(actor=c.main_reviewer, placement=placement)
    services.site_scores_compute(actor=c.main_reviewer, month=timezone.localdate())
    base = live_server.url
    # axe is injected as a script, which the pages' own CSP would rightly refuse.
    context = browser.new_context(locale="zh-CN", bypass_csp=True)
    page = context.new_page()
    public = [
        "/site/",
        "/site/wlj/",
        "/site/wlj/gzdt/",
        f"/site/wlj/art/{item.pk}.html",
        "/site/pl/",
        "/site/pl/bmdt/",
        "/site/pl/ranking/",
        "/search/?q=惠民",
    ]
    # The check itself works: an image without alternative text is a critical violation.
    page.set_content(
        '<html lang="zh-CN"><head><title>t</title></head><body><main><img src="x.png"></main></body></html>'
    )
    assert any(v.startswith("image-alt") for v in _serious(page))
    problems: dict[str, list[str]] = {}
    for url in public:
        page.goto(base + url)
        found = _serious(page)
        if found:
            problems[url] = found
    sign_in(page, base, c.dept_editor.username, PASSWORD)
    for url in [
        "/cms/",
        f"/cms/sites/{c.dept.pk}/",
        f"/cms/items/{item.pk}/",
        f"/cms/sites/{c.dept.pk}/items/new/",
    ]:
        page.goto(base + url)
        found = _serious(page)
        if found:
            problems[url] = found
    assert not problems, problems
    context.close()


def test_the_published_pages_fit_a_phone_and_switch_to_large_text(
    live_server: Any, browser: Any, cluster: Cluster
) -> None:
    c = cluster
    item = publish(
        c.dept_editor, c.dept_reviewer, c.dept, c.dept_news, "适老化改造：大字版上线", body="正文。" * 80
    )
    context = browser.new_context(locale="zh-CN", viewport=PHONE)
    page = context.new_page()
    for url in ["/site/wlj/", "/site/wlj/gzdt/", f"/site/wlj/art/{item.pk}.html", "/search/?q=大字版"]:
        page.goto(live_server.url + url)
        assert horizontal_overflow(page) == [], url
    page.goto(f"{live_server.url}/site/wlj/art/{item.pk}.html")
    size = page.evaluate("() => parseFloat(getComputedStyle(document.querySelector('.body')).fontSize)")
    toggle = page.get_by_role("button", name="大字版")
    toggle.click()
    assert toggle.get_attribute("aria-pressed") == "true"
    larger = page.evaluate("() => parseFloat(getComputedStyle(document.querySelector('.body')).fontSize)")
    assert larger > size * 1.2
    page.goto(f"{live_server.url}/site/wlj/gzdt/")  # remembered on the next page
    assert page.evaluate("() => document.body.classList.contains('large-text')")
    # Each page view was counted by the platform's own beacon.
    from zhengwu.portal.models import PageViewDay

    for _ in range(50):
        if PageViewDay.objects.filter(key=f"i{item.pk}").exists():
            break
        page.wait_for_timeout(100)
    assert PageViewDay.objects.get(key=f"i{item.pk}").views >= 1
    context.close()
