"""Static publishing: pages as files, only dependents regenerated, served without the application."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
import urllib.request
import xml.etree.ElementTree as ET
from pathlib import Path
from typing import Any

import pytest

from zhengwu.portal import publishing, services
from zhengwu.portal.models import Item
from zhengwu.portal.search import search
from zhengwu.portal.tests.factories import Cluster, publish

pytestmark = pytest.mark.django_db


def _tree(root: Path) -> dict[str, tuple[int, int]]:
    """Every file with its inode and mtime: a rewritten file (temp + os.replace) gets a new inode."""
    out = {}
    for dirpath, _dirs, files in os.walk(root):
        for name in files:
            if name.startswith("."):
                continue
            path = Path(dirpath) / name
            st = path.stat()
            out[str(path.relative_to(root))] = (st.st_ino, st.st_mtime_ns)
    return out


def _publish_many(c: Cluster, n: int, capture: Any) -> list[Item]:
    items = []
    with capture(execute=True):
        for i in range(n):
            items.append(publish(c.dept_editor, c.dept_reviewer, c.dept, c.dept_news, f"工作动态第{i + 1}号"))
    return items


def test_it_rewrites_only_the_pages_that_depend_on_a_publish(
    cluster: Cluster, publish_root: Path, django_capture_on_commit_callbacks: Any
) -> None:
    c = cluster
    _publish_many(c, 45, django_capture_on_commit_callbacks)
    before = _tree(publish_root)
    assert sum(1 for k in before if k.startswith("site/wlj/art/")) == 45
    with django_capture_on_commit_callbacks(execute=True):
        item = publish(c.dept_editor, c.dept_reviewer, c.dept, c.dept_news, "新发布的一条动态")
    after = _tree(publish_root)
    touched = {k for k in after if before.get(k) != after[k]}
    assert touched == {
        f"site/wlj/art/{item.pk}.html",
        "site/wlj/gzdt/index.html",
        "site/wlj/gzdt/list_2.html",
        "site/wlj/gzdt/rss.xml",
        "site/wlj/gzdt/sitemap.xml",
        "site/wlj/index.html",
    }
    assert set(before) <= set(after)


def test_it_pages_a_column_in_blocks_that_stay_put_as_items_arrive(
    cluster: Cluster, publish_root: Path, django_capture_on_commit_callbacks: Any
) -> None:
    c = cluster
    items = _publish_many(c, 45, django_capture_on_commit_callbacks)
    folder = publish_root / "site" / "wlj" / "gzdt"
    head = (folder / "index.html").read_text()
    assert "共 45 条" in head
    assert all(f"/art/{i.pk}.html" in head for i in items[25:])  # the newest 20
    assert f"/art/{items[24].pk}.html" not in head
    assert 'href="list_1.html"' in head
    oldest = (folder / "list_0.html").read_text()
    assert all(f"/art/{i.pk}.html" in oldest for i in items[:20])
    assert 'href="list_1.html"' in oldest  # newer
    # Newest first within a page.
    assert oldest.index(f"/art/{items[19].pk}.html") < oldest.index(f"/art/{items[0].pk}.html")
    pages = "".join(p.read_text() for p in folder.glob("*.html"))
    assert all(f"/art/{i.pk}.html" in pages for i in items)
    # Withdrawing an early item moves the next one down into its block and empties nothing else.
    with django_capture_on_commit_callbacks(execute=True):
        services.item_withdraw(actor=c.dept_reviewer, item=items[5], reason="superseded", note="已有新版")
    oldest = (folder / "list_0.html").read_text()
    assert f"/art/{items[5].pk}.html" not in oldest and f"/art/{items[20].pk}.html" in oldest
    assert "共 44 条" in (folder / "index.html").read_text()


def test_it_drops_empty_trailing_blocks_after_withdrawals(
    cluster: Cluster, publish_root: Path, django_capture_on_commit_callbacks: Any
) -> None:
    c = cluster
    items = _publish_many(c, 21, django_capture_on_commit_callbacks)
    folder = publish_root / "site" / "wlj" / "gzdt"
    assert (folder / "list_1.html").exists()
    with django_capture_on_commit_callbacks(execute=True):
        services.item_withdraw(actor=c.dept_reviewer, item=items[0], reason="withdrawn", note="不再适用")
    assert not (folder / "list_1.html").exists()
    assert not (publish_root / "site" / "wlj" / "art" / f"{items[0].pk}.html").exists()


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _get(url: str) -> tuple[int, str]:
    with urllib.request.urlopen(url, timeout=5) as response:
        return response.status, response.read().decode("utf-8")


def test_it_serves_the_public_pages_with_the_application_stopped(
    cluster: Cluster, publish_root: Path, django_capture_on_commit_callbacks: Any
) -> None:
    """Publish, then serve the tree with a plain file server (no Django at all) and read the pages."""
    c = cluster
    with django_capture_on_commit_callbacks(execute=True):
        item = publish(
            c.dept_editor,
            c.dept_reviewer,
            c.dept,
            c.dept_news,
            "暑期文旅惠民活动启动",
            body="全市推出百项文旅惠民活动。",
        )
    port = _free_port()
    server = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "http.server",
            str(port),
            "--bind",
            "127.0.0.1",
            "--directory",
            str(publish_root),
        ],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        env={"PATH": os.environ.get("PATH", "")},  # nothing of the application's environment
    )
    try:
        base = f"http://127.0.0.1:{port}"
        for _ in range(100):
            try:
                _get(f"{base}/site/_assets/site.css")
                break
            except OSError:
                time.sleep(0.05)
        status, article = _get(f"{base}/site/wlj/art/{item.pk}.html")
        assert status == 200 and "暑期文旅惠民活动启动" in article and "全市推出百项文旅惠民活动" in article
        status, column = _get(f"{base}/site/wlj/gzdt/")
        assert status == 200 and f"/site/wlj/art/{item.pk}.html" in column
        status, home = _get(f"{base}/site/wlj/")
        assert status == 200 and "暑期文旅惠民活动启动" in home
        status, css = _get(f"{base}/site/_assets/site.css")
        assert status == 200 and ".masthead" in css
    finally:
        server.terminate()
        server.wait(timeout=10)


def test_it_serves_the_tree_from_the_application_and_refuses_paths_outside_it(
    cluster: Cluster, publish_root: Path, client: Any, django_capture_on_commit_callbacks: Any
) -> None:
    c = cluster
    with django_capture_on_commit_callbacks(execute=True):
        item = publish(c.dept_editor, c.dept_reviewer, c.dept, c.dept_news, "应用内置发布服务")
    (publish_root.parent / "secret.txt").write_text("secret")
    page = client.get(f"/site/wlj/art/{item.pk}.html")
    assert page.status_code == 200 and "应用内置发布服务" in b"".join(page.streaming_content).decode()
    assert page["Content-Type"].startswith("text/html")
    assert client.get("/site/wlj/gzdt/").status_code == 200
    assert client.get("/site/wlj/gzdt")["Location"] == "/site/wlj/gzdt/"
    for bad in [
        "/site/../secret.txt",
        "/site/%2e%2e/secret.txt",
        "/site/.publish.lock",
        "/site/wlj/art/999999.html",
    ]:
        assert client.get(bad).status_code == 404, bad


def test_it_writes_a_feed_and_a_sitemap_per_column(
    cluster: Cluster, publish_root: Path, django_capture_on_commit_callbacks: Any, settings: Any
) -> None:
    c = cluster
    settings.PUBLIC_BASE_URL = "https://www.pingliang.gov.cn"
    items = _publish_many(c, 3, django_capture_on_commit_callbacks)
    feed = ET.parse(publish_root / "site" / "wlj" / "gzdt" / "rss.xml").getroot()
    titles = [e.text for e in feed.iter("title")][1:]
    assert titles == ["工作动态第3号", "工作动态第2号", "工作动态第1号"]
    links = [e.text for e in feed.iter("link")][1:]
    assert links[0] == f"https://www.pingliang.gov.cn/site/wlj/art/{items[2].pk}.html"
    ns = {"sm": "http://www.sitemaps.org/schemas/sitemap/0.9"}
    urls = (
        ET.parse(publish_root / "site" / "wlj" / "gzdt" / "sitemap.xml")
        .getroot()
        .findall("sm:url/sm:loc", ns)
    )
    assert len(urls) == 3
    index = ET.parse(publish_root / "site" / "wlj" / "sitemap.xml").getroot()
    assert any(
        e.text and e.text.endswith("/site/wlj/gzdt/sitemap.xml") for e in index.iter(f"{{{ns['sm']}}}loc")
    )


def test_it_shows_a_pushed_item_on_the_main_site_without_copying_it(
    cluster: Cluster, publish_root: Path, django_capture_on_commit_callbacks: Any
) -> None:
    c = cluster
    with django_capture_on_commit_callbacks(execute=True):
        item = publish(c.dept_editor, c.dept_reviewer, c.dept, c.dept_news, "崆峒山景区推出夜游项目")
        placement = services.item_push(actor=c.dept_editor, item=item, column=c.main_dept_news)
    main_column = publish_root / "site" / "pl" / "bmdt" / "index.html"
    assert not main_column.exists() or "崆峒山景区推出夜游项目" not in main_column.read_text()
    assert search("夜游", site_id=c.main.pk).total == 0
    with django_capture_on_commit_callbacks(execute=True):
        services.placement_approve(actor=c.main_reviewer, placement=placement)
    page = main_column.read_text()
    assert f'href="/site/wlj/art/{item.pk}.html"' in page and "平凉市文化和旅游局" in page
    assert "崆峒山景区推出夜游项目" in (publish_root / "site" / "pl" / "index.html").read_text()
    assert Item.objects.count() == 1 and not (publish_root / "site" / "pl" / "art").exists()
    assert search("夜游", site_id=c.main.pk).total == 1
    with django_capture_on_commit_callbacks(execute=True):
        services.item_withdraw(actor=c.dept_reviewer, item=item, reason="error", note="时间有误")
    assert "崆峒山景区推出夜游项目" not in main_column.read_text()
    assert "崆峒山景区推出夜游项目" not in (publish_root / "site" / "pl" / "index.html").read_text()


def test_it_rebuilds_a_whole_site_from_the_database(
    cluster: Cluster, publish_root: Path, django_capture_on_commit_callbacks: Any
) -> None:
    c = cluster
    items = _publish_many(c, 3, django_capture_on_commit_callbacks)
    (publish_root / "site" / "wlj" / "art" / f"{items[0].pk}.html").unlink()
    (publish_root / "site" / "wlj" / "gzdt" / "index.html").write_text("damaged")
    report = publishing.rebuild([c.dept.pk])
    assert f"site/wlj/art/{items[0].pk}.html" in report.written
    assert "工作动态第3号" in (publish_root / "site" / "wlj" / "gzdt" / "index.html").read_text()
    assert "平凉市文化和旅游局" in (publish_root / "site" / "index.html").read_text()


def test_the_publish_command_rebuilds_pages_and_the_search_index(
    cluster: Cluster, publish_root: Path, django_capture_on_commit_callbacks: Any
) -> None:
    import io

    from django.core.management import call_command
    from django.core.management.base import CommandError

    c = cluster
    items = _publish_many(c, 2, django_capture_on_commit_callbacks)
    for path in (publish_root / "site").rglob("*.html"):
        path.unlink()
    out = io.StringIO()
    call_command("portal_publish", "--site", "wlj", "--reindex", stdout=out)
    assert "2 item(s)" in out.getvalue()
    assert (publish_root / "site" / "wlj" / "art" / f"{items[1].pk}.html").exists()
    assert search("工作动态第2号").total == 1
    with pytest.raises(CommandError, match="nosuch"):
        call_command("portal_publish", "--site", "nosuch", stdout=out)


def test_it_renders_a_page_on_request_as_the_same_bytes_it_published(
    cluster: Cluster, publish_root: Path, django_capture_on_commit_callbacks: Any
) -> None:
    c = cluster
    items = _publish_many(c, 3, django_capture_on_commit_callbacks)
    item = items[-1]
    published = (publish_root / f"site/wlj/art/{item.pk}.html").read_text(encoding="utf-8")
    assert publishing.render_item(item.pk) == published
    assert "工作动态第3号" in published
    head = (publish_root / "site/wlj/gzdt/index.html").read_text(encoding="utf-8")
    assert publishing.render_column(c.dept_news.pk) == head
    with django_capture_on_commit_callbacks(execute=True):
        services.item_withdraw(actor=c.dept_reviewer, item=item, reason="error", note="发布有误")
    # A withdrawn item has no page to render, and the column no longer lists it.
    assert publishing.render_item(item.pk) is None
    assert "工作动态第3号" not in (publishing.render_column(c.dept_news.pk) or "")
