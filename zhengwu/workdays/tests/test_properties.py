"""Properties that hold for every start, limit and stop (hypothesis)."""

from __future__ import annotations

from datetime import date, datetime, timedelta

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from zhengwu.workdays.calendar import (
    SHANGHAI,
    Limit,
    LimitUnit,
    StoppedPeriod,
    StopReason,
    due_at,
    explain_due,
    working_days_between,
)

pytestmark = pytest.mark.django_db
SETTINGS = settings(
    max_examples=300, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)

starts = st.builds(
    lambda d, t: datetime.combine(d, t, tzinfo=SHANGHAI),
    st.dates(date(2024, 1, 1), date(2027, 12, 31)),
    st.times(),
)
units = st.sampled_from([LimitUnit.WORKING_DAY, LimitUnit.NATURAL_DAY, LimitUnit.HOUR])


@st.composite
def stops(draw: st.DrawFn, start: datetime) -> list[StoppedPeriod]:
    out = []
    for _ in range(draw(st.integers(0, 3))):
        begin = start + timedelta(hours=draw(st.integers(-100, 1500)))
        length = draw(st.one_of(st.none(), st.integers(0, 800)))
        end = None if length is None else begin + timedelta(hours=length)
        out.append(StoppedPeriod(begin, end, draw(st.sampled_from(StopReason.values))))
    return out


@SETTINGS
@given(start=starts, unit=units, a=st.integers(0, 120), b=st.integers(0, 120))
def test_it_never_ends_a_longer_limit_earlier(start: datetime, unit: str, a: int, b: int) -> None:
    low, high = sorted((a, b))
    assert due_at(start, Limit(low, unit)) <= due_at(start, Limit(high, unit))


@SETTINGS
@given(data=st.data(), start=starts, unit=units, n=st.integers(0, 60))
def test_it_never_lets_a_stop_bring_the_due_date_forward(
    data: st.DataObject, start: datetime, unit: str, n: int
) -> None:
    stopped = data.draw(stops(start))
    now = start + timedelta(days=90)
    assert due_at(start, Limit(n, unit), stopped, now=now) >= due_at(start, Limit(n, unit))
    assert explain_due(start, Limit(n, unit), stopped, now=now).due == due_at(
        start, Limit(n, unit), stopped, now=now
    )


@SETTINGS
@given(start=starts, n=st.integers(1, 250))
def test_it_counts_exactly_n_working_days_to_the_due_date(start: datetime, n: int) -> None:
    due = due_at(start, Limit(n, LimitUnit.WORKING_DAY))
    assert working_days_between(start.date(), due.date()) == n
    assert (due.hour, due.minute, due.second) == (23, 59, 59)


@SETTINGS
@given(data=st.data(), start=starts, n=st.integers(1, 60))
def test_it_lists_n_counted_days_and_moves_by_the_stopped_days(
    data: st.DataObject, start: datetime, n: int
) -> None:
    stopped = data.draw(stops(start))
    now = start + timedelta(days=90)
    explanation = explain_due(start, Limit(n, LimitUnit.WORKING_DAY), stopped, now=now)
    assert len(explanation.counted_days) == n
    plain = due_at(start, Limit(n, LimitUnit.WORKING_DAY))
    assert working_days_between(plain.date(), explanation.due.date()) == explanation.stopped_total
    assert len(explanation.stopped_days) == explanation.stopped_total
