"""Periods (specs/plan.md §8.1): two a month, each named by the calendar.

``YYYY-MMa`` has cutoff ``YYYY-MM-14T00:00:00Z`` and ``YYYY-MMb`` has cutoff
``YYYY-MM-28T00:00:00Z``. The period open at time t is the first period whose
cutoff is strictly after t, so at exactly ``YYYY-MM-14T00:00:00Z`` the ``b`` period
of that month is open. Times are entry times, ``YYYY-MM-DDTHH:MM:SSZ`` (specs/entries.md
§1), compared as UTC instants.

Years run from 0001 to 9999, the four digits of both spellings; asking for a period
past ``9999-12b`` raises :class:`PeriodError`.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import UTC, datetime

from verifier.entry import is_valid_time
from verifier.plan.errors import PeriodError
from verifier.plan.ids import show

_PERIOD = re.compile(r"([0-9]{4})-([0-9]{2})([ab])")
CUTOFF_DAY = {"a": 14, "b": 28}
MIN_YEAR = 1
MAX_YEAR = 9999


@dataclass(frozen=True, order=True)
class Period:
    """A period: year, month and half (``"a"`` or ``"b"``); ordered as in time."""

    year: int
    month: int
    half: str

    def __post_init__(self) -> None:
        if not MIN_YEAR <= self.year <= MAX_YEAR:
            raise PeriodError(f"period year must be {MIN_YEAR}..{MAX_YEAR}, found {self.year}")
        if not 1 <= self.month <= 12:
            raise PeriodError(f"period month must be 01..12, found {self.month:02d}")
        if self.half not in CUTOFF_DAY:
            raise PeriodError(f"period half must be 'a' or 'b', found {self.half!r}")

    @property
    def id(self) -> str:
        """The period id, ``YYYY-MMa`` or ``YYYY-MMb``."""
        return f"{self.year:04d}-{self.month:02d}{self.half}"

    @property
    def cutoff(self) -> str:
        """The cutoff time, ``YYYY-MM-14T00:00:00Z`` or ``YYYY-MM-28T00:00:00Z``."""
        return f"{self.year:04d}-{self.month:02d}-{CUTOFF_DAY[self.half]:02d}T00:00:00Z"

    @property
    def cutoff_datetime(self) -> datetime:
        """The cutoff as an aware UTC datetime."""
        return datetime(self.year, self.month, CUTOFF_DAY[self.half], tzinfo=UTC)

    def next(self) -> Period:
        """The period that follows this one."""
        if self.half == "a":
            return Period(self.year, self.month, "b")
        if self.month < 12:
            return Period(self.year, self.month + 1, "a")
        if self.year == MAX_YEAR:
            raise PeriodError(f"no period follows {self.id}: years stop at {MAX_YEAR}")
        return Period(self.year + 1, 1, "a")

    def __str__(self) -> str:
        return self.id


def parse_period(text: object) -> Period:
    """Parse a period id ``YYYY-MMa`` / ``YYYY-MMb``; raise :class:`PeriodError` otherwise."""
    m = _PERIOD.fullmatch(text) if isinstance(text, str) else None
    if m is None:
        raise PeriodError(f"period must be YYYY-MMa or YYYY-MMb (ASCII digits), found {show(text)}")
    year, month, half = int(m.group(1)), int(m.group(2)), m.group(3)
    try:
        return Period(year, month, half)
    except PeriodError as exc:
        raise PeriodError(f"period {text!r}: {exc}") from None


def is_valid_period(text: object) -> bool:
    """Tell whether ``text`` is a valid period id."""
    try:
        parse_period(text)
    except PeriodError:
        return False
    return True


def parse_time(text: object) -> datetime:
    """Parse an entry time ``YYYY-MM-DDTHH:MM:SSZ`` to an aware UTC datetime.

    Raises :class:`PeriodError` for any other spelling or an impossible date-time.
    """
    if not isinstance(text, str) or not is_valid_time(text):
        raise PeriodError(
            f"time must be YYYY-MM-DDTHH:MM:SSZ naming a real UTC instant, found {show(text)}"
        )
    return datetime.strptime(text, "%Y-%m-%dT%H:%M:%SZ").replace(tzinfo=UTC)


def cutoff(period: str | Period) -> str:
    """The cutoff time string of ``period``."""
    return _as_period(period).cutoff


def next_period(period: str | Period) -> str:
    """The id of the period after ``period`` (``YYYY-MMa`` → ``YYYY-MMb`` → next month's ``a``)."""
    return _as_period(period).next().id


def calendar_year(period: str | Period) -> int:
    """The calendar year of ``period``, the year of its cutoff (§8.2, annual cap)."""
    return _as_period(period).year


def period_open_at(time: str) -> str:
    """The id of the period open at ``time``: the first whose cutoff is strictly after it."""
    t = parse_time(time)
    for half in ("a", "b"):
        candidate = Period(t.year, t.month, half)
        if candidate.cutoff_datetime > t:
            return candidate.id
    return Period(t.year, t.month, "b").next().id


def _as_period(period: str | Period) -> Period:
    return period if isinstance(period, Period) else parse_period(period)
