"""Re-checking a receipt evidence file, as ``tally-verify receipt`` writes it.

When the log breaks a write receipt's promise (specs/receipt.md §3), the verifier
saves what it saw: the signed receipt, the signed checkpoint it checked against,
and, if that checkpoint covers the receipt's seq, the entry the log holds there with
its inclusion proof (:func:`censorship_document`, :func:`equivocation_document`).
:func:`check_receipt_evidence` checks such a file again from those parts alone; the
file's ``kind`` and other descriptive members only route it here, and the verdict is
worked out again:

- **equivocation** (conclusive): the checkpoint covers the seq, the file's entry is
  proved to be at that seq of that signed tree, and its hash is not the one the
  receipt promised. The log's key signed both: anyone can check it.
- **censorship** (not conclusive): the checkpoint does not cover the seq. That is
  misbehaviour only if this was the latest checkpoint after the receipt's
  covered-by time, and checkpoints carry no time: the file can only record when it
  was fetched, which a third party must take on trust (or see again by asking the
  log).
"""

from __future__ import annotations

import hashlib
from typing import Any

from verifier.b64 import Base64Error, decode, decode_sized, encode
from verifier.checkpoint import verify_checkpoint
from verifier.errors import VerificationError
from verifier.fork import EvidenceVerdict
from verifier.merkle import HASH_SIZE, leaf_hash, verify_inclusion
from verifier.note import Verifier, parse_verifier_key
from verifier.receipt import Receipt, verify_receipt

EQUIVOCATION = "receipt_equivocation"
CENSORSHIP = "receipt_censorship"
RECEIPT_KINDS = frozenset({EQUIVOCATION, CENSORSHIP})


def censorship_document(
    verifier_key: str, receipt: Receipt, note: str, url: str, checked_at: str
) -> dict[str, Any]:
    """The evidence of a receipt whose seq the log's latest checkpoint, ``note``, does not
    cover after the receipt's covered-by time (the file :func:`check_receipt_evidence` reads).
    """
    return {
        "kind": CENSORSHIP,
        "verifier_key": verifier_key,
        "receipt": receipt.note,
        "checkpoint": note,
        "checkpoint_url": url,
        "checked_at": checked_at,
    }


def equivocation_document(
    verifier_key: str,
    receipt: Receipt,
    note: str,
    url: str,
    checked_at: str,
    entry: bytes,
    proof: list[bytes],
) -> dict[str, Any]:
    """The evidence of a receipt whose seq holds, in the signed tree of ``note``, an entry
    of another hash: ``entry`` with its inclusion ``proof``."""
    return {
        **censorship_document(verifier_key, receipt, note, url, checked_at),
        "kind": EQUIVOCATION,
        "entry_b64": encode(entry),
        "entry_sha256": hashlib.sha256(entry).hexdigest(),
        "inclusion_proof": [encode(h) for h in proof],
    }


def is_receipt_evidence(doc: object) -> bool:
    """Tell whether ``doc`` presents itself as receipt evidence (routes it, proves nothing)."""
    return isinstance(doc, dict) and doc.get("kind") in RECEIPT_KINDS


class _NotEvidenceError(Exception):
    pass


def check_receipt_evidence(doc: object, pinned: Verifier | None = None) -> EvidenceVerdict:
    """Re-check a receipt evidence file from its signed notes, entry and proof alone."""
    try:
        return _check(doc, pinned)
    except _NotEvidenceError as exc:
        return EvidenceVerdict(False, str(exc))


def _check(doc: object, pinned: Verifier | None) -> EvidenceVerdict:
    if not isinstance(doc, dict):
        raise _NotEvidenceError("The file is not a JSON object, so it is not receipt evidence.")
    key_text = doc.get("verifier_key")
    try:
        key = parse_verifier_key(key_text if isinstance(key_text, str) else "")
    except VerificationError as exc:
        raise _NotEvidenceError(f"The file's verifier key is not valid: {exc}.") from None
    matches = None if pinned is None else key == pinned
    try:
        receipt = verify_receipt(_text(doc, "receipt"), key)
        checkpoint = verify_checkpoint(_text(doc, "checkpoint"), key)
    except VerificationError as exc:
        raise _NotEvidenceError(
            f"A signed note in the file does not verify with the file's key, so the file "
            f"proves nothing: {exc}"
        ) from None
    seq, size = receipt.seq, checkpoint.size
    if size <= seq:
        fetched = doc.get("checked_at")
        when = f"at {fetched}" if isinstance(fetched, str) else "at a time the file does not give"
        return EvidenceVerdict(
            True,
            f"The log's key promised entry {seq:,} (hash {receipt.entry_hash}) by "
            f"{receipt.covered_by}, and the file holds a checkpoint signed by the same key "
            f"of only {size:,} entries, recorded as seen {when}. If that was the log's "
            "latest checkpoint then, the promise was broken.",
            kind=CENSORSHIP,
            conclusive=False,
            verifier_key=key.to_string(),
            key_matches_pinned=matches,
        )
    raw = _entry(doc)
    proof = _proof(doc)
    try:
        verify_inclusion(seq, size, leaf_hash(raw), proof, checkpoint.root)
    except VerificationError as exc:
        raise _NotEvidenceError(
            f"The file's entry is not proved to be entry {seq:,} of the signed tree of "
            f"{size:,} entries: {exc}"
        ) from None
    found = hashlib.sha256(raw).hexdigest()
    if found == receipt.entry_hash:
        raise _NotEvidenceError(
            f"Entry {seq:,} of the signed tree of {size:,} entries has exactly the hash the "
            "receipt promised: the log kept its promise."
        )
    return EvidenceVerdict(
        True,
        f"The log's key signed a receipt promising that entry {seq:,} has hash "
        f"{receipt.entry_hash}, and a checkpoint of {size:,} entries whose entry {seq:,} "
        f"has hash {found}, as the inclusion proof in the file shows.",
        kind=EQUIVOCATION,
        conclusive=True,
        verifier_key=key.to_string(),
        key_matches_pinned=matches,
    )


def _text(doc: dict[str, object], name: str) -> str:
    value = doc.get(name)
    if not isinstance(value, str):
        raise _NotEvidenceError(f"The file has no {name} note.")
    return value


def _entry(doc: dict[str, object]) -> bytes:
    value = doc.get("entry_b64")
    try:
        return decode(value)
    except Base64Error:
        raise _NotEvidenceError(
            "The checkpoint covers the receipt's seq, so the file must hold the entry found "
            "there (entry_b64, base64), and it does not."
        ) from None


def _proof(doc: dict[str, object]) -> list[bytes]:
    hashes = doc.get("inclusion_proof")
    if not isinstance(hashes, list):
        raise _NotEvidenceError("The file has no inclusion proof (a list of base64 hashes).")
    try:
        return [decode_sized(item, HASH_SIZE) for item in hashes]
    except Base64Error:
        raise _NotEvidenceError(
            "A hash of the file's inclusion proof is not base64 of 32 bytes."
        ) from None
