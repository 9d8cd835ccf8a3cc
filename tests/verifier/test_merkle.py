"""RFC 9162 hashing and proof verification: upstream vectors and properties.

The properties check ``verifier.merkle`` against a reference proof generator
written here from the recursive definitions of RFC 9162 sections 2.1.3.1 (PATH)
and 2.1.4.1 (SUBPROOF), over an in-memory list of leaf hashes.
"""

from __future__ import annotations

import base64
import hashlib
import json
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from tests.verifier.helpers import VECTORS_DIR
from verifier.errors import ProofError, RootMismatchError, VerificationError
from verifier.merkle import (
    EMPTY_ROOT,
    leaf_hash,
    node_hash,
    root_from_leaf_hashes,
    verify_consistency,
    verify_inclusion,
)

# ---------------------------------------------------------------- reference generator


def _split(n: int) -> int:
    """Largest power of two strictly below n (n >= 2)."""
    k = 1
    while k * 2 < n:
        k *= 2
    return k


def ref_root(hashes: list[bytes]) -> bytes:
    """MTH over leaf hashes, RFC 9162 section 2.1.1, recursively."""
    if not hashes:
        return hashlib.sha256(b"").digest()
    if len(hashes) == 1:
        return hashes[0]
    k = _split(len(hashes))
    return node_hash(ref_root(hashes[:k]), ref_root(hashes[k:]))


def ref_path(m: int, hashes: list[bytes]) -> list[bytes]:
    """PATH(m, D[n]), RFC 9162 section 2.1.3.1."""
    n = len(hashes)
    if n == 1:
        return []
    k = _split(n)
    if m < k:
        return [*ref_path(m, hashes[:k]), ref_root(hashes[k:])]
    return [*ref_path(m - k, hashes[k:]), ref_root(hashes[:k])]


def ref_subproof(m: int, hashes: list[bytes], whole: bool) -> list[bytes]:
    """SUBPROOF(m, D[n], b), RFC 9162 section 2.1.4.1; PROOF(m, D[n]) is b = true."""
    n = len(hashes)
    if m == n:
        return [] if whole else [ref_root(hashes)]
    k = _split(n)
    if m <= k:
        return [*ref_subproof(m, hashes[:k], whole), ref_root(hashes[k:])]
    return [*ref_subproof(m - k, hashes[k:], False), ref_root(hashes[:k])]


def ref_sides(m: int, n: int) -> list[str]:
    """Which side each PATH(m, D[n]) sibling sits on: the shape of the proof."""
    if n == 1:
        return []
    k = _split(n)
    if m < k:
        return [*ref_sides(m, k), "R"]
    return [*ref_sides(m - k, n - k), "L"]


def _flip(h: bytes, bit: int) -> bytes:
    b = bytearray(h)
    b[bit // 8] ^= 1 << (bit % 8)
    return bytes(b)


# ---------------------------------------------------------------- upstream vectors


def _vector_params(kind: str) -> list[Any]:
    base = VECTORS_DIR / "rfc9162" / kind
    files = sorted(base.rglob("*.json")) if base.is_dir() else []
    rels = [p.relative_to(base).as_posix() for p in files]
    return [pytest.param(rel, id=rel) for rel in rels] or [pytest.param("", id="vectors-missing")]


def _b64(value: str | None) -> bytes:
    return base64.b64decode(value or "")


def _load(shared_vectors: Path, kind: str, rel: str) -> dict[str, Any]:
    case: dict[str, Any] = json.loads((shared_vectors / "rfc9162" / kind / rel).read_text())
    return case


@pytest.mark.parametrize("rel", _vector_params("inclusion"))
def test_inclusion_vector(shared_vectors: Path, rel: str) -> None:
    case = _load(shared_vectors, "inclusion", rel)
    args = (
        case["leafIdx"],
        case["treeSize"],
        _b64(case["leafHash"]),
        [_b64(p) for p in case["proof"] or []],
        _b64(case["root"]),
    )
    if case["wantErr"]:
        with pytest.raises(ProofError):
            verify_inclusion(*args)
    else:
        verify_inclusion(*args)


@pytest.mark.parametrize("rel", _vector_params("consistency"))
def test_consistency_vector(shared_vectors: Path, rel: str) -> None:
    case = _load(shared_vectors, "consistency", rel)
    args = (
        case["size1"],
        case["size2"],
        _b64(case["root1"]),
        _b64(case["root2"]),
        [_b64(p) for p in case["proof"] or []],
    )
    if case["wantErr"]:
        with pytest.raises(ProofError):
            verify_consistency(*args)
    else:
        verify_consistency(*args)


def test_vector_counts(shared_vectors: Path) -> None:
    for kind in ("inclusion", "consistency"):
        assert len(list((shared_vectors / "rfc9162" / kind).rglob("*.json"))) == 98, kind


def test_rfc6962_reference_roots(shared_vectors: Path) -> None:
    data = json.loads((shared_vectors / "rfc6962-roots.json").read_text())
    leaves = [leaf_hash(bytes.fromhex(x)) for x in data["leaves_hex"]]
    roots = data["roots_hex_by_size"]
    assert sorted(int(k) for k in roots) == list(range(9))
    for size_text, want in roots.items():
        size = int(size_text)
        assert root_from_leaf_hashes(leaves[:size]).hex() == want
        assert ref_root(leaves[:size]).hex() == want
        # Every proof over the reference tree verifies, in both directions.
        for i in range(size):
            verify_inclusion(i, size, leaves[i], ref_path(i, leaves[:size]), bytes.fromhex(want))
        for m in range(1, size + 1):
            old = bytes.fromhex(roots[str(m)])
            verify_consistency(
                m, size, old, bytes.fromhex(want), ref_subproof(m, leaves[:size], True)
            )


# ---------------------------------------------------------------- hashing


def test_hash_domain_separation() -> None:
    assert EMPTY_ROOT.hex() == "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"
    assert leaf_hash(b"") == hashlib.sha256(b"\x00").digest()
    a, b = leaf_hash(b"a"), leaf_hash(b"b")
    assert node_hash(a, b) == hashlib.sha256(b"\x01" + a + b).digest()
    assert root_from_leaf_hashes([]) == EMPTY_ROOT


def test_interior_node_cannot_pose_as_leaf() -> None:
    """The merkletools forgery: present an interior node's children as an entry."""
    hashes = [leaf_hash(bytes([i])) for i in range(4)]
    root = root_from_leaf_hashes(hashes)
    interior, sibling = node_hash(hashes[0], hashes[1]), node_hash(hashes[2], hashes[3])
    # Without the 0x00/0x01 prefixes, these bytes would hash to the interior node.
    forged_entry = hashes[0] + hashes[1]
    with pytest.raises(RootMismatchError):
        verify_inclusion(0, 2, leaf_hash(forged_entry), [sibling], root)
    # Taking the interior hash itself as a leaf hash would "verify" at size 2: the
    # verifier must hash the entry bytes itself and take the size from a checkpoint.
    verify_inclusion(0, 2, interior, [sibling], root)


# ---------------------------------------------------------------- edge cases

H = leaf_hash(b"x")


@pytest.mark.parametrize(
    ("index", "size", "leaf", "proof", "root"),
    [
        pytest.param(0, 0, H, [], EMPTY_ROOT, id="size-0"),
        pytest.param(1, 1, H, [], H, id="index-equals-size"),
        pytest.param(-1, 1, H, [], H, id="negative-index"),
        pytest.param(0, 1, H[:31], [], H[:31], id="short-hashes"),
        pytest.param(0, 1, H, [], H + b"\x00", id="long-root"),
        pytest.param(0, 1, H, [H], H, id="proof-too-long"),
        pytest.param(0, 2, H, [], H, id="proof-too-short"),
        pytest.param(0, 2, H, [H[:16]], H, id="short-proof-hash"),
    ],
)
def test_inclusion_refused(
    index: int, size: int, leaf: bytes, proof: list[bytes], root: bytes
) -> None:
    with pytest.raises(ProofError):
        verify_inclusion(index, size, leaf, proof, root)


def test_inclusion_size_one() -> None:
    verify_inclusion(0, 1, H, [], H)
    with pytest.raises(RootMismatchError) as info:
        verify_inclusion(0, 1, H, [], EMPTY_ROOT)
    assert (info.value.expected, info.value.calculated) == (EMPTY_ROOT, H)
    assert EMPTY_ROOT.hex() in str(info.value)
    assert H.hex() in str(info.value)


@pytest.mark.parametrize(
    ("size1", "size2", "root1", "root2", "proof"),
    [
        pytest.param(0, 0, EMPTY_ROOT, EMPTY_ROOT, [], id="zero-to-zero"),
        pytest.param(0, 1, EMPTY_ROOT, H, [H], id="from-zero"),
        pytest.param(2, 1, H, H, [], id="shrinking"),
        pytest.param(1, 1, H, H, [H], id="equal-sizes-with-proof"),
        pytest.param(1, 1, H, EMPTY_ROOT, [], id="equal-sizes-other-root"),
        pytest.param(1, 2, H, H, [], id="empty-proof"),
        pytest.param(1, 2, H, H, [H[:31]], id="short-proof-hash"),
        pytest.param(1, 2, H[:31], H, [H], id="short-root1"),
        pytest.param(-1, 2, H, H, [H], id="negative"),
    ],
)
def test_consistency_refused(
    size1: int, size2: int, root1: bytes, root2: bytes, proof: list[bytes]
) -> None:
    with pytest.raises(ProofError):
        verify_consistency(size1, size2, root1, root2, proof)


def test_errors_share_one_root() -> None:
    assert issubclass(RootMismatchError, ProofError)
    assert issubclass(ProofError, VerificationError)


# ---------------------------------------------------------------- properties

leaf_lists = st.lists(st.binary(max_size=12), min_size=1, max_size=70, unique=True).map(
    lambda data: [leaf_hash(d) for d in data]
)


@settings(max_examples=200, deadline=None)
@given(leaf_lists)
def test_root_matches_recursive_definition(hashes: list[bytes]) -> None:
    assert root_from_leaf_hashes(hashes) == ref_root(hashes)


@settings(max_examples=200, deadline=None)
@given(leaf_lists, st.data())
def test_inclusion_properties(hashes: list[bytes], data: st.DataObject) -> None:
    n = len(hashes)
    i = data.draw(st.integers(0, n - 1), label="index")
    root = ref_root(hashes)
    proof = ref_path(i, hashes)
    verify_inclusion(i, n, hashes[i], proof, root)

    bit = data.draw(st.integers(0, 255), label="bit")
    for j in range(len(proof)):
        bad = [*proof[:j], _flip(proof[j], bit), *proof[j + 1 :]]
        with pytest.raises(ProofError):
            verify_inclusion(i, n, hashes[i], bad, root)
    with pytest.raises(ProofError):
        verify_inclusion(i, n, _flip(hashes[i], bit), proof, root)
    with pytest.raises(ProofError):
        verify_inclusion(i, n, hashes[i], proof, _flip(root, bit))
    if proof:
        with pytest.raises(ProofError):
            verify_inclusion(i, n, hashes[i], proof[:-1], root)
    with pytest.raises(ProofError):
        verify_inclusion(i, n, hashes[i], [*proof, root], root)

    # Another index in the same tree: leaves are distinct, so it must fail.
    j = data.draw(st.integers(0, n - 1).filter(lambda x: x != i), label="other") if n > 1 else i
    if j != i:
        with pytest.raises(ProofError):
            verify_inclusion(j, n, hashes[i], proof, root)

    # Another size: passes only if the proof has exactly the same shape (the size
    # is bound by the checkpoint, not the proof), otherwise fails.
    n2 = data.draw(st.integers(i + 1, 2 * n + 2).filter(lambda x: x != n), label="size")
    if ref_sides(i, n2) == ref_sides(i, n):
        verify_inclusion(i, n2, hashes[i], proof, root)
    else:
        with pytest.raises(ProofError):
            verify_inclusion(i, n2, hashes[i], proof, root)


@settings(max_examples=200, deadline=None)
@given(leaf_lists, st.data())
def test_consistency_properties(hashes: list[bytes], data: st.DataObject) -> None:
    n = len(hashes)
    m = data.draw(st.integers(1, n), label="size1")
    root1, root2 = ref_root(hashes[:m]), ref_root(hashes)
    proof = ref_subproof(m, hashes, True)
    verify_consistency(m, n, root1, root2, proof)
    if m == n:
        assert proof == []
        return

    bit = data.draw(st.integers(0, 255), label="bit")
    for j in range(len(proof)):
        bad = [*proof[:j], _flip(proof[j], bit), *proof[j + 1 :]]
        with pytest.raises(ProofError):
            verify_consistency(m, n, root1, root2, bad)
    with pytest.raises(ProofError):
        verify_consistency(m, n, _flip(root1, bit), root2, proof)
    with pytest.raises(ProofError):
        verify_consistency(m, n, root1, _flip(root2, bit), proof)
    with pytest.raises(ProofError):
        verify_consistency(m, n, root2, root1, proof)
    with pytest.raises(ProofError):
        verify_consistency(m, n, root1, root2, proof[:-1])
    with pytest.raises(ProofError):
        verify_consistency(m, n, root1, root2, [*proof, root2])
    # A different old tree (its last leaf changed) is not a prefix of this one.
    forged = [*hashes[: m - 1], leaf_hash(b"longer than any generated leaf")]
    with pytest.raises(ProofError):
        verify_consistency(m, n, ref_root(forged), root2, proof)
