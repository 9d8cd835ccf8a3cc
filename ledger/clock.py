"""The time commands see: the wall clock, or a simulated one for rehearsals.

Every command that writes an entry asks a clock for "now": the default time of its
entries, and the limit an ``--at`` time may not pass. In production that is the
wall clock. A rehearsal on a scratch database (``tally --clock``, or the
``TALLY_CLOCK`` environment variable), the demo and the tests use a
:class:`SimulatedClock` instead: it stands still at the time it was set to, moves
only forward, and so lets a whole claim cycle (the waiting period, the objection
and appeal windows, the votes, the period's cutoff) be run in minutes.

A clock setting is either a time, ``2025-03-01T09:00:00Z``, or a duration after the
log's last entry, ``+3d``, ``+12h``, ``+1d6h30m`` (days, hours, minutes, seconds),
which moves the clock forward from wherever the log has got to.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from datetime import UTC, datetime, timedelta

from ledger.errors import LedgerError
from ledger.log.entry import format_time, parse_time

Clock = Callable[[], datetime]
"""Anything that answers "what time is it?" with an aware UTC datetime."""

_DURATION_RE = re.compile(r"\A\+(?:(\d{1,5})d)?(?:(\d{1,6})h)?(?:(\d{1,7})m)?(?:(\d{1,9})s)?\Z")


class ClockError(LedgerError):
    """A clock setting is malformed, or would move a clock backwards."""


def wall_clock() -> datetime:
    """The real time, in UTC."""
    return datetime.now(UTC)


def parse_duration(text: str) -> timedelta:
    """``+3d``, ``+12h``, ``+1d6h30m``, ``+90s``: a positive duration (days to seconds)."""
    match = _DURATION_RE.match(text)
    if match is None or not any(match.groups()):
        raise ClockError(
            f"expected a duration like +3d, +12h or +1d6h30m (days, hours, minutes, seconds), "
            f"found {text!r}"
        )
    days, hours, minutes, seconds = (int(part or 0) for part in match.groups())
    return timedelta(days=days, hours=hours, minutes=minutes, seconds=seconds)


class SimulatedClock:
    """A clock that stands still until moved, and never moves back.

    Call it for the current simulated time. :meth:`set` and :meth:`advance` move it;
    moving it backwards raises :class:`ClockError`.
    """

    def __init__(self, start: str | datetime) -> None:
        """Start the clock at ``start`` (an entry time, or an aware datetime)."""
        self._now = _moment(start)

    def __call__(self) -> datetime:
        """The simulated time now."""
        return self._now

    @property
    def text(self) -> str:
        """The simulated time now, as an entry time."""
        return format_time(self._now)

    def set(self, time: str | datetime) -> None:
        """Move the clock to ``time``, which must not be before the time it shows."""
        moment = _moment(time)
        if moment < self._now:
            raise ClockError(
                f"a clock never goes back: it shows {self.text}, asked for {format_time(moment)}"
            )
        self._now = moment

    def advance(self, by: timedelta | str) -> None:
        """Move the clock forward by a duration (a timedelta, or ``+3d`` style text)."""
        delta = parse_duration(by) if isinstance(by, str) else by
        if delta < timedelta(0):
            raise ClockError(f"a clock never goes back: asked to move it by {delta}")
        self._now += delta


def resolve_setting(setting: str, last_entry_time: str | None) -> SimulatedClock:
    """The simulated clock a ``--clock`` setting names: a time, or ``+DURATION`` after the log.

    A clock set before the log's last entry is refused: the log's times never go
    back, so every command on it would be refused anyway.
    """
    if setting.startswith("+"):
        if last_entry_time is None:
            raise ClockError(
                f"a clock of {setting} counts from the log's last entry, and there is no log "
                "yet: set a time (YYYY-MM-DDTHH:MM:SSZ) for 'tally init'"
            )
        clock = SimulatedClock(last_entry_time)
        clock.advance(setting)
        return clock
    clock = SimulatedClock(setting)
    if last_entry_time is not None and clock.text < last_entry_time:
        raise ClockError(
            f"the clock is set to {clock.text}, before the log's last entry ({last_entry_time}): "
            "a log's time never goes back; set a later time, or +DURATION after the last entry"
        )
    return clock


def _moment(time: str | datetime) -> datetime:
    if isinstance(time, datetime):
        if time.tzinfo is None:
            raise ClockError("expected a timezone-aware time, found a naive one")
        return time.astimezone(UTC)
    try:
        return parse_time(time)
    except LedgerError:
        raise ClockError(
            f"expected a time as YYYY-MM-DDTHH:MM:SSZ or a duration like +3d, found {time!r}"
        ) from None
