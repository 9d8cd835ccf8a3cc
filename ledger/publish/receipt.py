"""Write receipts (specs/receipt.md): the log's signed promise that an entry was taken.

A receipt is a C2SP signed note (:mod:`ledger.publish.note`), signed by the log's
key, whose body is exactly five lines::

    tally/receipt/v1\\n
    <origin>\\n
    <seq, decimal, no leading zeros>\\n
    <entry hash: 64 lower-case hex, SHA-256 of the entry's exact bytes>\\n
    <covered-by: YYYY-MM-DDTHH:MM:SSZ>\\n

It says: the entry with this hash is entry ``seq`` of the log ``origin``, and a
checkpoint signed by the same key, of a size greater than ``seq``, will exist by
the covered-by time. Whoever holds one can later prove the entry was accepted, and
that a log which never shows it (or shows another entry at that seq) broke its word.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from ledger.errors import EntryError, NoteError
from ledger.log.entry import MAX_SAFE_INTEGER, parse_time
from ledger.publish.checkpoint import check_origin
from ledger.publish.note import Signer, Verifier, open_note, sign_note

RECEIPT_HEADER = "tally/receipt/v1"
_SEQ_RE = re.compile(r"\A(0|[1-9][0-9]{0,15})\Z")
_HASH_RE = re.compile(r"\A[0-9a-f]{64}\Z")


@dataclass(frozen=True)
class Receipt:
    """What a receipt states: which entry, at which seq, covered by a checkpoint by when."""

    origin: str
    seq: int
    entry_hash: str
    covered_by: str

    def to_body(self) -> str:
        """Serialise to the receipt body (what the signature covers), checking every field."""
        check_origin(self.origin)
        if not 0 <= self.seq <= MAX_SAFE_INTEGER:
            raise NoteError(f"expected a seq from 0 to {MAX_SAFE_INTEGER}, found {self.seq}")
        if not _HASH_RE.match(self.entry_hash):
            raise NoteError(
                f"expected the entry hash as 64 lower-case hex digits, found {self.entry_hash!r}"
            )
        _check_time(self.covered_by)
        lines = [RECEIPT_HEADER, self.origin, str(self.seq), self.entry_hash, self.covered_by]
        return "\n".join(lines) + "\n"


def parse_receipt(body: str) -> Receipt:
    """Parse a receipt body; the inverse of :meth:`Receipt.to_body`."""
    if not body.endswith("\n"):
        raise NoteError("expected the receipt to end with a newline")
    lines = body[:-1].split("\n")
    if len(lines) != 5:
        raise NoteError(
            f"expected 5 lines (header, origin, seq, entry hash, covered-by), found {len(lines)}"
        )
    header, origin, seq_text, entry_hash, covered_by = lines
    if header != RECEIPT_HEADER:
        raise NoteError(f"expected the first line {RECEIPT_HEADER!r}, found {header!r}")
    check_origin(origin)
    if not _SEQ_RE.match(seq_text) or int(seq_text) > MAX_SAFE_INTEGER:
        raise NoteError(
            f"expected a decimal seq without leading zeros, at most {MAX_SAFE_INTEGER}, "
            f"found {seq_text!r}"
        )
    if not _HASH_RE.match(entry_hash):
        raise NoteError(
            f"expected the entry hash as 64 lower-case hex digits, found {entry_hash!r}"
        )
    _check_time(covered_by)
    return Receipt(origin, int(seq_text), entry_hash, covered_by)


def sign_receipt(receipt: Receipt, signer: Signer) -> str:
    """The whole signed note of a receipt; the key's name must be the receipt's origin."""
    if receipt.origin != signer.name:
        raise NoteError(
            f"expected a receipt of the log {signer.name!r} (the key's name), "
            f"found origin {receipt.origin!r}"
        )
    return sign_note(receipt.to_body(), [signer])


def open_receipt(note: str, verifier: Verifier) -> Receipt:
    """Verify a receipt with the log's key and parse it; its origin must be the key's name."""
    body, _ = open_note(note, [verifier])
    receipt = parse_receipt(body)
    if receipt.origin != verifier.name:
        raise NoteError(
            f"expected origin {verifier.name!r} (the key's name), found {receipt.origin!r}"
        )
    return receipt


def _check_time(text: str) -> None:
    try:
        parse_time(text)
    except EntryError:
        raise NoteError(
            f"expected the covered-by time as YYYY-MM-DDTHH:MM:SSZ, found {text!r}"
        ) from None
