"""Apportionment: each member's share of a period's aid and fee (specs/plan.md §8.2).

Integers only: fen and basis points. ``share = ceil(due / N)`` so the members always
cover what is due, and the rounding surplus ``carry_out`` is credited to the next
period. The annual cap limits each member's charge; the operator pays the rest as a
recorded subsidy.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from ledger.errors import LedgerError

BP = 10_000


class ApportionError(LedgerError):
    """The period's arithmetic does not add up."""


@dataclass(frozen=True)
class Apportionment:
    """Everything a period close states about money."""

    aid_fen: int
    fee_fen: int
    carry_in_fen: int
    due_fen: int
    members: int
    share_fen: int
    carry_out_fen: int
    subsidy_fen: int
    capped_members: int
    charges: dict[str, int]

    @property
    def total_fen(self) -> int:
        """What the members are charged in all."""
        return sum(self.charges.values())


def fee(aid_fen: int, fee_bp: int) -> int:
    """The management fee: ``floor(max(aid, 0) * fee_bp / 10000)``."""
    return max(aid_fen, 0) * fee_bp // BP


def apportion(
    *,
    aid_fen: int,
    fee_bp: int,
    carry_in_fen: int,
    annual_cap_fen: int,
    members: Sequence[tuple[str, int]],
) -> Apportionment:
    """Compute a period's shares.

    ``members`` lists each member counted at the cutoff with what they were charged
    earlier in the same calendar year.
    """
    count = len(members)
    fee_fen, due, share = shares(aid_fen, fee_bp, carry_in_fen, count)
    carry_out = share * count - due
    charges: dict[str, int] = {}
    subsidy = 0
    capped = 0
    for member, charged_before in members:
        if member in charges:
            raise ApportionError(f"expected each member once, found {member} twice")
        charge = capped_charge(share, annual_cap_fen, charged_before)
        charges[member] = charge
        if charge < share:
            capped += 1
            subsidy += share - charge
    result = Apportionment(
        aid_fen=aid_fen,
        fee_fen=fee_fen,
        carry_in_fen=carry_in_fen,
        due_fen=due,
        members=count,
        share_fen=share,
        carry_out_fen=carry_out,
        subsidy_fen=subsidy,
        capped_members=capped,
        charges=charges,
    )
    check_conservation(result)
    return result


def shares(aid_fen: int, fee_bp: int, carry_in_fen: int, count: int) -> tuple[int, int, int]:
    """(fee, due, share) of a period of ``count`` members (specs/plan.md §8.2): the share
    is the due amount divided among them, rounded up."""
    fee_fen = fee(aid_fen, fee_bp)
    due = aid_fen + fee_fen - carry_in_fen
    return fee_fen, due, (-(-due // count) if due > 0 and count > 0 else 0)


def capped_charge(share: int, annual_cap_fen: int, charged_before: int) -> int:
    """A member's charge: the share, up to what the annual cap leaves them (§8.2)."""
    return min(share, max(0, annual_cap_fen - charged_before))


def check_conservation(a: Apportionment, total_fen: int | None = None) -> None:
    """Σ charges = aid + fee - carry_in + carry_out - subsidy (specs/plan.md §8.2);
    ``total_fen`` is Σ charges when ``a`` does not hold them."""
    total = a.total_fen if total_fen is None else total_fen
    expected = a.aid_fen + a.fee_fen - a.carry_in_fen + a.carry_out_fen - a.subsidy_fen
    if total != expected:
        raise ApportionError(f"expected members to be charged {expected} fen in all, found {total}")
