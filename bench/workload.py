"""Synthetic entries shaped like a mutual-aid plan's contribution records.

The bench measures the log, not this generator, so callers build entries before
the timed calls. Bodies are about 200 bytes of canonical JSON (integers only, as
entries require), close to what the plan's real entries will carry, so per-entry
costs (canonical encoding, hashing, row size) are realistic. Content depends only
on the seed.
"""

from __future__ import annotations

import random

from ledger.log.log import NewEntry

ENTRY_TYPE = "bench.contribution"
METHODS = ("wechat_pay", "alipay", "bank_transfer", "cash")
PLANS = ("plan-basic-2026", "plan-family-2026", "plan-senior-2026")


def make_entry(rng: random.Random, i: int) -> NewEntry:
    """One contribution-like entry; ``i`` is a running number carried in the body."""
    return NewEntry(
        type=ENTRY_TYPE,
        actor="operator",
        body={
            "amount_fen": rng.randint(100, 70_000),
            "currency": "CNY",
            "i": i,
            "member": f"m-{rng.getrandbits(40):010x}",
            "method": rng.choice(METHODS),
            "period": f"2026-{rng.randint(1, 12):02d}",
            "plan": rng.choice(PLANS),
            "receipt": f"rcpt-{rng.getrandbits(64):016x}",
            "source": {"channel": "counter", "ref": rng.randint(1, 10**9)},
        },
    )


def make_batch(rng: random.Random, start: int, count: int) -> list[NewEntry]:
    """``count`` entries numbered from ``start``."""
    return [make_entry(rng, start + k) for k in range(count)]
