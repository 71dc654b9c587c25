"""Every reader: the catalogue, an entry, the application form and the request pages pass axe-core with
no serious or critical violations and fit a phone screen."""

from __future__ import annotations

from typing import Any

import pytest

from zhengwu.disclosure.models import CatalogueEntry
from zhengwu.disclosure.tests.conftest import Desk, submit
from zhengwu.portal.tests.factories import Cluster, publish
from zhengwu.portal.tests.test_browser_accessibility import _serious
from zhengwu.testing.browser import PHONE, horizontal_overflow, sign_in

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_the_disclosure_pages_pass_an_accessibility_check_and_fit_a_phone(
    live_server: Any, browser: Any, cluster: Cluster, desk: Desk
) -> None:
    item = publish(
        cluster.dept_editor, cluster.dept_reviewer, cluster.dept, cluster.dept_news, "文旅局2026年工作要点"
    )
    entry = CatalogueEntry.objects.get(item=item)
    request = submit(desk)
    base = live_server.url
    for viewport in ({"width": 1280, "height": 900}, PHONE):
        # axe is injected as a script, which the pages' own CSP would rightly refuse.
        context = browser.new_context(locale="zh-CN", bypass_csp=True, viewport=viewport)
        page = context.new_page()
        page.set_default_timeout(15000)
        for path in (
            "/disclosure/",
            "/disclosure/?q=工作要点",
            f"/disclosure/entries/{entry.pk}/",
            "/disclosure/reports/",
        ):
            page.goto(f"{base}{path}")
            assert _serious(page) == [], path
            assert horizontal_overflow(page) == [], (path, viewport)
        page.goto(f"{base}/public/login/")
        page.fill("#id_username", desk.applicant.username)
        page.fill("#id_password", desk.cast.password)
        with page.expect_navigation():
            page.locator("main button[type=submit]").click()
        for path in ("/disclosure/apply/", "/disclosure/my/", f"/disclosure/requests/{request.pk}/"):
            page.goto(f"{base}{path}")
            assert _serious(page) == [], path
            assert horizontal_overflow(page) == [], (path, viewport)
        context.close()
    staff = browser.new_context(locale="zh-CN", bypass_csp=True).new_page()
    sign_in(staff, base, desk.clerk.username, desk.cast.password)
    for path in ("/disclosure/manage/", f"/disclosure/requests/{request.pk}/"):
        staff.goto(f"{base}{path}")
        assert _serious(staff) == [], path
