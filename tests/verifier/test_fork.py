"""Fork classification and the offline check of evidence files (verifier.fork)."""

from __future__ import annotations

import base64
import os
from typing import Any

import pytest

from tests.verifier.cli_support import FakeLog
from verifier.checkpoint import verify_checkpoint
from verifier.fork import (
    DIVERGED,
    ROLLBACK,
    SAME_SIZE,
    UNPROVEN,
    Fork,
    ForkError,
    Seen,
    check_evidence,
    check_extends,
    classify_proof,
    evidence_document,
)
from verifier.merkle import EMPTY_ROOT
from verifier.note import parse_verifier_key


def seen(log: FakeLog, size: int) -> Seen:
    note = log.checkpoint(size)
    return Seen(note, verify_checkpoint(note, parse_verifier_key(log.key)), "test", None)


def proof(log: FakeLog, m: int, n: int) -> list[bytes]:
    return [base64.b64decode(h) for h in log.proof(m, n)]


@pytest.fixture
def honest() -> FakeLog:
    return FakeLog().grow(19)  # 20 entries


@pytest.fixture
def forked(honest: FakeLog) -> FakeLog:
    """The same key and genesis, another history after it."""
    return FakeLog(entries=honest.entries[:1]).grow(19, tag="b")


def test_an_honest_extension_is_accepted(honest: FakeLog) -> None:
    check_extends(seen(honest, 5), seen(honest, 20), lambda m, n: proof(honest, m, n))
    check_extends(seen(honest, 20), seen(honest, 20), lambda m, n: pytest.fail("no proof"))


def test_growth_from_the_empty_tree_needs_no_proof() -> None:
    log = FakeLog().grow(3)
    note = log.checkpoint(0, root=EMPTY_ROOT)
    start = Seen(note, verify_checkpoint(note, parse_verifier_key(log.key)), "t", None)
    check_extends(start, seen(log, 4), lambda m, n: pytest.fail("no proof"))


def test_each_kind(honest: FakeLog, forked: FakeLog) -> None:
    cases: list[tuple[Seen, Seen, list[bytes], str]] = [
        (seen(honest, 20), seen(honest, 7), [], ROLLBACK),
        (seen(honest, 7), seen(forked, 7), [], SAME_SIZE),
        (seen(honest, 7), seen(forked, 20), proof(forked, 7, 20), DIVERGED),
        (seen(honest, 7), seen(honest, 20), [os.urandom(32) for _ in range(4)], UNPROVEN),
    ]
    for first, second, hashes, kind in cases:
        with pytest.raises(ForkError) as caught:
            check_extends(first, second, lambda m, n, h=hashes: h)  # type: ignore[misc]
        assert caught.value.fork.kind == kind


def test_a_power_of_two_needs_the_claimed_prefix_root(honest: FakeLog, forked: FakeLog) -> None:
    """RFC 9162 leaves the old root out of a proof from a power of two: it cannot derive it."""
    first, second = seen(honest, 8), seen(forked, 20)
    hashes = proof(forked, 8, 20)
    fork = classify_proof(first, second, hashes)
    assert fork is not None
    assert fork.kind == UNPROVEN
    with_root = classify_proof(first, second, hashes, forked.root(8))
    assert with_root is not None
    assert (with_root.kind, with_root.second_root_at_first_size) == (DIVERGED, forked.root(8))
    # A claimed root that the proof does not support proves nothing more.
    guessed = classify_proof(first, second, hashes, os.urandom(32))
    assert guessed is not None
    assert guessed.kind == UNPROVEN


def document(fork: Fork, key: str) -> dict[str, Any]:
    return evidence_document(fork, key, "2026-01-01T00:00:00Z")


def test_evidence_round_trip(honest: FakeLog, forked: FakeLog) -> None:
    fork = classify_proof(seen(honest, 7), seen(forked, 20), proof(forked, 7, 20))
    assert fork is not None
    verdict = check_evidence(document(fork, honest.key), parse_verifier_key(honest.key))
    assert (verdict.holds, verdict.kind, verdict.conclusive) == (True, DIVERGED, True)
    assert verdict.key_matches_pinned is True


@pytest.mark.parametrize(
    ("change", "says"),
    [
        (lambda d: d.update(format="x"), "expected format"),
        (lambda d: d.update(verifier_key="nope"), "verifier key is not valid"),
        (lambda d: d.pop("second"), "no second checkpoint"),
        (lambda d: d.update(consistency_proof=None), "the file has no consistency proof"),
        (lambda d: d["consistency_proof"].update(first=6), "for sizes 6 to 20, not 7 to 20"),
        (lambda d: d["consistency_proof"]["hashes"].append("AA=="), "not base64 of 32 bytes"),
    ],
)
def test_evidence_that_proves_nothing(
    honest: FakeLog, forked: FakeLog, change: Any, says: str
) -> None:
    fork = classify_proof(seen(honest, 7), seen(forked, 20), proof(forked, 7, 20))
    assert fork is not None
    doc = document(fork, honest.key)
    change(doc)
    verdict = check_evidence(doc)
    assert not verdict.holds
    assert says in verdict.message


def test_an_honest_pair_with_its_proof_is_not_evidence(honest: FakeLog) -> None:
    """Whatever the file's ``kind`` says, the check works it out again from what is signed."""
    fake = Fork(DIVERGED, seen(honest, 7), seen(honest, 20), tuple(proof(honest, 7, 20)))
    verdict = check_evidence(document(fake, honest.key))
    assert not verdict.holds
    assert "the log grew honestly" in verdict.message


def test_the_same_checkpoint_twice_is_not_evidence(honest: FakeLog) -> None:
    fake = Fork(SAME_SIZE, seen(honest, 7), seen(honest, 7))
    assert not check_evidence(document(fake, honest.key)).holds


def test_evidence_under_another_key(honest: FakeLog, forked: FakeLog) -> None:
    fork = Fork(SAME_SIZE, seen(honest, 7), seen(forked, 7))
    other = parse_verifier_key(FakeLog(seed=b"\x01" * 32).key)
    verdict = check_evidence(document(fork, honest.key), other)
    assert verdict.holds
    assert verdict.key_matches_pinned is False
    # Notes signed by the pinned key cannot be passed off under another key.
    doc = document(fork, FakeLog(seed=b"\x01" * 32).key)
    assert not check_evidence(doc).holds
