"""Forks: two checkpoints signed by the log's key that cannot both be true, and their evidence.

A log signs only checkpoints that extend each other (specs/checkpoint.md §4): every
later tree has every earlier tree as its prefix, which an RFC 9162 consistency
proof shows (specs/tree.md §5). A member who saved checkpoint A (``m`` entries,
root ``r1``) and is now shown checkpoint B (``n`` entries, root ``r2``), both
signed by the pinned key, classifies what it sees:

``same-size``
    ``n == m`` and ``r2 != r1``: two trees of one size. Conclusive: anyone holding
    the two notes can check it.
``diverged``
    ``n > m`` and the log's own proof leads to ``r2`` but derives a root ``r' != r1``
    for B's first ``m`` entries. Since the proof's hashes reproduce B's signed root,
    they are (barring a SHA-256 collision) B's real subtree hashes, so ``r'`` is B's
    real root at ``m``. Conclusive: the file carries the proof and ``r'``.
``unproven``
    ``n > m`` and the proof does not verify at all (wrong hashes or length). The
    log failed to prove that B extends A, which an honest log always can; but the
    proof is not signed, so the file alone cannot show that the log, rather than
    whoever wrote the file, produced it. Anyone can ask the log again.
``rollback``
    ``n < m``: the server presents as its latest a tree smaller than one the key
    signed before. Checkpoints carry no time, so the file shows this only as the
    verifier recorded it; anyone can ask the log for the proof from ``n`` to ``m``.

Each is a :class:`ForkError` (exit code 3); :func:`evidence_document` writes it as
a JSON file, and :func:`check_evidence` re-checks such a file offline.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from verifier.b64 import Base64Error, decode_sized, encode
from verifier.checkpoint import Checkpoint, verify_checkpoint
from verifier.errors import ProofError, RootMismatchError, VerificationError
from verifier.merkle import HASH_SIZE, verify_consistency
from verifier.note import Verifier, parse_verifier_key

EVIDENCE_FORMAT = "tally-verify-fork-evidence/1"
SAME_SIZE = "same-size"
DIVERGED = "diverged"
UNPROVEN = "unproven"
ROLLBACK = "rollback"
CONCLUSIVE_KINDS = frozenset({SAME_SIZE, DIVERGED})


@dataclass(frozen=True)
class Seen:
    """One signed checkpoint as the verifier saw it: the note, where and when."""

    note: str
    checkpoint: Checkpoint
    source: str
    fetched_at: str | None


@dataclass(frozen=True)
class Fork:
    """Two conflicting checkpoints of one log (see the module doc for ``kind``)."""

    kind: str
    first: Seen
    second: Seen
    proof: tuple[bytes, ...] | None = None
    second_root_at_first_size: bytes | None = None

    @property
    def conclusive(self) -> bool:
        """Whether the evidence proves the conflict to anyone, with no trust in its recorder."""
        return self.kind in CONCLUSIVE_KINDS

    def explain(self) -> str:
        """Say in plain words what the two checkpoints show."""
        m, n = self.first.checkpoint.size, self.second.checkpoint.size
        r1, r2 = _short(self.first.checkpoint.root), _short(self.second.checkpoint.root)
        if self.kind == SAME_SIZE:
            return (
                f"The log's key signed two different trees of the same {m:,} entries "
                f"(roots {r1} and {r2}). A log that never rewrites history cannot do that."
            )
        if self.kind == DIVERGED:
            rp = _short(self.second_root_at_first_size or b"")
            return (
                f"The log's key signed a tree of {m:,} entries (root {r1}), then one of "
                f"{n:,} entries whose first {m:,} entries have another root ({rp}): "
                "the later history rewrote the earlier one. The log's own consistency "
                "proof shows it."
            )
        if self.kind == UNPROVEN:
            return (
                f"The log's key signed a tree of {m:,} entries and then one of {n:,} "
                f"entries, but the log's proof that the second extends the first does "
                "not verify. An honest log can always prove it; anyone can ask the log "
                f"again for the consistency proof from {m} to {n}."
            )
        return (
            f"The log's key signed a tree of {m:,} entries, and the server later "
            f"presented one of only {n:,} entries as its latest: the log went back "
            "(entries were dropped, or newer entries are being hidden from you)."
        )


class ForkError(VerificationError):
    """The log's key signed two checkpoints that conflict; ``fork`` says how.

    ``verifier_key`` is the key that signed both, once the raiser knows it (the
    evidence file names it).
    """

    def __init__(self, fork: Fork, verifier_key: str | None = None) -> None:
        super().__init__(fork.explain())
        self.fork = fork
        self.verifier_key = verifier_key


def check_extends(
    first: Seen, second: Seen, fetch_proof: Callable[[int, int], list[bytes]]
) -> None:
    """Check that ``second`` extends ``first`` (both already verified); raise :class:`ForkError`.

    ``fetch_proof(m, n)`` is called only when ``m < n`` (and ``m > 0``: the empty
    tree is a prefix of every tree); it returns the log's consistency proof.
    """
    a, b = first.checkpoint, second.checkpoint
    if b.size < a.size:
        raise ForkError(Fork(ROLLBACK, first, second))
    if b.size == a.size:
        if b.root != a.root:
            raise ForkError(Fork(SAME_SIZE, first, second))
        return
    if a.size == 0:
        return
    proof = fetch_proof(a.size, b.size)
    fork = classify_proof(first, second, proof)
    if fork is not None:
        raise ForkError(fork)


def classify_proof(
    first: Seen, second: Seen, proof: list[bytes], claimed_prefix_root: bytes | None = None
) -> Fork | None:
    """Return ``None`` if ``proof`` shows ``second`` extends ``first``, else the fork it shows.

    The fork is ``diverged`` if the proof verifies against ``second``'s root with
    some other root for the first ``m`` entries: the one the proof itself computes,
    or ``claimed_prefix_root`` (needed when ``m`` is a power of two, where RFC 9162
    leaves that root out of the proof); otherwise ``unproven``.
    """
    a, b = first.checkpoint, second.checkpoint
    try:
        verify_consistency(a.size, b.size, a.root, b.root, proof)
        return None
    except RootMismatchError as exc:
        derived = exc.calculated if exc.expected == a.root else None
    except ProofError:
        derived = None
    for candidate in (derived, claimed_prefix_root):
        if candidate is None or candidate == a.root:
            continue
        try:
            verify_consistency(a.size, b.size, candidate, b.root, proof)
        except ProofError:
            continue
        return Fork(DIVERGED, first, second, tuple(proof), candidate)
    return Fork(UNPROVEN, first, second, tuple(proof))


def evidence_document(fork: Fork, verifier_key: str, written_at: str) -> dict[str, Any]:
    """The JSON evidence file for ``fork`` (the format :func:`check_evidence` reads)."""
    proof = None
    if fork.proof is not None:
        proof = {
            "first": fork.first.checkpoint.size,
            "second": fork.second.checkpoint.size,
            "hashes": [encode(h) for h in fork.proof],
        }
    prefix_root = fork.second_root_at_first_size
    return {
        "format": EVIDENCE_FORMAT,
        "kind": fork.kind,
        "conclusive": fork.conclusive,
        "summary": fork.explain(),
        "verifier_key": verifier_key,
        "first": _seen_json(fork.first),
        "second": _seen_json(fork.second),
        "log_shrank": fork.kind == ROLLBACK,
        "consistency_proof": proof,
        "second_root_at_first_size": None if prefix_root is None else encode(prefix_root),
        "written_at": written_at,
        "written_by": "tally-verify",
    }


def _seen_json(seen: Seen) -> dict[str, Any]:
    return {"checkpoint": seen.note, "source": seen.source, "fetched_at": seen.fetched_at}


@dataclass(frozen=True)
class EvidenceVerdict:
    """What an evidence file shows, re-checked from its signed notes and proof alone."""

    holds: bool
    message: str
    kind: str | None = None
    conclusive: bool = False
    verifier_key: str | None = None
    key_matches_pinned: bool | None = None


def check_evidence(doc: object, pinned: Verifier | None = None) -> EvidenceVerdict:
    """Re-check an evidence file; trust nothing in it but what its signatures and proof show.

    The ``kind``, ``summary`` and other descriptive members are ignored: the kind
    is worked out again from the two notes (which must verify with the file's key)
    and the proof. ``pinned``, the key saved in the member's state if any, is only
    compared with the file's key and reported.
    """
    try:
        return _check_evidence(doc, pinned)
    except _NotEvidenceError as exc:
        return EvidenceVerdict(False, str(exc))


class _NotEvidenceError(Exception):
    pass


def _check_evidence(doc: object, pinned: Verifier | None) -> EvidenceVerdict:
    if not isinstance(doc, dict):
        raise _NotEvidenceError("The file is not a JSON object, so it is not fork evidence.")
    if doc.get("format") != EVIDENCE_FORMAT:
        raise _NotEvidenceError(
            f"The file is not fork evidence: expected format {EVIDENCE_FORMAT!r}, "
            f"found {doc.get('format')!r:.80}."
        )
    key_text = doc.get("verifier_key")
    try:
        key = parse_verifier_key(key_text if isinstance(key_text, str) else "")
    except VerificationError as exc:
        raise _NotEvidenceError(f"The file's verifier key is not valid: {exc}.") from None
    matches = None if pinned is None else key == pinned
    first = _seen_from_json(doc.get("first"), "first", key)
    second = _seen_from_json(doc.get("second"), "second", key)
    a, b = first.checkpoint, second.checkpoint

    fork: Fork | None
    if b.size < a.size:
        fork = Fork(ROLLBACK, first, second)
    elif b.size == a.size:
        fork = Fork(SAME_SIZE, first, second) if b.root != a.root else None
        if fork is None:
            raise _NotEvidenceError(
                f"Both checkpoints are the same tree of {a.size:,} entries: nothing conflicts."
            )
    elif a.size == 0:
        raise _NotEvidenceError("The empty tree is a prefix of every tree: nothing conflicts.")
    else:
        proof = _proof_from_json(doc.get("consistency_proof"), a.size, b.size)
        claimed = _optional_hash(doc.get("second_root_at_first_size"))
        fork = classify_proof(first, second, proof, claimed)
        if fork is None:
            raise _NotEvidenceError(
                f"The proof in the file shows that the tree of {b.size:,} entries extends "
                f"the tree of {a.size:,}: the log grew honestly, nothing conflicts."
            )
    return EvidenceVerdict(
        True,
        fork.explain(),
        kind=fork.kind,
        conclusive=fork.conclusive,
        verifier_key=key.to_string(),
        key_matches_pinned=matches,
    )


def _seen_from_json(doc: object, which: str, key: Verifier) -> Seen:
    if not isinstance(doc, dict) or not isinstance(doc.get("checkpoint"), str):
        raise _NotEvidenceError(f"The file has no {which} checkpoint note.")
    note: str = doc["checkpoint"]
    try:
        checkpoint = verify_checkpoint(note, key)
    except VerificationError as exc:
        raise _NotEvidenceError(
            f"The {which} checkpoint does not verify with the file's key, so the file "
            f"proves nothing: {exc}"
        ) from None
    source, fetched = doc.get("source"), doc.get("fetched_at")
    return Seen(
        note,
        checkpoint,
        source if isinstance(source, str) else "",
        fetched if isinstance(fetched, str) else None,
    )


def _proof_from_json(doc: object, m: int, n: int) -> list[bytes]:
    if not isinstance(doc, dict):
        raise _NotEvidenceError(
            f"Two checkpoints of {m:,} and {n:,} entries conflict only if a proof shows it, "
            "and the file has no consistency proof."
        )
    if doc.get("first") != m or doc.get("second") != n:
        raise _NotEvidenceError(
            f"The file's consistency proof is for sizes {doc.get('first')!r:.20} to "
            f"{doc.get('second')!r:.20}, not {m} to {n}."
        )
    hashes = doc.get("hashes")
    if not isinstance(hashes, list):
        raise _NotEvidenceError("The file's consistency proof has no list of hashes.")
    proof = []
    for item in hashes:
        h = _optional_hash(item)
        if h is None:
            raise _NotEvidenceError(
                "A hash of the file's consistency proof is not base64 of 32 bytes."
            )
        proof.append(h)
    return proof


def _optional_hash(item: object) -> bytes | None:
    try:
        return decode_sized(item, HASH_SIZE)
    except Base64Error:
        return None


def _short(root: bytes) -> str:
    return encode(root)[:12] + "..."
