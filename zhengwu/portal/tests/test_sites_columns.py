"""Opening sites and building column trees; how each kind of item is published."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from zhengwu.portal.models import Column, Site
from zhengwu.portal.tests.factories import Cluster, make_staff, publish

pytestmark = pytest.mark.django_db


def test_the_system_admin_opens_sites_and_nobody_else_can(
    cluster: Cluster, client_for: Any, publish_root: Path, django_capture_on_commit_callbacks: Any
) -> None:
    c = cluster
    form = {
        "code": "nync",
        "name": "平凉市农业农村局",
        "kind": "department",
        "unit": c.cast.city_gov.pk,
        "theme": "green",
    }
    assert client_for(c.dept_editor).get("/cms/sites/new/").status_code == 404
    assert client_for(c.dept_editor).post("/cms/sites/new/", form).status_code == 404
    admin = client_for(c.cast.system_admin)
    with django_capture_on_commit_callbacks(execute=True):
        assert admin.post("/cms/sites/new/", form).status_code == 302
    assert Site.objects.filter(code="nync").exists()
    assert "平凉市农业农村局" in (publish_root / "site" / "index.html").read_text()
    second_main = admin.post("/cms/sites/new/", form | {"code": "pl2", "kind": "main"})
    assert second_main.status_code == 400 and "主站已经存在" in second_main.content.decode()
    taken = admin.post("/cms/sites/new/", form)
    assert taken.status_code == 400 and "站点代码已被使用" in taken.content.decode()


def test_a_unit_admin_builds_at_most_three_levels_of_columns(cluster: Cluster, client_for: Any) -> None:
    c = cluster
    admin = client_for(make_staff("wl_admin", "文旅管理员", c.cast.outsider_unit, ["unit_admin"]))
    url = f"/cms/sites/{c.dept.pk}/columns/new/"
    assert admin.post(url, {"name": "政务公开", "slug": "zwgk", "sort": 1}).status_code == 302
    level1 = Column.objects.get(site=c.dept, slug="zwgk")
    assert (
        admin.post(url, {"name": "政策文件", "slug": "zcwj", "parent": level1.pk, "sort": 1}).status_code
        == 302
    )
    level2 = Column.objects.get(site=c.dept, slug="zcwj")
    assert (
        admin.post(url, {"name": "规范性文件", "slug": "gfxwj", "parent": level2.pk, "sort": 1}).status_code
        == 302
    )
    level3 = Column.objects.get(site=c.dept, slug="gfxwj")
    assert level3.depth == 3
    # A fourth level is not offered, and refused when forced.
    fourth = admin.post(url, {"name": "第四级", "slug": "d4", "parent": level3.pk, "sort": 1})
    assert fourth.status_code == 400 and not Column.objects.filter(slug="d4").exists()
    reserved = admin.post(url, {"name": "文章", "slug": "art", "sort": 1})
    assert reserved.status_code == 400 and "系统保留" in reserved.content.decode()
    duplicate = admin.post(url, {"name": "重复", "slug": "zwgk", "sort": 1})
    assert duplicate.status_code == 400 and "已有使用该路径的栏目" in duplicate.content.decode()
    foreign_parent = admin.post(url, {"name": "外站", "slug": "wz", "parent": c.county_news.pk, "sort": 1})
    assert foreign_parent.status_code == 400
    # Editors keep content, not the tree; other units see nothing.
    assert client_for(c.dept_editor).get(url).status_code == 404
    assert client_for(c.county_editor).post(url, {"name": "越权", "slug": "yq", "sort": 1}).status_code == 404


def test_a_new_column_appears_in_the_navigation_of_pages_already_published(
    cluster: Cluster, publish_root: Path, django_capture_on_commit_callbacks: Any
) -> None:
    from zhengwu.portal import services

    c = cluster
    with django_capture_on_commit_callbacks(execute=True):
        item = publish(c.dept_editor, c.dept_reviewer, c.dept, c.dept_news, "已发布的信息")
    page = publish_root / "site" / "wlj" / "art" / f"{item.pk}.html"
    assert "政务公开" not in page.read_text()
    with django_capture_on_commit_callbacks(execute=True):
        services.column_create(actor=c.cast.system_admin, site=c.dept, name="政务公开", slug="zwgk", sort=9)
    assert 'href="/site/wlj/zwgk/"' in page.read_text()
    assert (publish_root / "site" / "wlj" / "zwgk" / "index.html").exists()


def test_each_kind_of_item_is_published_in_its_own_form(
    cluster: Cluster, publish_root: Path, django_capture_on_commit_callbacks: Any
) -> None:
    c = cluster
    with django_capture_on_commit_callbacks(execute=True):
        document = publish(
            c.dept_editor,
            c.dept_reviewer,
            c.dept,
            c.dept_notices,
            "关于做好2026年旅游市场监管工作的通知",
            kind="document",
            document_number="平文旅发〔2026〕12号",
            issuing_unit="平凉市文化和旅游局",
            validity="valid",
        )
        link = publish(
            c.dept_editor,
            c.dept_reviewer,
            c.dept,
            c.dept_news,
            "甘肃省文旅厅网站",
            kind="link",
            link_url="https://wlt.gansu.gov.cn/",
            body="",
        )
        scenario = publish(
            c.dept_editor,
            c.dept_reviewer,
            c.dept,
            c.dept_news,
            "我要开旅行社",
            kind="scenario",
            services="旅行社业务经营许可|https://zwfw.example.gov.cn/a\n导游证核发|https://zwfw.example.gov.cn/b",
        )
    doc_page = (publish_root / "site" / "wlj" / "art" / f"{document.pk}.html").read_text()
    assert "平文旅发〔2026〕12号" in doc_page and "有效" in doc_page and "政策文件" in doc_page
    assert not (publish_root / "site" / "wlj" / "art" / f"{link.pk}.html").exists()
    column = (publish_root / "site" / "wlj" / "gzdt" / "index.html").read_text()
    assert 'href="https://wlt.gansu.gov.cn/" rel="noopener" target="_blank"' in column
    services_page = (publish_root / "site" / "wlj" / "art" / f"{scenario.pk}.html").read_text()
    assert 'href="https://zwfw.example.gov.cn/a">旅行社业务经营许可</a>' in services_page


def test_it_strips_scripts_from_rich_text(
    cluster: Cluster, publish_root: Path, django_capture_on_commit_callbacks: Any
) -> None:
    c = cluster
    with django_capture_on_commit_callbacks(execute=True):
        item = publish(
            c.dept_editor,
            c.dept_reviewer,
            c.dept,
            c.dept_news,
            "富文本",
            body='<p onclick="x()">正文<script>alert(1)</script><a href="javascript:alert(1)">链接</a><img src="/a.png" alt="图"></p>',
        )
    page = (publish_root / "site" / "wlj" / "art" / f"{item.pk}.html").read_text()
    body = page[page.index('<div class="body">') :]
    assert (
        "<script" not in body
        and "alert(1)" not in page
        and "onclick" not in page
        and "javascript:" not in page
    )
    assert '<img src="/a.png" alt="图">' in page
