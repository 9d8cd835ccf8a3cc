"""Small summaries of timing samples: nearest-rank percentiles and rates.

Nearest-rank percentiles report a latency that was actually observed, which is
what an operator can quote; with 300 samples p99 is the third-slowest.
"""

from __future__ import annotations

import math
from collections.abc import Sequence


def percentile(samples: Sequence[float], p: float) -> float:
    """The nearest-rank ``p``-th percentile (0 < p <= 100) of ``samples``."""
    if not samples:
        return math.nan
    ordered = sorted(samples)
    rank = max(1, math.ceil(p / 100 * len(ordered)))
    return ordered[rank - 1]


def rate(count: int, seconds: float) -> float:
    """``count`` per second, or 0 when nothing was timed."""
    return count / seconds if seconds > 0 else 0.0


def ms(seconds: float) -> float:
    """Seconds to milliseconds, rounded to microseconds."""
    return round(seconds * 1000, 3)
