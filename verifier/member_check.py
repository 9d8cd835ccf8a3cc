"""A member's check that the log speaks for them only as they asked (``member check``).

With the member's key file (:mod:`verifier.member_key`) and the log's key,
:func:`check_member` fetches the latest checkpoint, verifies it, reads every entry
of the signed tree (in pages of ``/v1/entries``: the whole log is scanned, since the
server offers no index of a member's entries beyond ``/v1/members/{m}``), checks
that they give the checkpoint's root, and then that:

- the member's ``member.joined`` names the key in the key file, and its signature
  (the proof of possession) verifies with it (requests.md §3);
- every member action in the member's name (``member.left``, ``juror.enrolled``,
  ``claim.filed`` with ``member`` = m, ``claim.objected`` with ``objector`` = m,
  ``claim.appealed`` with ``appellant`` = m) is signed, under the actor
  ``member:<m>``, with a signature that verifies with the member's key: an assisted
  action (the operator acting for the member, plan.md §4.5) is reported with its seq,
  as is a bad signature;
- a signed enrolment's juror key signed itself (requests.md §3.1) and, when the
  member's juror key file is given, is the key in it;
- every receipt saved beside the key file is signed by the log's key and honoured:
  the entry at its seq hashes (SHA-256 of the entry's bytes) to the receipt's entry
  hash. A receipt for an entry the log does not hold yet is pending until its
  covered-by time, and a finding after it (``tally-verify receipt FILE`` writes the
  evidence);
- the server's ``/v1/members/{m}`` names the seqs found.

Notes that break no rule (a request number on the log above the key file's, which
means another copy of the key was used; a juror key file whose key is not enrolled)
are reported without failing the check.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from verifier.b64 import encode
from verifier.client import MAX_PAGE, LogClient
from verifier.compact import CompactTree
from verifier.entry import Entry, parse_entry
from verifier.errors import VerificationError
from verifier.member_key import JurorKey, MemberKey, saved_receipts
from verifier.merkle import leaf_hash
from verifier.note import Verifier
from verifier.plan.errors import RequestError
from verifier.plan.requests import (
    ACTING_MEMBER,
    MEMBER_ACTIONS,
    decode_key,
    public_key,
    verify_juror_key,
    verify_request,
)
from verifier.receipt import ReceiptError, receipt_text, verify_receipt
from verifier.session import accept_checkpoint


@dataclass(frozen=True)
class Finding:
    """Something the log does in the member's name that the member did not sign, or a
    receipt it did not honour; ``seq`` is the entry's, when there is one."""

    seq: int | None
    message: str

    def json(self) -> dict[str, Any]:
        """As JSON."""
        return {"seq": self.seq, "message": self.message}


@dataclass
class MemberReport:
    """What :func:`check_member` found (see the module doc)."""

    member: str
    origin: str
    tree_size: int
    joined_seq: int | None = None
    signed: list[int] = field(default_factory=list)
    """The seqs of the member's signed actions that verified (the join not counted)."""
    juror_key: str | None = None
    highest_request: int | None = None
    receipts_honoured: list[int] = field(default_factory=list)
    receipts_pending: list[int] = field(default_factory=list)
    findings: list[Finding] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        """No finding."""
        return not self.findings

    def json(self) -> dict[str, Any]:
        """As JSON."""
        return {
            "member": self.member,
            "origin": self.origin,
            "tree_size": self.tree_size,
            "joined_seq": self.joined_seq,
            "signed_actions": self.signed,
            "juror_key": self.juror_key,
            "highest_request": self.highest_request,
            "receipts_honoured": self.receipts_honoured,
            "receipts_pending": self.receipts_pending,
            "findings": [f.json() for f in self.findings],
            "notes": self.notes,
        }


def check_member(
    client: LogClient,
    log_key: Verifier,
    key: MemberKey,
    juror: JurorKey | None = None,
    now: datetime | None = None,
    progress: Callable[[int], None] | None = None,
    note: str | None = None,
) -> MemberReport:
    """Check the log of ``client`` for the member of ``key`` (see the module doc).

    Raises :class:`VerificationError` if the checkpoint does not verify with
    ``log_key`` or the entries served do not give its root; returns the report
    otherwise, whose ``findings`` say what failed. ``note`` is the checkpoint to check
    up to (default: the latest, fetched now).
    """
    checkpoint = accept_checkpoint(client.checkpoint() if note is None else note, log_key)
    origin, size = checkpoint.origin, checkpoint.size
    if key.origin is not None and key.origin != origin:
        raise VerificationError(
            f"the key file {key.path} was made into a join request for the log {key.origin}, "
            f"but this log is {origin}"
        )
    report = MemberReport(key.member, origin, size)
    receipts = _load_receipts(key, log_key, report)
    hashes: dict[int, str] = {}
    tree = CompactTree()
    member_key = public_key(key.seed)
    seqs: dict[str, int] = {}
    start = 0
    while start < size:
        page = client.entries(start, min(size, start + MAX_PAGE))
        for served in page:
            tree.append(leaf_hash(served.raw))
            if served.seq in receipts:
                hashes[served.seq] = hashlib.sha256(served.raw).hexdigest()
            entry = parse_entry(served.raw)
            if entry.seq != served.seq:
                raise VerificationError(
                    f"the entry served as seq {served.seq} says it is seq {entry.seq}"
                )
            _examine(entry, origin, member_key, key, juror, report, seqs)
        start += len(page)
        if progress is not None:
            progress(len(page))
    if tree.root() != checkpoint.root:
        raise VerificationError(
            f"the {size:,} entries served do not give the root of the signed checkpoint "
            f"(computed {encode(tree.root())}, signed {encode(checkpoint.root)})"
        )
    if report.joined_seq is None:
        report.findings.append(Finding(None, f"the log holds no member.joined of {key.member}"))
    if juror is not None and report.juror_key is None:
        report.notes.append(
            f"the juror key {juror.juror_key} of the juror key file is not enrolled for "
            f"{key.member} on the log"
        )
    if report.highest_request is not None and report.highest_request > key.last_request:
        report.notes.append(
            f"the log shows request number {report.highest_request} of {key.member}, above "
            f"the key file's last {key.last_request}: another copy of the key was used (an "
            "older copy of the key file, restored?). If you did not make those requests, "
            "your key is in other hands."
        )
    _check_receipts(receipts, hashes, size, now or datetime.now(UTC), report)
    _compare_member_view(client, key.member, seqs, report)
    return report


def _examine(
    entry: Entry,
    origin: str,
    member_key: bytes,
    key: MemberKey,
    juror: JurorKey | None,
    report: MemberReport,
    seqs: dict[str, int],
) -> None:
    """Check one entry, if it is in the member's name."""
    who = ACTING_MEMBER.get(entry.type)
    body, seq, m = entry.body, entry.seq, key.member
    if who is None or body.get(who) != m:
        return
    if entry.type == "member.joined":
        _examine_join(entry, origin, member_key, key, report)
        seqs.setdefault("joined_seq", seq)
        return
    assert entry.type in MEMBER_ACTIONS
    if entry.type == "member.left":
        seqs.setdefault("left_seq", seq)
    if entry.type == "juror.enrolled":
        seqs.setdefault("juror_seq", seq)
        _examine_juror(entry, origin, juror, report)
    if "signature" not in body:
        report.findings.append(
            Finding(
                seq,
                f"seq {seq}: a {entry.type} in the name of {m} that {m} did not sign: the "
                f"operator wrote it (assisted, actor {entry.actor})",
            )
        )
        return
    if entry.actor != f"member:{m}":
        report.findings.append(
            Finding(seq, f"seq {seq}: a signed {entry.type} of {m} under the actor {entry.actor}")
        )
    try:
        verify_request(origin, entry.type, body, member_key)
    except RequestError as exc:
        report.findings.append(
            Finding(
                seq, f"seq {seq}: a {entry.type} in the name of {m} with a bad signature: {exc}"
            )
        )
        return
    report.signed.append(seq)
    _note_request(body.get("request"), report)


def _examine_join(
    entry: Entry, origin: str, member_key: bytes, key: MemberKey, report: MemberReport
) -> None:
    seq, m = entry.seq, key.member
    if report.joined_seq is not None:
        report.findings.append(Finding(seq, f"seq {seq}: a second member.joined of {m}"))
        return
    report.joined_seq = seq
    named = entry.body.get("member_key")
    if named is None:
        report.findings.append(
            Finding(seq, f"seq {seq}: {m} joined without a key: the join is not the member's")
        )
        return
    if named != encode(member_key):
        report.findings.append(
            Finding(
                seq,
                f"seq {seq}: the join of {m} names the key {named!s:.60}, not the key in "
                f"{key.path} ({encode(member_key)})",
            )
        )
        return
    try:
        verify_request(origin, entry.type, entry.body, decode_key(named))
    except RequestError as exc:
        report.findings.append(Finding(seq, f"seq {seq}: the join of {m} does not verify: {exc}"))
        return
    _note_request(entry.body.get("request"), report)


def _examine_juror(entry: Entry, origin: str, juror: JurorKey | None, report: MemberReport) -> None:
    seq, body = entry.seq, entry.body
    enrolled = body.get("juror_key")
    report.juror_key = enrolled if isinstance(enrolled, str) else None
    if juror is not None and enrolled != juror.juror_key:
        report.findings.append(
            Finding(
                seq,
                f"seq {seq}: the juror key enrolled for {juror.member} is {enrolled!s:.60}, "
                f"not the key of the juror key file ({juror.juror_key})",
            )
        )
    if "juror_signature" in body:
        try:
            verify_juror_key(
                origin, str(body.get("member")), str(enrolled), str(body["juror_signature"])
            )
        except RequestError as exc:
            report.findings.append(Finding(seq, f"seq {seq}: {exc}"))


def _note_request(number: object, report: MemberReport) -> None:
    if type(number) is int:
        report.highest_request = max(number, report.highest_request or 0)


@dataclass(frozen=True)
class _Saved:
    path: str
    entry_hash: str
    covered_by: datetime


def _load_receipts(key: MemberKey, log_key: Verifier, report: MemberReport) -> dict[int, _Saved]:
    found: dict[int, _Saved] = {}
    for named_seq, path in saved_receipts(key):
        try:
            receipt = verify_receipt(receipt_text(path.read_bytes()), log_key)
        except (OSError, ReceiptError) as exc:
            report.findings.append(Finding(named_seq, f"the receipt {path} is refused: {exc}"))
            continue
        if receipt.seq != named_seq:
            report.findings.append(
                Finding(named_seq, f"the receipt {path} is for seq {receipt.seq}, not {named_seq}")
            )
            continue
        found[receipt.seq] = _Saved(str(path), receipt.entry_hash, receipt.covered_by_datetime())
    return found


def _check_receipts(
    receipts: dict[int, _Saved],
    hashes: dict[int, str],
    size: int,
    now: datetime,
    report: MemberReport,
) -> None:
    for seq, saved in sorted(receipts.items()):
        found = hashes.get(seq)
        if found == saved.entry_hash:
            report.receipts_honoured.append(seq)
        elif found is not None:
            report.findings.append(
                Finding(
                    seq,
                    f"seq {seq}: the log holds an entry with hash {found}, but its receipt "
                    f"{saved.path} promised {saved.entry_hash}: run `tally-verify receipt "
                    f"{saved.path}` to save the evidence",
                )
            )
        elif now < saved.covered_by:
            report.receipts_pending.append(seq)
        else:
            report.findings.append(
                Finding(
                    seq,
                    f"seq {seq}: the log of {size:,} entries does not hold the entry its receipt "
                    f"{saved.path} promised by {saved.covered_by:%Y-%m-%dT%H:%M:%SZ}: run "
                    f"`tally-verify receipt {saved.path}` to save the evidence",
                )
            )


def _compare_member_view(
    client: LogClient, member: str, seqs: dict[str, int], report: MemberReport
) -> None:
    """The server's ``/v1/members/{m}`` must name the entries the log holds."""
    info = client.member(member)
    if info is None:
        if "joined_seq" in seqs:
            report.findings.append(
                Finding(
                    None, f"the server says {member} has not joined, but the log holds the join"
                )
            )
        return
    served = {"joined_seq": info.joined_seq, "left_seq": info.left_seq, "juror_seq": info.juror_seq}
    for name, value in served.items():
        if value != seqs.get(name):
            report.findings.append(
                Finding(
                    value,
                    f"the server's /v1/members/{member} gives {name} {value}, but the log "
                    f"holds {seqs.get(name)}",
                )
            )
