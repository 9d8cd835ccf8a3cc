"""The RFC 9162 Merkle tree over entry bytes, kept as stored complete-subtree hashes.

Hashing follows RFC 9162 §2.1.1: ``leaf = SHA-256(0x00 || entry)``,
``node = SHA-256(0x01 || left || right)``, and the empty tree's root is
``SHA-256("")``.

Storage follows the layout of Go's sumdb/tlog: every complete subtree hash
(level L, index K covers leaves ``[K*2^L, (K+1)*2^L)``) gets one integer
position, assigned so that the hashes appended for leaf n are consecutive and
come after those of leaf n-1 (:func:`stored_hash_index`). Appending a leaf
writes on average two hashes; a root or proof reads at most ``2*log2(n)+1``
of them and recomputes no subtree (specs/tree.md §3).

Proofs are planned as a list of stored positions, read in one batch through a
:class:`HashReader`, then folded: RFC 9162 §2.1.3.1 (inclusion) and §2.1.4.1
(consistency).
"""

from __future__ import annotations

import hashlib
from collections.abc import Sequence
from typing import Protocol

from ledger.errors import TreeError

LEAF_PREFIX = b"\x00"
NODE_PREFIX = b"\x01"
HASH_SIZE = 32
EMPTY_ROOT = hashlib.sha256(b"").digest()


class HashReader(Protocol):
    """Reads stored hashes by position; returns them in the order asked."""

    def read_hashes(self, indexes: Sequence[int]) -> list[bytes]:
        """Return the stored hash at each position, in order; raise if any is absent."""
        ...


def leaf_hash(entry: bytes) -> bytes:
    """RFC 9162 §2.1.1: the hash of a leaf, ``SHA-256(0x00 || entry)``."""
    return hashlib.sha256(LEAF_PREFIX + entry).digest()


def node_hash(left: bytes, right: bytes) -> bytes:
    """RFC 9162 §2.1.1: the hash of an interior node, ``SHA-256(0x01 || left || right)``."""
    return hashlib.sha256(NODE_PREFIX + left + right).digest()


def stored_hash_index(level: int, n: int) -> int:
    """Position of the level-``level`` hash number ``n`` in the stored sequence.

    Hashes are stored in the order they become known: leaf n's hash, then the
    hash of every subtree that leaf n completes, lowest level first. A level-L
    hash therefore sits L places after the leaf hash of the last leaf it covers,
    leaf ``n*2^L + 2^L - 1``; and leaf m's hash sits after the
    ``m + m//2 + m//4 + ...`` hashes stored before it (specs/tree.md §3).
    """
    last_leaf = ((n + 1) << level) - 1
    # m + m//2 + m//4 + ... == 2m - popcount(m)
    return 2 * last_leaf - last_leaf.bit_count() + level


def stored_hash_count(size: int) -> int:
    """How many hashes a tree of ``size`` leaves stores."""
    if size == 0:
        return 0
    count = stored_hash_index(0, size - 1) + 1
    last = size - 1
    while last & 1:
        count += 1
        last >>= 1
    return count


class Frontier:
    """The right edge of a tree: the roots of its maximal complete subtrees.

    The sequencer keeps one in memory per batch so appending needs no reads;
    ``hashes[i]`` is the root of the subtree of height ``levels[i]``, left to right.
    """

    __slots__ = ("_stack", "size")

    def __init__(self, size: int, subtree_roots: Sequence[bytes]) -> None:
        expected = bin(size).count("1")
        if len(subtree_roots) != expected:
            raise TreeError(
                f"a tree of size {size} has {expected} maximal subtrees, given {len(subtree_roots)}"
            )
        self.size = size
        levels = [bit for bit in range(size.bit_length() - 1, -1, -1) if size >> bit & 1]
        self._stack = list(zip(levels, subtree_roots, strict=True))

    @staticmethod
    def positions(size: int) -> list[int]:
        """Stored positions of the maximal complete subtrees of ``size`` leaves, left to right."""
        return [stored_hash_index(level, index) for level, index in _decompose(0, size)]

    def append(self, leaf: bytes) -> list[bytes]:
        """Add a leaf hash; return the stored hashes it creates, in position order."""
        out = [leaf]
        level, current = 0, leaf
        while self._stack and self._stack[-1][0] == level:
            _, sibling = self._stack.pop()
            current = node_hash(sibling, current)
            level += 1
            out.append(current)
        self._stack.append((level, current))
        self.size += 1
        return out

    def root(self) -> bytes:
        """The RFC 9162 root of the tree so far."""
        if not self._stack:
            return EMPTY_ROOT
        current = self._stack[-1][1]
        for _, left in reversed(self._stack[:-1]):
            current = node_hash(left, current)
        return current


def _decompose(lo: int, hi: int) -> list[tuple[int, int]]:
    """Split leaves ``[lo, hi)`` into maximal aligned complete subtrees, left to right.

    Returns (level, index) pairs; the range must be one that RFC 9162's recursive
    split produces, so every piece is aligned.
    """
    pieces = []
    while lo < hi:
        level = (hi - lo).bit_length() - 1
        # Largest aligned power of two that starts at lo and fits.
        while lo & ((1 << level) - 1):
            level -= 1
        pieces.append((level, lo >> level))
        lo += 1 << level
    return pieces


class _Plan:
    """Collects stored positions to read, then folds them into subtree hashes."""

    def __init__(self) -> None:
        self.positions: list[int] = []
        self.ranges: list[tuple[int, int]] = []

    def add_range(self, lo: int, hi: int) -> int:
        """Plan MTH(D[lo:hi]); return a handle for :meth:`value`."""
        self.ranges.append((len(self.positions), 0))
        pieces = _decompose(lo, hi)
        self.positions.extend(stored_hash_index(level, index) for level, index in pieces)
        start = self.ranges[-1][0]
        self.ranges[-1] = (start, len(pieces))
        return len(self.ranges) - 1

    def fold(self, reader: HashReader) -> list[bytes]:
        hashes = reader.read_hashes(self.positions) if self.positions else []
        values = []
        for start, count in self.ranges:
            parts = hashes[start : start + count]
            current = parts[-1]
            for left in reversed(parts[:-1]):
                current = node_hash(left, current)
            values.append(current)
        return values


def _largest_power_of_two_below(n: int) -> int:
    """RFC 9162 §2.1.1: k, the largest power of two smaller than n (n > 1)."""
    return 1 << ((n - 1).bit_length() - 1)


def root_at(reader: HashReader, size: int) -> bytes:
    """RFC 9162 §2.1.1: the root of the first ``size`` leaves, from stored hashes."""
    if size < 0:
        raise TreeError(f"expected a tree size >= 0, found {size}")
    if size == 0:
        return EMPTY_ROOT
    plan = _Plan()
    plan.add_range(0, size)
    return plan.fold(reader)[0]


def inclusion_proof(reader: HashReader, index: int, size: int) -> list[bytes]:
    """RFC 9162 §2.1.3.1: the inclusion path of leaf ``index`` in the tree of ``size``."""
    if not 0 <= index < size:
        raise TreeError(f"expected 0 <= index < tree size, found index {index}, size {size}")
    plan = _Plan()
    handles: list[int] = []
    lo, hi, m = 0, size, index
    # PATH(m, D[lo:hi]) lists siblings from the leaf upward; walking top-down we
    # collect them root-first and reverse at the end.
    while hi - lo > 1:
        k = _largest_power_of_two_below(hi - lo)
        if m < k:
            handles.append(plan.add_range(lo + k, hi))
            hi = lo + k
        else:
            handles.append(plan.add_range(lo, lo + k))
            lo, m = lo + k, m - k
    values = plan.fold(reader)
    return [values[h] for h in reversed(handles)]


def consistency_proof(reader: HashReader, first: int, second: int) -> list[bytes]:
    """RFC 9162 §2.1.4.1: the proof that the tree of ``first`` leaves is a prefix of ``second``."""
    if not 0 < first <= second:
        raise TreeError(f"expected 0 < first <= second, found first {first}, second {second}")
    if first == second:
        return []
    plan = _Plan()
    handles: list[int] = []
    lo, hi, m = 0, second, first
    complete = True  # SUBPROOF's b: is D[0:m] the whole of the original first tree?
    while True:
        n = hi - lo
        if m == n:
            if not complete:
                handles.append(plan.add_range(lo, hi))
            break
        k = _largest_power_of_two_below(n)
        if m <= k:
            handles.append(plan.add_range(lo + k, hi))
            hi = lo + k
        else:
            handles.append(plan.add_range(lo, lo + k))
            lo, m = lo + k, m - k
            complete = False
    values = plan.fold(reader)
    return [values[h] for h in reversed(handles)]
