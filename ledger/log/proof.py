"""RFC 9162 proof verification, for the ledger's own use.

The publisher checks each new checkpoint against the previous one with
:func:`verify_consistency` before signing, and the tests hold every proof the log
gives to :func:`verify_inclusion`. (verifier/ has its own implementation: two
implementations of specs/tree.md, cross-checked by the same vectors.)
"""

from __future__ import annotations

from collections.abc import Sequence

from ledger.errors import TreeError
from ledger.log.tree import HASH_SIZE, node_hash


class ProofError(TreeError):
    """A proof does not verify; the message says which check failed."""


def verify_inclusion(
    index: int, size: int, leaf: bytes, proof: Sequence[bytes], root: bytes
) -> None:
    """RFC 9162 §2.1.3.2: check that ``leaf`` is at ``index`` in the tree with ``root``."""
    if not 0 <= index < size:
        raise ProofError(f"expected index < size, found index {index}, size {size}")
    _check_hashes([leaf, root, *proof])
    fn, sn, r = index, size - 1, leaf
    for p in proof:
        if sn == 0:
            raise ProofError(f"proof has {len(proof)} hashes, more than the path needs")
        if fn & 1 or fn == sn:
            r = node_hash(p, r)
            while not fn & 1 and fn != 0:
                fn >>= 1
                sn >>= 1
        else:
            r = node_hash(r, p)
        fn >>= 1
        sn >>= 1
    if sn != 0:
        raise ProofError(f"proof has {len(proof)} hashes, fewer than the path needs")
    if r != root:
        raise ProofError(f"expected root {root.hex()}, calculated {r.hex()}")


def verify_consistency(
    size1: int, size2: int, root1: bytes, root2: bytes, proof: Sequence[bytes]
) -> None:
    """RFC 9162 §2.1.4.2: check that the tree (size1, root1) is a prefix of (size2, root2)."""
    # The order of these prechecks is part of the contract (specs/tree.md §5):
    # equal sizes compare roots as given, before any length check.
    if size1 <= 0 or size1 > size2:
        raise ProofError(f"expected 0 < size1 <= size2, found {size1} and {size2}")
    if size1 == size2:
        if proof:
            raise ProofError("expected an empty proof between equal sizes")
        if root1 != root2:
            raise ProofError("equal sizes with different roots")
        return
    if not proof:
        raise ProofError("expected a non-empty proof between different sizes")
    _check_hashes([root1, root2, *proof])
    path = list(proof)
    if size1 & (size1 - 1) == 0:  # a power of two: the old root is the first node
        path.insert(0, root1)
    fn, sn = size1 - 1, size2 - 1
    while fn & 1:
        fn >>= 1
        sn >>= 1
    fr = sr = path[0]
    for c in path[1:]:
        if sn == 0:
            raise ProofError(f"proof has {len(proof)} hashes, more than needed")
        if fn & 1 or fn == sn:
            fr = node_hash(c, fr)
            sr = node_hash(c, sr)
            while not fn & 1 and fn != 0:
                fn >>= 1
                sn >>= 1
        else:
            sr = node_hash(sr, c)
        fn >>= 1
        sn >>= 1
    if sn != 0:
        raise ProofError(f"proof has {len(proof)} hashes, fewer than needed")
    if fr != root1:
        raise ProofError(f"expected first root {root1.hex()}, calculated {fr.hex()}")
    if sr != root2:
        raise ProofError(f"expected second root {root2.hex()}, calculated {sr.hex()}")


def _check_hashes(hashes: Sequence[bytes]) -> None:
    for h in hashes:
        if len(h) != HASH_SIZE:
            raise ProofError(f"expected {HASH_SIZE}-byte hashes, found one of {len(h)} bytes")
