"""Apportionment of a period's aid among the members (specs/plan.md §8.2).

For a period P with the rules R in force at its close::

    fee_fen       = ⌊max(aid, 0) * fee_bp / 10000⌋
    due           = aid + fee - carry_in
    share_fen     = ⌈due / N⌉ if due > 0 and N > 0, else 0
    carry_out_fen = share * N - due
    charge(m)     = min(share, max(0, annual_cap_fen - charged_before(m)))
    subsidy_fen   = Σ (share - charge(m))
    capped        = #{m : charge(m) < share}

and the conservation every verifier checks::

    Σ charges = aid + fee - carry_in + carry_out - subsidy

Only integers are used, never floats: ⌊a / b⌋ is ``a // b`` and ⌈a / b⌉ is
``-(-a // b)`` (b > 0). ``aid`` (payments minus recoveries) may be negative, and
``carry_in`` is whatever the previous period carried out; note that with N = 0 and
due > 0, ``carry_out = -due`` is negative, which the formula makes the next period's
debt.

How ``aid``, N and each member's ``charged_before`` are read from the log is the
caller's job; this module is the arithmetic only.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass

from verifier.plan.errors import ApportionmentError, ConservationError
from verifier.plan.ids import check_int, show

BP_DENOMINATOR = 10_000


@dataclass(frozen=True)
class Apportionment:
    """The outcome of §8.2 for one period.

    ``charges`` maps each counted member to their charge, in member-id order (the
    order of the sum tree's leaves, §9).
    """

    aid_fen: int
    fee_fen: int
    carry_in_fen: int
    members: int
    due_fen: int
    share_fen: int
    carry_out_fen: int
    charges: Mapping[str, int]
    subsidy_fen: int
    capped_members: int

    @property
    def total_charged_fen(self) -> int:
        """Σ charges, which the sum tree's root total must equal (§9)."""
        return sum(self.charges.values())


def fee_fen(aid_fen: int, fee_bp: int) -> int:
    """``⌊max(aid, 0) * fee_bp / 10000⌋``: the management fee, never on negative aid."""
    aid = check_int(aid_fen, "aid_fen", ApportionmentError)
    bp = check_int(fee_bp, "fee_bp", ApportionmentError)
    return max(aid, 0) * bp // BP_DENOMINATOR


def share_fen(due_fen: int, members: int) -> int:
    """``⌈due / N⌉`` if due > 0 and N > 0, else 0."""
    due = check_int(due_fen, "due", ApportionmentError)
    n = check_int(members, "members", ApportionmentError)
    if n < 0:
        raise ApportionmentError(f"members (N) must be >= 0, found {n}")
    if due > 0 and n > 0:
        return -(-due // n)
    return 0


def charge_fen(share: int, annual_cap_fen: int, charged_before_fen: int) -> int:
    """``min(share, annual_cap - charged_before)``, the second term floored at 0."""
    s = check_int(share, "share_fen", ApportionmentError)
    cap = check_int(annual_cap_fen, "annual_cap_fen", ApportionmentError)
    before = check_int(charged_before_fen, "charged_before_fen", ApportionmentError)
    return min(s, max(0, cap - before))


def apportion(
    aid_fen: int,
    fee_bp: int,
    carry_in_fen: int,
    members: Sequence[tuple[str, int]],
    annual_cap_fen: int,
) -> Apportionment:
    """Apportion ``aid_fen`` among ``members``, pairs (member id, charged earlier this year).

    ``members`` are the N members counted for the period (joined before the cutoff
    and not left before it), in any order; "charged earlier" is what each was
    charged by earlier periods of the same calendar year. Raises
    :class:`ApportionmentError` for a non-integer input, an id that is not a
    non-empty string, a member listed twice or a negative earlier charge (charges
    are never negative).

    Member ids are only keys here: their §1 pattern is checked where they enter a
    hash (the sum-tree leaf, the pool root) and where they join, not by the
    arithmetic.
    """
    aid = check_int(aid_fen, "aid_fen", ApportionmentError)
    carry_in = check_int(carry_in_fen, "carry_in_fen", ApportionmentError)
    cap = check_int(annual_cap_fen, "annual_cap_fen", ApportionmentError)
    before: dict[str, int] = {}
    for i, pair in enumerate(members):
        if not isinstance(pair, tuple | list) or len(pair) != 2:
            raise ApportionmentError(
                f"members[{i}] must be a (member id, charged_before_fen) pair, found {pair!r}"
            )
        member = pair[0]
        if not isinstance(member, str) or not member:
            raise ApportionmentError(
                f"members[{i}] id must be a non-empty string, found {show(member)}"
            )
        amount = pair[1]
        if type(amount) is not int:
            check_int(amount, f"charged_before_fen of {member}", ApportionmentError)
        if amount < 0:
            raise ApportionmentError(f"charged_before_fen of {member} must be >= 0, found {amount}")
        if member in before:
            raise ApportionmentError(f"member {member} is listed twice (members[{i}])")
        before[member] = amount

    fee = fee_fen(aid, fee_bp)
    n = len(before)
    due = aid + fee - carry_in
    share = share_fen(due, n)
    carry_out = share * n - due
    # charge_fen inlined: every operand is an int checked above.
    charges = {m: min(share, max(0, cap - before[m])) for m in sorted(before)}
    subsidy = sum(share - c for c in charges.values())
    capped = sum(1 for c in charges.values() if c < share)
    result = Apportionment(
        aid_fen=aid,
        fee_fen=fee,
        carry_in_fen=carry_in,
        members=n,
        due_fen=due,
        share_fen=share,
        carry_out_fen=carry_out,
        charges=charges,
        subsidy_fen=subsidy,
        capped_members=capped,
    )
    check_conservation(charges.values(), aid, fee, carry_in, carry_out, subsidy)
    return result


def check_conservation(
    charges: Iterable[int],
    aid_fen: int,
    fee_fen: int,
    carry_in_fen: int,
    carry_out_fen: int,
    subsidy_fen: int,
) -> None:
    """Check ``Σ charges = aid + fee - carry_in + carry_out - subsidy`` (§8.2).

    ``charges`` are the members' charges (for a mapping, pass ``.values()``). Raises
    :class:`ConservationError` naming both sides when they differ, and
    :class:`ApportionmentError` if a value is not an integer.
    """
    total = 0
    for i, c in enumerate(charges):
        total += check_int(c, f"charge [{i}]", ApportionmentError)
    aid = check_int(aid_fen, "aid_fen", ApportionmentError)
    fee = check_int(fee_fen, "fee_fen", ApportionmentError)
    carry_in = check_int(carry_in_fen, "carry_in_fen", ApportionmentError)
    carry_out = check_int(carry_out_fen, "carry_out_fen", ApportionmentError)
    subsidy = check_int(subsidy_fen, "subsidy_fen", ApportionmentError)
    expected = aid + fee - carry_in + carry_out - subsidy
    if total != expected:
        terms = (
            f"aid {aid} + fee {fee} - carry_in {carry_in} + carry_out {carry_out} "
            f"- subsidy {subsidy}"
        )
        raise ConservationError(total, expected, terms)
