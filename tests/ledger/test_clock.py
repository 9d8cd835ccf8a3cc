"""The simulated clock: stands still, moves only forward, and resolves --clock settings."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from ledger.clock import ClockError, SimulatedClock, parse_duration, resolve_setting


def test_a_simulated_clock_stands_still_and_moves_forward() -> None:
    clock = SimulatedClock("2025-03-01T09:00:00Z")
    assert clock() == datetime(2025, 3, 1, 9, tzinfo=UTC)
    assert clock() == clock()
    clock.advance("+1d6h30m")
    assert clock.text == "2025-03-02T15:30:00Z"
    clock.advance(timedelta(seconds=30))
    assert clock.text == "2025-03-02T15:30:30Z"
    clock.set("2025-03-02T15:30:30Z")  # standing still is allowed
    clock.set(datetime(2025, 4, 1, tzinfo=UTC))
    assert clock.text == "2025-04-01T00:00:00Z"


def test_a_simulated_clock_never_goes_back() -> None:
    clock = SimulatedClock("2025-03-01T09:00:00Z")
    with pytest.raises(ClockError, match="never goes back"):
        clock.set("2025-03-01T08:59:59Z")
    with pytest.raises(ClockError, match="never goes back"):
        clock.advance(timedelta(seconds=-1))
    assert clock.text == "2025-03-01T09:00:00Z"


@pytest.mark.parametrize(
    ("text", "delta"),
    [
        ("+3d", timedelta(days=3)),
        ("+12h", timedelta(hours=12)),
        ("+90m", timedelta(minutes=90)),
        ("+45s", timedelta(seconds=45)),
        ("+1d6h30m15s", timedelta(days=1, hours=6, minutes=30, seconds=15)),
    ],
)
def test_durations(text: str, delta: timedelta) -> None:
    assert parse_duration(text) == delta


@pytest.mark.parametrize("text", ["3d", "+", "+3", "+3w", "+1h2d", "-3d", "+3d ", "+1.5d", ""])
def test_malformed_durations_are_refused(text: str) -> None:
    with pytest.raises(ClockError, match="expected a duration like"):
        parse_duration(text)


def test_settings_resolve_against_the_log() -> None:
    last = "2025-03-01T09:00:00Z"
    assert resolve_setting("2025-03-05T00:00:00Z", last).text == "2025-03-05T00:00:00Z"
    assert resolve_setting("+3d", last).text == "2025-03-04T09:00:00Z"
    assert resolve_setting(last, last).text == last
    assert resolve_setting("2025-03-05T00:00:00Z", None).text == "2025-03-05T00:00:00Z"
    with pytest.raises(ClockError, match="before the log's last entry"):
        resolve_setting("2025-02-01T00:00:00Z", last)
    with pytest.raises(ClockError, match="no log yet"):
        resolve_setting("+3d", None)
    with pytest.raises(ClockError, match="YYYY-MM-DDTHH:MM:SSZ"):
        resolve_setting("tomorrow", last)
