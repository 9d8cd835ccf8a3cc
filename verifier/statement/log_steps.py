"""The steps of specs/statement.md §3 about the log: format and key, checkpoint, entries.

Each step is a function of what the steps before it established; it returns what
the next ones need, or raises :class:`StatementError` naming the check that failed.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from verifier.checkpoint import Checkpoint, verify_checkpoint
from verifier.entry import GENESIS_TYPE, Entry, TimeBounds, entry_hash_hex, parse_entry
from verifier.errors import VerificationError
from verifier.merkle import leaf_hash, verify_inclusion
from verifier.note import Verifier
from verifier.plan.errors import PlanError
from verifier.plan.ids import check_member
from verifier.plan.periods import parse_period
from verifier.state import utc_now
from verifier.statement.document import BUNDLE_KEYS, FORMAT, hash_bytes, integer, raw_bytes
from verifier.statement.errors import StatementError


@dataclass(frozen=True)
class Subject:
    """Whose statement for which period the bundle is (statement.md §1)."""

    member: str
    period: str


def check_request(doc: dict[str, Any], member: str, period: str | None) -> None:
    """The bundle is for the member (and period, if one was asked) the caller asked about."""
    if doc.get("member") != member or (period is not None and doc.get("period") != period):
        raise StatementError(
            "bundle.request",
            f"you asked for member {member}"
            + (f", period {period}" if period else "")
            + f"; the bundle is for {doc.get('member')!r}, period {doc.get('period')!r}",
        )


def check_format(doc: dict[str, Any]) -> Subject:
    """§1: the format, exactly the bundle's keys, a member id, a period id, two lists."""
    if doc.get("format") != FORMAT:
        raise StatementError(
            "bundle.format", f"expected format {FORMAT!r}, found {doc.get('format')!r}"
        )
    if set(doc) != BUNDLE_KEYS:
        raise StatementError(
            "bundle.format", f"expected exactly the keys {sorted(BUNDLE_KEYS)}, found {sorted(doc)}"
        )
    try:
        subject = Subject(check_member(doc["member"]), parse_period(doc["period"]).id)
    except PlanError as exc:
        raise StatementError("bundle.format", str(exc)) from None
    if not isinstance(doc["entries"], list) or not isinstance(doc["contributions"], list):
        raise StatementError("bundle.format", "expected lists of entries and contributions")
    return subject


def check_key(doc: dict[str, Any], key: Verifier) -> None:
    """The bundle names the pinned origin and key."""
    if doc["origin"] != key.name or doc["verifier_key"] != key.to_string():
        raise StatementError(
            "bundle.key",
            f"expected the pinned origin {key.name!r} and key, found {doc['origin']!r} "
            f"and {doc['verifier_key']!r}",
        )


def check_checkpoint(doc: dict[str, Any], key: Verifier) -> Checkpoint:
    """§3: the checkpoint is signed by the pinned key and names its origin."""
    note = doc["checkpoint"]
    if not isinstance(note, str):
        raise StatementError("checkpoint.signature", "expected a checkpoint note string")
    try:
        return verify_checkpoint(note, key)
    except VerificationError as exc:
        raise StatementError(
            "checkpoint.signature", f"expected a checkpoint signed by the pinned key: {exc}"
        ) from None


def check_entries(doc: dict[str, Any], cp: Checkpoint, received: str | None = None) -> list[Entry]:
    """§1, §3: entries sorted by seq below the checkpoint's size, each proved and well formed.

    Adjacent seqs must chain (the later one's ``prev`` is the earlier one's hash), and no
    entry may be dated more than 600 s after ``received``, when the verifier received
    the checkpoint (now, if not given; specs/log.md §3).
    """
    latest = TimeBounds(((cp.size, received or utc_now()),)).latest(0)
    entries: list[Entry] = []
    last: tuple[int, bytes] | None = None
    for i, item in enumerate(doc["entries"]):
        seq, raw = _proved_entry(i, item, cp, None if last is None else last[0])
        try:
            entry = parse_entry(raw)
        except VerificationError as exc:
            raise StatementError("entry.parse", f"entry at seq {seq}: {exc}") from None
        if entry.seq != seq:
            raise StatementError(
                "entry.parse", f"entries[{i}] says seq {seq}, its bytes {entry.seq}"
            )
        if last is not None and last[0] + 1 == seq and entry.prev != entry_hash_hex(last[1]):
            raise StatementError(
                "entry.chain", f"entry at seq {seq}: prev is not the hash of seq {last[0]}"
            )
        if latest is not None and entry.time > latest:
            raise StatementError(
                "entry.time",
                f"entry at seq {seq} is dated {entry.time}, after {latest}: more than 600 s "
                "after the checkpoint covering it was received (log.md §3)",
            )
        entries.append(entry)
        last = (seq, raw)
    return entries


def _proved_entry(i: int, item: object, cp: Checkpoint, after: int | None) -> tuple[int, bytes]:
    """``entries[i]``'s seq and bytes, in order, with an inclusion proof that verifies."""
    if not isinstance(item, dict) or set(item) != {"seq", "leaf", "proof"}:
        raise StatementError("entries.format", f"entries[{i}]: expected {{seq, leaf, proof}}")
    seq = integer(item["seq"], f"entries[{i}].seq", "entries.format")
    if after is not None and seq <= after:
        raise StatementError("entries.order", f"entries[{i}]: seq {seq} after seq {after}")
    if seq >= cp.size:
        raise StatementError(
            "entries.order",
            f"entries[{i}]: seq {seq} is not below the checkpoint size {cp.size}",
        )
    raw = raw_bytes(item["leaf"], f"entries[{i}].leaf", "entries.format")
    if not isinstance(item["proof"], list):
        raise StatementError("entries.format", f"entries[{i}].proof: expected a list")
    proof = [hash_bytes(p, f"entries[{i}].proof", "entries.format") for p in item["proof"]]
    try:
        verify_inclusion(seq, cp.size, leaf_hash(raw), proof, cp.root)
    except VerificationError as exc:
        raise StatementError(
            "entry.inclusion", f"entry at seq {seq}: its inclusion proof fails: {exc}"
        ) from None
    return seq, raw


def check_genesis(entries: list[Entry], key: Verifier) -> None:
    """§2.1: entry 0, ``log.genesis``, is present and names the pinned origin and key."""
    if not entries or entries[0].seq != 0 or entries[0].type != GENESIS_TYPE:
        raise StatementError("genesis", "expected entry 0, log.genesis, in the bundle")
    g = entries[0].body
    if g.get("origin") != key.name or g.get("verifier_key") != key.to_string():
        raise StatementError(
            "genesis", "expected the genesis entry to name the pinned origin and key"
        )


def check_complete(entries: list[Entry], member: str) -> None:
    """§2.3, §2.5: the member's own ``member.joined``, and each claimant's, before its claim."""
    joined = {str(e.body.get("member")): e for e in entries if e.type == "member.joined"}
    if member not in joined:
        raise StatementError(
            "bundle.complete", f"the member's own member.joined ({member}) is missing"
        )
    for e in entries:
        if e.type != "claim.filed":
            continue
        claimant = str(e.body.get("member"))
        if claimant not in joined or joined[claimant].seq > e.seq:
            raise StatementError(
                "bundle.complete",
                f"the claimant {claimant}'s member.joined (for c-{e.seq}) is missing",
            )
