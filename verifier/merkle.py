"""RFC 9162 Merkle tree hashing and proof verification (verify only).

The log is an RFC 9162 section 2.1 tree over the exact entry bytes. This module
recomputes roots from leaf hashes and checks the two proof kinds a member receives:

- inclusion proofs, section 2.1.3.2 (an entry is at index ``i`` of a tree of ``size``);
- consistency proofs, section 2.1.4.2 (the tree of ``size1`` is a prefix of ``size2``).

The proof checks follow the iterative algorithms of the RFC, with the prechecks of
transparency-dev/merkle ``proof/verify.go``: every hash used is exactly 32 bytes; an
index at or past the size fails; a consistency proof from size 0 fails, even 0 to 0
(a witness handles "no old tree" itself); equal sizes need an empty proof and equal
roots.

Note that an inclusion proof binds the index but not, by itself, the tree size: the
size is bound by the signed checkpoint whose root the proof is checked against.
"""

from __future__ import annotations

import hashlib
from collections.abc import Sequence

from verifier.errors import ProofError, RootMismatchError

HASH_SIZE = 32
LEAF_PREFIX = b"\x00"
NODE_PREFIX = b"\x01"
EMPTY_ROOT = hashlib.sha256(b"").digest()
"""MTH({}) = SHA-256() of the empty string, RFC 9162 section 2.1.1."""


def leaf_hash(data: bytes) -> bytes:
    """Return MTH({d}) = SHA-256(0x00 || d), RFC 9162 section 2.1.1."""
    return hashlib.sha256(LEAF_PREFIX + data).digest()


def node_hash(left: bytes, right: bytes) -> bytes:
    """Return SHA-256(0x01 || left || right), RFC 9162 section 2.1.1."""
    return hashlib.sha256(NODE_PREFIX + left + right).digest()


def root_from_leaf_hashes(leaf_hashes: Sequence[bytes]) -> bytes:
    """Return the RFC 9162 section 2.1.1 root over ``leaf_hashes`` in O(n) time.

    Keeps the roots of the perfect subtrees seen so far (sizes strictly decreasing
    left to right, as the binary digits of the count), merging equal sizes as leaves
    arrive; at the end folds them right to left, which is exactly MTH's split at the
    largest power of two below n.
    """
    _check_hashes("leaf hash", leaf_hashes)
    stack: list[tuple[int, bytes]] = []  # (subtree size, subtree root)
    for h in leaf_hashes:
        size, node = 1, h
        while stack and stack[-1][0] == size:
            left_size, left = stack.pop()
            size, node = left_size + size, node_hash(left, node)
        stack.append((size, node))
    if not stack:
        return EMPTY_ROOT
    root = stack[-1][1]
    for _, left in reversed(stack[:-1]):
        root = node_hash(left, root)
    return root


def verify_inclusion(
    index: int, size: int, leaf: bytes, proof: Sequence[bytes], root: bytes
) -> None:
    """Check that ``leaf`` is the leaf hash at ``index`` in the tree of ``size`` with ``root``.

    RFC 9162 section 2.1.3.2. Raises :class:`ProofError` if the proof is malformed
    or of the wrong length, :class:`RootMismatchError` if it computes another root.
    """
    _check_hashes("leaf hash", [leaf])
    _check_hashes("root", [root])
    _check_hashes("proof hash", proof)
    if index < 0 or size < 0:
        raise ProofError(f"index and size must be non-negative, found {index} and {size}")
    if index >= size:
        raise ProofError(f"index {index} is not below tree size {size}")

    fn, sn, r = index, size - 1, leaf
    for p in proof:
        if sn == 0:
            raise ProofError(f"inclusion proof is too long: {len(proof)} hashes")
        if fn & 1 or fn == sn:
            r = node_hash(p, r)
            # Skip the levels where this node is a left child with no right sibling.
            while not fn & 1 and fn != 0:
                fn >>= 1
                sn >>= 1
        else:
            r = node_hash(r, p)
        fn >>= 1
        sn >>= 1
    if sn != 0:
        raise ProofError(f"inclusion proof is too short: {len(proof)} hashes")
    if r != root:
        raise RootMismatchError(root, r)


def verify_consistency(
    size1: int, size2: int, root1: bytes, root2: bytes, proof: Sequence[bytes]
) -> None:
    """Check that the tree of ``size1`` with ``root1`` is a prefix of ``size2`` with ``root2``.

    RFC 9162 section 2.1.4.2. Raises :class:`ProofError` if the sizes or proof are
    unacceptable, :class:`RootMismatchError` if the proof computes another root.

    The prechecks run in transparency-dev/merkle's order, which its vectors pin:
    sizes first; then equal sizes need only an empty proof and equal roots (the
    hash length is not checked there); then every hash must be 32 bytes.
    """
    if size1 < 0 or size2 < 0:
        raise ProofError(f"sizes must be non-negative, found {size1} and {size2}")
    if size1 == 0:
        raise ProofError("a consistency proof from size 0 proves nothing and is refused")
    if size1 > size2:
        raise ProofError(f"size1 {size1} is greater than size2 {size2}")
    if size1 == size2:
        if proof:
            raise ProofError(f"equal sizes need an empty proof, found {len(proof)} hashes")
        if root1 != root2:
            raise RootMismatchError(root1, root2, what=f"root at equal size {size1}")
        return
    if not proof:
        raise ProofError(f"empty consistency proof from size {size1} to {size2}")
    _check_hashes("root", [root1, root2])
    _check_hashes("proof hash", proof)

    path = list(proof)
    if size1 & (size1 - 1) == 0:
        # size1 is a power of two: the old root is itself a node of the new tree.
        path.insert(0, root1)
    fn, sn = size1 - 1, size2 - 1
    while fn & 1:
        fn >>= 1
        sn >>= 1
    fr = sr = path[0]
    for c in path[1:]:
        if sn == 0:
            raise ProofError(f"consistency proof is too long: {len(proof)} hashes")
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
        raise ProofError(f"consistency proof is too short: {len(proof)} hashes")
    if fr != root1:
        raise RootMismatchError(root1, fr, what=f"root of size {size1}")
    if sr != root2:
        raise RootMismatchError(root2, sr, what=f"root of size {size2}")


def _check_hashes(what: str, hashes: Sequence[bytes]) -> None:
    for i, h in enumerate(hashes):
        if not isinstance(h, bytes) or len(h) != HASH_SIZE:
            found = f"{len(h)} bytes" if isinstance(h, bytes) else type(h).__name__
            raise ProofError(f"{what} [{i}] must be {HASH_SIZE} bytes, found {found}")
