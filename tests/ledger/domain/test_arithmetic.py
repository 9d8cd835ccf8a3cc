"""Periods, apportionment, the sum tree, the draw and votes: rules, properties, vectors."""

from __future__ import annotations

import base64
import hashlib
import json
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from ledger.domain import sumtree
from ledger.domain.apportion import ApportionError, Apportionment, apportion, check_conservation
from ledger.domain.draw import DrawError, draw, pool_root, pool_signature_message, seed
from ledger.domain.periods import PeriodError, cutoff, next_period, parse_period, period_open_at
from ledger.domain.vote import VoteError, sign_vote, verify_vote
from ledger.publish.note import parse_verifier_key
from tests.conftest import SPEC_VECTORS

PLAN = SPEC_VECTORS / "plan"


def load(path: Path) -> dict[str, Any]:
    return json.loads(path.read_text())  # type: ignore[no-any-return]


# -- periods -------------------------------------------------------------------


def test_period_vectors() -> None:
    for case in load(PLAN / "periods.json")["cases"]:
        assert period_open_at(case["time"]) == case["period_open"]
        assert cutoff(case["period_open"]) == case["cutoff"]


def test_periods_follow_each_other() -> None:
    assert next_period("2026-01a") == "2026-01b"
    assert next_period("2026-12b") == "2027-01a"
    for bad in ("2026-13a", "2026-1a", "2026-01c", "26-01a", "2026-00b"):
        with pytest.raises(PeriodError):
            parse_period(bad)


# -- apportionment -----------------------------------------------------------------


@pytest.mark.parametrize("path", sorted(PLAN.glob("apportion-*.json")), ids=lambda p: p.stem)
def test_apportion_vectors(path: Path) -> None:
    case = load(path)
    result = apportion(
        aid_fen=case["aid_fen"],
        fee_bp=case["fee_bp"],
        carry_in_fen=case["carry_in_fen"],
        annual_cap_fen=case["annual_cap_fen"],
        members=[(m["member"], m["charged_before_fen"]) for m in case["members"]],
    )
    expected = case["expected"]
    assert result.fee_fen == expected["fee_fen"]
    assert result.share_fen == expected["share_fen"]
    assert result.carry_out_fen == expected["carry_out_fen"]
    assert result.subsidy_fen == expected["subsidy_fen"]
    assert result.capped_members == expected["capped_members"]
    assert result.charges == expected["charges"]


def test_apportion_edges() -> None:
    none = apportion(aid_fen=5_000, fee_bp=800, carry_in_fen=0, annual_cap_fen=18_800, members=[])
    assert (none.share_fen, none.carry_out_fen) == (0, -5_400)
    exact = apportion(
        aid_fen=1_000, fee_bp=0, carry_in_fen=0, annual_cap_fen=10**9, members=[("a", 0), ("b", 0)]
    )
    assert (exact.share_fen, exact.carry_out_fen) == (500, 0)
    with pytest.raises(ApportionError):
        apportion(
            aid_fen=1, fee_bp=0, carry_in_fen=0, annual_cap_fen=1, members=[("a", 0), ("a", 0)]
        )
    bad = Apportionment(
        aid_fen=100,
        fee_fen=0,
        carry_in_fen=0,
        due_fen=100,
        members=1,
        share_fen=100,
        carry_out_fen=0,
        subsidy_fen=0,
        capped_members=0,
        charges={"a": 101},
    )
    with pytest.raises(ApportionError, match="expected members to be charged 100"):
        check_conservation(bad)


@given(
    aid=st.integers(-(10**9), 10**10),
    fee_bp=st.integers(0, 3_000),
    carry_in=st.integers(-(10**6), 10**6),
    cap=st.integers(0, 100_000),
    before=st.lists(st.integers(0, 200_000), max_size=60),
)
def test_money_is_conserved(
    aid: int, fee_bp: int, carry_in: int, cap: int, before: list[int]
) -> None:
    members = [(f"m-{i:04d}", b) for i, b in enumerate(before)]
    result = apportion(
        aid_fen=aid, fee_bp=fee_bp, carry_in_fen=carry_in, annual_cap_fen=cap, members=members
    )
    assert (
        result.total_fen
        == aid + result.fee_fen - carry_in + result.carry_out_fen - result.subsidy_fen
    )
    assert all(0 <= c <= result.share_fen for c in result.charges.values())
    if members and result.due_fen > 0:
        assert 0 <= result.carry_out_fen < len(members)


# -- sum tree ----------------------------------------------------------------------


def node(data: dict[str, Any]) -> sumtree.Node:
    return sumtree.Node(base64.b64decode(data["hash"]), data["count"], data["total"])


@pytest.mark.parametrize("path", sorted(PLAN.glob("sumtree-*.json")), ids=lambda p: p.stem)
def test_sumtree_vectors(path: Path) -> None:
    case = load(path)
    leaves = [sumtree.leaf(case["period"], x["member"], x["amount_fen"]) for x in case["leaves"]]
    tree = sumtree.levels(leaves)
    assert sumtree.root(tree) == node(case["root"])
    for item in case["proofs"]:
        siblings = [node(s) for s in item["siblings"]]
        assert sumtree.proof(tree, item["index"]) == siblings
        sumtree.verify(
            leaves[item["index"]], item["index"], len(leaves), siblings, node(case["root"])
        )


@given(amounts=st.lists(st.integers(0, 10**7), min_size=1, max_size=40), data=st.data())
def test_sumtree_proofs_bind_the_amount_count_and_total(
    amounts: list[int], data: st.DataObject
) -> None:
    leaves = [sumtree.leaf("2026-02b", f"m-{i:020x}", a) for i, a in enumerate(amounts)]
    tree = sumtree.levels(leaves)
    top = sumtree.root(tree)
    assert (top.count, top.total) == (len(amounts), sum(amounts))
    index = data.draw(st.integers(0, len(amounts) - 1))
    siblings = sumtree.proof(tree, index)
    sumtree.verify(leaves[index], index, len(leaves), siblings, top)
    forged_leaf = sumtree.leaf("2026-02b", f"m-{index:020x}", amounts[index] + 1)
    with pytest.raises(sumtree.SumTreeError):
        sumtree.verify(forged_leaf, index, len(leaves), siblings, top)
    if siblings:
        which = data.draw(st.integers(0, len(siblings) - 1))
        field = data.draw(st.sampled_from(["hash", "count", "total"]))
        s = siblings[which]
        changed = sumtree.Node(
            bytes([s.hash[0] ^ 1]) + s.hash[1:] if field == "hash" else s.hash,
            s.count + 1 if field == "count" else s.count,
            s.total + 1 if field == "total" else s.total,
        )
        forged = [changed if i == which else x for i, x in enumerate(siblings)]
        with pytest.raises(sumtree.SumTreeError):
            sumtree.verify(leaves[index], index, len(leaves), forged, top)


def test_sumtree_refuses_negative_or_huge_values() -> None:
    with pytest.raises(sumtree.SumTreeError):
        sumtree.leaf("2026-01a", "m-1", -1)
    with pytest.raises(sumtree.SumTreeError):
        sumtree.Node(b"\0" * 32, 1, 2**64).pack()
    assert sumtree.root(sumtree.levels([])) == sumtree.EMPTY


# -- draw and votes ---------------------------------------------------------------


def test_draw_vector() -> None:
    case = load(PLAN / "draw-basic.json")
    root = pool_root(case["claim"], case["pool"])
    assert root.hex() == case["pool_root"]
    verifier = parse_verifier_key(case["verifier_key"])
    signature = base64.b64decode(case["pool_signature"])
    assert verifier.verify(pool_signature_message(case["origin"], case["claim"], root), signature)
    secret = bytes.fromhex(case["secret"])
    assert hashlib.sha256(secret).hexdigest() == case["secret_commitment"]
    seed_bytes = seed(root, signature, secret)
    assert seed_bytes.hex() == case["seed"]
    assert draw(case["pool"], seed_bytes, case["panel_size"]) == case["jurors"]


@given(size=st.integers(1, 40), data=st.data())
def test_draw_is_a_deterministic_selection(size: int, data: st.DataObject) -> None:
    pool = sorted(f"m-{i:04d}" for i in range(size))
    panel = data.draw(st.integers(1, size))
    seed_bytes = data.draw(st.binary(min_size=32, max_size=32))
    first = draw(pool, seed_bytes, panel)
    assert first == draw(pool, seed_bytes, panel)
    assert len(set(first)) == panel
    assert set(first) <= set(pool)


def test_draw_refusals() -> None:
    with pytest.raises(DrawError):
        pool_root("c-1", ["m-2", "m-1"])
    with pytest.raises(DrawError):
        pool_root("c-1", ["m-1", "m-1"])
    with pytest.raises(DrawError):
        draw(["m-1"], b"\0" * 32, 2)


@pytest.mark.parametrize("path", sorted(PLAN.glob("vote-*.json")), ids=lambda p: p.stem)
def test_vote_vectors(path: Path) -> None:
    case = load(path)
    args = (
        case["juror_key"],
        case["origin"],
        case["claim"],
        case["choice"],
        case["rationale_hash"],
        case["signature"],
    )
    if case["valid"]:
        verify_vote(*args)
    else:
        with pytest.raises(VoteError):
            verify_vote(*args)


def test_vote_refusals() -> None:
    seed_bytes = b"\1" * 32
    rationale = "ab" * 32
    with pytest.raises(VoteError):
        sign_vote(seed_bytes, "o", "c-1", "maybe", rationale)
    with pytest.raises(VoteError):
        sign_vote(seed_bytes, "o", "c-1", "approve", "AB" * 32)


def test_the_plan_log_vector_replays() -> None:
    from ledger.domain.state import PlanState
    from ledger.log.entry import parse_entry

    case = load(PLAN / "plan-log.json")
    state = PlanState()
    for raw in case["entries_b64"]:
        state.apply(parse_entry(base64.b64decode(raw)))
    expected = case["expected"]
    assert len(state.members) == expected["members"]
    for claim, outcome in expected["claims"].items():
        assert state.claims[claim].outcome == outcome["outcome"]
        assert state.claims[claim].paid_fen == outcome["paid_fen"]
    for claim, jurors in expected["panel"].items():
        assert state.claims[claim].jurors == jurors
    assert [c.body for c in state.closed] == expected["periods"]
    last = expected["periods"][-1]
    for proof in expected["contribution_proofs"]:
        leaf = sumtree.leaf(last["period"], proof["member"], proof["amount_fen"])
        root = sumtree.Node(
            base64.b64decode(last["contribution_root"]),
            last["members"],
            last["contribution_total_fen"],
        )
        sumtree.verify(
            leaf, proof["index"], last["members"], [node(s) for s in proof["siblings"]], root
        )
