"""Publish or withdraw → visible on the sub-site, on the main site's column and in search.

Target (../shared/TARGETS.md): < 2 s at 300,000 items. Over a cluster of ``--items`` published articles
(built once into ``--data-dir`` and reused, see _portal_seed.py), each round runs the real services:

1. a sub-site editor drafts and submits an article, the sub-site's reviewer approves it (publish);
   the clock runs from the approve call until nginx serves the article page and the sub-site column page
   lists it, and until the application's /search/ (gunicorn, 2 sync workers) finds its unique words;
2. the editor pushes it to the main site's 部门动态 column, the main site's reviewer accepts it; the clock
   runs from the accept call until nginx serves the main-site column page listing it;
3. the reviewer withdraws it (撤稿, with a reason); the clock runs until the article page is gone (404)
   and it has left the sub-site column, the main-site column and search.

Every check is an HTTP request, polled every 2 ms. Baseline measured in the same run: the same
requests against pages that are already up to date (what a poll costs when nothing has to change).

Usage::

    .venv/bin/python bench/portal_publish.py [--items 300000] [--columns 600] [--rounds 5]
"""

from __future__ import annotations

import argparse
import os
import random
import shutil
import statistics
import sys
import time
import urllib.error
import urllib.parse
import urllib.request
from collections.abc import Callable
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

import _portal_seed as seed
import _portal_serve as serve

ROOT = Path(__file__).resolve().parent.parent
TARGET = 2.0
RARE = "鑫淼焱垚犇骉麤毳猋羴赑"  # characters the generated articles never use


def fetch(url: str) -> tuple[int, str]:
    try:
        with urllib.request.urlopen(url, timeout=10) as r:
            return r.status, r.read().decode("utf-8")
    except urllib.error.HTTPError as e:
        return e.code, ""


def shows(url: str, text: str, present: bool = True) -> Callable[[], bool]:
    return lambda: (text in fetch(url)[1]) == present


def status(url: str, code: int) -> Callable[[], bool]:
    return lambda: fetch(url)[0] == code


def until(check: Callable[[], bool], timeout: float = 30.0) -> float:
    """Seconds until ``check()`` holds (polled every 2 ms)."""
    start = time.perf_counter()
    while not check():
        if time.perf_counter() - start > timeout:
            return float("inf")
        time.sleep(0.002)
    return time.perf_counter() - start


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--items", type=int, default=300_000)
    parser.add_argument("--columns", type=int, default=600)
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--data-dir", default="/tmp/zw-bench-portal")
    args = parser.parse_args()

    serve.ensure_packages("nginx")
    data_dir = Path(args.data_dir)
    seed.setup(str(data_dir))
    seed.ensure(str(data_dir), args.items, args.columns, page_sample=(0, 0))  # columns and homes
    from django.conf import settings

    from zhengwu.core.models import User
    from zhengwu.portal import services
    from zhengwu.portal.models import Column, Item, Placement, Site

    sub = Site.objects.get(code="wlj")
    sub_column = Column.objects.filter(site=sub).order_by("pk").first()
    push_column = Column.objects.get(site__code="pl", accepts_pushes=True)
    editor = User.objects.get(username="wl_editor")
    reviewer = User.objects.get(username="wl_reviewer")
    main_reviewer = User.objects.get(username="info_reviewer")
    assert sub_column is not None
    listed = Placement.objects.filter(column=sub_column, state="listed").count()
    pushed = Placement.objects.filter(column=push_column, state="listed").count()
    print(
        f"cluster: {Item.objects.count():,} items; sub-site column {sub.code}/{sub_column.slug} lists "
        f"{listed:,}, main-site column pl/{push_column.slug} lists {pushed:,}"
    )

    run = data_dir / "run-publish"
    shutil.rmtree(run, ignore_errors=True)
    (run / "plain").mkdir(parents=True)
    nginx, nginx_port = serve.nginx(run / "nginx", Path(settings.PUBLISH_ROOT), run / "plain")
    app, app_port = serve.gunicorn(
        ROOT / ".venv" / "bin" / "python",
        "zhengwu.wsgi:application",
        env={
            "PATH": os.environ["PATH"],
            "ZHENGWU_DATA_DIR": str(data_dir),
            "PYTHONPATH": str(ROOT),
            "DEBUG": "0",
            "LOG_LEVEL": "WARNING",
        },
        cwd=str(ROOT),
        log=run / "app.log",
    )
    n_url = f"http://127.0.0.1:{nginx_port}"
    a_url = f"http://127.0.0.1:{app_port}"
    sub_page = f"{n_url}/site/{sub.code}/{sub_column.slug}/"
    main_page = f"{n_url}/site/pl/{push_column.slug}/"
    rng = random.Random()
    timings: dict[str, list[float]] = {}
    baseline: list[float] = []

    def note(label: str, seconds: float) -> None:
        timings.setdefault(label, []).append(seconds)

    try:
        serve.wait_for(f"{n_url}/site/pl/")
        serve.wait_for(f"{a_url}/search/?q=%E5%B7%A5%E4%BD%9C")
        for n in range(args.rounds):
            word = "".join(rng.sample(RARE, 4))
            title = f"{word}专项检查工作部署会第{n + 1}次会议召开"
            item = services.item_create(
                actor=editor,
                site=sub,
                values={
                    "kind": "article",
                    "column": sub_column,
                    "title": title,
                    "body": f"{title}。会议要求……",
                },
            )
            services.item_submit(actor=editor, item=item)
            art = f"{n_url}/site/{sub.code}/art/{item.pk}.html"
            search_url = f"{a_url}/search/?q={urllib.parse.quote(word)}"
            t0 = time.perf_counter()
            services.item_approve(actor=reviewer, item=item)
            call = time.perf_counter() - t0
            note("publish: service call (approve)", call)
            note("publish → article page", call + until(status(art, 200)))
            note(
                "publish → sub-site column",
                time.perf_counter() - t0 + until(shows(sub_page, title)),
            )
            path = f"/site/{sub.code}/art/{item.pk}.html"
            note("publish → search", time.perf_counter() - t0 + until(shows(search_url, path)))
            # The same requests again, nothing left to change: the cost of one poll of each.
            t = time.perf_counter()
            fetch(art), fetch(sub_page), fetch(search_url)
            baseline.append(time.perf_counter() - t)

            item.refresh_from_db()
            placement = services.item_push(actor=editor, item=item, column=push_column)
            t0 = time.perf_counter()
            services.placement_approve(actor=main_reviewer, placement=placement)
            note(
                "push accepted → main-site column",
                time.perf_counter() - t0 + until(shows(main_page, title)),
            )

            item.refresh_from_db()
            t0 = time.perf_counter()
            services.item_withdraw(actor=reviewer, item=item, reason="error", note="基准测试撤稿")
            call = time.perf_counter() - t0
            note("withdraw: service call", call)
            note("withdraw → article page gone", call + until(status(art, 404)))
            note(
                "withdraw → off sub-site column",
                time.perf_counter() - t0 + until(shows(sub_page, title, present=False)),
            )
            note(
                "withdraw → off main-site column",
                time.perf_counter() - t0 + until(shows(main_page, title, present=False)),
            )
            note(
                "withdraw → out of search",
                time.perf_counter() - t0 + until(shows(search_url, path, present=False)),
            )
    finally:
        nginx.stop()
        app.stop()

    print(f"\n{args.rounds} rounds; seconds from the service call until an HTTP request shows the change")
    worst = 0.0
    for label, values in timings.items():
        high = max(values)
        if "service call" not in label:
            worst = max(worst, high)
        print(f"  {label:<36} median {statistics.median(values):6.3f} s   max {high:6.3f} s")
    base = statistics.median(baseline)
    print(f"baseline: the same three requests when nothing changes: {base * 1000:.1f} ms")
    print(
        f"worst publish/withdraw → visible: {worst:.3f} s = {worst / base:,.0f}× the baseline (target < {TARGET:.0f} s) "
        f"{'OK' if worst < TARGET else 'MISSED'}"
    )


if __name__ == "__main__":
    main()
