"""Whether the log kept a write receipt's promise (specs/receipt.md §3), checked with the log.

A verified receipt promises that entry ``seq`` has hash ``entry_hash`` and will be
covered by a checkpoint by ``covered-by``. :func:`check_receipt` first brings the
member's saved checkpoint up to date (:meth:`~verifier.session.Session.refresh`,
which raises :class:`~verifier.fork.ForkError` on a fork), then:

- if the latest checkpoint covers ``seq``, the entry there must have the promised
  hash and its inclusion proof must verify: ``included``; another hash is
  equivocation, with evidence;
- if it does not, and covered-by has not passed: ``not_yet_covered``;
- if covered-by has passed: censorship, with evidence.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, replace
from datetime import UTC, datetime
from typing import Any

from verifier.merkle import leaf_hash, verify_inclusion
from verifier.receipt import Receipt
from verifier.receipt_evidence import censorship_document, equivocation_document
from verifier.session import Growth, Session
from verifier.state import utc_now

INCLUDED = "included"
NOT_YET_COVERED = "not_yet_covered"
MISBEHAVIOUR = "misbehaviour"


@dataclass(frozen=True)
class ReceiptVerdict:
    """What the log did with a receipt's promise (see the module doc for ``status``)."""

    status: str
    receipt: Receipt
    growth: Growth
    url: str
    checked_at: str
    found_hash: str | None = None
    """With equivocation: the hash of the entry the log holds at the receipt's seq."""
    evidence: dict[str, Any] | None = None
    """With misbehaviour: the evidence document (:mod:`verifier.receipt_evidence`)."""

    @property
    def kind(self) -> str | None:
        """The misbehaviour's kind (``receipt_equivocation``, ``receipt_censorship``)."""
        return None if self.evidence is None else str(self.evidence["kind"])


def check_receipt(
    session: Session, receipt: Receipt, now: datetime | None = None
) -> ReceiptVerdict:
    """Check that the log of ``session`` kept the promise of ``receipt`` (verified already).

    ``now`` is compared with covered-by (default: the clock).
    """
    growth = session.refresh()
    checkpoint, url, client = growth.new, session.state.url, session.client
    checked_at = utc_now()
    # After the refresh the saved note is the latest checkpoint (or one of the same tree).
    note = session.state.checkpoint
    key = session.key.to_string()
    verdict = ReceiptVerdict(INCLUDED, receipt, growth, url, checked_at)
    seq = receipt.seq
    if checkpoint.size > seq:
        served = client.entries(seq, seq + 1)[0]
        proof = client.inclusion_proof(seq, checkpoint.size)
        verify_inclusion(seq, checkpoint.size, leaf_hash(served.raw), proof, checkpoint.root)
        found = hashlib.sha256(served.raw).hexdigest()
        if found == receipt.entry_hash:
            return verdict
        evidence = equivocation_document(key, receipt, note, url, checked_at, served.raw, proof)
        return replace(verdict, status=MISBEHAVIOUR, evidence=evidence, found_hash=found)
    if (now or datetime.now(UTC)) < receipt.covered_by_datetime():
        return replace(verdict, status=NOT_YET_COVERED)
    evidence = censorship_document(key, receipt, note, url, checked_at)
    return replace(verdict, status=MISBEHAVIOUR, evidence=evidence)
