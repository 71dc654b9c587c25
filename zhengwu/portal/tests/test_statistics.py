"""Page views counted by the platform itself (no third-party trackers, no reader data) and how often
each column is updated."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest
from django.utils import timezone

from zhengwu.portal import services
from zhengwu.portal.models import PageViewDay
from zhengwu.portal.tests.factories import Cluster, publish

pytestmark = pytest.mark.django_db


def test_it_counts_views_of_homes_columns_and_items(cluster: Cluster, client: Any) -> None:
    c = cluster
    item = publish(c.dept_editor, c.dept_reviewer, c.dept, c.dept_news, "访问统计测试")
    for path in ["/site/wlj/", "/site/wlj/index.html", "/site/wlj/gzdt/", "/site/wlj/gzdt/list_0.html"]:
        assert client.post("/site-views/", path, content_type="text/plain").status_code == 204
    for _ in range(3):
        assert (
            client.post(
                "/site-views/", f"/site/wlj/art/{item.pk}.html", content_type="text/plain"
            ).status_code
            == 204
        )
    counts = {row.key: row.views for row in PageViewDay.objects.all()}
    assert counts == {"home": 2, f"c{c.dept_news.pk}": 2, f"i{item.pk}": 3}
    assert client.get("/site-views/").status_code == 405


def test_it_ignores_paths_that_are_no_published_page(cluster: Cluster, client: Any) -> None:
    c = cluster
    item = publish(c.dept_editor, c.dept_reviewer, c.dept, c.dept_news, "将被撤下的信息")
    services.item_withdraw(actor=c.dept_reviewer, item=item, reason="error", note="有误")
    for path in [
        f"/site/wlj/art/{item.pk}.html",  # withdrawn
        f"/site/kt/art/{item.pk}.html",  # another site's number
        "/site/nosuch/",
        "/site/wlj/nosuch/",
        "/site/../etc/passwd",
        "/cms/",
        "x" * 1000,
        "",
    ]:
        assert client.post("/site-views/", path, content_type="text/plain").status_code == 400, path
    assert not PageViewDay.objects.exists()


def test_the_stats_page_shows_views_and_column_updates_to_the_sites_own_staff(
    cluster: Cluster, client_for: Any
) -> None:
    c = cluster
    item = publish(c.dept_editor, c.dept_reviewer, c.dept, c.dept_news, "热门信息")
    yesterday = timezone.localdate() - dt.timedelta(days=1)
    for _ in range(5):
        services.page_view_record(path=f"/site/wlj/art/{item.pk}.html")
    services.page_view_record(path="/site/wlj/", day=yesterday)
    page = client_for(c.dept_reviewer).get(f"/cms/sites/{c.dept.pk}/stats/?days=7")
    assert page.status_code == 200
    text = page.content.decode()
    assert 'id="total-views">6<' in text
    assert "热门信息" in text and "从未更新" in text  # 通知公告 has no item yet
    assert client_for(c.county_editor).get(f"/cms/sites/{c.dept.pk}/stats/").status_code == 404
    assert client_for(c.dept_reviewer).get(f"/cms/sites/{c.dept.pk}/stats/?days=abc").status_code == 200
