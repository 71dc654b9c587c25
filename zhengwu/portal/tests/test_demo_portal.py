"""The demo portal: `zhengwu demo` fills the site cluster; bulk publishing keeps the rules."""

from __future__ import annotations

import io
from pathlib import Path
from typing import Any

import pytest
from django.core.exceptions import ValidationError
from django.core.management import call_command

from zhengwu.portal import services
from zhengwu.portal.models import Column, Item, Placement, Site, SiteKind
from zhengwu.portal.search import search
from zhengwu.portal.tests.factories import Cluster


@pytest.mark.django_db(transaction=True)
def test_the_demo_city_has_a_published_site_cluster(publish_root: Path) -> None:
    out = io.StringIO()
    call_command("demo", stdout=out)
    assert "门户网站群" in out.getvalue()
    main = Site.objects.get(kind=SiteKind.MAIN)
    assert Site.objects.count() >= 20
    assert set(Site.objects.values_list("kind", flat=True)) == set(SiteKind.values)
    assert Item.objects.filter(live_version__isnull=False).count() >= 1500
    assert Column.objects.filter(depth=2).exists()
    assert (publish_root / "site" / main.code / "index.html").exists()
    assert (publish_root / "site" / "wlj" / "gzdt" / "index.html").exists()
    pushed = Placement.objects.filter(site=main, kind="pushed", state="listed").select_related("item").first()
    assert pushed is not None
    column_page = publish_root / "site" / main.code / pushed.column.slug / "index.html"
    assert "共" in column_page.read_text()
    assert search("乡村振兴").total > 0
    assert search("乡村振兴", site_id=main.pk).total > 0
    call_command("demo", "--reset", stdout=io.StringIO())
    assert Site.objects.count() >= 20  # rebuilt after the reset
    assert (publish_root / "site" / main.code / "index.html").exists()


@pytest.mark.django_db
def test_bulk_publishing_refuses_a_classified_row_and_writes_nothing(cluster: Cluster) -> None:
    c = cluster
    rows: list[dict[str, Any]] = [
        {"site": c.dept, "column": c.dept_news, "title": "正常信息", "body": "内容"},
        {
            "site": c.dept,
            "column": c.dept_news,
            "title": "涉密信息",
            "body": "内容",
            "classification": "classified",
        },
    ]
    with pytest.raises(ValidationError, match="涉密"):
        services.items_bulk_publish(actor=c.cast.system_admin, rows=rows)
    assert not Item.objects.exists()
    with pytest.raises(ValidationError, match="栏目不属于该网站"):
        services.items_bulk_publish(
            actor=c.cast.system_admin, rows=[{"site": c.dept, "column": c.county_news, "title": "错栏目"}]
        )
    ids = services.items_bulk_publish(actor=c.cast.system_admin, rows=rows[:1])
    assert len(ids) == 1 and search("正常信息").total == 1
