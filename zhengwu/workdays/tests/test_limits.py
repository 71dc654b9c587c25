"""Time limits written the short way (20wd / 15d / 24h) and back."""

from __future__ import annotations

import pytest

from zhengwu.workdays.calendar import Limit, LimitUnit


@pytest.mark.parametrize(
    ("text", "amount", "unit"),
    [
        ("20wd", 20, LimitUnit.WORKING_DAY),
        ("15d", 15, LimitUnit.NATURAL_DAY),
        ("24h", 24, LimitUnit.HOUR),
        ("0wd", 0, LimitUnit.WORKING_DAY),
    ],
)
def test_it_parses_and_prints_the_short_form(text: str, amount: int, unit: str) -> None:
    limit = Limit.parse(text)
    assert (limit.amount, limit.unit) == (amount, unit)
    assert str(limit) == text
    assert Limit.parse(str(limit)) == limit


def test_it_reads_chinese_units_and_prints_chinese_labels() -> None:
    assert Limit.parse("20个工作日") == Limit.working_days(20)
    assert Limit.parse(" 15天 ") == Limit.natural_days(15)
    assert Limit.parse("24小时") == Limit.hours(24)
    assert Limit.working_days(20).label == "20个工作日"
    assert Limit.natural_days(15).label == "15个自然日"
    assert Limit.hours(24).label == "24小时"


@pytest.mark.parametrize("text", ["", "wd", "20", "20w", "-3wd", "2.5d", "20 weeks", "100000wd"])
def test_it_refuses_unreadable_limits_with_a_chinese_message(text: str) -> None:
    with pytest.raises(ValueError, match="期限"):
        Limit.parse(text)


def test_it_refuses_a_bad_unit_or_amount() -> None:
    with pytest.raises(ValueError, match="期限单位无效"):
        Limit(3, "week")
    with pytest.raises(ValueError, match="0 到 9999"):
        Limit(-1, LimitUnit.HOUR)
