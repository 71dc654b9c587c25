"""Monthly site scoring (政务网站量化打分): the measurements behind the published, editable rules.

- timeliness (栏目更新及时): the share of a site's active columns that listed a new item within
  ``days`` days before the end of the month, times the rule's points;
- links (无错链断链): a link checker over the site's published files — every link into the published
  tree must name a file that exists — minus ``per_link`` points for each broken one;
- replies (留言办理答复率): reserved for the citizen-interaction subsystem; inactive until it exists.
"""

from __future__ import annotations

import datetime as dt
import re
from dataclasses import dataclass
from decimal import ROUND_HALF_UP, Decimal
from pathlib import Path
from typing import Any

from django.conf import settings
from django.utils import timezone

from zhengwu.portal.models import Column, Placement, PlacementState, ScoringRule, Site

_HREF = re.compile(r'(?:href|src)="(/site/[^"#?]*)')


def month_end(month: dt.date) -> dt.datetime:
    """The first moment of the next month, in the platform's time zone."""
    nxt = dt.date(month.year + (month.month == 12), month.month % 12 + 1, 1)
    return dt.datetime(nxt.year, nxt.month, 1, tzinfo=timezone.get_current_timezone())


@dataclass
class BrokenLink:
    page: str
    link: str


def broken_links(site: Site, *, limit: int = 200) -> tuple[int, list[BrokenLink]]:
    """Links in the site's published pages that point into the tree at nothing (count, first ones)."""
    root = Path(settings.PUBLISH_ROOT)
    folder = root / "site" / site.code
    if not folder.is_dir():
        return 0, []
    found: list[BrokenLink] = []
    count = 0
    seen: dict[str, bool] = {}
    for page in sorted(folder.rglob("*.html")):
        text = page.read_text(encoding="utf-8", errors="replace")
        for link in set(_HREF.findall(text)):
            target = link + "index.html" if link.endswith("/") else link
            if target not in seen:
                seen[target] = (root / target.lstrip("/")).is_file()
            if not seen[target]:
                count += 1
                if len(found) < limit:
                    found.append(BrokenLink(str(page.relative_to(root)), link))
    return count, found


def _points(value: float) -> Decimal:
    return Decimal(str(value)).quantize(Decimal("0.1"), rounding=ROUND_HALF_UP)


def score_site(site: Site, rules: list[ScoringRule], month: dt.date) -> tuple[Decimal, dict[str, Any]]:
    end = min(month_end(month), timezone.now())
    total = Decimal("0")
    details: dict[str, Any] = {}
    for rule in rules:
        if rule.code == "timeliness":
            days = int(rule.params.get("days", 30))
            columns = list(Column.objects.filter(site=site, is_active=True).values_list("pk", flat=True))
            fresh = set(
                Placement.objects.filter(
                    column_id__in=columns,
                    state=PlacementState.LISTED,
                    listed_at__gte=end - dt.timedelta(days=days),
                    listed_at__lt=end,
                ).values_list("column_id", flat=True)
            )
            share = len(fresh) / len(columns) if columns else 0.0
            points = _points(rule.weight * share)
            stale = list(
                Column.objects.filter(pk__in=set(columns) - fresh).values_list("name", flat=True)[:20]
            )
            details[rule.code] = {
                "points": str(points),
                "columns": len(columns),
                "updated": len(fresh),
                "stale": stale,
            }
        elif rule.code == "links":
            per_link = float(rule.params.get("per_link", 2))
            count, sample = broken_links(site, limit=20)
            points = _points(max(0.0, rule.weight - per_link * count))
            details[rule.code] = {
                "points": str(points),
                "broken": count,
                "sample": [{"page": b.page, "link": b.link} for b in sample],
            }
        else:
            continue
        total += points
    return total, details
