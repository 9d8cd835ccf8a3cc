"""Valid plan entries in bulk, for benchmarks that need a large log quickly.

A log the plan's replay accepts must hold only entry types of specs/plan.md §3, so
filler is members joining: each a valid ``member.joined`` with a distinct id, built
here rather than through the plan's commands, so that a million take seconds.
"""

from __future__ import annotations

import hashlib

from ledger.log.log import NewEntry


def joins(first: int, count: int, time: str) -> list[NewEntry]:
    """``count`` members joining at ``time``, numbered from ``first`` (distinct ids)."""
    return [
        NewEntry(
            "member.joined",
            "operator",
            {
                "member": "m-" + hashlib.sha256(b"filler %d" % n).hexdigest()[:20],
                "age_band": "0-39",
                "identity_commitment": hashlib.sha256(b"person %d" % n).hexdigest(),
            },
            time=time,
        )
        for n in range(first, first + count)
    ]
