"""The statement vectors (specs/statement.md §4): what the verifier reports of each.

Each of ``vectors/statement/*.json`` with an ``expected`` section is a bundle of the
plan of ``plan/invalid/base.json`` (a recovery credited, a claim later reversed, a
member who left) and what statement.md §4 says of it, as the ledger reckoned it: the
verifier, checking the bundle on its own, must report the same.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from verifier.note import parse_verifier_key
from verifier.statement import StatementError, verify_bundle
from verifier.statement.log_steps import check_checkpoint, check_entries
from verifier.statement.plan_steps import (
    apportion_period,
    check_contributions,
    member_charges,
    replay_rules,
)

VECTORS = Path(__file__).resolve().parents[2] / "specs" / "vectors"
KEY = parse_verifier_key(
    json.loads((VECTORS / "keys" / "log-key.json").read_text())["verifier_key"]
)
CASES = sorted(
    p for p in (VECTORS / "statement").glob("*.json") if "expected" in json.loads(p.read_text())
)


@pytest.fixture(params=CASES, ids=lambda p: p.stem)
def case(request: pytest.FixtureRequest) -> dict[str, Any]:
    return dict(json.loads(request.param.read_text()))


def test_the_report_says_what_the_vector_expects(case: dict[str, Any]) -> None:
    report, _ = verify_bundle(case["statement"], KEY)
    want = case["expected"]
    assert (report.counted, report.charge_fen, report.share_fen) == (
        want["counted"],
        want["charge_fen"],
        want["share_fen"],
    )
    parts = want["parts"]
    assert {c.claim: c.part_fen for c in report.claims} == parts["claims"]
    assert {r.claim: r.part_fen for r in report.recoveries} == parts["recoveries"]
    assert (report.fee_part_fen, report.carry_in_part_fen, report.carry_out_part_fen) == (
        parts["fee"],
        parts["carry_in"],
        parts["carry_out"],
    )
    assert report.parts_fen == report.charge_fen
    reversed_ = {
        c.claim: {"recovered_fen": c.recovered_fen, "period": c.recovered_period}
        for c in report.claims
        if c.recovered_fen is not None
    }
    assert reversed_ == want["reversed"]


def test_the_words_tell_a_reversal_and_the_cap() -> None:
    report, _ = verify_bundle(
        json.loads((VECTORS / "statement" / "reversal.json").read_text())["statement"], KEY
    )
    text = "\n".join(report.lines())
    assert "recovered from c-26, reversed for fraud, was credited to this period" in text
    assert "the annual cap of 3,000.00 yuan limited your charge" in text
    report, _ = verify_bundle(
        json.loads((VECTORS / "statement" / "paid-then-reversed.json").read_text())["statement"],
        KEY,
    )
    assert "later reversed for fraud: 5,000.00 yuan recovered, credited to period 2025-03a" in (
        "\n".join(report.lines())
    )
    report, _ = verify_bundle(
        json.loads((VECTORS / "statement" / "absent.json").read_text())["statement"], KEY
    )
    assert report.lines()[0].startswith("You were not charged in period 2025-03a")


def _bundle(name: str) -> dict[str, Any]:
    return dict(json.loads((VECTORS / "statement" / f"{name}.json").read_text())["statement"])


def _fails(bundle: dict[str, Any], check: str) -> None:
    with pytest.raises(StatementError) as caught:
        verify_bundle(bundle, KEY)
    assert caught.value.check == check, caught.value


def test_an_absence_whose_neighbours_do_not_bracket_the_member_fails() -> None:
    bundle = _bundle("absent")
    absent = bundle["contributions"][-1]["absent"]
    absent["left"], absent["right"] = absent["right"], absent["left"]
    _fails(bundle, "contribution.absence")


def test_an_absence_one_place_off_fails() -> None:
    bundle = _bundle("absent")
    bundle["contributions"][-1]["absent"]["index"] += 1
    _fails(bundle, "contribution.proof")


def test_a_covered_period_left_out_fails() -> None:
    bundle = _bundle("reversal")
    bundle["contributions"] = bundle["contributions"][1:]
    _fails(bundle, "bundle.complete")


def test_a_leaf_and_the_log_must_agree_on_who_was_counted() -> None:
    """A tree that left out a counted member (or charged one who had left) is named."""
    bundle = _bundle("reversal")
    entries = check_entries(bundle, check_checkpoint(bundle, KEY))
    replay = replay_rules(entries)
    figures = apportion_period(bundle["period"], replay)
    contributions = check_contributions(bundle, bundle["member"], replay.closed)
    hidden = dict(contributions, **{bundle["period"]: None})
    with pytest.raises(StatementError) as caught:
        member_charges(bundle["member"], figures, replay, hidden)
    assert caught.value.check == "contribution.counted"
    leaver = _bundle("absent")
    entries = check_entries(leaver, check_checkpoint(leaver, KEY))
    replay = replay_rules(entries)
    figures = apportion_period(leaver["period"], replay)
    contributions = check_contributions(leaver, leaver["member"], replay.closed)
    charged = dict(contributions, **{leaver["period"]: 67_500})
    with pytest.raises(StatementError) as caught:
        member_charges(leaver["member"], figures, replay, charged)
    assert caught.value.check == "contribution.counted"
