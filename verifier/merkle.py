"""RFC 9162 Merkle tree hashing and proof verification (verify only).

The log is an RFC 9162 section 2.1 tree over the exact entry bytes. This module
recomputes roots from leaf hashes and checks the two proof kinds a member receives:

- inclusion proofs, section 2.1.3 (an entry is at index ``i`` of a tree of ``size``);
- consistency proofs, section 2.1.4 (the tree of ``size1`` is a prefix of ``size2``).

The proof checks replay the recursive definitions of the proofs (PATH, section
2.1.3.1, and SUBPROOF, section 2.1.4.1): the splits at the largest power of two
below each size say on which side each proof hash lies, and the hashes are folded
from the leaf (or the shared node) up. The RFC's iterative algorithms (sections
2.1.3.2 and 2.1.4.2), which the ledger's own code follows, reach the same verdicts
by another route; the vectors hold both to them. The prechecks are those of
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

    RFC 9162 section 2.1.3. Raises :class:`ProofError` if the proof is malformed
    or of the wrong length, :class:`RootMismatchError` if it computes another root.
    """
    _check_hashes("leaf hash", [leaf])
    _check_hashes("root", [root])
    _check_hashes("proof hash", proof)
    if index < 0 or size < 0:
        raise ProofError(f"index and size must be non-negative, found {index} and {size}")
    if index >= size:
        raise ProofError(f"index {index} is not below tree size {size}")

    # The proof is PATH(index, D[0:size]) of RFC 9162 section 2.1.3.1, built by
    # splitting at the largest power of two below the size. Replaying those splits
    # from the root down says, level by level, on which side each proof hash lies.
    sides = _inclusion_sides(index, size)
    if len(proof) != len(sides):
        which = "long" if len(proof) > len(sides) else "short"
        raise ProofError(
            f"inclusion proof is too {which}: {len(proof)} hashes, "
            f"expected {len(sides)} for index {index} of {size}"
        )
    r = leaf
    for sibling_on_left, p in zip(reversed(sides), proof, strict=True):
        r = node_hash(p, r) if sibling_on_left else node_hash(r, p)
    if r != root:
        raise RootMismatchError(root, r)


def _inclusion_sides(m: int, n: int) -> list[bool]:
    """Top-down, for each split PATH(m, D[n]) makes: is the proof's hash the left part?"""
    sides: list[bool] = []
    while n > 1:
        k = _split(n)
        if m < k:  # PATH(m, D[0:k]) : MTH(D[k:n])
            sides.append(False)
            n = k
        else:  # PATH(m - k, D[k:n]) : MTH(D[0:k])
            sides.append(True)
            m, n = m - k, n - k
    return sides


def _split(n: int) -> int:
    """The largest power of two smaller than ``n`` (n > 1), RFC 9162 section 2.1.1's k."""
    return 1 << ((n - 1).bit_length() - 1)


def verify_consistency(
    size1: int, size2: int, root1: bytes, root2: bytes, proof: Sequence[bytes]
) -> None:
    """Check that the tree of ``size1`` with ``root1`` is a prefix of ``size2`` with ``root2``.

    RFC 9162 section 2.1.4. Raises :class:`ProofError` if the sizes or proof are
    unacceptable, :class:`RootMismatchError` if the proof computes another root.

    The prechecks run in transparency-dev/merkle's order, which its vectors pin:
    sizes first; then equal sizes need only an empty proof and equal roots (the
    hash length is not checked there); then every hash must be 32 bytes.
    """
    if _same_tree(size1, size2, root1, root2, proof):
        return

    # The proof is SUBPROOF(size1, D[0:size2], true) of RFC 9162 section 2.1.4.1.
    # Replaying its splits from the root down gives, level by level, on which side
    # each proof hash lies, and whether the walk ends at a node the old tree shares
    # whole (then the first proof hash is that node), or at the old root itself.
    steps, starts_at_old_root = _consistency_steps(size1, size2)
    path = [root1, *proof] if starts_at_old_root else list(proof)
    if len(path) != len(steps) + 1:
        which = "long" if len(path) > len(steps) + 1 else "short"
        raise ProofError(
            f"consistency proof is too {which}: {len(proof)} hashes, expected "
            f"{len(steps) + (0 if starts_at_old_root else 1)} from size {size1} to {size2}"
        )
    fr = sr = path[0]
    for sibling_on_left, c in zip(reversed(steps), path[1:], strict=True):
        if sibling_on_left:
            # The split falls inside the old tree: both roots take the left part.
            fr = node_hash(c, fr)
            sr = node_hash(c, sr)
        else:
            # The old tree lies in the left part: only the new root takes the right.
            sr = node_hash(sr, c)
    if fr != root1:
        raise RootMismatchError(root1, fr, what=f"root of size {size1}")
    if sr != root2:
        raise RootMismatchError(root2, sr, what=f"root of size {size2}")


def _same_tree(size1: int, size2: int, root1: bytes, root2: bytes, proof: Sequence[bytes]) -> bool:
    """The prechecks of :func:`verify_consistency`; ``True`` if the sizes are equal (and
    the proof, empty, holds), ``False`` if the proof remains to be checked."""
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
        return True
    if not proof:
        raise ProofError(f"empty consistency proof from size {size1} to {size2}")
    _check_hashes("root", [root1, root2])
    _check_hashes("proof hash", proof)
    return False


def _consistency_steps(m: int, n: int) -> tuple[list[bool], bool]:
    """Top-down splits of SUBPROOF(m, D[n], true), and whether it ends with b still true."""
    steps: list[bool] = []
    complete = True  # SUBPROOF's flag b: the node so far is the old tree's own root
    while m != n:
        k = _split(n)
        if m <= k:  # SUBPROOF(m, D[0:k], b) : MTH(D[k:n])
            steps.append(False)
            n = k
        else:  # SUBPROOF(m - k, D[k:n], false) : MTH(D[0:k])
            steps.append(True)
            m, n, complete = m - k, n - k, False
    return steps, complete


def _check_hashes(what: str, hashes: Sequence[bytes]) -> None:
    for i, h in enumerate(hashes):
        if not isinstance(h, bytes) or len(h) != HASH_SIZE:
            found = f"{len(h)} bytes" if isinstance(h, bytes) else type(h).__name__
            raise ProofError(f"{what} [{i}] must be {HASH_SIZE} bytes, found {found}")
