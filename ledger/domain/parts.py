"""A member's part of each thing a period's money went to (specs/statement.md §4).

The ledger's own reading of §4, used to write the statement vectors; the verifier
and the members' page each compute the parts independently and are held to them.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass


@dataclass(frozen=True)
class Flows:
    """Where a period's money went: signed amounts that add up to share x N."""

    payments: Sequence[tuple[str, int]]
    """Claims paid in the period, with their amounts, in payment order."""
    fee_fen: int
    recoveries: Sequence[tuple[str, int]]
    """Recoveries credited to the period (claims reversed for fraud), in log order."""
    carry_in_fen: int
    carry_out_fen: int

    def weights(self) -> list[int]:
        """The signed weights of §4, in its order."""
        return [
            *(amount for _, amount in self.payments),
            self.fee_fen,
            *(-amount for _, amount in self.recoveries),
            -self.carry_in_fen,
            self.carry_out_fen,
        ]


def split(charge_fen: int, weights: Sequence[int]) -> list[int]:
    """Largest-remainder split of ``charge_fen`` in proportion to signed ``weights``."""
    whole = sum(weights)
    if charge_fen <= 0 or whole <= 0:
        return [0 for _ in weights]
    scaled = [charge_fen * w for w in weights]
    parts = [s // whole for s in scaled]
    left = charge_fen - sum(parts)
    by_remainder = sorted(range(len(weights)), key=lambda i: (-(scaled[i] % whole), i))
    for i in by_remainder[:left]:
        parts[i] += 1
    return parts


def member_parts(charge_fen: int, flows: Flows) -> dict[str, object]:
    """The member's parts by kind: each claim, the fee, each recovery, the carries."""
    parts = split(charge_fen, flows.weights())
    n, r = len(flows.payments), len(flows.recoveries)
    return {
        "claims": {claim: parts[i] for i, (claim, _) in enumerate(flows.payments)},
        "fee": parts[n],
        "recoveries": {claim: parts[n + 1 + i] for i, (claim, _) in enumerate(flows.recoveries)},
        "carry_in": parts[n + 1 + r],
        "carry_out": parts[n + 2 + r],
    }
