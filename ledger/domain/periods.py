"""Half-month periods and their cutoffs (specs/plan.md §8.1)."""

from __future__ import annotations

import re
from datetime import UTC, datetime

from ledger.errors import LedgerError
from ledger.log.entry import format_time, parse_time

_PERIOD_RE = re.compile(r"\A([0-9]{4})-(0[1-9]|1[0-2])([ab])\Z")
CUTOFF_DAY = {"a": 14, "b": 28}


class PeriodError(LedgerError):
    """A period id or period order is wrong."""


def parse_period(period: str) -> tuple[int, int, str]:
    """Split ``YYYY-MMa`` / ``YYYY-MMb`` into (year, month, half)."""
    match = _PERIOD_RE.match(period)
    if match is None:
        raise PeriodError(f"expected a period like 2026-01a or 2026-01b, found {period!r}")
    return int(match.group(1)), int(match.group(2)), match.group(3)


def cutoff(period: str) -> str:
    """The period's cutoff time: 00:00 UTC on the 14th (``a``) or the 28th (``b``)."""
    year, month, half = parse_period(period)
    return format_time(datetime(year, month, CUTOFF_DAY[half], tzinfo=UTC))


def period_open_at(time: str) -> str:
    """The period open at ``time``: the first whose cutoff is strictly after it."""
    moment = parse_time(time)
    year, month = moment.year, moment.month
    if moment < datetime(year, month, 14, tzinfo=UTC):
        return f"{year:04d}-{month:02d}a"
    if moment < datetime(year, month, 28, tzinfo=UTC):
        return f"{year:04d}-{month:02d}b"
    year, month = (year + 1, 1) if month == 12 else (year, month + 1)
    return f"{year:04d}-{month:02d}a"


def next_period(period: str) -> str:
    """The period after ``period``."""
    year, month, half = parse_period(period)
    if half == "a":
        return f"{year:04d}-{month:02d}b"
    year, month = (year + 1, 1) if month == 12 else (year, month + 1)
    return f"{year:04d}-{month:02d}a"
