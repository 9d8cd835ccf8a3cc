"""The contribution Merkle sum tree of a period (specs/plan.md §9).

Every member counted in N (§8.2) is a leaf holding their charge, leaves in member-id
order. A node is a triple (hash, count, total)::

    leaf:     H(0x00 ‖ "tally/contribution/v1\\n" ‖ period ‖ "\\n" ‖ member ‖ "\\n"
                ‖ decimal amount ‖ "\\n"),                          1, amount
    interior: H(0x01 ‖ lh ‖ u64be(lc) ‖ u64be(lt) ‖ rh ‖ u64be(rc) ‖ u64be(rt)),
                                                                 lc + rc, lt + rt
    empty:    (H(""), 0, 0)

The shape is RFC 9162's: the left subtree of n > 1 leaves holds the largest power of
two smaller than n. Counts and totals are unsigned 64-bit: any value outside
0..2^64 - 1 is refused, so no subtree can hide a negative amount.

A member's proof is the sibling triples from their leaf up. :func:`verify_proof`
walks them as RFC 9162 §2.1.3.2 walks an inclusion proof (see
``verifier/merkle.py``), recomputing hash, count and total, and checks all three
against the announced root. It also checks each sibling's count against the number
of leaves the tree's shape puts under it (so the recomputed count is the tree size):
a genuine tree always passes this, and it makes a lie about a count visible without
relying on the hash alone. This module only verifies; it builds no proofs.
"""

from __future__ import annotations

import hashlib
import struct
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

from verifier.plan.errors import PeriodError, SumTreeError, SumTreeMismatchError
from verifier.plan.ids import U64_MAX, check_int, check_member, show
from verifier.plan.periods import parse_period

HASH_SIZE = 32
LEAF_PREFIX = b"\x00"
NODE_PREFIX = b"\x01"
LEAF_DOMAIN = b"tally/contribution/v1\n"
EMPTY_HASH = hashlib.sha256(b"").digest()


def u64be(value: int, what: str = "value") -> bytes:
    """Pack ``value`` as 8 big-endian bytes; refuse anything outside 0..2^64 - 1."""
    v = check_int(value, what, SumTreeError)
    if not 0 <= v <= U64_MAX:
        raise SumTreeError(f"{what} must be an unsigned 64-bit integer (0..2^64-1), found {v}")
    return v.to_bytes(8, "big")


@dataclass(frozen=True)
class Node:
    """A sum-tree node: 32-byte hash, leaf count and total charge (both u64)."""

    hash: bytes
    count: int
    total: int

    def __post_init__(self) -> None:
        if not isinstance(self.hash, bytes) or len(self.hash) != HASH_SIZE:
            found = f"{len(self.hash)} bytes" if isinstance(self.hash, bytes) else show(self.hash)
            raise SumTreeError(f"node hash must be {HASH_SIZE} bytes, found {found}")
        u64be(self.count, "node count")
        u64be(self.total, "node total")

    def packed(self) -> bytes:
        """``hash ‖ u64be(count) ‖ u64be(total)``, the node's part of its parent's preimage."""
        return self.hash + u64be(self.count, "node count") + u64be(self.total, "node total")


EMPTY = Node(EMPTY_HASH, 0, 0)
"""The root of the empty tree, (H(""), 0, 0)."""


def leaf_hash(period: str, member: str, amount: int) -> bytes:
    """The leaf hash of ``member``'s charge ``amount`` (fen) in ``period``."""
    try:
        parse_period(period)
    except PeriodError as exc:
        raise SumTreeError(f"leaf period: {exc}") from None
    check_member(member, "leaf member")
    u64be(amount, f"amount of {member}")
    data = f"{period}\n{member}\n{amount:d}\n".encode("ascii")
    return hashlib.sha256(LEAF_PREFIX + LEAF_DOMAIN + data).digest()


def leaf(period: str, member: str, amount: int) -> Node:
    """The leaf node ``(leaf_hash, 1, amount)``."""
    return Node(leaf_hash(period, member, amount), 1, amount)


def interior(left: Node, right: Node) -> Node:
    """The parent of ``left`` and ``right``; refuses a count or total past 2^64 - 1."""
    count = left.count + right.count
    total = left.total + right.total
    u64be(count, "interior count")
    u64be(total, "interior total")
    h = hashlib.sha256(NODE_PREFIX + left.packed() + right.packed()).digest()
    return Node(h, count, total)


def root(nodes: Sequence[Node]) -> Node:
    """The root over the leaf ``nodes`` in RFC 9162's shape; :data:`EMPTY` for none.

    Keeps the roots of the perfect subtrees seen so far and merges equal sizes as
    leaves arrive, then folds the remainder right to left: exactly the split at the
    largest power of two below n.
    """
    stack: list[tuple[int, Node]] = []  # (leaves under it, subtree root)
    for i, node in enumerate(nodes):
        if not isinstance(node, Node):
            raise SumTreeError(f"leaf [{i}] must be a Node, found {show(node)}")
        size, current = 1, node
        while stack and stack[-1][0] == size:
            left_size, left = stack.pop()
            size, current = left_size + size, interior(left, current)
        stack.append((size, current))
    if not stack:
        return EMPTY
    result = stack[-1][1]
    for _, left in reversed(stack[:-1]):
        result = interior(left, result)
    return result


def tree_root(period: str, leaves: Iterable[tuple[str, int]]) -> Node:
    """The root over ``(member, amount)`` leaves, which must be in strictly increasing id order.

    ``leaves`` may be any iterable, a generator included: they are read once, in order,
    and only the O(log n) roots of the perfect subtrees so far are kept. The same tree
    as :func:`root` over :func:`leaf` nodes (see :class:`SumTreeBuilder`).
    """
    builder = SumTreeBuilder(period)
    for member, amount in leaves:
        check_member(member, "leaf member")
        builder.add(member, amount)
    return builder.root()


_COUNT_TOTAL = struct.Struct(">QQ").pack


class SumTreeBuilder:
    """The root of a period's sum tree, built as leaves are added in member-id order.

    Keeps only the O(log n) roots of the perfect subtrees so far, each packed as
    ``hash ‖ u64be(count) ‖ u64be(total)`` (its part of a parent's preimage). Each
    amount is checked once as it is added; an interior node's count and total are sums
    of checked values, so only their upper bound needs checking on the way up.
    """

    def __init__(self, period: str) -> None:
        try:
            parse_period(period)
        except PeriodError as exc:
            raise SumTreeError(f"leaf period: {exc}") from None
        self._prefix = LEAF_PREFIX + LEAF_DOMAIN + period.encode("ascii") + b"\n"
        self._previous = ""
        self._stack: list[tuple[int, bytes, int, int]] = []  # (leaves, packed, count, total)
        self.count = 0

    def add(self, member: str, amount: int) -> None:
        """Add ``member``'s leaf (a valid member id, after every id added so far)."""
        if not self._previous < member:
            raise SumTreeError(
                f"leaves must be in strictly increasing member-id order: "
                f"found {self._previous!r} before {member!r} at index {self.count}"
            )
        if type(amount) is not int or not 0 <= amount <= U64_MAX:
            u64be(amount, f"amount of {member}")
        self._previous = member
        self.count += 1
        sha256, stack = hashlib.sha256, self._stack
        size, count, total = 1, 1, amount
        packed = sha256(self._prefix + f"{member}\n{amount:d}\n".encode()).digest()
        packed += _COUNT_TOTAL(1, amount)
        while stack and stack[-1][0] == size:
            left_size, left, left_count, left_total = stack.pop()
            size, count, total = left_size + size, left_count + count, left_total + total
            packed = _join(left, packed, count, total)
        stack.append((size, packed, count, total))

    def root(self) -> Node:
        """The root over the leaves added: the remaining subtrees folded right to left."""
        if not self._stack:
            return EMPTY
        _, packed, count, total = self._stack[-1]
        for _, left, left_count, left_total in reversed(self._stack[:-1]):
            count, total = left_count + count, left_total + total
            packed = _join(left, packed, count, total)
        return Node(packed[:HASH_SIZE], count, total)


def _join(left: bytes, right: bytes, count: int, total: int) -> bytes:
    # interior() on packed checked parts: only the sums' bound can break.
    if count > U64_MAX or total > U64_MAX:
        u64be(count, "interior count")
        u64be(total, "interior total")
    return hashlib.sha256(NODE_PREFIX + left + right).digest() + _COUNT_TOTAL(count, total)


def verify_proof(
    leaf_node: Node, index: int, size: int, siblings: Sequence[Node], root_node: Node
) -> None:
    """Check that ``leaf_node`` is leaf ``index`` of the ``size``-leaf tree with ``root_node``.

    ``siblings`` are the sibling triples from the leaf up. Raises
    :class:`SumTreeError` for a malformed proof (wrong length, an index at or past
    the size, a node that is not a leaf where one is expected, a sibling whose count
    is not its subtree's leaf count) and :class:`SumTreeMismatchError` when the
    recomputed hash, count or total differs from the root's.
    """
    i = check_int(index, "proof index", SumTreeError)
    n = check_int(size, "tree size", SumTreeError)
    for what, node in (("leaf", leaf_node), ("root", root_node)):
        if not isinstance(node, Node):
            raise SumTreeError(f"{what} must be a Node, found {show(node)}")
    for k, node in enumerate(siblings):
        if not isinstance(node, Node):
            raise SumTreeError(f"sibling [{k}] must be a Node, found {show(node)}")
    if i < 0 or n < 0:
        raise SumTreeError(f"index and size must be non-negative, found {i} and {n}")
    if i >= n:
        raise SumTreeError(f"index {i} is not below tree size {n}")
    if leaf_node.count != 1:
        raise SumTreeError(f"a leaf has count 1, found {leaf_node.count}")

    fn, sn, level, r = i, n - 1, 0, leaf_node
    for k, sibling in enumerate(siblings):
        if sn == 0:
            raise SumTreeError(f"proof is too long: {len(siblings)} siblings for index {i} of {n}")
        if fn & 1 or fn == sn:
            # Skip the levels where this node is a left child with no right sibling.
            while not fn & 1 and fn != 0:
                fn >>= 1
                sn >>= 1
                level += 1
            # The sibling is a perfect left subtree.
            _check_sibling_count(k, sibling, 1 << level)
            r = interior(sibling, r)
        else:
            # The right sibling covers leaves [(fn+1)·2^level, min((fn+2)·2^level, n)).
            start = (fn + 1) << level
            _check_sibling_count(k, sibling, min(1 << level, n - start))
            r = interior(r, sibling)
        fn >>= 1
        sn >>= 1
        level += 1
    if sn != 0:
        raise SumTreeError(f"proof is too short: {len(siblings)} siblings for index {i} of {n}")
    if r.hash != root_node.hash:
        raise SumTreeMismatchError("hash", root_node.hash.hex(), r.hash.hex())
    if r.count != root_node.count:
        raise SumTreeMismatchError("count", root_node.count, r.count)
    if r.total != root_node.total:
        raise SumTreeMismatchError("total", root_node.total, r.total)


def _check_sibling_count(k: int, sibling: Node, expected: int) -> None:
    if sibling.count != expected:
        raise SumTreeError(
            f"sibling [{k}] must cover {expected} leaves by the tree's shape, "
            f"found count {sibling.count}"
        )
