"""Demo portal (演示门户): the main site, a dozen department sub-sites, county portals, a topic site and
audience channels, their column trees and published items (small: ~2,000; seed: 300,000 in 600
columns). Registered as a step of `zhengwu demo` (zhengwu.core.demo)."""

from __future__ import annotations

import datetime as dt
import random
import shutil
from pathlib import Path
from typing import Any

from django.conf import settings
from django.db import transaction

from zhengwu.core.demo import DemoContext, DemoStep, register_step
from zhengwu.core.models import Unit, UnitKind, User
from zhengwu.portal import publishing, search, services
from zhengwu.portal.models import Column, Item, Placement, SearchEntry, Site, SiteKind

MAIN_CODE = "pl"
# (code, short name of the owning unit, site name)
DEPARTMENT_SITES = (
    ("wlj", "市文旅局", "平凉市文化和旅游局"),
    ("jyj", "市教育局", "平凉市教育局"),
    ("rsj", "市人社局", "平凉市人力资源和社会保障局"),
    ("mzj", "市民政局", "平凉市民政局"),
    ("czj", "市财政局", "平凉市财政局"),
    ("fgw", "市发改委", "平凉市发展和改革委员会"),
    ("zjj", "市住建局", "平凉市住房和城乡建设局"),
    ("jtj", "市交通局", "平凉市交通运输局"),
    ("nmj", "市农牧局", "平凉市农牧局"),
    ("scj", "市市场监管局", "平凉市市场监督管理局"),
    ("zwfw", "市政务服务中心", "平凉市政务服务中心"),
    ("zsj", "市招商局", "平凉市招商局"),
)
AUDIENCE_SITES = (("jm", "居民频道"), ("qy", "企业频道"), ("tz", "投资频道"), ("sn", "三农频道"))
TOPIC_SITES = (("yspl", "养生平凉"),)
SUB_COLUMNS = (
    ("gzdt", "工作动态", True),
    ("tzgg", "通知公告", True),
    ("zcwj", "政策文件", True),
    ("bszn", "办事指南", False),
)
MAIN_TREE: tuple[tuple[str, str, tuple[tuple[str, str], ...]], ...] = (
    ("yw", "平凉要闻", ()),
    (
        "zwgk",
        "政务公开",
        (("zcwj", "政策文件"), ("tzgg", "通知公告"), ("rsxx", "人事信息"), ("czyjs", "财政预决算")),
    ),
    ("bmdt", "部门动态", ()),
    ("xqdt", "县区动态", ()),
    ("bsfw", "办事服务", (("cjsfw", "场景式服务"), ("bmfw", "便民服务"))),
    ("zmhd", "政民互动", (("zxft", "在线访谈"), ("zjdc", "征集调查"))),
    ("spzx", "视频中心", ()),
    ("dzqk", "电子期刊", ()),
    ("wszs", "网上招商", ()),
)

TOPICS = (
    "乡村振兴", "营商环境", "政务公开", "行政审批制度改革", "安全生产", "生态环境保护", "文化旅游", "招商引资",
    "民生实事", "医疗保障", "就业创业", "教育均衡发展", "交通基础设施建设", "农业产业化", "电子政务",
    "养生平凉", "黄河流域生态保护", "城乡融合发展", "社会保障", "防汛抗旱",
)  # fmt: skip
ACTIONS = (
    "进一步压实工作责任", "加强统筹协调", "细化工作措施", "强化督查督办", "推进信息共享", "优化办事流程",
    "完善长效机制", "抓好问题整改", "加大宣传力度", "落实限时办结制度",
)  # fmt: skip
UNITS = ("市政府", "各县区政府", "市直各部门", "各乡镇", "市政务服务中心", "市信息化办公室")


def _sentence(rng: random.Random, topic: str, place: str) -> str:
    action = rng.choice(ACTIONS)
    n = rng.randint(3, 98)
    pct = rng.randint(2, 30)
    return rng.choice(
        (
            f"{place}召开{topic}工作推进会，安排部署下一阶段{topic}重点任务。",
            f"会议指出，{topic}是推动高质量发展的重要抓手，各县区、各部门要{action}。",
            f"会议要求，要坚持问题导向，{action}，确保{topic}各项任务落到实处。",
            f"截至目前，全市已完成{topic}相关项目{n}个，群众满意度同比提高{pct}个百分点。",
            f"{rng.choice(UNITS)}将{topic}纳入年度考核，实行月通报、季讲评。",
            f"下一步，{place}将围绕{topic}，{action}，持续提升服务水平。",
            f"各县区要结合实际制定{topic}实施方案，于{n % 12 + 1}月底前报市政府办公室。",
        )
    )


def _text(rng: random.Random, topic: str, place: str, chars: int) -> str:
    paragraphs: list[str] = []
    size = 0
    while size < chars:
        paragraph = "".join(_sentence(rng, topic, place) for _ in range(rng.randint(2, 4)))
        paragraphs.append(paragraph)
        size += len(paragraph)
    return "\n".join(paragraphs)


def _title(rng: random.Random, topic: str, place: str, year: int) -> str:
    return rng.choice(
        (
            f"{place}召开{topic}工作推进会",
            f"关于做好{year}年{topic}工作的通知",
            f"{place}{topic}取得新进展",
            f"{place}开展{topic}专项行动",
            f"{topic}：{place}多措并举见实效",
        )
    )


def _unit(short: str) -> Unit | None:
    return Unit.objects.filter(short_name=short).order_by("pk").first()


def _site(code: str, name: str, kind: str, unit: Unit, sort: int, **extra: Any) -> Site:
    return Site.objects.create(code=code, name=name, kind=kind, unit=unit, sort=sort, **extra)


def _main_columns(site: Site, scale: str) -> list[Column]:
    """Leaf columns of the main site: a small tree, or at seed scale 25 / 80 / 600 columns."""
    leaves: list[Column] = []
    if scale != "seed":
        for i, (slug, name, children) in enumerate(MAIN_TREE):
            top = Column.objects.create(
                site=site,
                name=name,
                slug=slug,
                sort=i,
                show_on_home=i < 5,
                accepts_pushes=slug in ("bmdt", "xqdt"),
            )
            if not children:
                leaves.append(top)
            for j, (child_slug, child_name) in enumerate(children):
                leaves.append(
                    Column.objects.create(site=site, parent=top, name=child_name, slug=child_slug, sort=j)
                )
        return leaves
    second = 0
    third = 0
    for i in range(25):
        top = Column.objects.create(
            site=site, name=f"{TOPICS[i % len(TOPICS)]}{i // len(TOPICS) or ''}", slug=f"c{i + 1}", sort=i,
            show_on_home=i < 6, accepts_pushes=i < 2,
        )  # fmt: skip
        for j in range(80 // 25 + (1 if i < 80 % 25 else 0)):
            second += 1
            mid = Column.objects.create(
                site=site, parent=top, name=f"{top.name}·{j + 1}", slug=f"c{i + 1}-{j + 1}", sort=j
            )
            for k in range(600 // 80 + (1 if second <= 600 % 80 else 0)):
                third += 1
                leaves.append(
                    Column.objects.create(
                        site=site,
                        parent=mid,
                        name=f"{mid.name}·{k + 1}",
                        slug=f"c{i + 1}-{j + 1}-{k + 1}",
                        sort=k,
                    )
                )
    return leaves


def build(ctx: DemoContext) -> dict[str, int]:
    rng = ctx.rng("portal")
    seed = ctx.scale == "seed"
    info = _unit("市信息办")
    admin_id = ctx.data.get("users", {}).get("sysadmin")
    actor = (
        User.objects.filter(pk=admin_id).first() if admin_id else User.objects.filter(kind="staff").first()
    )
    if info is None or actor is None:
        return {"sites": 0}
    main = _site(MAIN_CODE, "平凉市人民政府", SiteKind.MAIN, info, 0, description="平凉市人民政府门户网站")
    main_leaves = _main_columns(main, ctx.scale)
    sites = [main]
    sub_columns: dict[int, list[Column]] = {}
    order = 1
    plans: list[tuple[str, str, str, Unit | None, str]] = []
    for code, short, name in DEPARTMENT_SITES:
        plans.append((code, name, SiteKind.DEPARTMENT, _unit(short), "blue"))
    counties = (
        Unit.objects.filter(kind=UnitKind.GOVERNMENT, level="county")
        .select_related("region")
        .order_by("path")
    )
    for county in counties:
        plans.append((f"x{county.region.code[-2:]}", county.name, SiteKind.COUNTY, county, "red"))
    for code, name in TOPIC_SITES:
        plans.append((code, name, SiteKind.TOPIC, _unit("市文旅局"), "green"))
    for code, name in AUDIENCE_SITES:
        plans.append((code, name, SiteKind.AUDIENCE, info, "grey"))
    for code, name, kind, unit, theme in plans:
        if unit is None:
            continue
        site = _site(code, name, kind, unit, order, theme=theme)
        order += 1
        sites.append(site)
        sub_columns[site.pk] = [
            Column.objects.create(site=site, name=cname, slug=slug, sort=i, show_on_home=home)
            for i, (slug, cname, home) in enumerate(SUB_COLUMNS)
        ]
    per_column = 500 if seed else 40
    per_sub_column = 0 if seed else 15
    chars = 1600 if seed else 360
    now = ctx.now
    rows: list[dict[str, Any]] = []

    def row(site: Site, column: Column, i: int, place: str) -> dict[str, Any]:
        topic = rng.choice(TOPICS)
        when = now - dt.timedelta(minutes=rng.randint(10, 60 * 24 * 365))
        return {
            "site": site,
            "column": column,
            "kind": "article",
            "title": _title(rng, topic, place, when.year),
            "body": _text(rng, topic, place, chars),
            "source": site.name,
            "published_at": when,
            "display_date": when.date(),
        }

    for column in main_leaves:
        for i in range(per_column):
            rows.append(row(main, column, i, rng.choice(UNITS)))
    for site in sites[1:]:
        for column in sub_columns.get(site.pk, []):
            for i in range(per_sub_column):
                rows.append(row(site, column, i, site.name))
    rows.sort(key=lambda r: r["published_at"])  # list order follows publishing time, as it would live
    published = 0
    batch = 5000
    for start in range(0, len(rows), batch):
        ids = services.items_bulk_publish(
            actor=actor, rows=rows[start : start + batch], note="演示门户 / demo portal", regenerate=not seed
        )
        published += len(ids)
    pushed = 0
    if not seed:
        # A share of the sub-sites' news is listed on the main site's 部门动态 / 县区动态 (报送到主站).
        targets = {c.slug: c for c in main_leaves}
        news = Item.objects.filter(site__in=sites[1:], column__slug="gzdt").select_related("site")
        placements = []
        for item in news:
            if rng.random() < 0.3:
                column = targets["xqdt"] if item.site.kind == SiteKind.COUNTY else targets["bmdt"]
                placements.append(
                    Placement(
                        item=item,
                        column=column,
                        site=main,
                        kind="pushed",
                        state="listed",
                        listed_at=item.published_at,
                        requested_by=actor,
                        reviewed_by=actor,
                        reviewed_at=item.published_at,
                    )
                )
        Placement.objects.bulk_create(placements, batch_size=1000)
        from zhengwu.portal.models import SearchScope

        SearchScope.objects.bulk_create(
            [SearchScope(entry_id=p.item_id, site=main, column=p.column) for p in placements], batch_size=1000
        )
        pushed = len(placements)
    if seed:
        ctx.log(
            "  门户页面请用 `zhengwu manage portal_publish` 生成 / generate the pages with portal_publish"
        )
    columns = Column.objects.filter(site__in=sites).count()
    return {"sites": len(sites), "columns": columns, "items": published, "pushed": pushed}


def reset(ctx: DemoContext) -> dict[str, int]:
    codes = [MAIN_CODE, *(c for c, _s, _n in DEPARTMENT_SITES), *(c for c, _n in TOPIC_SITES)]
    codes += [c for c, _n in AUDIENCE_SITES]
    sites = list(
        Site.objects.filter(code__in=codes) | Site.objects.filter(kind=SiteKind.COUNTY, code__startswith="x")
    )
    if not sites:
        return {"sites": 0}
    items = Item.objects.filter(site__in=sites)
    if SearchEntry.objects.exclude(site__in=sites).exists():
        for entry in SearchEntry.objects.filter(item__in=items).select_related("version"):
            search.index_erase(entry.item_id, entry.version.data)
    else:
        search.index_clear()
    SearchEntry.objects.filter(item__in=items).delete()
    Placement.objects.filter(item__in=items).delete()
    Placement.objects.filter(site__in=sites).delete()
    Item.objects.filter(pk__in=items).update(live_version=None, submitted_version=None)
    n_items, _ = items.delete()
    for depth in (3, 2, 1):
        Column.objects.filter(site__in=sites, depth=depth).delete()
    codes = [s.code for s in sites]
    Site.objects.filter(pk__in=[s.pk for s in sites]).delete()

    def remove_files() -> None:
        base = Path(settings.PUBLISH_ROOT) / "site"
        for code in codes:
            shutil.rmtree(base / code, ignore_errors=True)
        publishing.regenerate({publishing.Target("cluster", 0)})

    transaction.on_commit(remove_files)
    return {"sites": len(codes), "rows": n_items}


register_step(DemoStep("portal", "门户网站群 / portal site cluster", build, reset))
