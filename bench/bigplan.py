"""A synthetic plan of any size, written straight to a dump (``tally-verify dump`` format).

The plan is built without a database, so it scales to tens of millions of members in
a few hundred megabytes: entries are written one at a time, with the ledger's own
encoder, hash chain, Merkle frontier and signed note, and every figure of a
``period.closed`` is derived from a handful of cohorts instead of a table of members.

The shape, for ``n`` members over :data:`PERIODS` periods from :data:`START` (which
crosses a calendar year, so the annual cap restarts):

- members join in a scrambled order: the member with the k-th smallest id joins
  ``(k * A^-1) mod n``-th (``A`` coprime to n), 70% in the first period and the rest
  spread over the others; one in fifty leaves two to six periods after joining;
- each period pays ``claims`` accident claims, filed, assessed, disclosed, decided
  and paid by the rules (no objections), sized so that the share is about
  :data:`SHARE_FEN` a period and the annual cap (:data:`CAP_SHARES` shares) binds in
  the last periods of each year: capped members, partial charges, subsidies;
- each period is closed at its cutoff with its figures and contribution root.

A member's cohort is (join period, leave period); counted, charge and year-to-date
charge are the same for every member of a cohort, so only the roots need a pass over
the members, in id order, which this module makes once for all periods at once.
"""

from __future__ import annotations

import base64
import bisect
import hashlib
import math
import struct
from collections import Counter
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from ledger.domain.periods import cutoff
from ledger.log.entry import format_time, parse_time

START = "2025-07-01T00:00:00Z"
PERIODS = 24
SHARE_FEN = 20
CAP_SHARES = 8
LEAVE_EVERY = 50
DAY = 86_400
_NODE = struct.Struct(">QQ")
_LEAF_DOMAIN = b"\x00tally/contribution/v1\n"


def at(secs: int) -> str:
    """The entry time ``secs`` seconds after 1970."""
    return format_time(datetime.fromtimestamp(secs, UTC))


def seconds(time: str) -> int:
    """Seconds after 1970 of an entry time."""
    return int(parse_time(time).timestamp())


@dataclass(frozen=True)
class Shape:
    """Who joins when and who leaves when, for ``n`` members."""

    n: int

    @property
    def starts(self) -> list[int]:
        """The first join position of each period, and ``n`` last."""
        first = int(self.n * 0.7)
        rest = self.n - first
        return [0] + [first + rest * p // (PERIODS - 1) for p in range(PERIODS)]

    @property
    def scramble(self) -> tuple[int, int]:
        """(A, A^-1 mod n): join position j is the member of id rank (j * A) mod n."""
        a = 1_000_003
        while math.gcd(a, self.n) != 1:
            a += 2
        return a, pow(a, -1, self.n) if self.n > 1 else 0

    def leaves(self, j: int, joined: int) -> int:
        """The period the member at join position j leaves in; PERIODS if never."""
        if j % LEAVE_EVERY != 7:
            return PERIODS
        return min(PERIODS, joined + 2 + (j // LEAVE_EVERY) % 5)


def member_id(k: int, n: int) -> str:
    """The id of rank k: increasing in k, spread over the 80-bit id space."""
    step = 16**20 // max(n, 1)
    return f"m-{k * step + (k * 2_654_435_761) % step:020x}"


@dataclass
class Figures:
    """The computed body of one period close, less its root."""

    period: str
    body: dict[str, Any]
    charge: dict[tuple[int, int], int]
    """Cohort (join period, leave period) -> charge; a cohort not counted is absent."""


def cohort_sizes(shape: Shape) -> Counter[tuple[int, int]]:
    """How many members each (join period, leave period) cohort holds."""
    sizes: Counter[tuple[int, int]] = Counter()
    starts = shape.starts
    for p in range(PERIODS):
        lo, hi = starts[p], starts[p + 1]
        leavers = [j for j in range(lo + (7 - lo) % LEAVE_EVERY, hi, LEAVE_EVERY)]
        sizes[(p, PERIODS)] += hi - lo - len(leavers)
        for j in leavers:
            sizes[(p, shape.leaves(j, p))] += 1
    return sizes


def figures(
    shape: Shape, periods: list[str], claims: list[int], amount: int, cap: int
) -> list[Figures]:
    """Every period's figures by specs/plan.md §8.2, cohort by cohort.

    ``claims`` is how many claims of ``amount`` each period pays; the claim ids are
    filled in as the entries are written.
    """
    sizes = cohort_sizes(shape)
    ytd: dict[tuple[int, int], int] = {}
    out, carry, year = [], 0, None
    for p, period in enumerate(periods):
        if period[:4] != year:
            year, ytd = period[:4], {}
        counted = {c: s for c, s in sizes.items() if c[0] <= p < c[1] and s}
        n = sum(counted.values())
        aid = amount * claims[p]
        fee = aid * 800 // 10_000
        due = aid + fee - carry
        share = -(-due // n) if due > 0 and n > 0 else 0
        carry_out = share * n - due
        charge = {c: min(share, max(0, cap - ytd.get(c, 0))) for c in counted}
        body = {
            "period": period,
            "cutoff": cutoff(period),
            "rules_version": 1,
            "claims": [],
            "aid_fen": aid,
            "fee_fen": fee,
            "carry_in_fen": carry,
            "members": n,
            "share_fen": share,
            "carry_out_fen": carry_out,
            "subsidy_fen": sum(s * (share - charge[c]) for c, s in counted.items()),
            "capped_members": sum(s for c, s in counted.items() if charge[c] < share),
            "contribution_total_fen": sum(s * charge[c] for c, s in counted.items()),
        }
        for c in counted:
            ytd[c] = ytd.get(c, 0) + charge[c]
        carry = carry_out
        out.append(Figures(period, body, charge))
    return out


def roots(shape: Shape, periods: list[Figures]) -> list[str]:
    """Every period's contribution root (§9), in one pass over the members in id order."""
    n, starts = shape.n, shape.starts
    _, inverse = shape.scramble
    prefixes = [_LEAF_DOMAIN + f.period.encode() + b"\n" for f in periods]
    stacks: list[list[tuple[int, bytes, int, int]]] = [[] for _ in periods]
    sha, pack = hashlib.sha256, _NODE.pack
    for k in range(n):
        j = k * inverse % n
        joined = bisect.bisect_right(starts, j) - 1
        cohort = (joined, shape.leaves(j, joined))
        member = member_id(k, n)
        for p in range(joined, cohort[1]):
            amount = periods[p].charge[cohort]
            stack = stacks[p]
            size, h, count, total = (
                1,
                sha(prefixes[p] + f"{member}\n{amount}\n".encode()).digest(),
                1,
                amount,
            )
            while stack and stack[-1][0] == size:
                _, lh, lc, lt = stack.pop()
                h = sha(b"\x01" + lh + pack(lc, lt) + h + pack(count, total)).digest()
                size, count, total = size * 2, lc + count, lt + total
            stack.append((size, h, count, total))
    out = []
    for stack in stacks:
        if not stack:
            out.append(base64.b64encode(hashlib.sha256(b"").digest()).decode())
            continue
        _, h, count, total = stack[-1]
        for _, lh, lc, lt in reversed(stack[:-1]):
            h = sha(b"\x01" + lh + pack(lc, lt) + h + pack(count, total)).digest()
            count, total = lc + count, lt + total
        out.append(base64.b64encode(h).decode())
    return out
