"""A compact Merkle tree: the RFC 9162 root of a growing log from O(log n) saved hashes.

The frontier of a tree of ``n`` leaves is the list of the roots of its maximal
complete subtrees (specs/tree.md §2 and §3), largest (leftmost) first: one hash
per 1 bit of ``n``. Appending a leaf merges equal-sized subtrees as a binary
counter carries; the root folds the frontier from right to left, which is MTH's
split at the largest power of two below ``n`` (RFC 9162 §2.1.1).

A member's audit keeps only the frontier, so a replay can stop after any page and
resume later from the saved frontier, and still ends at exactly the root a signed
checkpoint must carry.

:func:`consistency_proof` builds an RFC 9162 §2.1.4.1 proof from all leaf hashes;
the verifier uses it only to turn an offline dump into self-contained fork evidence.
"""

from __future__ import annotations

from collections.abc import Sequence

from verifier.merkle import EMPTY_ROOT, HASH_SIZE, node_hash, root_from_leaf_hashes


class CompactTree:
    """The frontier of a tree of ``size`` leaves (see the module doc)."""

    def __init__(self, size: int = 0, frontier: Sequence[bytes] = ()) -> None:
        if size < 0:
            raise ValueError(f"size must be >= 0, found {size}")
        if len(frontier) != size.bit_count():
            raise ValueError(
                f"a tree of {size} leaves has {size.bit_count()} frontier hashes, "
                f"found {len(frontier)}"
            )
        for i, h in enumerate(frontier):
            if len(h) != HASH_SIZE:
                raise ValueError(f"frontier hash [{i}] must be {HASH_SIZE} bytes, found {len(h)}")
        self.size = size
        self.frontier = list(frontier)

    def append(self, leaf: bytes) -> None:
        """Add the next leaf hash (``SHA-256(0x00 || entry bytes)``)."""
        if len(leaf) != HASH_SIZE:
            raise ValueError(f"leaf hash must be {HASH_SIZE} bytes, found {len(leaf)}")
        node, carry = leaf, self.size
        # Each trailing 1 bit of the old size is a complete subtree of the new leaf's size.
        while carry & 1:
            node = node_hash(self.frontier.pop(), node)
            carry >>= 1
        self.frontier.append(node)
        self.size += 1

    def root(self) -> bytes:
        """Return the RFC 9162 root of the leaves appended so far."""
        if not self.frontier:
            return EMPTY_ROOT
        root = self.frontier[-1]
        for left in reversed(self.frontier[:-1]):
            root = node_hash(left, root)
        return root


def consistency_proof(leaf_hashes: Sequence[bytes], first: int) -> list[bytes]:
    """Return PROOF(first, D[0:n]) of RFC 9162 §2.1.4.1, ``n = len(leaf_hashes)``.

    Requires ``0 < first <= n``; ``first == n`` gives the empty proof.
    """
    n = len(leaf_hashes)
    if not 0 < first <= n:
        raise ValueError(f"expected 0 < first <= {n}, found {first}")
    return _subproof(first, leaf_hashes, 0, n, complete=True)


def _subproof(m: int, leaves: Sequence[bytes], lo: int, hi: int, *, complete: bool) -> list[bytes]:
    # SUBPROOF(m, D[lo:hi], b) of RFC 9162 §2.1.4.1; ``complete`` is its flag b.
    n = hi - lo
    if m == n:
        return [] if complete else [root_from_leaf_hashes(leaves[lo:hi])]
    k = 1 << ((n - 1).bit_length() - 1)  # the largest power of two below n
    if m <= k:
        return [
            *_subproof(m, leaves, lo, lo + k, complete=complete),
            root_from_leaf_hashes(leaves[lo + k : hi]),
        ]
    return [
        *_subproof(m - k, leaves, lo + k, hi, complete=False),
        root_from_leaf_hashes(leaves[lo : lo + k]),
    ]
