"""Periods, cutoffs and the period open at a time (specs/plan.md §8.1)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from hypothesis import given
from hypothesis import strategies as st

from verifier.errors import VerificationError
from verifier.plan.errors import PeriodError
from verifier.plan.periods import (
    Period,
    calendar_year,
    cutoff,
    is_valid_period,
    next_period,
    parse_period,
    parse_time,
    period_open_at,
)


def fmt(t: datetime) -> str:
    # strftime's %Y does not pad years below 1000 on every platform.
    return f"{t.year:04d}-{t.month:02d}-{t.day:02d}T{t.hour:02d}:{t.minute:02d}:{t.second:02d}Z"


@pytest.mark.parametrize(
    ("period", "expected"),
    [
        ("2026-01a", "2026-01-14T00:00:00Z"),
        ("2026-01b", "2026-01-28T00:00:00Z"),
        ("2026-02b", "2026-02-28T00:00:00Z"),
        ("2024-02b", "2024-02-28T00:00:00Z"),
        ("2026-12a", "2026-12-14T00:00:00Z"),
        ("0001-01a", "0001-01-14T00:00:00Z"),
        ("9999-12b", "9999-12-28T00:00:00Z"),
    ],
)
def test_cutoff(period: str, expected: str) -> None:
    assert cutoff(period) == expected
    assert parse_period(period).id == period
    assert str(parse_period(period)) == period


@pytest.mark.parametrize(
    ("time", "expected"),
    [
        ("2026-01-01T00:00:00Z", "2026-01a"),
        ("2026-01-13T23:59:59Z", "2026-01a"),
        # The cutoff itself is not "after" t: at the cutoff the next period is open.
        ("2026-01-14T00:00:00Z", "2026-01b"),
        ("2026-01-14T00:00:01Z", "2026-01b"),
        ("2026-01-27T23:59:59Z", "2026-01b"),
        ("2026-01-28T00:00:00Z", "2026-02a"),
        ("2026-01-31T23:59:59Z", "2026-02a"),
        ("2026-02-28T00:00:00Z", "2026-03a"),
        ("2024-02-29T12:00:00Z", "2024-03a"),
        ("2026-12-28T00:00:00Z", "2027-01a"),
        ("2026-12-31T23:59:59Z", "2027-01a"),
        ("9999-12-27T23:59:59Z", "9999-12b"),
    ],
)
def test_period_open_at(time: str, expected: str) -> None:
    assert period_open_at(time) == expected


@pytest.mark.parametrize(
    ("period", "expected"),
    [
        ("2026-01a", "2026-01b"),
        ("2026-01b", "2026-02a"),
        ("2026-11b", "2026-12a"),
        ("2026-12b", "2027-01a"),
        ("0001-01a", "0001-01b"),
    ],
)
def test_next_period(period: str, expected: str) -> None:
    assert next_period(period) == expected
    assert next_period(parse_period(period)) == expected


def test_no_period_after_year_9999() -> None:
    with pytest.raises(PeriodError, match="9999"):
        next_period("9999-12b")
    with pytest.raises(PeriodError, match="9999"):
        period_open_at("9999-12-28T00:00:00Z")


@pytest.mark.parametrize(
    "text",
    [
        "2026-1a",
        "2026-001a",
        "26-01a",
        "2026-13a",
        "2026-00b",
        "2026-01c",
        "2026-01A",
        "2026-01",
        "2026-01ab",
        " 2026-01a",
        "2026-01a\n",
        "0000-01a",
        "\uff12026-01a",  # a full-width digit
        "2026/01a",
        "",
    ],
)
def test_bad_period_ids(text: str) -> None:
    assert not is_valid_period(text)
    with pytest.raises(PeriodError) as caught:
        parse_period(text)
    assert isinstance(caught.value, VerificationError)


@pytest.mark.parametrize("value", [202601, None, b"2026-01a", ["2026-01a"]])
def test_period_of_wrong_type(value: object) -> None:
    with pytest.raises(PeriodError, match="found"):
        parse_period(value)


@pytest.mark.parametrize(
    "text",
    [
        "2026-02-30T00:00:00Z",
        "2026-01-01T24:00:00Z",
        "2026-01-01T00:00:60Z",
        "2026-01-01T00:00:00+00:00",
        "2026-01-01T00:00:00z",
        "2026-01-01 00:00:00Z",
        "2026-01-01T00:00:00.5Z",
        "2026-01-01",
        "0000-01-01T00:00:00Z",
    ],
)
def test_bad_times(text: str) -> None:
    with pytest.raises(PeriodError, match="YYYY-MM-DDTHH:MM:SSZ"):
        period_open_at(text)


def test_parse_time_is_utc() -> None:
    assert parse_time("2026-03-14T01:02:03Z") == datetime(2026, 3, 14, 1, 2, 3, tzinfo=UTC)


def test_period_fields_are_checked() -> None:
    with pytest.raises(PeriodError, match="month"):
        Period(2026, 13, "a")
    with pytest.raises(PeriodError, match="half"):
        Period(2026, 1, "c")
    with pytest.raises(PeriodError, match="year"):
        Period(0, 1, "a")


def test_periods_order_as_time() -> None:
    ids = ["2025-12b", "2026-01a", "2026-01b", "2026-02a", "2026-10a", "2026-12b"]
    periods = [parse_period(p) for p in ids]
    assert sorted(reversed(periods)) == periods
    assert [calendar_year(p) for p in ids] == [2025, 2026, 2026, 2026, 2026, 2026]


times = st.datetimes(min_value=datetime(1, 1, 1), max_value=datetime(9999, 12, 27, 23, 59, 59)).map(
    lambda t: t.replace(microsecond=0, tzinfo=UTC)
)


@given(times)
def test_open_period_is_the_first_cutoff_after_t(t: datetime) -> None:
    p = parse_period(period_open_at(fmt(t)))
    assert p.cutoff_datetime > t
    # The period before it (if any) had its cutoff at or before t.
    previous = _previous(p)
    if previous is not None:
        assert previous.cutoff_datetime <= t


@given(times)
def test_cutoffs_open_the_next_period(t: datetime) -> None:
    p = parse_period(period_open_at(fmt(t)))
    if p.id == "9999-12b":
        return
    assert period_open_at(p.cutoff) == next_period(p)
    last_second = parse_time(p.cutoff) - timedelta(seconds=1)
    assert period_open_at(fmt(last_second)) == p.id
    assert parse_period(next_period(p)) > p


def _previous(p: Period) -> Period | None:
    if p.half == "b":
        return Period(p.year, p.month, "a")
    if p.month > 1:
        return Period(p.year, p.month - 1, "b")
    if p.year > 1:
        return Period(p.year - 1, 12, "b")
    return None
