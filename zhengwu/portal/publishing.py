"""Static publishing (静态发布): published pages as plain files under settings.PUBLISH_ROOT.

Layout (served at the same paths by the application, nginx or any file server)::

    site/index.html                       the site cluster directory
    site/_assets/site.css                 the stylesheet, copied in so the tree stands alone
    site/<code>/index.html                a site's home page (column blocks, latest items)
    site/<code>/sitemap.xml               sitemap index: one sitemap per column
    site/<code>/art/<item id>.html        an item page
    site/<code>/<column>/index.html       a column's newest PAGE_SIZE items
    site/<code>/<column>/list_<b>.html    block b of the column, counted from the oldest item
    site/<code>/<column>/rss.xml          the column's feed
    site/<code>/<column>/sitemap.xml      the column's own item pages

Column pages are numbered from the oldest item (block b holds list positions b*PAGE_SIZE …), and an
item's list position never changes while it stays listed. So publishing a new item rewrites only the
column's head page and its last two blocks, editing an item rewrites only its own block, and only a
withdrawal rewrites the blocks after the withdrawn item. Each change regenerates just the pages that
depend on it, after the transaction commits, under one lock; files are replaced atomically (temp file
+ os.replace) and only when their bytes change. Every target is re-derived from the database, so a
repeated or stale request is harmless.
"""

from __future__ import annotations

import fcntl
import logging
import os
import re
import tempfile
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from django.conf import settings
from django.db import transaction
from django.template.loader import get_template
from django.utils import translation

logger = logging.getLogger(__name__)

PAGE_SIZE = 20
HOME_BLOCK_SIZE = 8
FEED_SIZE = 20
SITEMAP_LIMIT = 50_000
ASSETS = Path(__file__).resolve().parent / "static" / "portal"


@dataclass(frozen=True)
class Target:
    """Something to regenerate: an item page, a column (from a list position, or only the block holding
    it when ``single``), a site's home page, a whole site, or the cluster directory."""

    kind: str
    id: int
    ordinal: int | None = None
    single: bool = False


@dataclass
class Report:
    written: list[str] = field(default_factory=list)
    deleted: list[str] = field(default_factory=list)


_state = threading.local()


def root() -> Path:
    return Path(settings.PUBLISH_ROOT)


def request(*targets: Target) -> None:
    """Regenerate these targets once the current transaction commits (at once outside one)."""
    pending: set[Target] = getattr(_state, "pending", None) or set()
    pending.update(targets)
    _state.pending = pending
    transaction.on_commit(_flush, robust=True)


def _flush() -> None:
    pending: set[Target] = getattr(_state, "pending", None) or set()
    _state.pending = set()
    if pending:
        regenerate(pending)


@contextmanager
def _locked() -> Iterator[None]:
    base = root()
    base.mkdir(parents=True, exist_ok=True)
    with open(base / ".publish.lock", "a+") as handle:
        fcntl.flock(handle, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(handle, fcntl.LOCK_UN)


class _Writer:
    """Writes files for one regeneration run, caching templates and per-site context for the run."""

    def __init__(self) -> None:
        self.base = root()
        self.report = Report()
        self._templates: dict[str, Any] = {}
        self._contexts: dict[int, dict[str, Any]] = {}
        self._columns: dict[int, Any] = {}

    def render(self, template: str, context: dict[str, Any]) -> str:
        compiled = self._templates.get(template)
        if compiled is None:
            compiled = self._templates[template] = get_template(template)
        with translation.override(settings.LANGUAGE_CODE):
            return str(compiled.render(context))

    def site_context(self, site: Any) -> dict[str, Any]:
        if site.pk not in self._contexts:
            self._contexts[site.pk] = _base_context(site)
        return self._contexts[site.pk]

    def column(self, column_id: int) -> Any:
        from zhengwu.portal.models import Column

        if column_id not in self._columns:
            self._columns[column_id] = (
                Column.objects.select_related("site__unit", "parent__parent").filter(pk=column_id).first()
            )
        return self._columns[column_id]

    def write(self, rel: str, content: str) -> None:
        path = self.base / rel
        data = content.encode("utf-8")
        try:
            if path.read_bytes() == data:
                return
        except FileNotFoundError:
            pass
        path.parent.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=".tmp-")
        try:
            with os.fdopen(fd, "wb") as handle:
                handle.write(data)
            os.chmod(tmp, 0o644)
            os.replace(tmp, path)
        except BaseException:
            Path(tmp).unlink(missing_ok=True)
            raise
        self.report.written.append(rel)

    def delete(self, rel: str) -> None:
        path = self.base / rel
        try:
            path.unlink()
        except FileNotFoundError:
            return
        self.report.deleted.append(rel)


# --- Reading what to show -------------------------------------------------------------------------


@dataclass
class Row:
    title: str
    url: str
    date: Any
    kind_label: str
    source_site: str
    summary: str
    published_at: Any


def _rows(qs: Any) -> list[Row]:
    """List rows of placements, read as plain values in one query (no model instances: a column block
    is 20 rows, and a whole-site rebuild writes tens of thousands of blocks)."""
    from zhengwu.portal.models import ItemKind

    kinds = dict(ItemKind.choices)
    rows = []
    values = qs.values_list(
        "item__search_entry__title",
        "item__search_entry__url",
        "item__search_entry__date",
        "item__search_entry__kind",
        "item__site_id",
        "item__site__name",
        "site_id",
        "item__search_entry__summary",
        "item__search_entry__published_at",
    )
    for title, url, date, kind, item_site_id, item_site_name, site_id, summary, published_at in values:
        if url is None:
            continue  # no search entry: not live any more
        rows.append(
            Row(
                title=title,
                url=url,
                date=date,
                kind_label=str(kinds.get(kind, "")),
                source_site=item_site_name if item_site_id != site_id else "",
                summary=summary,
                published_at=published_at,
            )
        )
    return rows


def _listed(column_id: int) -> Any:
    from zhengwu.portal.models import Placement, PlacementState

    return Placement.objects.filter(column_id=column_id, state=PlacementState.LISTED)


def _nav(site: Any) -> list[Any]:
    return list(site.columns.filter(parent__isnull=True, is_active=True).order_by("sort", "id"))


def _crumbs(column: Any) -> list[Any]:
    chain = []
    node = column
    while node is not None:
        chain.append(node)
        node = node.parent
    return list(reversed(chain))


def _base_context(site: Any) -> dict[str, Any]:
    from zhengwu.portal.models import Site, SiteKind

    if site.kind == SiteKind.MAIN and site.is_active:
        main = site
    else:
        main = Site.objects.filter(kind=SiteKind.MAIN, is_active=True).first()
    return {"site": site, "nav": _nav(site), "main_site": main, "public_url": settings.PUBLIC_BASE_URL}


# --- Writing pages --------------------------------------------------------------------------------


def _site_dir(site: Any) -> str:
    return f"site/{site.code}"


def write_items(w: _Writer, item_ids: list[int]) -> None:
    """Item pages (or their removal), loaded in chunks so a whole-site rebuild stays a few queries."""
    from zhengwu.portal.models import Item, SearchEntry

    for start in range(0, len(item_ids), 500):
        chunk = item_ids[start : start + 500]
        items = Item.objects.select_related("site__unit", "live_version").in_bulk(chunk)
        entries = SearchEntry.objects.in_bulk(chunk)
        for item_id in chunk:
            item = items.get(item_id)
            if item is None:
                continue
            rel = f"{_site_dir(item.site)}/art/{item.pk}.html"
            page = _item_page(w, item, entries.get(item_id))
            if page is None:
                w.delete(rel)
            else:
                w.write(rel, page)


def _item_page(w: _Writer, item: Any, entry: Any) -> str | None:
    """The HTML of an item's page, or None when it has none (not live, its site closed, a link)."""
    from zhengwu.portal.models import ItemKind

    if item.live_version is None or entry is None or not item.site.is_active:
        return None
    data = item.live_version.data
    if data.get("kind") == ItemKind.LINK:
        return None  # the list links straight to the outside address
    column = w.column(entry.column_id)
    services = []
    for line in (data.get("services") or "").splitlines():
        name, _sep, url = line.partition("|")
        if name.strip():
            services.append({"name": name.strip(), "url": url.strip()})
    context = w.site_context(item.site) | {
        "item": item,
        "data": data,
        "entry": entry,
        "column": column,
        "crumbs": _crumbs(column) if column else [],
        "kind_label": str(ItemKind(data.get("kind", "article")).label),
        "services": services,
        "validity_label": _validity_label(data.get("validity", "")),
        "is_video_file": bool(re.search(r"\.(mp4|webm|ogg)(\?|$)", data.get("media_url") or "", re.I)),
    }
    return w.render("portal/site/item.html", context)


def render_item(item_id: int) -> str | None:
    """An item page rendered on request: the bytes ``write_items`` writes to its file (for a preview
    or a dynamic fallback; the public is served the file)."""
    from zhengwu.portal.models import Item, SearchEntry

    # One query for the item, its version, site, unit, search entry and column chain.
    item = (
        Item.objects.select_related("site__unit", "live_version", "search_entry__column__parent__parent")
        .filter(pk=item_id)
        .first()
    )
    if item is None:
        return None
    w = _Writer()
    try:
        entry = item.search_entry
    except SearchEntry.DoesNotExist:
        return None
    if entry.column.site_id == item.site_id:
        entry.column.site = item.site
        w._columns[entry.column_id] = entry.column
    return _item_page(w, item, entry)


def _validity_label(value: str) -> str:
    from zhengwu.portal.models import Validity

    return str(Validity(value).label) if value in Validity.values else ""


def _block_name(b: int) -> str:
    return f"list_{b}.html"


def write_column(
    w: _Writer,
    column_id: int,
    *,
    from_block: int | None = None,
    singles: set[int] | None = None,
    append: bool = False,
    full: bool = False,
) -> None:
    """The head page, the requested blocks, the feed and the sitemap of one column."""
    from zhengwu.portal.models import Column

    column = Column.objects.select_related("site__unit", "parent__parent").filter(pk=column_id).first()
    if column is None:
        return
    folder = f"{_site_dir(column.site)}/{column.slug}"
    if not column.is_active or not column.site.is_active:
        for rel in _existing(folder, "*.html") + _existing(folder, "*.xml"):
            w.delete(rel)
        return
    listed = _listed(column.pk)
    base, newest, head = _column_head(w, column, listed)
    w.write(f"{folder}/index.html", head)
    blocks = base["blocks"]
    wanted: set[int] = set(singles or ())
    if full:
        wanted |= set(range(blocks))
    if append:
        wanted |= set(range(max(0, blocks - 2), blocks))
    if from_block is not None:
        wanted |= set(range(from_block, blocks))
    for b in sorted(x for x in wanted if 0 <= x < blocks):
        rows = list(reversed(_rows(listed.order_by("listed_at", "id")[b * PAGE_SIZE : (b + 1) * PAGE_SIZE])))
        newer = _block_name(b + 1) if b + 1 < blocks else "index.html"
        w.write(
            f"{folder}/{_block_name(b)}",
            w.render(
                "portal/site/column.html",
                base
                | {
                    "rows": rows,
                    "older": _block_name(b - 1) if b > 0 else None,
                    "newer": newer,
                    "head": False,
                    "block": b,
                    "first_date": rows[-1].date if rows else None,
                    "last_date": rows[0].date if rows else None,
                },
            ),
        )
    for rel in _existing(folder, "list_*.html"):
        match = re.search(r"list_(\d+)\.html$", rel)
        if match and int(match.group(1)) >= blocks:
            w.delete(rel)
    feed_rows = newest[:FEED_SIZE]
    w.write(f"{folder}/rss.xml", w.render("portal/site/rss.xml", base | {"rows": feed_rows}))
    own = listed.filter(item__site_id=column.site_id).order_by("-listed_at", "-id")[:SITEMAP_LIMIT]
    w.write(f"{folder}/sitemap.xml", w.render("portal/site/sitemap.xml", base | {"rows": _rows(own)}))


def _column_head(w: _Writer, column: Any, listed: Any) -> tuple[dict[str, Any], list[Row], str]:
    """The context shared by a column's pages, its newest rows and the HTML of its head page."""
    total = listed.count()
    blocks = -(-total // PAGE_SIZE)
    base = w.site_context(column.site) | {
        "column": column,
        "crumbs": _crumbs(column),
        "children": list(column.children.filter(is_active=True).order_by("sort", "id")),
        "total": total,
        "blocks": blocks,
    }
    newest = _rows(listed.order_by("-listed_at", "-id")[:PAGE_SIZE])
    older = _block_name((total - PAGE_SIZE - 1) // PAGE_SIZE) if total > PAGE_SIZE else None
    head = w.render(
        "portal/site/column.html", base | {"rows": newest, "older": older, "newer": None, "head": True}
    )
    return base, newest, head


def render_column(column_id: int) -> str | None:
    """A column's head page (its newest items) rendered on request, as ``write_column`` writes it."""
    from zhengwu.portal.models import Column

    column = Column.objects.select_related("site__unit", "parent__parent").filter(pk=column_id).first()
    if column is None or not column.is_active or not column.site.is_active:
        return None
    return _column_head(_Writer(), column, _listed(column.pk))[2]


def _existing(folder: str, pattern: str) -> list[str]:
    base = root()
    path = base / folder
    if not path.is_dir():
        return []
    return [str(p.relative_to(base)) for p in path.glob(pattern)]


def write_home(w: _Writer, site_id: int) -> None:
    from zhengwu.portal.models import Placement, PlacementState, Site, SiteKind

    site = Site.objects.filter(pk=site_id).first()
    if site is None:
        return
    folder = _site_dir(site)
    if not site.is_active:
        w.delete(f"{folder}/index.html")
        return
    blocks = []
    for column in site.columns.filter(show_on_home=True, is_active=True).order_by("depth", "sort", "id"):
        rows = _rows(_listed(column.pk).order_by("-listed_at", "-id")[:HOME_BLOCK_SIZE])
        blocks.append({"column": column, "rows": rows})
    latest = _rows(
        Placement.objects.filter(site=site, state=PlacementState.LISTED).order_by("-listed_at", "-id")[:10]
    )
    directory: list[dict[str, Any]] = []
    if site.kind == SiteKind.MAIN:
        others = Site.objects.filter(is_active=True).exclude(pk=site.pk).order_by("sort", "id")
        for kind, label in SiteKind.choices:
            members = [s for s in others if s.kind == kind]
            if members:
                directory.append({"label": label, "sites": members})
    from zhengwu.portal.models import SiteScore

    has_ranking = site.kind == SiteKind.MAIN and SiteScore.objects.exists()
    context = w.site_context(site) | {
        "blocks": blocks,
        "latest": latest,
        "directory": directory,
        "has_ranking": has_ranking,
    }
    w.write(f"{folder}/index.html", w.render("portal/site/home.html", context))
    columns = list(site.columns.filter(is_active=True).order_by("sort", "id"))
    w.write(
        f"{folder}/sitemap.xml", w.render("portal/site/sitemap_index.xml", context | {"columns": columns})
    )


def write_ranking(w: _Writer, site_id: int) -> None:
    """网站绩效评估排名: the latest month's scores of every site and the rules they were scored by."""
    from zhengwu.portal.models import ScoringRule, Site, SiteScore

    site = Site.objects.select_related("unit").filter(pk=site_id).first()
    if site is None:
        return
    latest = SiteScore.objects.order_by("-month").values_list("month", flat=True).first()
    scores = list(SiteScore.objects.filter(month=latest).select_related("site")) if latest else []
    rules = list(ScoringRule.objects.filter(is_active=True))
    context = w.site_context(site) | {"month": latest, "scores": scores, "rules": rules, "ranking": True}
    w.write(f"{_site_dir(site)}/ranking/index.html", w.render("portal/site/ranking.html", context))


def write_cluster(w: _Writer) -> None:
    from zhengwu.portal.models import Site, SiteKind

    sites = list(Site.objects.filter(is_active=True).order_by("sort", "id"))
    groups = []
    for kind, label in SiteKind.choices:
        members = [s for s in sites if s.kind == kind]
        if members:
            groups.append({"label": label, "sites": members})
    main = next((s for s in sites if s.kind == SiteKind.MAIN), None)
    w.write("site/index.html", w.render("portal/site/cluster.html", {"groups": groups, "main_site": main}))


def write_assets(w: _Writer) -> None:
    for name in ("site.css", "site.js"):
        w.write(f"site/_assets/{name}", (ASSETS / name).read_text(encoding="utf-8"))


def _site_items(site_id: int) -> Iterator[int]:
    from zhengwu.portal.models import Item

    qs = Item.objects.filter(site_id=site_id).exclude(live_version=None).order_by("pk")
    yield from qs.values_list("pk", flat=True).iterator(chunk_size=2000)


def regenerate(targets: set[Target] | list[Target]) -> Report:
    """Write (or delete) every page the targets stand for. Returns the files touched."""
    from zhengwu.portal.models import Column, Item

    targets = set(targets)
    items: set[int] = set()
    homes: set[int] = set()
    columns: dict[int, dict[str, Any]] = {}
    cluster = False
    rankings: set[int] = set()

    def column_wants(cid: int) -> dict[str, Any]:
        return columns.setdefault(cid, {"from": None, "append": False, "singles": set(), "full": False})

    for t in targets:
        if t.kind == "site":
            homes.add(t.id)
            cluster = True
            for cid in Column.objects.filter(site_id=t.id).values_list("pk", flat=True):
                column_wants(cid)["full"] = True
            items.update(_site_items(t.id))
            # Items that left the site's pages (withdrawn) lose their files too.
            items.update(Item.objects.filter(site_id=t.id, live_version=None).values_list("pk", flat=True))
        elif t.kind == "cluster":
            cluster = True
        elif t.kind == "ranking":
            rankings.add(t.id)
        elif t.kind == "item":
            items.add(t.id)
        elif t.kind == "home":
            homes.add(t.id)
        elif t.kind == "column":
            wants = column_wants(t.id)
            if t.ordinal is None:
                wants["append"] = True
            elif t.single:
                wants["singles"].add(t.ordinal // PAGE_SIZE)
            else:
                # From the block holding the position to the end; a position opening a block also
                # changes the block before it (its "newer" link now points here, or back to index).
                b = t.ordinal // PAGE_SIZE - (1 if t.ordinal and t.ordinal % PAGE_SIZE == 0 else 0)
                wants["from"] = b if wants["from"] is None else min(wants["from"], b)
    writer = _Writer()
    with _locked():
        write_assets(writer)
        write_items(writer, sorted(items))
        for cid, wants in sorted(columns.items()):
            write_column(
                writer,
                cid,
                from_block=wants["from"],
                singles=wants["singles"],
                append=wants["append"],
                full=wants["full"],
            )
        for site_id in sorted(homes):
            write_home(writer, site_id)
        for site_id in sorted(rankings):
            write_ranking(writer, site_id)
        if cluster:
            write_cluster(writer)
    if writer.report.written or writer.report.deleted:
        logger.info(
            "published %d file(s), removed %d", len(writer.report.written), len(writer.report.deleted)
        )
    return writer.report


def rebuild(site_ids: list[int] | None = None) -> Report:
    """Regenerate whole sites (all when none are named) and the cluster directory."""
    from zhengwu.portal.models import Site

    ids = site_ids if site_ids is not None else list(Site.objects.values_list("pk", flat=True))
    return regenerate({Target("site", sid) for sid in ids} | {Target("cluster", 0)})
