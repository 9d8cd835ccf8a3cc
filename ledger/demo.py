"""A synthetic demo ledger: deterministic entries for a seed, checkpointed as it grows.

Until the plan's domain exists this fills the log with plausible contribution and
claim-like entries so the API, the proofs and the verifier have something real to
work on. The content depends only on the seed; times run on a simulated clock
that starts no earlier than the last entry already in the log.
"""

from __future__ import annotations

import random
from collections.abc import Callable
from datetime import UTC, datetime, timedelta

from ledger.instance import Ledger
from ledger.log.entry import format_time, parse_entry
from ledger.log.log import NewEntry

DEMO_START = datetime(2026, 1, 1, tzinfo=UTC)
ILLNESSES = ("C50", "C34", "I21", "C18", "C22", "I63", "C16", "N18")


def build_demo(
    ledger: Ledger,
    *,
    seed: int,
    entries: int = 5_000,
    batch: int = 500,
    progress: Callable[[int, int], None] | None = None,
) -> int:
    """Append ``entries`` synthetic entries in batches, signing a checkpoint after each.

    Returns the number appended.
    """
    rng = random.Random(seed)  # noqa: S311 - synthetic data, reproducible by design
    size = ledger.log.size()
    last = parse_entry(ledger.log.entries(size - 1, size)[0][1])
    clock = max(DEMO_START, datetime.fromisoformat(last.time.replace("Z", "+00:00")))
    members = [f"m-{rng.getrandbits(40):010x}" for _ in range(max(10, entries // 20))]
    done = 0
    while done < entries:
        chunk = []
        for _ in range(min(batch, entries - done)):
            clock += timedelta(seconds=rng.randint(1, 120))
            chunk.append(_synthetic(rng, members, format_time(clock)))
        ledger.log.append_batch(chunk)
        ledger.publisher.publish()
        done += len(chunk)
        if progress is not None:
            progress(done, entries)
    return done


def _synthetic(rng: random.Random, members: list[str], time: str) -> NewEntry:
    member = rng.choice(members)
    if rng.random() < 0.9:
        return NewEntry(
            "demo.contribution",
            "operator",
            {"member": member, "amount_fen": rng.randint(100, 700)},
            time=time,
        )
    return NewEntry(
        "demo.claim",
        "operator",
        {
            "claimant": member,
            "illness": rng.choice(ILLNESSES),
            "amount_fen": rng.randint(1_000_000, 30_000_000),
        },
        time=time,
    )
