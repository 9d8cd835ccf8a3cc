"""The contribution Merkle sum tree of a period (specs/plan.md §9).

Every node carries (hash, count, total), so a member's proof shows their own charge
and that it is part of exactly the announced number of members and total. The
shape is RFC 9162's; counts and totals are unsigned 64-bit, so no subtree can hide
a negative amount.
"""

from __future__ import annotations

import hashlib
import struct
from collections.abc import Sequence
from dataclasses import dataclass

from ledger.errors import LedgerError

U64_MAX = 2**64 - 1
NODE_SIZE = 48  # hash, count, total
_PACK = struct.Struct(">32sQQ")
_COUNTS = struct.Struct(">QQ")


class SumTreeError(LedgerError):
    """A sum-tree value or proof is wrong."""


@dataclass(frozen=True, slots=True)
class Node:
    """One node: its hash, how many leaves it covers, and their total in fen."""

    hash: bytes
    count: int
    total: int

    def pack(self) -> bytes:
        """48 bytes: hash, then count and total as unsigned 64-bit big-endian."""
        if not (0 <= self.count <= U64_MAX and 0 <= self.total <= U64_MAX):
            raise SumTreeError(f"expected counts and totals in 0..2^64-1, found {self}")
        return _PACK.pack(self.hash, self.count, self.total)

    @staticmethod
    def unpack(data: bytes) -> Node:
        """The inverse of :meth:`pack`."""
        digest, count, total = _PACK.unpack(data)
        return Node(digest, count, total)


EMPTY = Node(hashlib.sha256(b"").digest(), 0, 0)


def leaf(period: str, member: str, amount_fen: int) -> Node:
    """A member's leaf node, count 1 (specs/plan.md §9).

    Its hash is ``H(0x00 ‖ "tally/contribution/v1\\n" ‖ period ‖ "\\n" ‖ member ‖
    "\\n" ‖ decimal amount ‖ "\\n")``.
    """
    return Node.unpack(leaf_packed(period, member, amount_fen))


def leaf_packed(period: str, member: str, amount_fen: int) -> bytes:
    """:func:`leaf`, packed (48 bytes); the fast path for building large trees."""
    if not 0 <= amount_fen <= U64_MAX:
        raise SumTreeError(f"expected a charge in 0..2^64-1 fen, found {amount_fen}")
    text = f"tally/contribution/v1\n{period}\n{member}\n{amount_fen}\n".encode()
    return hashlib.sha256(b"\x00" + text).digest() + _COUNTS.pack(1, amount_fen)


def interior(left: Node, right: Node) -> Node:
    """``H(0x01 ‖ left packed ‖ right packed)``, with counts and totals added."""
    return Node.unpack(interior_packed(left.pack(), right.pack()))


def interior_packed(left: bytes, right: bytes) -> bytes:
    """:func:`interior` on packed nodes (48 bytes each); the fast path for large trees."""
    lc, lt = _COUNTS.unpack_from(left, 32)
    rc, rt = _COUNTS.unpack_from(right, 32)
    count, total = lc + rc, lt + rt
    if total > U64_MAX:
        raise SumTreeError(f"expected totals below 2^64, found {total}")
    return hashlib.sha256(b"\x01" + left + right).digest() + _COUNTS.pack(count, total)


Tree = list[list[bytes]]
"""A tree's complete-subtree nodes, packed, level by level (level 0 = the leaves)."""


def levels(leaves: Sequence[Node] | Sequence[bytes]) -> Tree:
    """All complete-subtree nodes, level by level, packed (48 bytes each).

    Level L holds the nodes of the aligned complete subtrees of 2^L leaves; the
    incomplete right edge is folded only when a root or a proof needs it.
    """
    packed = [n if isinstance(n, bytes) else n.pack() for n in leaves]
    out = [packed]
    while len(out[-1]) > 1:
        below = out[-1]
        out.append([interior_packed(below[i], below[i + 1]) for i in range(0, len(below) - 1, 2)])
    return out


def node_at(tree: Tree, level: int, index: int) -> Node:
    """The complete-subtree node at (level, index)."""
    return Node.unpack(tree[level][index])


def root(tree: Tree) -> Node:
    """The root over all leaves (RFC 9162's split; the empty tree is :data:`EMPTY`)."""
    return _range(tree, 0, len(tree[0]))


def proof(tree: Tree, index: int) -> list[Node]:
    """Sibling nodes from leaf ``index`` up to the root (RFC 9162 §2.1.3.1 PATH)."""
    size = len(tree[0])
    if not 0 <= index < size:
        raise SumTreeError(f"expected a leaf index below {size}, found {index}")
    path: list[Node] = []
    lo, hi, m = 0, size, index
    while hi - lo > 1:
        k = 1 << ((hi - lo - 1).bit_length() - 1)
        if m < k:
            path.append(_range(tree, lo + k, hi))
            hi = lo + k
        else:
            path.append(_range(tree, lo, lo + k))
            lo, m = lo + k, m - k
    return path[::-1]


def verify(node: Node, index: int, size: int, siblings: Sequence[Node], expected: Node) -> None:
    """Recompute the root from a leaf and its siblings; compare hash, count and total."""
    if not 0 <= index < size:
        raise SumTreeError(f"expected a leaf index below {size}, found {index}")
    fn, sn, current = index, size - 1, node
    for sibling in siblings:
        if sn == 0:
            raise SumTreeError("the proof is longer than the path")
        if fn & 1 or fn == sn:
            current = interior(sibling, current)
            while not fn & 1 and fn != 0:
                fn >>= 1
                sn >>= 1
        else:
            current = interior(current, sibling)
        fn >>= 1
        sn >>= 1
    if sn != 0:
        raise SumTreeError("the proof is shorter than the path")
    if current != expected:
        raise SumTreeError(f"expected root {expected}, calculated {current}")


def proof_pieces(size: int, index: int) -> list[list[tuple[int, int]]]:
    """For each sibling of :func:`proof`, the complete subtrees (level, index) it folds.

    Lets a caller fetch only the O(log N) stored nodes a proof needs.
    """
    if not 0 <= index < size:
        raise SumTreeError(f"expected a leaf index below {size}, found {index}")
    path: list[list[tuple[int, int]]] = []
    lo, hi, m = 0, size, index
    while hi - lo > 1:
        k = 1 << ((hi - lo - 1).bit_length() - 1)
        if m < k:
            path.append(_pieces(lo + k, hi))
            hi = lo + k
        else:
            path.append(_pieces(lo, lo + k))
            lo, m = lo + k, m - k
    return path[::-1]


def fold(pieces: Sequence[bytes]) -> Node:
    """Fold packed complete-subtree nodes, left to right, into their range's node."""
    current = pieces[-1]
    for left in reversed(pieces[:-1]):
        current = interior_packed(left, current)
    return Node.unpack(current)


def _pieces(lo: int, hi: int) -> list[tuple[int, int]]:
    pieces = []
    while lo < hi:
        level = (hi - lo).bit_length() - 1
        while lo & ((1 << level) - 1):
            level -= 1
        pieces.append((level, lo >> level))
        lo += 1 << level
    return pieces


def _range(tree: Tree, lo: int, hi: int) -> Node:
    if lo == hi:
        return EMPTY
    pieces = []
    while lo < hi:
        level = (hi - lo).bit_length() - 1
        while lo & ((1 << level) - 1):
            level -= 1
        pieces.append(tree[level][lo >> level])
        lo += 1 << level
    current = pieces[-1]
    for left in reversed(pieces[:-1]):
        current = interior_packed(left, current)
    return Node.unpack(current)
