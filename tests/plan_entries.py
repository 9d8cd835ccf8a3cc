"""Plan entries for tests that need a valid plan log of some size, written from specs/plan.md.

A log of a Tally plan holds only the types of specs/plan.md §3 after its genesis
(``entry.type``), so a test that only needs "some entries" grows the log with one
``plan.rules`` (the reference values of §2) and then ``member.joined`` entries,
each with a member id derived from a tag and a counter so that two histories grown
with different tags differ.
"""

from __future__ import annotations

import hashlib
from typing import Any

REFERENCE_CONDITIONS = [
    {"code": code, "category": category, "kind": kind}
    for code, category, kind in (
        ("ACC", "accident", "accident"),
        ("C18", "cancer", "major"),
        ("C34", "cancer", "major"),
        ("C50", "cancer", "major"),
        ("C61", "cancer", "light"),
        ("C73", "cancer", "light"),
        ("I21", "heart", "major"),
        ("I63", "stroke", "major"),
        ("N18", "kidney", "major"),
    )
]


def rules_body(effective: str, version: int = 1) -> dict[str, Any]:
    """A ``plan.rules`` body with the reference values of specs/plan.md §2."""
    return {
        "version": version,
        "effective": effective,
        "notice_days": 30,
        "waiting_days": 90,
        "benefits": {"0-39": 30_000_000, "40-59": 10_000_000},
        "light_benefit_fen": 5_000_000,
        "conditions": REFERENCE_CONDITIONS,
        "fee_bp": 800,
        "annual_cap_fen": 18_800,
        "objection_days": 3,
        "appeal_days": 3,
        "reveal_days": 2,
        "panel_size": 15,
        "quorum": 11,
        "threshold_bp": 5_000,
        "voting_days": 3,
        "juror_tenure_days": 30,
    }


def member_id(tag: str, n: int) -> str:
    """A member id that depends on ``tag`` and ``n`` only."""
    return "m-" + hashlib.sha256(f"{tag}/{n}".encode()).hexdigest()[:20]


def joined_body(tag: str, n: int) -> dict[str, Any]:
    """A ``member.joined`` body for the member ``member_id(tag, n)``."""
    return {
        "member": member_id(tag, n),
        "age_band": "0-39",
        "identity_commitment": hashlib.sha256(f"identity {tag}/{n}".encode()).hexdigest(),
    }
