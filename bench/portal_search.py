"""Chinese full-text search at 300,000 items: latency, recall, relevance cost, index build time.

Targets (../shared/TARGETS.md): recall ≥ 99% of the ``LIKE`` ground truth on words inside longer text;
p95 < 50 ms at 300,000 items; relevance ordering never worse than linear in the number of hits.

Over a cluster of ``--items`` published articles (~1,600 characters each; built once into
``--data-dir`` and reused, see _portal_seed.py), on SQLite by default or on PostgreSQL with
``--database postgres://…`` (a database of its own, dropped and rebuilt when it does not hold the data):

* **latency**: ``search.search()`` (what /search/ runs: parse with rjieba, read the newest window of
  matches with the filters, rank, load the entries, highlight and cut snippets) for 1–3-word queries,
  page 1 by relevance, p50/p95; baselines in the same run: the bare index statement alone (the
  query's tokens, the newest WINDOW rows, nothing else) and the unbounded statement that ranks every
  hit, best 20 by bm25 (ts_rank) — what relevance over all hits costs;
* **recall**: every hit set against ``LIKE '%word%'`` over the plain text of every live article (the
  ground truth), summed over the queries; precision alongside;
* **relevance cost**: time of a relevance-ordered page against the number of hits, per hit;
* **index build**: the whole full-text index written again from the live versions (what bulk
  publishing does per batch), against indexing the same unsegmented text raw (unicode61 / to_tsvector
  'simple'), the default of a general-purpose CMS, which finds almost no Chinese words.

Usage::

    .venv/bin/python bench/portal_search.py [--items 300000] [--repeat 5]
    .venv/bin/python bench/portal_search.py --database postgres://postgres@127.0.0.1:5432/zw_bench_search
"""

from __future__ import annotations

import argparse
import random
import statistics
import sys
import time
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))

import _portal_seed as seed

TARGET_P95_MS = 50.0
TARGET_RECALL = 0.99

# Words of the articles' vocabulary, cut the way a reader types them, and pieces that straddle the
# generator's own word boundaries (县区 inside 各县区, 务公 never typed but 政务公开 …).
WORDS = [
    "乡村振兴", "营商环境", "政务公开", "行政审批", "审批制度", "安全生产", "生态环境", "文化旅游", "招商引资",
    "民生实事", "医疗保障", "就业创业", "均衡发展", "交通基础设施", "农业产业化", "电子政务", "黄河流域",
    "城乡融合", "社会保障", "防汛抗旱", "县区", "统筹协调", "督查督办", "信息共享", "办事流程", "长效机制",
    "问题整改", "宣传力度", "限时办结", "季讲评", "月通报", "满意度", "百分点", "推进会", "重点任务",
    "高质量发展", "问题导向", "落到实处", "实施方案", "市政府办公室", "年度考核", "服务水平", "专项行动",
    "多措并举", "新进展", "信息化办公室", "乡镇", "抓手", "市直各部门", "文化和旅游局",
]  # fmt: skip


def percentile(values: list[float], p: int) -> float:
    return statistics.quantiles(values, n=100, method="inclusive")[p - 1] if len(values) > 1 else values[0]


def make_queries(n: int) -> list[str]:
    rng = random.Random("zhengwu-bench-search")
    queries: list[str] = []
    for i in range(n):
        words = 1 + i % 3
        queries.append(" ".join(rng.sample(WORDS, words)))
    return queries


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--items", type=int, default=300_000)
    parser.add_argument("--columns", type=int, default=600)
    parser.add_argument("--queries", type=int, default=60)
    parser.add_argument("--repeat", type=int, default=5)
    parser.add_argument("--database", default="", help="postgres://… (default: SQLite in the data dir)")
    parser.add_argument("--data-dir", default="/tmp/zw-bench-portal")
    parser.add_argument("--skip-build", action="store_true", help="skip the index build measurement")
    parser.add_argument(
        "--unbounded-repeat",
        type=int,
        default=None,
        help="runs of the every-hit ranking per query (default --repeat; it takes seconds a query at 300,000 items)",
    )
    parser.add_argument("--only-build", action="store_true", help="measure the index build only")
    args = parser.parse_args()

    seed.setup(args.data_dir, args.database or None)
    seed.ensure(args.data_dir, args.items, args.columns, pages=False)
    from django.db import connection

    from zhengwu.portal import search
    from zhengwu.portal.models import Item

    pg = connection.vendor == "postgresql"
    live = Item.objects.exclude(live_version=None).count()
    print(f"database: {connection.vendor}; {live:,} live items")

    def raw_query(q: str) -> list[int]:
        """The unbounded relevance statement: every hit ranked, best 20 (what the search did before)."""
        phrases = search.parse_query(q)
        with connection.cursor() as cur:
            if pg:
                cur.execute(
                    f"SELECT item_id FROM {search.PG_TABLE} WHERE doc @@ %s::tsquery "
                    "ORDER BY ts_rank(doc, %s::tsquery) DESC LIMIT 20",
                    [search.pg_tsquery(phrases)] * 2,
                )
            else:
                cur.execute(
                    f"SELECT rowid FROM {search.FTS_TABLE} WHERE {search.FTS_TABLE} MATCH %s "
                    f"ORDER BY bm25({search.FTS_TABLE}, {search.TITLE_WEIGHT}, 1.0) LIMIT 20",
                    [search.fts5_match(phrases)],
                )
            return [r[0] for r in cur.fetchall()]

    def window_query(q: str) -> list[int]:
        """The bare index statement the search runs: the newest WINDOW matching rows, nothing else."""
        phrases = search.parse_query(q)
        with connection.cursor() as cur:
            if pg:
                cur.execute(
                    f"SELECT item_id FROM {search.PG_TABLE} WHERE doc @@ %s::tsquery ORDER BY id DESC LIMIT %s",
                    [search.pg_tsquery(phrases), search.WINDOW],
                )
            else:
                cur.execute(
                    f"SELECT rowid FROM {search.FTS_TABLE} WHERE {search.FTS_TABLE} MATCH %s "
                    "ORDER BY rowid DESC LIMIT %s",
                    [search.fts5_match(phrases), search.WINDOW],
                )
            return [r[0] for r in cur.fetchall()]

    def hit_set(q: str) -> set[int]:
        phrases = search.parse_query(q)
        with connection.cursor() as cur:
            if pg:
                cur.execute(
                    f"SELECT DISTINCT item_id FROM {search.PG_TABLE} WHERE doc @@ %s::tsquery",
                    [search.pg_tsquery(phrases)],
                )
            else:
                cur.execute(
                    f"SELECT DISTINCT rowid / 1000 FROM {search.FTS_TABLE} WHERE {search.FTS_TABLE} MATCH %s",
                    [search.fts5_match(phrases)],
                )
            return {r[0] for r in cur.fetchall()}

    if not args.only_build:
        measure_queries(args, connection, search, (raw_query, window_query), hit_set, live)
    if not args.skip_build:
        measure_build(connection, search, live, pg)


def measure_queries(args: Any, connection: Any, search: Any, baselines: Any, hit_set: Any, live: int) -> None:
    from django.db import transaction

    raw_query, window_query = baselines

    from zhengwu.portal.models import ItemVersion

    # --- Latency --------------------------------------------------------------------------------------
    queries = make_queries(args.queries)
    ours: list[float] = []
    raw: list[float] = []
    bare: list[float] = []
    per_query: list[tuple[str, int, float, float]] = []
    capped = 0
    for q in queries:
        search.search(q)
        window_query(q)
        n_hits = len(hit_set(q))  # every hit, counted once outside the timings
        times_ours, times_raw = [], []
        for _ in range(args.repeat):
            t = time.perf_counter()
            page = search.search(q)
            times_ours.append((time.perf_counter() - t) * 1000)
            t = time.perf_counter()
            window_query(q)
            bare.append((time.perf_counter() - t) * 1000)
        for _ in range(args.repeat if args.unbounded_repeat is None else args.unbounded_repeat):
            t = time.perf_counter()
            raw_query(q)
            times_raw.append((time.perf_counter() - t) * 1000)
        capped += page.capped
        ours.extend(times_ours)
        raw.extend(times_raw)
        per_query.append((q, n_hits, statistics.median(times_ours), statistics.median(times_raw or [0.0])))
    print(f"\nlatency: {len(queries)} queries of 1–3 words × {args.repeat}, page 1 by relevance")
    print(
        f"  window: the newest {search.WINDOW:,} matching rows; {capped} of {len(queries)} queries filled it"
    )
    p50, p95 = percentile(ours, 50), percentile(ours, 95)
    b50, b95 = percentile(bare, 50), percentile(bare, 95)
    r50, r95 = (percentile(raw, 50), percentile(raw, 95)) if raw else (float("nan"), float("nan"))
    print(
        f"  search.search()                 p50 {p50:8.1f} ms   p95 {p95:8.1f} ms   max {max(ours):8.1f} ms"
    )
    print(
        f"  raw window statement (baseline) p50 {b50:8.1f} ms   p95 {b95:8.1f} ms   max {max(bare):8.1f} ms"
    )
    print(
        f"  raw match, every hit ranked     p50 {r50:8.1f} ms   p95 {r95:8.1f} ms   max {max(raw or [float('nan')]):8.1f} ms"
    )
    print(
        f"  ratio p95 ours / raw window: {p95 / b95:.1f}×; ours / every hit ranked: {p95 / r95:.2f}×; "
        f"target p95 < {TARGET_P95_MS:.0f} ms: {'OK' if p95 < TARGET_P95_MS else 'MISSED'}"
    )
    slow = sorted(per_query, key=lambda x: -x[2])[:5]
    print("  slowest: " + "; ".join(f"{q} ({n:,} hits, {t:.0f} ms)" for q, n, t, _r in slow))

    # --- Relevance cost against hits --------------------------------------------------------------
    print("\nrelevance ordering cost by number of hits (median of the runs above)")
    buckets: dict[int, list[tuple[int, float]]] = {}
    for _q, n, t, _r in per_query:
        if n:
            buckets.setdefault(len(str(n)), []).append((n, t))
    per_hit: list[float] = []
    for digits in sorted(buckets):
        rows = buckets[digits]
        hits = statistics.median(n for n, _ in rows)
        ms = statistics.median(t for _, t in rows)
        per_hit.append(ms * 1000 / hits)
        print(
            f"  {10 ** (digits - 1):>8,}+ hits: {len(rows):3} queries, median {hits:>9,.0f} hits, {ms:8.1f} ms, {ms * 1000 / hits:8.2f} µs per hit"
        )
    big = [(n, t) for _q, n, t, _r in per_query if n >= 1000]
    if len(big) >= 2:
        small_n, small_t = min(big)
        large_n, large_t = max(big)
        growth = (large_t / small_t) / (large_n / small_n)
        print(
            f"  {small_n:,} → {large_n:,} hits ({large_n / small_n:.0f}× the hits): {large_t / small_t:.1f}× the time "
            f"— {'no worse than linear' if growth <= 1.2 else 'WORSE than linear'}"
        )

    # --- Recall against LIKE --------------------------------------------------------------------------
    print("\nrecall against LIKE over the plain text of every live article")
    t = time.perf_counter()
    with transaction.atomic(), connection.cursor() as cur:
        cur.execute("CREATE TEMPORARY TABLE bench_text (item_id integer PRIMARY KEY, body text)")
        batch: list[tuple[int, str]] = []
        versions = ItemVersion.objects.filter(item__live_version=models_f("pk")).values_list(
            "item_id", "data"
        )
        for item_id, data in versions.iterator(chunk_size=2000):
            title, body = search.text_of(data)
            batch.append((item_id, search._normalise(f"{title}\n{body}")))
            if len(batch) == 2000:
                cur.executemany("INSERT INTO bench_text VALUES (%s, %s)", batch)
                batch = []
        if batch:
            cur.executemany("INSERT INTO bench_text VALUES (%s, %s)", batch)
        print(f"  plain text of {live:,} articles loaded in {time.perf_counter() - t:.0f} s")
        found = expected = extra = 0
        like_seconds = 0.0
        misses: list[str] = []
        for q in queries[: max(10, args.queries // 2)]:
            words = [p.text for p in search.parse_query(q)]
            where = " AND ".join(["body LIKE %s"] * len(words))
            t = time.perf_counter()
            cur.execute(f"SELECT item_id FROM bench_text WHERE {where}", [f"%{w}%" for w in words])
            truth = {r[0] for r in cur.fetchall()}
            like_seconds += time.perf_counter() - t
            hits = hit_set(q)
            found += len(truth & hits)
            expected += len(truth)
            extra += len(hits - truth)
            if truth - hits:
                misses.append(f"{q}: {len(truth - hits)} of {len(truth)}")
        cur.execute("DROP TABLE bench_text")
    recall = found / expected if expected else 1.0
    precision = found / (found + extra) if found + extra else 1.0
    n_recall = max(10, args.queries // 2)
    print(
        f"  {n_recall} queries: {expected:,} LIKE hits, {found:,} found → recall {recall:.2%}, precision {precision:.2%} "
        f"(target ≥ {TARGET_RECALL:.0%}: {'OK' if recall >= TARGET_RECALL else 'MISSED'})"
    )
    print(f"  LIKE itself took {like_seconds / n_recall * 1000:,.0f} ms per query")
    if misses:
        print("  missed: " + "; ".join(misses[:5]))


def measure_build(connection: Any, search: Any, live: int, pg: bool) -> None:
    from django.db import transaction

    from zhengwu.portal.models import ItemVersion

    # --- Index build --------------------------------------------------------------------------------
    print("\nindex build: the whole full-text index written again from the live versions")
    rows: list[tuple[int, dict[str, Any]]] = []
    with transaction.atomic():
        t = time.perf_counter()
        search.index_clear()
        parts = 0
        versions = ItemVersion.objects.filter(item__live_version=models_f("pk")).values_list(
            "item_id", "data"
        )
        for item_id, data in versions.iterator(chunk_size=2000):
            rows.append((item_id, data))
            if len(rows) == 2000:
                parts += search.index_write_many(rows)
                rows = []
        if rows:
            parts += search.index_write_many(rows)
        ours_build = time.perf_counter() - t
    print(f"  ours (bigram tokens, {parts:,} rows): {ours_build:,.0f} s = {live / ours_build:,.0f} items/s")
    with transaction.atomic(), connection.cursor() as cur:
        t = time.perf_counter()
        if pg:
            cur.execute("CREATE TEMPORARY TABLE bench_raw (id integer PRIMARY KEY, doc tsvector)")
            cur.execute("CREATE INDEX bench_raw_gin ON bench_raw USING gin (doc)")
            insert = "INSERT INTO bench_raw VALUES (%s, to_tsvector('simple', %s))"
        else:
            cur.execute("CREATE VIRTUAL TABLE temp.bench_raw USING fts5(title, body, content='')")
            insert = "INSERT INTO bench_raw (rowid, title, body) VALUES (%s, %s, %s)"
        batch_raw: list[tuple[Any, ...]] = []
        versions = ItemVersion.objects.filter(item__live_version=models_f("pk")).values_list(
            "item_id", "data"
        )
        for item_id, data in versions.iterator(chunk_size=2000):
            title, body = search.text_of(data)
            batch_raw.append((item_id, f"{title} {body}") if pg else (item_id, title, body))
            if len(batch_raw) == 2000:
                cur.executemany(insert, batch_raw)
                batch_raw = []
        if batch_raw:
            cur.executemany(insert, batch_raw)
        raw_build = time.perf_counter() - t
        cur.execute("DROP TABLE bench_raw")
    print(
        f"  baseline (raw text, {'to_tsvector simple' if pg else 'FTS5 unicode61'}, no Chinese words): {raw_build:,.0f} s"
    )
    print(f"  ratio: {ours_build / raw_build:.1f}× the raw index build")


def models_f(name: str) -> Any:
    from django.db.models import F

    return F(name)


if __name__ == "__main__":
    main()
