"""Deadline arithmetic speed: due_at / warning_at over 100,000 random starts, next to plain date addition.

The deadline sweep evaluates 100,000 running timed steps in under 10 s; the calendar arithmetic must be a
small part of that. This script measures, in one run on one machine:

* baseline: ``start + timedelta(days=n)`` (plain date addition, no calendar),
* ``due_at`` for working-day, natural-day and hour limits, with and without a stopped clock,
* ``warning_at`` (one working day before the due date),
* what the deadline sweep computes per step: due date, warning and red-card moments, and the state,
* a naive day-by-day loop over ``chinese_calendar.is_workday`` (what a first implementation would do),

and prints microseconds per call and the ratio to the baseline. Usage::

    .venv/bin/python bench/deadline_math.py [--n 100000]
"""

from __future__ import annotations

import argparse
import os
import random
import sys
import time
from collections.abc import Callable
from datetime import date, datetime, timedelta
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "zhengwu.settings")
os.environ.setdefault("ZHENGWU_DATA_DIR", "/tmp/zw-bench-deadline")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--n", type=int, default=100_000, help="random starts (default 100,000)")
    parser.add_argument("--seed", type=int, default=20261122)
    args = parser.parse_args()

    import django

    django.setup()
    from django.db import connection
    from django.test.utils import setup_test_environment

    setup_test_environment()
    # A fresh database (in memory for SQLite) with the calendar table and a few 2027 holidays entered by hand.
    connection.creation.create_test_db(verbosity=0, autoclobber=True, serialize=False)
    import chinese_calendar

    from zhengwu.workdays.calendar import (
        SHANGHAI,
        Limit,
        StoppedPeriod,
        StopReason,
        calendar_cache_clear,
        deadline_state,
        due_at,
        red_card_at,
        warning_at,
    )
    from zhengwu.workdays.models import CalendarDay

    for day in range(1, 8):
        CalendarDay.objects.create(date=date(2027, 10, day), is_workday=False, name="国庆节")
    calendar_cache_clear()

    rng = random.Random(args.seed)
    n = args.n
    base = datetime(2024, 1, 1, tzinfo=SHANGHAI)
    span = int((datetime(2027, 10, 31, tzinfo=SHANGHAI) - base).total_seconds())
    starts = [base + timedelta(seconds=rng.randrange(span)) for _ in range(n)]
    amounts = [rng.randint(1, 60) for _ in range(n)]
    wd = [Limit.working_days(a) for a in amounts]
    nd = [Limit.natural_days(a) for a in amounts]
    hours = [Limit.hours(a) for a in amounts]
    stops = [
        [
            StoppedPeriod(
                s + timedelta(days=2), s + timedelta(days=2 + rng.randint(0, 20)), StopReason.SUPPLEMENT
            )
        ]
        for s in starts
    ]
    one_wd = Limit.working_days(1)

    # Warm the calendar for every year touched (built once per process, then kept in memory).
    due_at(base, Limit.working_days(1))
    due_at(datetime(2027, 12, 1, tzinfo=SHANGHAI), Limit.working_days(60))

    def timed(label: str, fn: Callable[[], object], count: int) -> float:
        best = float("inf")
        for _ in range(3):
            t0 = time.perf_counter()
            fn()
            best = min(best, time.perf_counter() - t0)
        return best

    results: list[tuple[str, float, int]] = []

    def baseline() -> None:
        for s, a in zip(starts, amounts, strict=True):
            s + timedelta(days=a)

    results.append(("baseline: start + timedelta(days=n)", timed("baseline", baseline, n), n))

    def wd_run() -> None:
        for s, limit in zip(starts, wd, strict=True):
            due_at(s, limit)

    results.append(("due_at, working days", timed("wd", wd_run, n), n))

    def nd_run() -> None:
        for s, limit in zip(starts, nd, strict=True):
            due_at(s, limit)

    results.append(("due_at, natural days", timed("nd", nd_run, n), n))

    def h_run() -> None:
        for s, limit in zip(starts, hours, strict=True):
            due_at(s, limit)

    results.append(("due_at, hours", timed("h", h_run, n), n))

    def stop_run() -> None:
        for s, limit, st in zip(starts, wd, stops, strict=True):
            due_at(s, limit, st)

    results.append(("due_at, working days + one stopped clock", timed("stop", stop_run, n), n))

    dues = [due_at(s, limit) for s, limit in zip(starts, wd, strict=True)]

    def warn_run() -> None:
        for d in dues:
            warning_at(d, one_wd)

    results.append(("warning_at, 1 working day before", timed("warn", warn_run, n), n))

    now = datetime(2026, 11, 22, 10, tzinfo=SHANGHAI)
    three_wd = Limit.working_days(3)

    def sweep_run() -> None:
        for s, limit in zip(starts, wd, strict=True):
            due = due_at(s, limit)
            deadline_state(now, due=due, warning=warning_at(due, one_wd), red=red_card_at(due, three_wd))

    results.append(("sweep arithmetic: due, warning, red, state", timed("sweep", sweep_run, n), n))

    naive_n = min(n, 10_000)

    def naive_run() -> None:
        for s, a in zip(starts[:naive_n], amounts[:naive_n], strict=True):
            d = s.date()
            left = a
            while left:
                d += timedelta(days=1)
                try:
                    work = chinese_calendar.is_workday(d)
                except NotImplementedError:
                    work = d.weekday() < 5
                if work:
                    left -= 1

    results.append(("naive day-by-day chinese_calendar loop", timed("naive", naive_run, naive_n), naive_n))

    base_per_call = results[0][1] / results[0][2]
    print(f"deadline arithmetic over {n:,} random starts in 2024–2027 (limits 1–60), best of 3")
    print(f"{'what':44} {'total':>10} {'per call':>10} {'× baseline':>11}")
    for label, seconds, count in results:
        per_call = seconds / count
        total = per_call * n
        note = "" if count == n else f"  (measured on {count:,}, total scaled to {n:,})"
        print(
            f"{label:44} {total * 1000:8.1f}ms {per_call * 1e6:8.2f}µs {per_call / base_per_call:10.1f}×{note}"
        )
    sweep = next(s for label, s, _c in results if label.startswith("sweep"))
    print(f"sweep budget: 100,000 steps in < 10 s; calendar arithmetic uses {sweep / 10 * 100:.2f}% of it")
    connection.creation.destroy_test_db(connection.settings_dict["NAME"], verbosity=0)


if __name__ == "__main__":
    main()
