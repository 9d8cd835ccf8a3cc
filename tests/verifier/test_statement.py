"""The statement check as a library (verifier.statement): its steps and its whole verdict.

The CLI's view of the same checks is test_cli_statement.py; here the library's
entry points are called directly, as another program would.
"""

from __future__ import annotations

import base64
import copy
import hashlib
import json
from pathlib import Path
from typing import Any

import pytest

from tests.verifier.helpers import parse_go_private_key, sign_note
from verifier.checkpoint import Checkpoint, verify_checkpoint
from verifier.compact import consistency_proof
from verifier.errors import ProblemFileError
from verifier.merkle import leaf_hash, root_from_leaf_hashes
from verifier.note import parse_verifier_key
from verifier.statement import (
    STEPS,
    StatementError,
    compare_with_saved,
    parse_bundle_bytes,
    verify_bundle,
    verify_statement,
)
from verifier.statement.log_steps import (
    check_checkpoint,
    check_entries,
    check_format,
    check_request,
)
from verifier.statement.plan_steps import replay_rules

SPECS = Path(__file__).resolve().parents[2] / "specs" / "vectors"
BUNDLE: dict[str, Any] = json.loads((SPECS / "statement" / "statement.json").read_text())[
    "statement"
]
LOG_KEY = json.loads((SPECS / "keys" / "log-key.json").read_text())
KEY = parse_verifier_key(LOG_KEY["verifier_key"])
PLAN_LOG = json.loads((SPECS / "plan" / "plan-log.json").read_text())
LEAVES = [leaf_hash(base64.b64decode(b)) for b in PLAN_LOG["entries_b64"]]
MORE = LEAVES + [hashlib.sha256(b"later %d" % i).digest() for i in range(5)]
"""The plan log's leaves and five more: a later tree of the same log."""


def signed(leaves: list[bytes]) -> tuple[str, Checkpoint]:
    """A checkpoint of ``leaves`` signed with the vector log key."""
    name, seed = parse_go_private_key(LOG_KEY["signer_key"])
    root = root_from_leaf_hashes(leaves)
    note = sign_note(f"{name}\n{len(leaves)}\n{base64.b64encode(root).decode()}\n", (name, seed))
    return note, verify_checkpoint(note, KEY)


def prover(leaves: list[bytes]) -> Any:
    return lambda m, n: consistency_proof(leaves[:n], m)


def test_the_steps_are_those_of_the_spec_in_order() -> None:
    assert [s.name for s in STEPS] == [
        "format and key",
        "checkpoint",
        "entries: bytes, proofs, order, chain links, genesis",
        "completeness",
        "the plan's rules over the entries present",
        "contributions",
        "the period's apportionment",
        "the member's charge",
        "the claims",
    ]


def test_verify_bundle_alone() -> None:
    report, cp = verify_bundle(copy.deepcopy(BUNDLE), KEY)
    assert (report.member, report.period, report.charge_fen) == (
        BUNDLE["member"],
        "2025-02b",
        18800,
    )
    assert cp.size == 35
    assert report.checkpoint_compared == "not compared"
    assert report.checks[:3] == ["bundle.format", "bundle.key", "checkpoint.signature"]
    assert "checkpoint.consistency" not in report.checks


def test_the_whole_verdict_with_no_saved_checkpoint() -> None:
    verdict = verify_statement(copy.deepcopy(BUNDLE), KEY, saved=None)
    assert verdict.report.checkpoint_compared == "not compared with a saved checkpoint (no state)"
    assert verdict.report.checks[-1] == "checkpoint.consistency"
    assert not verdict.replaces_saved
    assert verdict.note == BUNDLE["checkpoint"]


def test_the_same_checkpoint_saved() -> None:
    _, saved = signed(LEAVES)
    verdict = verify_statement(copy.deepcopy(BUNDLE), KEY, saved=saved, prove=prover(LEAVES))
    assert verdict.report.checkpoint_compared == "the same as your saved checkpoint (35 entries)"
    assert not verdict.replaces_saved


def test_a_smaller_saved_checkpoint_is_replaced_when_proved() -> None:
    _, saved = signed(LEAVES[:20])
    offline = verify_statement(copy.deepcopy(BUNDLE), KEY, saved=saved)
    assert offline.report.checkpoint_compared.startswith(
        "not compared with your saved checkpoint (20 entries): offline"
    )
    assert not offline.replaces_saved
    asked: list[tuple[int, int]] = []

    def prove(m: int, n: int) -> list[bytes]:
        asked.append((m, n))
        return consistency_proof(LEAVES, m)

    live = verify_statement(copy.deepcopy(BUNDLE), KEY, saved=saved, prove=prove)
    assert asked == [(20, 35)]
    assert live.replaces_saved
    assert live.report.checkpoint_compared.endswith("which it replaces")


def test_a_larger_saved_checkpoint_is_kept() -> None:
    _, saved = signed(MORE)
    verdict = verify_statement(copy.deepcopy(BUNDLE), KEY, saved=saved, prove=prover(MORE))
    assert verdict.report.checkpoint_compared == (
        "consistent with your saved, larger checkpoint (40 entries)"
    )
    assert not verdict.replaces_saved


@pytest.mark.parametrize(
    ("saved_leaves", "proof_leaves"),
    [
        # Another history of the same size.
        ([*LEAVES[:34], hashlib.sha256(b"other").digest()], LEAVES),
        # A saved tree of 20 that is no prefix of the bundle's.
        ([hashlib.sha256(b"x%d" % i).digest() for i in range(20)], LEAVES),
        # A larger saved tree that does not extend the bundle's.
        ([hashlib.sha256(b"y%d" % i).digest() for i in range(40)], MORE),
    ],
)
def test_an_inconsistent_saved_checkpoint_fails_the_verdict(
    saved_leaves: list[bytes], proof_leaves: list[bytes]
) -> None:
    _, saved = signed(saved_leaves)
    with pytest.raises(StatementError) as caught:
        verify_statement(copy.deepcopy(BUNDLE), KEY, saved=saved, prove=prover(proof_leaves))
    assert caught.value.check == "checkpoint.consistency"


def test_compare_with_saved_needs_no_proof_from_an_empty_tree() -> None:
    _, empty = signed([])
    _, cp = signed(LEAVES)
    comparison = compare_with_saved(cp, empty, lambda m, n: pytest.fail("no proof needed"))
    assert comparison.replaces_saved


def test_the_request_is_checked_first() -> None:
    with pytest.raises(StatementError) as caught:
        verify_statement(copy.deepcopy(BUNDLE), KEY, saved=None, member="m-" + "0" * 20)
    assert caught.value.check == "bundle.request"
    check_request(BUNDLE, BUNDLE["member"], "2025-02b")
    with pytest.raises(StatementError, match="period 2025-02a"):
        check_request(BUNDLE, BUNDLE["member"], "2025-02a")


@pytest.mark.parametrize(
    ("edit", "check"),
    [
        (lambda b: b.update(format="x"), "bundle.format"),
        (lambda b: b.update(extra=1), "bundle.format"),
        (lambda b: b.update(period="2025-13a"), "bundle.format"),
        (lambda b: b.update(origin="other/log"), "bundle.key"),
        (lambda b: b.update(checkpoint=7), "checkpoint.signature"),
        (lambda b: b["entries"][3].update(leaf="not base64"), "entries.format"),
        (lambda b: b["entries"][3].update(proof=["AAAA"]), "entries.format"),
        (lambda b: b["entries"][3].update(seq=10**6), "entries.order"),
        (lambda b: b["entries"].pop(0), "genesis"),
        (lambda b: b["contributions"][-1].update(index="0"), "contribution.format"),
        (lambda b: b["contributions"].append(b["contributions"][-1]), "contribution.format"),
        (lambda b: b["contributions"][0].update(period="2024-01a"), "bundle.complete"),
        (lambda b: b["contributions"].pop(0), "bundle.complete"),
    ],
)
def test_each_step_names_its_check(edit: Any, check: str) -> None:
    bundle = copy.deepcopy(BUNDLE)
    edit(bundle)
    with pytest.raises(StatementError) as caught:
        verify_bundle(bundle, KEY)
    assert caught.value.check == check, caught.value


def test_step_functions_on_their_own() -> None:
    """Each step is a function of what the steps before it returned."""
    subject = check_format(BUNDLE)
    assert (subject.member, subject.period) == (BUNDLE["member"], "2025-02b")
    entries = check_entries(BUNDLE, check_checkpoint(BUNDLE, KEY))
    replay = replay_rules(entries)
    assert set(replay.closed) >= {"2025-02a", "2025-02b"}
    without_a_vote = [
        e for e in entries if e.seq != next(e.seq for e in entries if e.type == "vote.cast")
    ]
    with pytest.raises(StatementError) as caught:
        replay_rules(without_a_vote)
    assert caught.value.check == "plan.rules"


def test_parse_bundle_bytes() -> None:
    assert parse_bundle_bytes(json.dumps(BUNDLE).encode()) == BUNDLE
    with pytest.raises(StatementError) as caught:
        parse_bundle_bytes(b'{"a": 1, "a": 2}')
    assert caught.value.check == "bundle.json"
    problem = {"type": "about:blank", "title": "Not found", "status": 404, "detail": "gone"}
    with pytest.raises(ProblemFileError) as refused:
        parse_bundle_bytes(json.dumps(problem).encode())
    assert str(refused.value) == (
        "this file is the server's error answer, not a statement bundle: 404 Not found: gone"
    )
