"""The compact tree and the proof builder, against the verifier's Merkle code and the vectors."""

from __future__ import annotations

import base64
import hashlib
import json
from pathlib import Path

import pytest

from verifier.compact import CompactTree, consistency_proof
from verifier.merkle import EMPTY_ROOT, root_from_leaf_hashes, verify_consistency

LOG_7 = Path(__file__).resolve().parents[2] / "specs" / "vectors" / "log" / "log-7.json"
LEAVES = [hashlib.sha256(b"leaf %d" % i).digest() for i in range(70)]


def test_root_at_every_size_matches_the_full_computation() -> None:
    tree = CompactTree()
    assert tree.root() == EMPTY_ROOT
    for n, leaf in enumerate(LEAVES, start=1):
        tree.append(leaf)
        assert tree.size == n
        assert len(tree.frontier) == n.bit_count()
        assert tree.root() == root_from_leaf_hashes(LEAVES[:n])


@pytest.mark.parametrize("stop", [1, 2, 3, 8, 13, 32, 33])
def test_resuming_from_a_saved_frontier(stop: int) -> None:
    first = CompactTree()
    for leaf in LEAVES[:stop]:
        first.append(leaf)
    resumed = CompactTree(first.size, list(first.frontier))
    for leaf in LEAVES[stop:]:
        resumed.append(leaf)
    assert resumed.root() == root_from_leaf_hashes(LEAVES)


@pytest.mark.parametrize(
    ("size", "frontier", "says"),
    [
        (3, [b"x" * 32], "has 2 frontier hashes, found 1"),
        (1, [b"x" * 31], "must be 32 bytes"),
        (-1, [], "must be >= 0"),
    ],
)
def test_a_frontier_that_cannot_be_is_refused(size: int, frontier: list[bytes], says: str) -> None:
    with pytest.raises(ValueError, match=says):
        CompactTree(size, frontier)


def test_built_proofs_verify_for_every_pair_of_sizes() -> None:
    for n in range(1, 34):
        root_n = root_from_leaf_hashes(LEAVES[:n])
        for m in range(1, n + 1):
            proof = consistency_proof(LEAVES[:n], m)
            verify_consistency(m, n, root_from_leaf_hashes(LEAVES[:m]), root_n, proof)


def test_built_proofs_equal_the_specs_vectors() -> None:
    case = json.loads(LOG_7.read_text())
    leaves = [base64.b64decode(h) for h in case["leaf_hashes"]]
    for vector in case["consistency"]:
        m, n = vector["first"], vector["second"]
        want = [base64.b64decode(h) for h in vector["hashes"]]
        assert consistency_proof(leaves[:n], m) == want, (m, n)


def test_proof_sizes_out_of_range() -> None:
    with pytest.raises(ValueError, match="expected 0 < first <= 3"):
        consistency_proof(LEAVES[:3], 0)
    with pytest.raises(ValueError, match="expected 0 < first <= 3"):
        consistency_proof(LEAVES[:3], 4)
