"""The contribution Merkle sum tree and its proofs (specs/plan.md §9).

The verifier only verifies; :func:`proof_for` builds proofs here, in the tests,
straight from RFC 9162's PATH definition, and :func:`mth` is the recursive root.
"""

from __future__ import annotations

import hashlib
from collections.abc import Sequence
from dataclasses import replace

import pytest
from hypothesis import given
from hypothesis import strategies as st

from verifier.errors import VerificationError
from verifier.plan.errors import IdError, SumTreeError, SumTreeMismatchError
from verifier.plan.sumtree import (
    EMPTY,
    Node,
    interior,
    leaf,
    leaf_hash,
    root,
    tree_root,
    u64be,
    verify_proof,
)

PERIOD = "2026-01a"
U64_MAX = 2**64 - 1


def member(i: int) -> str:
    return f"m-{i:020x}"


def split(n: int) -> int:
    """The largest power of two smaller than n (n > 1)."""
    k = 1
    while k * 2 < n:
        k *= 2
    return k


def mth(nodes: Sequence[Node]) -> Node:
    """The root, by RFC 9162's recursive definition."""
    if not nodes:
        return EMPTY
    if len(nodes) == 1:
        return nodes[0]
    k = split(len(nodes))
    return interior(mth(nodes[:k]), mth(nodes[k:]))


def proof_for(nodes: Sequence[Node], index: int) -> list[Node]:
    """RFC 9162 PATH(index, nodes): the sibling nodes from the leaf up."""
    if len(nodes) <= 1:
        return []
    k = split(len(nodes))
    if index < k:
        return [*proof_for(nodes[:k], index), mth(nodes[k:])]
    return [*proof_for(nodes[k:], index - k), mth(nodes[:k])]


def leaves_of(amounts: Sequence[int]) -> list[Node]:
    return [leaf(PERIOD, member(i), a) for i, a in enumerate(amounts)]


def packed(n: Node) -> bytes:
    return n.hash + n.count.to_bytes(8, "big") + n.total.to_bytes(8, "big")


def test_empty_tree() -> None:
    assert root([]) == Node(hashlib.sha256(b"").digest(), 0, 0)
    assert EMPTY.hash.hex() == "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"


def test_leaf_hash_bytes() -> None:
    m = member(0xC0FFEE)
    data = b"\x00tally/contribution/v1\n2026-01a\nm-00000000000000c0ffee\n15429\n"
    assert leaf_hash(PERIOD, m, 15_429) == hashlib.sha256(data).digest()
    assert leaf(PERIOD, m, 15_429) == Node(hashlib.sha256(data).digest(), 1, 15_429)
    zero = b"\x00tally/contribution/v1\n2026-01a\nm-00000000000000c0ffee\n0\n"
    assert leaf_hash(PERIOD, m, 0) == hashlib.sha256(zero).digest()


def test_interior_bytes() -> None:
    a, b = leaf(PERIOD, member(1), 7), leaf(PERIOD, member(2), 300)
    n = interior(a, b)
    expected = hashlib.sha256(
        b"\x01"
        + a.hash
        + (1).to_bytes(8, "big")
        + (7).to_bytes(8, "big")
        + b.hash
        + (1).to_bytes(8, "big")
        + (300).to_bytes(8, "big")
    ).digest()
    assert n == Node(expected, 2, 307)
    assert interior(b, a).hash != n.hash


def test_shapes() -> None:
    ls = leaves_of([1, 2, 3, 4, 5, 6, 7])
    assert root(ls[:1]) == ls[0]
    assert root(ls[:2]) == interior(ls[0], ls[1])
    assert root(ls[:3]) == interior(interior(ls[0], ls[1]), ls[2])
    four = interior(interior(ls[0], ls[1]), interior(ls[2], ls[3]))
    assert root(ls[:4]) == four
    assert root(ls[:5]) == interior(four, ls[4])
    assert root(ls[:7]) == interior(four, interior(interior(ls[4], ls[5]), ls[6]))
    assert root(ls) == Node(root(ls).hash, 7, 28)


def test_tree_root_needs_sorted_members() -> None:
    assert tree_root(PERIOD, [(member(1), 5), (member(2), 6)]) == root(
        [leaf(PERIOD, member(1), 5), leaf(PERIOD, member(2), 6)]
    )
    with pytest.raises(SumTreeError, match="strictly increasing"):
        tree_root(PERIOD, [(member(2), 5), (member(1), 6)])
    with pytest.raises(SumTreeError, match="strictly increasing"):
        tree_root(PERIOD, [(member(1), 5), (member(1), 6)])


def test_period_binds_the_leaf() -> None:
    assert leaf_hash("2026-01a", member(1), 5) != leaf_hash("2026-01b", member(1), 5)


@pytest.mark.parametrize("value", [-1, 2**64, 2**70, -(2**64)])
def test_u64_packing_refuses_out_of_range(value: int) -> None:
    with pytest.raises(SumTreeError, match=r"unsigned 64-bit"):
        u64be(value)


def test_u64_packing_edges() -> None:
    assert u64be(0) == bytes(8)
    assert u64be(U64_MAX) == b"\xff" * 8
    with pytest.raises(SumTreeError, match="must be an integer"):
        u64be(True)


def test_leaf_refuses_negative_or_huge_amount() -> None:
    with pytest.raises(SumTreeError, match="found -1"):
        leaf(PERIOD, member(1), -1)
    with pytest.raises(SumTreeError, match="unsigned 64-bit"):
        leaf(PERIOD, member(1), 2**64)
    assert leaf(PERIOD, member(1), U64_MAX).total == U64_MAX


def test_leaf_refuses_bad_period_and_member() -> None:
    with pytest.raises(SumTreeError, match="period"):
        leaf("2026-01c", member(1), 1)
    with pytest.raises(IdError):
        leaf(PERIOD, "m-1", 1)


def test_node_checks() -> None:
    h = bytes(32)
    with pytest.raises(SumTreeError, match="32 bytes, found 31 bytes"):
        Node(bytes(31), 1, 0)
    with pytest.raises(SumTreeError, match="unsigned 64-bit"):
        Node(h, -1, 0)
    with pytest.raises(SumTreeError, match="unsigned 64-bit"):
        Node(h, 1, 2**64)


def test_interior_refuses_overflow() -> None:
    big = Node(bytes(32), 1, 2**63)
    with pytest.raises(SumTreeError, match="interior total"):
        interior(big, big)
    many = Node(bytes(32), 2**63, 0)
    with pytest.raises(SumTreeError, match="interior count"):
        interior(many, many)
    assert interior(Node(bytes(32), 1, 2**63), Node(bytes(32), 1, 2**63 - 1)).total == U64_MAX


def test_proof_by_hand() -> None:
    ls = leaves_of([10, 20, 30])
    r = root(ls)
    verify_proof(ls[0], 0, 3, [ls[1], ls[2]], r)
    verify_proof(ls[1], 1, 3, [ls[0], ls[2]], r)
    verify_proof(ls[2], 2, 3, [interior(ls[0], ls[1])], r)
    verify_proof(ls[0], 0, 1, [], ls[0])


def test_proof_length_and_index_checks() -> None:
    ls = leaves_of([10, 20, 30])
    r = root(ls)
    with pytest.raises(SumTreeError, match="too short"):
        verify_proof(ls[0], 0, 3, [ls[1]], r)
    with pytest.raises(SumTreeError, match="too long"):
        verify_proof(ls[2], 2, 3, [interior(ls[0], ls[1]), ls[0]], r)
    with pytest.raises(SumTreeError, match="not below tree size"):
        verify_proof(ls[2], 3, 3, [], r)
    with pytest.raises(SumTreeError, match="non-negative"):
        verify_proof(ls[0], -1, 3, [], r)
    with pytest.raises(SumTreeError, match="not below tree size 0"):
        verify_proof(ls[0], 0, 0, [], EMPTY)
    with pytest.raises(SumTreeError, match="leaf has count 1"):
        verify_proof(interior(ls[0], ls[1]), 0, 2, [ls[2]], r)


def test_sibling_count_must_match_the_shape() -> None:
    ls = leaves_of([10, 20, 30])
    r = root(ls)
    # Leaf 2 of 3 has the two-leaf subtree as sibling; a one-leaf sibling is refused.
    with pytest.raises(
        SumTreeError, match="must cover 2 leaves by the tree's shape, found count 1"
    ):
        verify_proof(ls[2], 2, 3, [ls[0]], r)


def test_root_mismatches_name_the_component() -> None:
    ls = leaves_of([10, 20, 30, 40])
    r = root(ls)
    proof = proof_for(ls, 1)
    with pytest.raises(SumTreeMismatchError, match="total mismatch: expected 99, calculated 100"):
        verify_proof(ls[1], 1, 4, proof, replace(r, total=99))
    with pytest.raises(SumTreeMismatchError, match="count mismatch: expected 5, calculated 4"):
        verify_proof(ls[1], 1, 4, proof, replace(r, count=5))
    with pytest.raises(SumTreeMismatchError, match="hash mismatch") as caught:
        verify_proof(ls[1], 1, 4, proof, replace(r, hash=bytes(32)))
    assert isinstance(caught.value, VerificationError)
    assert caught.value.component == "hash"


def test_wrong_index_fails() -> None:
    ls = leaves_of([10, 20, 30, 40, 50])
    r = root(ls)
    with pytest.raises(SumTreeError):
        verify_proof(ls[1], 0, 5, proof_for(ls, 1), r)


# Property tests over random trees.

amounts_st = st.lists(st.integers(min_value=0, max_value=2**40), min_size=1, max_size=40)


@given(amounts_st)
def test_root_matches_recursive_definition(amounts: list[int]) -> None:
    ls = leaves_of(amounts)
    r = root(ls)
    assert r == mth(ls)
    assert (r.count, r.total) == (len(amounts), sum(amounts))


@given(amounts_st)
def test_every_index_verifies(amounts: list[int]) -> None:
    ls = leaves_of(amounts)
    r = root(ls)
    for i in range(len(ls)):
        verify_proof(ls[i], i, len(ls), proof_for(ls, i), r)


@given(amounts_st, st.data())
def test_any_tampering_fails(amounts: list[int], data: st.DataObject) -> None:
    ls = leaves_of(amounts)
    n = len(ls)
    r = root(ls)
    i = data.draw(st.integers(min_value=0, max_value=n - 1), label="index")
    proof = proof_for(ls, i)

    # The leaf amount (the member's own charge).
    delta = data.draw(st.integers(min_value=1, max_value=1000), label="delta")
    changed = leaf(PERIOD, member(i), amounts[i] + delta)
    with pytest.raises(SumTreeError):
        verify_proof(changed, i, n, proof, r)
    if amounts[i] >= delta:
        with pytest.raises(SumTreeError):
            verify_proof(leaf(PERIOD, member(i), amounts[i] - delta), i, n, proof, r)

    if not proof:
        return
    k = data.draw(st.integers(min_value=0, max_value=len(proof) - 1), label="sibling")
    s = proof[k]
    flip = data.draw(st.integers(min_value=0, max_value=255), label="byte")
    tampered = [
        replace(s, hash=bytes([s.hash[0] ^ (flip or 1)]) + s.hash[1:]),
        replace(s, count=s.count + 1),
        replace(s, total=s.total + delta),
    ]
    if s.count > 1:
        tampered.append(replace(s, count=s.count - 1))
    if s.total >= delta:
        tampered.append(replace(s, total=s.total - delta))
    for bad in tampered:
        with pytest.raises(SumTreeError):
            verify_proof(ls[i], i, n, [*proof[:k], bad, *proof[k + 1 :]], r)


@given(amounts_st, st.data())
def test_wrong_size_fails(amounts: list[int], data: st.DataObject) -> None:
    ls = leaves_of(amounts)
    n = len(ls)
    r = root(ls)
    i = data.draw(st.integers(min_value=0, max_value=n - 1))
    other = data.draw(st.integers(min_value=i + 1, max_value=2 * n + 2).filter(lambda s: s != n))
    with pytest.raises(SumTreeError):
        verify_proof(ls[i], i, other, proof_for(ls, i), r)


@given(st.lists(st.integers(min_value=0, max_value=2**63), min_size=0, max_size=40))
def test_tree_root_is_root_over_leaves(amounts: list[int]) -> None:
    """tree_root's packed fold is the same tree as root() over leaf nodes."""
    pairs = [(member(i + 1), a) for i, a in enumerate(amounts)]
    try:
        expected = root([leaf(PERIOD, m, a) for m, a in pairs])
    except SumTreeError as exc:
        with pytest.raises(SumTreeError, match=str(exc).split(" ")[0]):
            tree_root(PERIOD, pairs)
        return
    assert tree_root(PERIOD, pairs) == expected


def test_tree_root_refuses_what_leaf_refuses() -> None:
    with pytest.raises(SumTreeError, match="unsigned 64-bit"):
        tree_root(PERIOD, [(member(1), -1)])
    with pytest.raises(SumTreeError, match="must be an integer"):
        tree_root(PERIOD, [(member(1), True)])
    with pytest.raises(SumTreeError, match="leaf period"):
        tree_root("2021-13a", [(member(1), 1)])
