"""Apportionment of a period's aid and its conservation (specs/plan.md §8.2)."""

from __future__ import annotations

import math
from fractions import Fraction

import pytest
from hypothesis import given
from hypothesis import strategies as st

from verifier.errors import VerificationError
from verifier.plan.apportion import (
    Apportionment,
    apportion,
    charge_fen,
    check_conservation,
    fee_fen,
    share_fen,
)
from verifier.plan.errors import ApportionmentError, ConservationError, PlanError

CAP = 18_800


def member(i: int) -> str:
    return f"m-{i:020x}"


def fresh(n: int, before: int = 0) -> list[tuple[str, int]]:
    return [(member(i), before) for i in range(n)]


def conserved(a: Apportionment) -> None:
    check_conservation(
        a.charges.values(), a.aid_fen, a.fee_fen, a.carry_in_fen, a.carry_out_fen, a.subsidy_fen
    )


def test_reference_example() -> None:
    a = apportion(100_000, 800, 0, fresh(7), CAP)
    assert a.fee_fen == 8_000
    assert a.due_fen == 108_000
    assert a.members == 7
    assert a.share_fen == 15_429  # ⌈108000 / 7⌉ = ⌈15428.57…⌉
    assert a.carry_out_fen == 3  # 15429 * 7 - 108000
    assert set(a.charges.values()) == {15_429}
    assert (a.subsidy_fen, a.capped_members) == (0, 0)
    assert a.total_charged_fen == 108_003
    conserved(a)


def test_exact_division_carries_nothing() -> None:
    a = apportion(9_000, 0, 0, fresh(9), CAP)
    assert (a.share_fen, a.carry_out_fen) == (1_000, 0)


def test_carry_in_is_subtracted() -> None:
    a = apportion(100_000, 800, 3, fresh(7), CAP)
    assert a.due_fen == 107_997
    assert a.share_fen == 15_429
    assert a.carry_out_fen == 6


@pytest.mark.parametrize(
    ("aid", "bp", "fee"),
    [
        (12_345, 800, 987),  # 987.6 rounds down
        (1, 800, 0),  # 0.08
        (12, 800, 0),  # 0.96
        (13, 800, 1),  # 1.04
        (9_999, 1, 0),
        (10_000, 1, 1),
        (125, 800, 10),  # exact
        (0, 800, 0),
        (-5_000, 800, 0),  # no fee on negative aid
        (100_000, 0, 0),
        (100_000, 10_000, 100_000),
    ],
)
def test_fee_is_floored_and_never_on_negative_aid(aid: int, bp: int, fee: int) -> None:
    assert fee_fen(aid, bp) == fee
    assert apportion(aid, bp, 0, fresh(3), CAP).fee_fen == fee


def test_no_members_carries_the_whole_due() -> None:
    a = apportion(50_000, 800, 0, [], CAP)
    assert (a.members, a.share_fen, a.subsidy_fen, a.capped_members) == (0, 0, 0, 0)
    assert a.charges == {}
    # carry_out = share * N - due = -due: the debt moves to the next period.
    assert a.carry_out_fen == -54_000
    conserved(a)
    nxt = apportion(0, 800, a.carry_out_fen, fresh(4), CAP)
    assert nxt.due_fen == 54_000
    assert nxt.share_fen == 13_500


def test_no_members_and_nothing_due() -> None:
    a = apportion(0, 800, 0, [], CAP)
    assert (a.share_fen, a.carry_out_fen, a.subsidy_fen) == (0, 0, 0)


def test_zero_due() -> None:
    a = apportion(1_000, 0, 1_000, fresh(5), CAP)
    assert a.due_fen == 0
    assert (a.share_fen, a.carry_out_fen, a.subsidy_fen, a.capped_members) == (0, 0, 0, 0)
    assert set(a.charges.values()) == {0}


def test_carry_in_larger_than_aid_and_fee() -> None:
    a = apportion(1_000, 800, 2_000, fresh(5), CAP)
    assert a.fee_fen == 80
    assert a.due_fen == -920
    assert a.share_fen == 0
    assert a.carry_out_fen == 920  # the surplus is carried on
    assert set(a.charges.values()) == {0}
    assert (a.subsidy_fen, a.capped_members) == (0, 0)
    conserved(a)


def test_negative_aid_from_recoveries() -> None:
    a = apportion(-5_000, 800, 7, fresh(3), CAP)
    assert (a.fee_fen, a.due_fen, a.share_fen, a.carry_out_fen) == (0, -5_007, 0, 5_007)
    conserved(a)


def test_everyone_capped() -> None:
    a = apportion(100_000, 800, 0, fresh(7, before=CAP), CAP)
    assert a.share_fen == 15_429
    assert set(a.charges.values()) == {0}
    assert a.capped_members == 7
    assert a.subsidy_fen == 7 * 15_429
    assert a.total_charged_fen == 0
    conserved(a)


def test_charged_past_the_cap_is_floored_at_zero() -> None:
    a = apportion(100_000, 800, 0, fresh(2, before=CAP + 500), CAP)
    assert set(a.charges.values()) == {0}
    assert a.subsidy_fen == 2 * a.share_fen


def test_cap_exactly_reached_is_not_capped() -> None:
    share = 15_429
    members = [
        (member(1), CAP - share),  # reaches the cap exactly: charged in full
        (member(2), CAP - share + 1),  # one fen short of room: capped
        (member(3), 0),
        (member(4), CAP - 1),
        (member(5), CAP),
        (member(6), 3_371),  # exactly at the cap after this charge
        (member(7), 3_372),
    ]
    a = apportion(100_000, 800, 0, members, CAP)
    assert a.share_fen == share
    assert dict(a.charges) == {
        member(1): share,
        member(2): share - 1,
        member(3): share,
        member(4): 1,
        member(5): 0,
        member(6): share,
        member(7): share - 1,
    }
    assert a.capped_members == 4
    assert a.subsidy_fen == 1 + (share - 1) + share + 1
    conserved(a)


def test_charges_are_in_member_order() -> None:
    members = [(member(5), 0), (member(1), 0), (member(3), 0)]
    a = apportion(300, 0, 0, members, CAP)
    assert list(a.charges) == [member(1), member(3), member(5)]


def test_share_and_charge_helpers() -> None:
    assert share_fen(10, 3) == 4
    assert share_fen(9, 3) == 3
    assert share_fen(1, 1_000) == 1
    assert share_fen(0, 3) == 0
    assert share_fen(-10, 3) == 0
    assert share_fen(10, 0) == 0
    assert charge_fen(100, CAP, CAP - 40) == 40
    assert charge_fen(100, CAP, CAP + 1) == 0
    assert charge_fen(0, CAP, 0) == 0
    with pytest.raises(ApportionmentError, match=">= 0"):
        share_fen(10, -1)


def test_duplicate_member_is_refused() -> None:
    with pytest.raises(ApportionmentError, match="listed twice"):
        apportion(100, 0, 0, [(member(1), 0), (member(1), 5)], CAP)


@pytest.mark.parametrize("bad_id", ["", 7, None, b"m-01"])
def test_member_id_must_be_a_non_empty_string(bad_id: object) -> None:
    with pytest.raises(ApportionmentError, match="non-empty string"):
        apportion(100, 0, 0, [(bad_id, 0)], CAP)  # type: ignore[list-item]


def test_member_ids_are_only_keys_here() -> None:
    # The §1 pattern is checked by the sum tree and the pool, not by the arithmetic.
    a = apportion(100, 0, 0, [("m-02", 0), ("m-01", 0)], CAP)
    assert dict(a.charges) == {"m-01": 50, "m-02": 50}


def test_negative_earlier_charge_is_refused() -> None:
    with pytest.raises(ApportionmentError, match=r"charged_before_fen .* must be >= 0, found -1"):
        apportion(100, 0, 0, [(member(1), -1)], CAP)


@pytest.mark.parametrize(
    "args",
    [
        (100.0, 800, 0, CAP),
        (100, 800.0, 0, CAP),
        (100, 800, True, CAP),
        (100, 800, 0, "18800"),
    ],
)
def test_non_integers_are_refused(args: tuple[object, object, object, object]) -> None:
    aid, bp, carry, cap = args
    with pytest.raises(ApportionmentError, match="must be an integer"):
        apportion(aid, bp, carry, fresh(2), cap)  # type: ignore[arg-type]


def test_malformed_member_pair_is_refused() -> None:
    with pytest.raises(ApportionmentError, match="pair"):
        apportion(100, 0, 0, [(member(1),)], CAP)  # type: ignore[list-item]


def test_conservation_failure_names_both_sides() -> None:
    a = apportion(100_000, 800, 0, fresh(7), CAP)
    charges = list(a.charges.values())
    charges[0] -= 1
    with pytest.raises(ConservationError) as caught:
        check_conservation(charges, a.aid_fen, a.fee_fen, 0, a.carry_out_fen, a.subsidy_fen)
    err = caught.value
    assert isinstance(err, VerificationError)
    assert isinstance(err, PlanError)
    assert (err.charged, err.expected) == (108_002, 108_003)
    assert "expected sum of charges = aid 100000 + fee 8000 - carry_in 0" in str(err)
    assert "= 108003" in str(err)
    assert "found sum of charges = 108002" in str(err)


@pytest.mark.parametrize("field", ["aid", "fee", "carry_in", "carry_out", "subsidy"])
def test_conservation_catches_each_term(field: str) -> None:
    a = apportion(100_000, 800, 5, fresh(7, before=CAP - 10_000), CAP)
    terms = {
        "aid": a.aid_fen,
        "fee": a.fee_fen,
        "carry_in": a.carry_in_fen,
        "carry_out": a.carry_out_fen,
        "subsidy": a.subsidy_fen,
    }
    check_conservation(a.charges.values(), *terms.values())
    terms[field] += 1
    with pytest.raises(ConservationError):
        check_conservation(a.charges.values(), *terms.values())


def test_conservation_refuses_non_integer_charges() -> None:
    with pytest.raises(ApportionmentError, match=r"charge \[1\] must be an integer"):
        check_conservation([1, 2.0], 3, 0, 0, 0, 0)  # type: ignore[list-item]


# Property tests: an exact rational oracle (fractions, never floats) and the invariants.

money = st.integers(min_value=-(2**40), max_value=2**40)
members_st = st.dictionaries(
    st.integers(min_value=0, max_value=2**80 - 1).map(member),
    st.integers(min_value=0, max_value=40_000),
    max_size=40,
)


@given(
    aid=money,
    bp=st.integers(min_value=0, max_value=10_000),
    carry_in=money,
    members=members_st,
    cap=st.integers(min_value=0, max_value=40_000),
)
def test_conservation_and_oracle(
    aid: int, bp: int, carry_in: int, members: dict[str, int], cap: int
) -> None:
    a = apportion(aid, bp, carry_in, list(members.items()), cap)
    conserved(a)
    n = len(members)
    fee = math.floor(Fraction(max(aid, 0) * bp, 10_000))
    due = aid + fee - carry_in
    share = math.ceil(Fraction(due, n)) if due > 0 and n > 0 else 0
    assert (a.fee_fen, a.due_fen, a.share_fen, a.members) == (fee, due, share, n)
    assert a.carry_out_fen == share * n - due
    if due > 0 and n > 0:
        assert 0 <= a.carry_out_fen < n  # a share never over-collects by a member's fen
    elif due <= 0:
        assert a.carry_out_fen == -due
    assert list(a.charges) == sorted(members)
    for m, c in a.charges.items():
        assert 0 <= c <= share
        assert c + members[m] <= max(cap, members[m])  # nobody is pushed past the cap
        assert c == share or c == max(0, cap - members[m])
    assert a.capped_members == sum(1 for c in a.charges.values() if c < share)
    assert a.subsidy_fen == share * n - a.total_charged_fen
    assert a.subsidy_fen >= 0
