"""Monthly site scoring (政务网站量化打分): published, editable rules; a ranking on the portal."""

from __future__ import annotations

from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
from django.utils import timezone

from zhengwu.core.models import AuditEvent
from zhengwu.portal import publishing, services
from zhengwu.portal.models import ScoringRule, SiteScore
from zhengwu.portal.scoring import broken_links
from zhengwu.portal.tests.factories import Cluster, publish

pytestmark = pytest.mark.django_db


def test_it_scores_column_timeliness_and_broken_links_and_publishes_the_ranking(
    cluster: Cluster, publish_root: Path, django_capture_on_commit_callbacks: Any
) -> None:
    c = cluster
    with django_capture_on_commit_callbacks(execute=True):
        publish(
            c.dept_editor,
            c.dept_reviewer,
            c.dept,
            c.dept_news,
            "含失效链接的信息",
            body='<p>详见<a href="/site/wlj/art/999999.html">原文</a>和<a href="/site/wlj/gzdt/">栏目</a>。</p>',
        )
        publish(c.county_editor, c.county_reviewer, c.county, c.county_news, "崆峒要闻一则")
    # The cluster was built directly in the database; opening sites and columns through the services
    # would have generated their (empty) pages, as this does.
    publishing.rebuild()
    count, sample = broken_links(c.dept)
    assert count == 1 and sample[0].link == "/site/wlj/art/999999.html", sample
    month = timezone.localdate().replace(day=1)
    with django_capture_on_commit_callbacks(execute=True):
        scores = services.site_scores_compute(actor=c.main_reviewer, month=month)
    by_site = {s.site.code: s for s in scores}
    # 文旅局: one of two columns updated (30 of 60) and one broken link (40 - 2).
    assert by_site["wlj"].score == Decimal("68.0")
    assert by_site["wlj"].details["timeliness"]["stale"] == ["通知公告"]
    # 崆峒区: its only column updated (60) and no broken link (40).
    assert by_site["kt"].score == Decimal("100.0") and by_site["kt"].rank == 1
    assert by_site["pl"].score == Decimal("40.0") and by_site["pl"].rank == 3
    page = (publish_root / "site" / "pl" / "ranking" / "index.html").read_text()
    table = page[page.index('id="ranking"') :]
    assert (
        table.index("崆峒区人民政府") < table.index("平凉市文化和旅游局") < table.index("平凉市人民政府</a>")
    )
    assert "栏目更新及时" in page and "无错链断链" in page
    assert 'href="/site/pl/ranking/"' in (publish_root / "site" / "pl" / "index.html").read_text()
    assert AuditEvent.objects.filter(action="portal.scoring.compute").count() == 1
    # Running the month again replaces its scores.
    services.site_scores_compute(actor=c.main_reviewer, month=month)
    assert SiteScore.objects.filter(month=month).count() == 3


def test_sites_with_the_same_score_share_a_rank(cluster: Cluster) -> None:
    c = cluster
    scores = services.site_scores_compute(actor=c.cast.system_admin, month=timezone.localdate())
    assert {s.rank for s in scores} == {1} and {s.score for s in scores} == {Decimal("40.0")}


def test_the_rules_are_edited_by_their_keepers_and_bad_input_is_refused(
    cluster: Cluster, client_for: Any
) -> None:
    c = cluster
    rule = ScoringRule.objects.get(code="timeliness")
    assert client_for(c.dept_editor).get("/cms/scoring/").status_code == 404
    keeper = client_for(c.main_reviewer)
    assert keeper.get("/cms/scoring/").status_code == 200
    form = {
        "rule": rule.pk,
        "weight": 50,
        "description": "每个栏目每 15 天至少更新一次。",
        "params": '{"days": 15}',
        "is_active": "on",
    }
    for bad in [
        {"weight": -1},
        {"weight": 500},
        {"params": '"days"'},
        {"params": '{"days": "x"}'},
        {"description": ""},
    ]:
        assert keeper.post("/cms/scoring/", form | bad).status_code == 400, bad
    rule.refresh_from_db()
    assert rule.weight == 60
    assert keeper.post("/cms/scoring/", form).status_code == 302
    rule.refresh_from_db()
    assert rule.weight == 50 and rule.params == {"days": 15}
    assert AuditEvent.objects.filter(action="portal.scoring.rule").count() == 1
    future = keeper.post("/cms/scoring/", {"action": "compute", "month": "2999-01"})
    assert future.status_code == 400 and "尚未开始的月份" in future.content.decode()
    assert keeper.post("/cms/scoring/", {"action": "compute", "month": "nonsense"}).status_code == 400
    assert (
        keeper.post(
            "/cms/scoring/", {"action": "compute", "month": timezone.localdate().strftime("%Y-%m")}
        ).status_code
        == 302
    )
    assert SiteScore.objects.count() == 3
