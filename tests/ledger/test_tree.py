"""The RFC 9162 tree: stored-hash layout, roots, proofs, and the public vectors."""

from __future__ import annotations

import base64
import json
from collections.abc import Sequence
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st

from ledger.errors import TreeError
from ledger.log import tree
from ledger.log.proof import ProofError, verify_consistency, verify_inclusion


class MemoryHashes:
    """Stored hashes in a list, filled the way the sequencer fills the table."""

    def __init__(self, leaves: Sequence[bytes]) -> None:
        self.hashes: list[bytes] = []
        self.frontier = tree.Frontier(0, [])
        for leaf in leaves:
            self.hashes.extend(self.frontier.append(tree.leaf_hash(leaf)))

    def read_hashes(self, indexes: Sequence[int]) -> list[bytes]:
        return [self.hashes[i] for i in indexes]


def reference_root(leaves: Sequence[bytes]) -> bytes:
    """RFC 9162 §2.1.1 MTH, written recursively as the RFC does."""
    if not leaves:
        return tree.EMPTY_ROOT
    if len(leaves) == 1:
        return tree.leaf_hash(leaves[0])
    k = 1 << ((len(leaves) - 1).bit_length() - 1)
    return tree.node_hash(reference_root(leaves[:k]), reference_root(leaves[k:]))


def b64(text: str | None) -> bytes:
    return base64.b64decode(text) if text else b""


def test_stored_hash_layout_matches_append_order() -> None:
    store = MemoryHashes([])
    for n in range(600):
        assert len(store.hashes) == tree.stored_hash_index(0, n) == tree.stored_hash_count(n)
        created = store.frontier.append(tree.leaf_hash(b"%d" % n))
        for level in range(len(created)):
            index = (n + 1 >> level) - 1
            assert tree.stored_hash_index(level, index) == len(store.hashes) + level
        store.hashes.extend(created)


def test_rfc6962_roots(shared_vectors: Path) -> None:
    case = json.loads((shared_vectors / "rfc6962-roots.json").read_text())
    leaves = [bytes.fromhex(x) for x in case["leaves_hex"]]
    roots = case["roots_hex_by_size"]
    assert sorted(map(int, roots)) == list(range(9))
    for size, want in roots.items():
        store = MemoryHashes(leaves[: int(size)])
        assert tree.root_at(store, int(size)).hex() == want


def _cases(shared: Path, kind: str) -> list[Path]:
    return sorted((shared / "rfc9162" / kind).rglob("*.json"))


@pytest.mark.parametrize("kind", ["inclusion", "consistency"])
def test_rfc9162_vectors(shared_vectors: Path, kind: str) -> None:
    cases = _cases(shared_vectors, kind)
    assert len(cases) == 98
    for path in cases:
        case = json.loads(path.read_text())
        proof = [b64(h) for h in case["proof"] or []]
        try:
            if kind == "inclusion":
                verify_inclusion(
                    case["leafIdx"],
                    case["treeSize"],
                    b64(case["leafHash"]),
                    proof,
                    b64(case["root"]),
                )
            else:
                verify_consistency(
                    case["size1"], case["size2"], b64(case["root1"]), b64(case["root2"]), proof
                )
        except ProofError:
            failed = True
        else:
            failed = False
        assert failed == case["wantErr"], f"{path.relative_to(shared_vectors)}: {case['desc']}"


@given(st.lists(st.binary(max_size=8), min_size=1, max_size=70), st.data())
def test_every_proof_verifies(leaves: list[bytes], data: st.DataObject) -> None:
    store = MemoryHashes(leaves)
    size = data.draw(st.integers(1, len(leaves)))
    index = data.draw(st.integers(0, size - 1))
    root = tree.root_at(store, size)
    assert root == reference_root(leaves[:size])
    verify_inclusion(
        index, size, tree.leaf_hash(leaves[index]), tree.inclusion_proof(store, index, size), root
    )
    first = data.draw(st.integers(1, size))
    verify_consistency(
        first, size, tree.root_at(store, first), root, tree.consistency_proof(store, first, size)
    )


@given(st.lists(st.binary(max_size=8), min_size=2, max_size=40), st.data())
def test_any_one_byte_change_to_a_proof_fails(leaves: list[bytes], data: st.DataObject) -> None:
    store = MemoryHashes(leaves)
    size = len(leaves)
    index = data.draw(st.integers(0, size - 1))
    proof = tree.inclusion_proof(store, index, size)
    root = tree.root_at(store, size)
    leaf = tree.leaf_hash(leaves[index])
    target = data.draw(st.sampled_from(["proof", "leaf", "root"] if proof else ["leaf", "root"]))
    flip = data.draw(st.integers(1, 255))
    at = data.draw(st.integers(0, 31))

    def changed(h: bytes) -> bytes:
        return h[:at] + bytes([h[at] ^ flip]) + h[at + 1 :]

    if target == "proof":
        which = data.draw(st.integers(0, len(proof) - 1))
        proof = [changed(h) if i == which else h for i, h in enumerate(proof)]
    elif target == "leaf":
        leaf = changed(leaf)
    else:
        root = changed(root)
    with pytest.raises(ProofError):
        verify_inclusion(index, size, leaf, proof, root)


def test_out_of_range_requests() -> None:
    store = MemoryHashes([b"a", b"b", b"c"])
    with pytest.raises(TreeError):
        tree.inclusion_proof(store, 3, 3)
    with pytest.raises(TreeError):
        tree.consistency_proof(store, 0, 3)
    with pytest.raises(TreeError):
        tree.consistency_proof(store, 3, 2)
    with pytest.raises(TreeError):
        tree.root_at(store, -1)
    assert tree.consistency_proof(store, 3, 3) == []
    assert tree.root_at(store, 0) == tree.EMPTY_ROOT


def test_proofs_read_logarithmically_many_hashes() -> None:
    class Counting(MemoryHashes):
        reads = 0

        def read_hashes(self, indexes: Sequence[int]) -> list[bytes]:
            self.reads = max(self.reads, len(indexes))
            return super().read_hashes(indexes)

    store = Counting([b"%d" % i for i in range(3000)])
    for size in (1000, 2047, 2048, 2999, 3000):
        for index in (0, size // 3, size - 1):
            tree.inclusion_proof(store, index, size)
            tree.consistency_proof(store, max(1, index), size)
            tree.root_at(store, size)
    # at most 2*log2(n)+1 positions per proof, never a recomputed subtree
    assert store.reads <= 2 * 12 + 1
