"""A small site cluster on top of the shared cast, and helpers that run items through review."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from zhengwu.core.models import AccountKind, Post, PostAssignment, Unit, UnitRole, User
from zhengwu.portal import services
from zhengwu.portal.models import Column, Item, Site, SiteKind
from zhengwu.testing.cast import PASSWORD, Cast


def make_staff(username: str, name: str, unit: Unit, roles: list[str]) -> User:
    user = User(username=username, name=name, kind=AccountKind.STAFF, primary_unit=unit)
    user.set_password(PASSWORD)
    user.save()
    post = Post.objects.create(unit=unit, name="网站编辑")
    PostAssignment.objects.create(user=user, post=post)
    for role in roles:
        UnitRole.objects.create(user=user, unit=unit, role=role)
    return user


def make_site(code: str, name: str, kind: str, unit: Unit, **extra: Any) -> Site:
    return Site.objects.create(code=code, name=name, kind=kind, unit=unit, **extra)


def make_column(site: Site, name: str, slug: str, parent: Column | None = None, **extra: Any) -> Column:
    return Column.objects.create(site=site, name=name, slug=slug, parent=parent, **extra)


@dataclass
class Cluster:
    cast: Cast
    main: Site
    main_news: Column
    main_dept_news: Column
    dept: Site
    dept_news: Column
    dept_notices: Column
    county: Site
    county_news: Column
    dept_editor: User
    dept_reviewer: User
    main_editor: User
    main_reviewer: User
    county_editor: User
    county_reviewer: User


def build_cluster(cast: Cast) -> Cluster:
    """Main site (市政府门户网站, run by the informatization office), the tourism bureau's sub-site, and
    county A's portal; an editor and a reviewer for each."""
    main = make_site("pl", "平凉市人民政府", SiteKind.MAIN, cast.city_info_office, sort=1)
    main_news = make_column(main, "平凉要闻", "news", show_on_home=True)
    main_dept_news = make_column(main, "部门动态", "bmdt", show_on_home=True, accepts_pushes=True)
    dept = make_site(
        "wlj", "平凉市文化和旅游局", SiteKind.DEPARTMENT, cast.outsider_unit, theme="blue", sort=2
    )
    dept_news = make_column(dept, "工作动态", "gzdt", show_on_home=True)
    dept_notices = make_column(dept, "通知公告", "tzgg", parent=dept_news)
    county = make_site("kt", "崆峒区人民政府", SiteKind.COUNTY, cast.county_a_gov, sort=3)
    county_news = make_column(county, "崆峒要闻", "ktyw", show_on_home=True)
    return Cluster(
        cast=cast,
        main=main,
        main_news=main_news,
        main_dept_news=main_dept_news,
        dept=dept,
        dept_news=dept_news,
        dept_notices=dept_notices,
        county=county,
        county_news=county_news,
        dept_editor=cast.outsider,  # handler of 市文旅局
        dept_reviewer=make_staff("wl_reviewer", "冯审核", cast.outsider_unit, ["reviewer"]),
        main_editor=make_staff("info_editor", "何编辑", cast.city_info_office, ["handler"]),
        main_reviewer=make_staff("info_reviewer", "吕审核", cast.city_info_office, ["reviewer"]),
        county_editor=make_staff("kt_editor", "秦编辑", cast.county_a_gov, ["handler"]),
        county_reviewer=cast.county_reviewer,
    )


def draft(editor: User, site: Site, column: Column, title: str, body: str = "", **values: Any) -> Item:
    return services.item_create(
        actor=editor,
        site=site,
        values={
            "kind": "article",
            "column": column,
            "title": title,
            "body": body or f"{title}的正文。",
            **values,
        },
    )


def publish(
    editor: User, reviewer: User, site: Site, column: Column, title: str, body: str = "", **values: Any
) -> Item:
    item = draft(editor, site, column, title, body, **values)
    services.item_submit(actor=editor, item=item)
    services.item_approve(actor=reviewer, item=item)
    item.refresh_from_db()
    return item
