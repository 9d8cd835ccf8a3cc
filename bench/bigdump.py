"""Write the synthetic plan of :mod:`bench.bigplan` as a dump, entry by entry.

Every entry but the joins is made by the ledger's encoder (:func:`encode_entry`);
the joins, millions of them, are filled into their canonical form directly, and
checked against the encoder now and then. The chain, the Merkle frontier and the
signed checkpoint are the ledger's. Memory stays flat whatever the size.
"""

from __future__ import annotations

import hashlib
import math
from dataclasses import dataclass, replace
from pathlib import Path
from typing import IO, Any

from bench.bigplan import (
    CAP_SHARES,
    DAY,
    LEAVE_EVERY,
    PERIODS,
    SHARE_FEN,
    START,
    Figures,
    Shape,
    at,
    figures,
    member_id,
    roots,
    seconds,
)
from ledger.domain.periods import cutoff, next_period, period_open_at
from ledger.domain.rules import reference_rules
from ledger.log.entry import GENESIS_TYPE, ZERO_HASH, encode_entry, entry_hash
from ledger.log.tree import Frontier, leaf_hash
from ledger.publish.checkpoint import Checkpoint
from ledger.publish.note import Signer, sign_note
from verifier.dump import DUMP_CHECKPOINT, DUMP_ENTRIES, write_dump_line

ORIGIN = "bench.tally.example/big"
MAX_CLAIM_FEN = 10_000_000
CHECK_EVERY = 65_536


class Writer:
    """Appends entries to ``entries.jsonl``: seq, chain and tree as a sequencer would."""

    def __init__(self, handle: IO[bytes]) -> None:
        self.handle = handle
        self.seq = 0
        self.prev = ZERO_HASH
        self.frontier = Frontier(0, [])

    def raw(self, raw: bytes) -> int:
        """Append exact entry bytes; return their seq."""
        write_dump_line(self.handle, self.seq, raw)
        self.frontier.append(leaf_hash(raw))
        self.prev = entry_hash(raw)
        self.seq += 1
        return self.seq - 1

    def add(self, time: str, kind: str, body: dict[str, Any], actor: str = "operator") -> int:
        """Append an entry made by the ledger's encoder; return its seq."""
        raw = encode_entry(
            seq=self.seq, time=time, type=kind, prev=self.prev, actor=actor, body=body
        )
        return self.raw(raw)

    def join(self, time: str, member: str, band: str, commitment: str) -> None:
        """Append a ``member.joined`` in canonical form (RFC 8785 key order)."""
        raw = (
            '{"actor":"operator","body":{"age_band":"'
            + band
            + '","identity_commitment":"'
            + commitment
            + '","member":"'
            + member
            + '"},"prev":"'
            + self.prev
            + '","seq":'
            + str(self.seq)
            + ',"time":"'
            + time
            + '","type":"member.joined","version":1}'
        ).encode("ascii")
        if self.seq % CHECK_EVERY == 2:
            body = {"member": member, "age_band": band, "identity_commitment": commitment}
            expected = encode_entry(
                seq=self.seq,
                time=time,
                type="member.joined",
                prev=self.prev,
                actor="operator",
                body=body,
            )
            if raw != expected:
                raise AssertionError(f"join template differs from the encoder: {raw!r}")
        self.raw(raw)


@dataclass
class Plan:
    """What to write: the shape, the periods, the claims and their size."""

    shape: Shape
    periods: list[str]
    claimants: list[int]
    amount: int
    cap: int

    @classmethod
    def of(cls, n: int) -> Plan:
        """The plan of ``n`` members (see :mod:`bench.bigplan`)."""
        periods = [period_open_at(START)]
        while len(periods) < PERIODS:
            periods.append(next_period(periods[-1]))
        claims = max(1, math.ceil(SHARE_FEN * n * 100 / 108 / MAX_CLAIM_FEN))
        amount = max(1, min(MAX_CLAIM_FEN, SHARE_FEN * n * 100 // 108 // claims))
        claimants = [j for j in range(claims + claims // LEAVE_EVERY + 1) if j % LEAVE_EVERY != 7]
        return cls(Shape(n), periods, claimants[:claims], amount, SHARE_FEN * CAP_SHARES)

    def band(self, j: int) -> str:
        """The age band of the member at join position j."""
        return "0-39" if j * self.shape.scramble[0] % self.shape.n % 3 else "40-59"

    def joined_s(self, j: int, p: int, window: int) -> int:
        """The join time of position j, who joins in period p opening at ``window``."""
        lo, hi = self.shape.starts[p], self.shape.starts[p + 1]
        return window + 60 + (j - lo) * 2 * DAY // max(hi - lo, 1)


def write_dump(folder: Path, n: int, log: Any) -> dict[str, Any]:
    """Write the plan of ``n`` members as a dump in ``folder``; return its key and counts."""
    plan = Plan.of(n)
    counts = [len(plan.claimants)] * PERIODS
    log(f"computing {PERIODS} periods' figures and contribution roots for {n:,} members")
    done = figures(plan.shape, plan.periods, counts, plan.amount, plan.cap)
    for f, root in zip(done, roots(plan.shape, done), strict=True):
        f.body["contribution_root"] = root
    signer = Signer.generate(ORIGIN)
    folder.mkdir(parents=True, exist_ok=True)
    log(f"writing the dump of {n:,} members")
    with (folder / DUMP_ENTRIES).open("wb") as handle:
        w = Writer(handle)
        key = signer.verifier().to_string()
        w.add(START, GENESIS_TYPE, {"origin": ORIGIN, "verifier_key": key})
        rules = replace(reference_rules(START, member_signatures=None), annual_cap_fen=plan.cap)
        w.add(START, "plan.rules", rules.to_body())
        window = seconds(START)
        for p in range(PERIODS):
            if p:
                _close(w, done[p - 1], window)
            _period(w, plan, p, window, done[p])
            window = seconds(cutoff(plan.periods[p]))
        _close(w, done[-1], window)
    size = w.seq
    note = sign_note(Checkpoint(ORIGIN, size, w.frontier.root()).to_body(), [signer])
    (folder / DUMP_CHECKPOINT).write_text(note, encoding="utf-8")
    member_periods = sum(f.body["members"] for f in done)
    return {"members": n, "entries": size, "member_periods": member_periods, "key": key}


def _close(w: Writer, f: Figures, window: int) -> None:
    w.add(at(window), "period.closed", f.body)


def _period(w: Writer, plan: Plan, p: int, window: int, f: Figures) -> None:
    shape, starts = plan.shape, plan.shape.starts
    a = shape.scramble[0]
    last, text = -1, ""
    for j in range(starts[p], starts[p + 1]):
        t = plan.joined_s(j, p, window)
        if t != last:
            last, text = t, at(t)
        k = j * a % shape.n
        commitment = hashlib.sha256(b"%d" % k).hexdigest()
        w.join(text, member_id(k, shape.n), plan.band(j), commitment)
    leave = at(window + 3 * DAY)
    for q in range(max(0, p - 6), p - 1):
        first = starts[q] + (7 - starts[q]) % LEAVE_EVERY
        for j in range(first, starts[q + 1], LEAVE_EVERY):
            if shape.leaves(j, q) == p:
                w.add(leave, "member.left", {"member": member_id(j * a % shape.n, shape.n)})
    f.body["claims"] = _claims(w, plan, window)


def _claims(w: Writer, plan: Plan, window: int) -> list[str]:
    """File, assess and disclose every claim of the period, then decide and pay them."""
    filed_s = window + 3 * DAY + 3600
    filed, ids = at(filed_s), []
    for j in plan.claimants:
        member = member_id(j * plan.shape.scramble[0] % plan.shape.n, plan.shape.n)
        body = {
            "member": member,
            "condition": "ACC",
            "amount_fen": plan.amount,
            "diagnosed": at(window + 3 * DAY),
            "evidence_commitment": hashlib.sha256(b"e%d" % w.seq).hexdigest(),
        }
        claim = f"c-{w.add(filed, 'claim.filed', body)}"
        ids.append(claim)
        report = hashlib.sha256(claim.encode()).hexdigest()
        w.add(
            filed,
            "claim.assessed",
            {
                "claim": claim,
                "decision": "approve",
                "amount_fen": plan.amount,
                "reason": "ok",
                "report_commitment": report,
                "rules_version": 1,
            },
        )
        w.add(
            filed,
            "claim.disclosed",
            {
                "claim": claim,
                "age_band": plan.band(j),
                "category": "accident",
                "amount_fen": plan.amount,
                "days_since_joining": (filed_s - plan.joined_s(j, 0, seconds(START))) // DAY,
                "objections_close": at(filed_s + 3 * DAY),
            },
        )
    paid = at(filed_s + 6 * DAY)
    for claim in ids:
        w.add(
            paid,
            "claim.decided",
            {
                "claim": claim,
                "outcome": "approved",
                "amount_fen": plan.amount,
                "basis": "assessment",
                "approve": 0,
                "deny": 0,
                "rules_version": 1,
            },
        )
        w.add(
            paid,
            "claim.paid",
            {
                "claim": claim,
                "amount_fen": plan.amount,
                "period": period_open_at(paid),
            },
        )
    return ids
