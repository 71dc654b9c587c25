"""Public article and column pages: static files under nginx vs our dynamic render vs Wagtail.

Targets (../shared/TARGETS.md): a public page served as a static file ≥ 0.9× nginx on a plain file; the
same page rendered by the application ≥ 5× Wagtail uncached (same data, same server settings); bulk
publishing ≥ 10× Wagtail's page creation rate, static pages and search index included.

One run, one machine, wrk -t2 -c64 (``--threads``/``--connections``), ``--seconds`` per row:

* **limit**: nginx serving one article's HTML as a plain file (``alias``, no ``try_files``);
* **static**: nginx serving the published tree with the production configuration of ADR 0006 — the same
  article, then spread over the articles of the sample;
* **ours, dynamic**: the same pages rendered on each request by the application's own render path
  (``publishing.render_item`` / ``render_column``, the code that writes the files) through the whole
  Django stack and middleware, under gunicorn with 2 sync workers;
* **Wagtail**: the same articles (same titles, bodies, dates) in a Wagtail project (``wagtail start``
  plus an article and a column page type) under the same gunicorn settings, uncached.

The cluster holds ``--items`` articles (default 300,000 in 600 columns), built once into ``--data-dir``
and reused; its static tree holds every column, block, feed and home page and the item pages of the
sample below (``--all-pages`` writes all of them; otherwise their time is extrapolated from the measured
rate). Wagtail creates pages slowly, so it holds a representative subset — ``--wagtail-items``
articles of the first ``--wagtail-columns`` columns (default 20,000 in 100, the TARGETS anchor) — created
through its page API and timed; dynamic and Wagtail loads request those same articles at random. Wagtail
lives only in a bench venv (``var/bench/wagtail-venv``), never in the project's environment.

Usage::

    .venv/bin/python bench/portal_pages.py                                   # full size
    .venv/bin/python bench/portal_pages.py --items 20000 --columns 100 --wagtail-items 2000 --seconds 5
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

import _portal_seed as seed
import _portal_serve as serve
import _portal_wagtail as wagtail

ROOT = Path(__file__).resolve().parent.parent

BENCH_SETTINGS = """\
from zhengwu.settings import *  # noqa: F403

ROOT_URLCONF = "bench_urls"
"""

BENCH_URLS = '''\
"""The application's own render path on request, for the benchmark (the public is served files)."""
from django.http import Http404, HttpResponse
from django.urls import include, path

from zhengwu.portal import publishing
from zhengwu.portal.models import Column


def item(request, code, item_id):
    html = publishing.render_item(item_id)
    if html is None:
        raise Http404
    return HttpResponse(html)


def column(request, code, slug):
    column_id = Column.objects.filter(site__code=code, slug=slug).values_list("pk", flat=True).first()
    html = publishing.render_column(column_id) if column_id else None
    if html is None:
        raise Http404
    return HttpResponse(html)


urlpatterns = [
    path("live/<slug:code>/art/<int:item_id>.html", item),
    path("live/<slug:code>/<slug:slug>/", column),
    path("", include("zhengwu.urls")),
]
'''


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--items", type=int, default=300_000)
    parser.add_argument("--columns", type=int, default=600)
    parser.add_argument("--wagtail-items", type=int, default=20_000)
    parser.add_argument("--wagtail-columns", type=int, default=100)
    parser.add_argument("--seconds", type=int, default=20, help="wrk duration of each row")
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--connections", type=int, default=64)
    parser.add_argument("--data-dir", default="/tmp/zw-bench-portal")
    parser.add_argument(
        "--all-pages",
        action="store_true",
        help="write every item page when building (default: the sample's, the rest extrapolated)",
    )
    parser.add_argument("--wagtail-venv", default=str(ROOT / "var" / "bench" / "wagtail-venv"))
    args = parser.parse_args()

    serve.ensure_packages("wrk", "nginx")
    data_dir = Path(args.data_dir)
    seed.setup(str(data_dir))
    from django.conf import settings

    sample_spec = None if args.all_pages else (args.wagtail_items, args.wagtail_columns)
    ours = seed.ensure(str(data_dir), args.items, args.columns, page_sample=sample_spec)
    sample = seed.article_sample(args.wagtail_items, args.wagtail_columns)
    columns = sorted({a["column"] for a in sample})
    print(f"sample: {len(sample):,} articles in {len(columns)} columns (served by every contender)")

    # --- Wagtail: its own venv and project, loaded once with the same articles ----------------------
    python = wagtail.venv(Path(args.wagtail_venv))
    wt_dir = data_dir / "wagtail"
    wt_marker = wt_dir / "loaded.json"
    key = {"items": args.items, "columns": args.columns, "sample": len(sample), "first": sample[0]["id"]}
    loaded = json.loads(wt_marker.read_text()) if wt_marker.exists() else None
    if loaded is None or loaded.get("key") != key:
        print(f"wagtail: creating {len(sample):,} pages through its page API ({wagtail.WAGTAIL}) …")
        wagtail.project(python, wt_dir)
        loaded = wagtail.load(python, wt_dir, sample) | {"key": key}
        wt_marker.write_text(json.dumps(loaded))
    else:
        print(f"wagtail: reusing the project in {wt_dir} ({loaded['pages']:,} pages)")
    wt_rate = loaded["pages"] / loaded["seconds"]
    rates = loaded["rates"]
    trend = f" (from {rates[0]:.0f}/s to {rates[-1]:.0f}/s per 1,000)" if len(rates) > 1 else ""

    # --- Servers ------------------------------------------------------------------------------------
    run = data_dir / "run"
    shutil.rmtree(run, ignore_errors=True)
    run.mkdir(parents=True)
    publish_root = Path(settings.PUBLISH_ROOT)
    first = sample[0]
    plain = run / "plain"
    plain.mkdir()
    shutil.copyfile(publish_root / "site" / "pl" / "art" / f"{first['id']}.html", plain / "article.html")
    app_dir = run / "app"
    app_dir.mkdir()
    (app_dir / "bench_settings.py").write_text(BENCH_SETTINGS)
    (app_dir / "bench_urls.py").write_text(BENCH_URLS)
    app_env = {
        "PATH": os.environ["PATH"],
        "ZHENGWU_DATA_DIR": str(data_dir),
        "DJANGO_SETTINGS_MODULE": "bench_settings",
        "PYTHONPATH": f"{app_dir}:{ROOT}",
        "DEBUG": "0",
        "LOG_LEVEL": "WARNING",
    }
    nginx, nginx_port = serve.nginx(run / "nginx", publish_root, plain)
    app, app_port = serve.gunicorn(
        ROOT / ".venv" / "bin" / "python", "zhengwu.wsgi:application", env=app_env, cwd=str(ROOT),
        log=run / "app.log",
    )  # fmt: skip
    wt, wt_port = serve.gunicorn(
        python, "wtbench.wsgi:application", env=wagtail.env(wt_dir), cwd=str(wt_dir), log=run / "wagtail.log"
    )
    article_static = [f"/site/pl/art/{a['id']}.html" for a in sample]
    article_live = [f"/live/pl/art/{a['id']}.html" for a in sample]
    column_static = [f"/site/pl/{c}/" for c in columns]
    column_live = [f"/live/pl/{c}/" for c in columns]
    try:
        n_url, a_url, w_url = (f"http://127.0.0.1:{p}" for p in (nginx_port, app_port, wt_port))
        serve.wait_for(f"{n_url}/plain/article.html")
        serve.wait_for(f"{a_url}{article_live[0]}")
        serve.wait_for(f"{w_url}{loaded['articles'][0]}")
        same = (publish_root / "site" / "pl" / "art" / f"{first['id']}.html").read_bytes()
        import urllib.request

        with urllib.request.urlopen(f"{a_url}{article_live[0]}") as r:
            if r.read() != same:
                print("  NOTE: the dynamic render differs from the published file")

        def load(label: str, base: str, paths: list[str]) -> serve.Load:
            result = serve.wrk(
                base, paths, seconds=args.seconds, work_dir=run, threads=args.threads,
                connections=args.connections,
            )  # fmt: skip
            bad = (
                f"  ERRORS {result.errors} non-2xx {result.non2xx}" if result.errors or result.non2xx else ""
            )
            print(
                f"  {label:<44} {result.rps:>9,.0f} req/s   p50 {result.p50:7.1f} ms   "
                f"p95 {result.p95:7.1f} ms   p99 {result.p99:7.1f} ms{bad}",
                flush=True,
            )
            return result

        print(
            f"\nwrk -t{args.threads} -c{args.connections} -d{args.seconds}s; gunicorn 2 sync workers; "
            f"{os.cpu_count()} CPU cores shared by server and load"
        )
        print("article page")
        # The two nginx rows alternate (three times each, the median kept): on a shared machine a
        # single back-to-back pair mostly measures what else ran in those seconds.
        limits, ones = [], []
        for _round in range(3):
            limits.append(load("nginx, one plain file (the limit)", n_url, ["/plain/article.html"]))
            ones.append(load("nginx, the published page (same bytes)", n_url, [article_static[0]]))
        limit = sorted(limits, key=lambda r: r.rps)[1]
        static_one = sorted(ones, key=lambda r: r.rps)[1]
        print(f"  medians: plain file {limit.rps:,.0f} req/s, published page {static_one.rps:,.0f} req/s")
        static_many = load(f"nginx, published pages ({len(sample):,} at random)", n_url, article_static)
        dyn = load("ours, rendered per request", a_url, article_live)
        wt_article = load("Wagtail, uncached", w_url, loaded["articles"])
        print("column page (20 newest)")
        col_static = load(f"nginx, published column pages ({len(columns)})", n_url, column_static)
        col_dyn = load("ours, rendered per request", a_url, column_live)
        col_wt = load("Wagtail, uncached", w_url, loaded["columns"])
    finally:
        for server in (nginx, app, wt):
            server.stop()

    def verdict(ok: bool) -> str:
        return "OK" if ok else "MISSED"

    print("\nratios")
    r1 = static_one.rps / limit.rps
    print(f"  published page / plain file (nginx)        {r1:6.2f}×  (target ≥ 0.9×)  {verdict(r1 >= 0.9)}")
    print(f"  published pages at random / plain file     {static_many.rps / limit.rps:6.2f}×")
    r2 = dyn.rps / wt_article.rps
    print(f"  ours dynamic / Wagtail, article            {r2:6.1f}×  (target ≥ 5×)    {verdict(r2 >= 5)}")
    r3 = col_dyn.rps / col_wt.rps
    print(f"  ours dynamic / Wagtail, column             {r3:6.1f}×  (target ≥ 5×)    {verdict(r3 >= 5)}")
    print(f"  published page / Wagtail, article          {static_many.rps / wt_article.rps:6.0f}×")
    print(f"  published column / Wagtail, column         {col_static.rps / col_wt.rps:6.0f}×")
    print("\nbulk publishing")
    reused = " (measured when the data was built)" if ours.reused else ""
    print(
        f"  ours: {ours.items:,} items in {ours.bulk_seconds + ours.pages_seconds:,.0f} s = {ours.rate:,.0f} items/s"
        f" — database and search index {ours.bulk_seconds:,.0f} s, {ours.pages:,} static pages "
        f"{ours.pages_seconds:,.0f} s{reused}"
    )
    print(
        f"  Wagtail: {loaded['pages']:,} pages in {loaded['seconds']:,.0f} s = {wt_rate:,.1f} pages/s{trend}"
        f" (add_child, search index by its signal; no static files)"
    )
    r4 = ours.rate / wt_rate
    print(f"  ratio: {r4:,.0f}×  (target ≥ 10×)  {verdict(r4 >= 10)}")


if __name__ == "__main__":
    main()
