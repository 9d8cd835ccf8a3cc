"""A member's check that the log speaks for them only as they asked (``member check``).

With the member's key file (:mod:`verifier.member_key`) and the log's key,
:func:`check_member` fetches the latest checkpoint, verifies it, reads every entry
of the signed tree (in pages of ``/v1/entries``: the whole log is scanned, since the
server offers no index of a member's entries beyond ``/v1/members/{m}``), checks
that they give the checkpoint's root, and then that:

- the member's ``member.joined`` names a key of the key file (the current one or
  one of its history), and its signature (the proof of possession) verifies with it
  (requests.md §3);
- every member action in the member's name (``member.left``, ``juror.enrolled``,
  ``claim.filed`` with ``member`` = m, ``claim.objected`` with ``objector`` = m,
  ``claim.appealed`` with ``appellant`` = m, and the always signed
  ``member.key_rotated`` and ``member.key_recovery_refused``) is signed, under the
  actor ``member:<m>``, with a signature that verifies with the member's **key in
  force** at the entry's time (plan.md §4.6): the join's key, replaced by each
  rotation from its entry on, and by an operator's ``member.key_recovery`` from its
  ``effective`` time unless a refusal (or a rotation) came first. An assisted
  action (the operator acting for the member, plan.md §4.5) is reported with its
  seq, as is a bad signature, and a new key that did not sign itself (requests.md
  §3.2);
- each recovery of the member's key is reported with its seq, its effective time
  and what became of it (pending, refused, void, in force): a recovery may be the
  operator taking the member's place. One in force (by the entry times, and by now
  for the end of the log) whose key the key file never held is a finding (the
  operator replaced the member's key without them), and the key in force at the end
  must be the key file's (a key of its history only while a rotation is not yet
  covered by the signed tree);
- each vote in the member's name (``vote.cast`` with ``juror`` = m) verifies with
  the juror key enrolled for them (plan.md §7);
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
from verifier.checkpoint import Checkpoint
from verifier.client import MAX_PAGE, LogClient
from verifier.compact import CompactTree
from verifier.entry import Entry, parse_entry
from verifier.errors import ProofError, RootMismatchError, VerificationError
from verifier.member_key import (
    JurorKey,
    MemberKey,
    key_request_verifies,
    member_key_verifies,
    saved_receipts,
)
from verifier.merkle import leaf_hash, verify_inclusion
from verifier.note import Verifier
from verifier.plan.draw import verify_pool_signature
from verifier.plan.errors import PlanError, RequestError
from verifier.plan.requests import (
    ACTING_MEMBER,
    MEMBER_ACTIONS,
    decode_key,
    verify_juror_key,
    verify_request,
)
from verifier.plan.vote import verify_vote
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
class Recovery:
    """An operator's ``member.key_recovery`` of the member's key (plan.md §4.6)."""

    seq: int
    time: str
    effective: str
    member_key: str
    status: str = "pending"
    """``pending`` (not yet in force), ``refused``, ``void`` (a rotation came first) or
    ``in force``."""
    by: int | None = None
    """The seq of the refusal or rotation that stopped it."""

    def json(self) -> dict[str, Any]:
        """As JSON."""
        return {
            "seq": self.seq,
            "time": self.time,
            "effective": self.effective,
            "member_key": self.member_key,
            "status": self.status,
            "by": self.by,
        }


@dataclass
class _Keys:
    """The member's key in force as the log goes on, and a recovery pending."""

    current: bytes | None = None
    pending: Recovery | None = None
    join_finding: Finding | None = None
    """A join that is not of the key file's keys: a finding, unless a recovery in force
    gave the member the key file's key (a member who lost the key they joined with)."""

    def settle(self, time: str) -> None:
        """Put a pending recovery whose ``effective`` time has come in force."""
        if self.pending is not None and time >= self.pending.effective:
            self.current = decode_key(self.pending.member_key)
            self.pending.status = "in force"
            self.pending = None


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
    rotations: list[int] = field(default_factory=list)
    """The seqs of the member's key rotations."""
    recoveries: list[Recovery] = field(default_factory=list)
    votes: list[int] = field(default_factory=list)
    """The seqs of the member's votes that verified with their enrolled juror key."""
    key_in_force: str | None = None
    """The member's key in force at the end of the log (and now, for a recovery)."""
    adopt_pending: bool = False
    """The key in force is the key file's pending rotation key: the file may adopt it."""
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
            "rotations": self.rotations,
            "recoveries": [r.json() for r in self.recoveries],
            "votes": self.votes,
            "key_in_force": self.key_in_force,
            "adopt_pending": self.adopt_pending,
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
    keys = _Keys()
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
            _examine(entry, origin, keys, key, juror, report, seqs)
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
    now = now or datetime.now(UTC)
    _check_keys(keys, key, size, now, report)
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
    _check_receipts(receipts, hashes, size, now, report)
    _compare_member_view(client, key.member, seqs, report)
    return report


def _examine(
    entry: Entry,
    origin: str,
    keys: _Keys,
    key: MemberKey,
    juror: JurorKey | None,
    report: MemberReport,
    seqs: dict[str, int],
) -> None:
    """Check one entry, if it is in the member's name."""
    body, seq, m = entry.body, entry.seq, key.member
    if entry.type == "vote.cast":
        if body.get("juror") == m:
            _examine_vote(entry, origin, report)
        return
    if entry.type in _KEY_CHANGES:
        if body.get("member") == m:
            keys.settle(entry.time)
            _KEY_CHANGES[entry.type](entry, origin, keys, key, report)
        return
    who = ACTING_MEMBER.get(entry.type)
    if who is None or body.get(who) != m:
        return
    keys.settle(entry.time)
    if entry.type == "member.joined":
        _examine_join(entry, origin, keys, key, report)
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
    if not _signed_by_member(entry, keys, m, report):
        return
    try:
        verify_request(origin, entry.type, body, keys.current or b"")
    except RequestError as exc:
        report.findings.append(
            Finding(
                seq, f"seq {seq}: a {entry.type} in the name of {m} with a bad signature: {exc}"
            )
        )
        return
    report.signed.append(seq)
    _note_request(body.get("request"), report)


def _signed_by_member(entry: Entry, keys: _Keys, m: str, report: MemberReport) -> bool:
    """The actor of a signed entry is the member's, and the member has a key in force."""
    seq = entry.seq
    if entry.actor != f"member:{m}":
        report.findings.append(
            Finding(seq, f"seq {seq}: a signed {entry.type} of {m} under the actor {entry.actor}")
        )
    if keys.current is None:
        report.findings.append(
            Finding(seq, f"seq {seq}: a signed {entry.type} of {m}, who had no key in force")
        )
        return False
    return True


def _examine_rotation(
    entry: Entry, origin: str, keys: _Keys, key: MemberKey, report: MemberReport
) -> None:
    """A rotation: signed by the key in force; the new key signed itself; in force now."""
    seq, m = entry.seq, key.member
    if _signed_by_member(entry, keys, m, report):
        _verify_key_request(entry, origin, keys.current or b"", report)
    _verify_new_key(entry, origin, m, report)
    report.rotations.append(seq)
    try:
        keys.current = decode_key(entry.body.get("member_key"))
    except RequestError as exc:
        report.findings.append(Finding(seq, f"seq {seq}: the rotation's new key: {exc}"))
        return
    if keys.pending is not None:
        keys.pending.status, keys.pending.by = "void", seq
        keys.pending = None


def _examine_recovery(
    entry: Entry, origin: str, keys: _Keys, key: MemberKey, report: MemberReport
) -> None:
    """An operator's recovery: pending until its ``effective`` time."""
    seq, body = entry.seq, entry.body
    effective, new = body.get("effective"), body.get("member_key")
    if not isinstance(effective, str) or not isinstance(new, str):
        report.findings.append(
            Finding(seq, f"seq {seq}: a member.key_recovery without a new key and effective time")
        )
        return
    _verify_new_key(entry, origin, key.member, report)
    recovery = Recovery(seq, entry.time, effective, new)
    report.recoveries.append(recovery)
    keys.pending = recovery


def _examine_refusal(
    entry: Entry, origin: str, keys: _Keys, key: MemberKey, report: MemberReport
) -> None:
    """A refusal of a pending recovery, signed by the key in force."""
    if not _signed_by_member(entry, keys, key.member, report):
        return
    if not _verify_key_request(entry, origin, keys.current or b"", report):
        return
    pending = keys.pending
    if pending is not None and entry.body.get("recovery") == pending.seq:
        pending.status, pending.by = "refused", entry.seq
        keys.pending = None


def _verify_key_request(entry: Entry, origin: str, key: bytes, report: MemberReport) -> bool:
    seq = entry.seq
    try:
        good = key_request_verifies(origin, entry.type, entry.body, key)
    except RequestError as exc:
        report.findings.append(Finding(seq, f"seq {seq}: a malformed {entry.type}: {exc}"))
        return False
    if not good:
        report.findings.append(
            Finding(
                seq,
                f"seq {seq}: a {entry.type} in the name of {entry.body.get('member')} with a bad "
                f"signature: it does not verify with the key in force {encode(key)}",
            )
        )
        return False
    report.signed.append(seq)
    _note_request(entry.body.get("request"), report)
    return True


def _verify_new_key(entry: Entry, origin: str, member: str, report: MemberReport) -> None:
    seq, body = entry.seq, entry.body
    try:
        good = member_key_verifies(
            origin, member, body.get("member_key"), body.get("key_signature")
        )
    except RequestError as exc:
        report.findings.append(Finding(seq, f"seq {seq}: the new key of {entry.type}: {exc}"))
        return
    if not good:
        report.findings.append(
            Finding(
                seq,
                f"seq {seq}: the new key {body.get('member_key')!s:.60} of a {entry.type} did not "
                "sign itself (key_signature does not verify)",
            )
        )


def _examine_vote(entry: Entry, origin: str, report: MemberReport) -> None:
    """A vote in the member's name verifies with their enrolled juror key (plan.md §7)."""
    seq, body = entry.seq, entry.body
    juror = body.get("juror")
    if entry.actor != f"juror:{juror}":
        report.findings.append(
            Finding(seq, f"seq {seq}: a vote in the name of {juror} under the actor {entry.actor}")
        )
    if report.juror_key is None:
        report.findings.append(
            Finding(seq, f"seq {seq}: a vote in the name of {juror}, who has no juror key enrolled")
        )
        return
    try:
        verify_vote(
            report.juror_key,
            origin,
            str(body.get("claim")),
            str(body.get("choice")),
            str(body.get("rationale_hash")),
            str(body.get("signature")),
        )
    except PlanError as exc:
        report.findings.append(
            Finding(seq, f"seq {seq}: a vote in the name of {juror} that is not theirs: {exc}")
        )
        return
    report.votes.append(seq)


_KEY_CHANGES: dict[str, Callable[[Entry, str, _Keys, MemberKey, MemberReport], None]] = {
    "member.key_rotated": _examine_rotation,
    "member.key_recovery": _examine_recovery,
    "member.key_recovery_refused": _examine_refusal,
}


def _check_keys(
    keys: _Keys, key: MemberKey, size: int, now: datetime, report: MemberReport
) -> None:
    """Recoveries in force by ``now``, and the key in force against the key file's."""
    keys.settle(f"{now:%Y-%m-%dT%H:%M:%SZ}")
    known = key.known_keys
    for recovery in report.recoveries:
        if recovery.status == "pending":
            report.notes.append(
                f"seq {recovery.seq}: the operator wrote a recovery of your key, to "
                f"{recovery.member_key}, in force from {recovery.effective}: if you did not "
                f"ask for it, refuse it before then with `tally-verify member refuse-recovery "
                f"--key {key.path} --recovery {recovery.seq}`"
            )
        elif recovery.status == "in force" and recovery.member_key not in known:
            report.findings.append(
                Finding(
                    recovery.seq,
                    f"seq {recovery.seq}: the operator's recovery of your key took force at "
                    f"{recovery.effective}: the log holds the key {recovery.member_key}, which "
                    f"your key file {key.path} never held; its key is still the old one (the "
                    "operator replaced your key without you)",
                )
            )
    _check_key_in_force(keys, key, size, report)


def _check_key_in_force(keys: _Keys, key: MemberKey, size: int, report: MemberReport) -> None:
    """The key in force at the end of the log (and now) is the key file's."""
    known = key.known_keys
    recovered = [r for r in report.recoveries if r.status == "in force" and r.member_key in known]
    if keys.join_finding is not None:
        if recovered:
            report.notes.append(
                f"{keys.join_finding.message}; the recovery at seq {recovered[-1].seq} gave you "
                "the key of your key file"
            )
        else:
            report.findings.append(keys.join_finding)
    if keys.current is None:
        return
    in_force = report.key_in_force = encode(keys.current)
    if keys.join_finding is not None and not recovered:
        return  # the log was never in the key file's keys: the join says so
    if in_force == key.member_key:
        return
    if in_force == key.pending_key:
        report.adopt_pending = True
        report.notes.append(
            f"the log took the rotation to the key file's pending key {in_force}; the key file "
            "adopts it"
        )
        return
    if in_force in known:
        later = [old.replaced_at for old in key.history if old.replaced_at is not None]
        if any(seq >= size for seq in later):
            report.notes.append(
                f"your key file's key {key.member_key} is not yet in force on the log's signed "
                f"tree of {size:,} entries: its rotation is not covered by a checkpoint yet"
            )
            return
        report.findings.append(
            Finding(
                None,
                f"the key in force on the log is {in_force}, an older key of your key file, not "
                f"its key {key.member_key}: the log does not hold your rotation",
            )
        )
        return
    if not any(r.status == "in force" and r.member_key == in_force for r in report.recoveries):
        report.findings.append(
            Finding(
                None,
                f"the key in force on the log is {in_force}, which your key file {key.path} "
                "never held",
            )
        )


def _examine_join(
    entry: Entry, origin: str, keys: _Keys, key: MemberKey, report: MemberReport
) -> None:
    seq, m = entry.seq, key.member
    if report.joined_seq is not None:
        report.findings.append(Finding(seq, f"seq {seq}: a second member.joined of {m}"))
        return
    report.joined_seq = seq
    named = entry.body.get("member_key")
    if named is None:
        keys.join_finding = Finding(
            seq, f"seq {seq}: {m} joined without a key: the join is not the member's"
        )
        return
    try:
        keys.current = decode_key(named)
    except RequestError as exc:
        report.findings.append(Finding(seq, f"seq {seq}: the join of {m}: {exc}"))
        return
    if named not in key.known_keys:
        keys.join_finding = Finding(
            seq,
            f"seq {seq}: the join of {m} names the key {named!s:.60}, not the key in "
            f"{key.path} ({key.member_key}) nor one it held before",
        )
        return
    try:
        verify_request(origin, entry.type, entry.body, keys.current)
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


# -- an appeal's panel, before the appellant reveals ------------------------------------


@dataclass
class PanelView:
    """What the log says of an appealed claim's panel (plan.md §6), for ``member reveal``.

    ``pooled`` is the claim's ``panel.pooled`` in the tree of ``checkpoint`` (its
    inclusion proven, its pool signature verified with the log's key);
    ``pooled_uncovered`` the seq of one the server serves beyond that tree, which no
    checkpoint covers yet; ``drawn`` the claim's ``panel.drawn`` if there is one.
    """

    checkpoint: Checkpoint
    appealed: Entry | None = None
    pooled: Entry | None = None
    pooled_uncovered: int | None = None
    drawn: Entry | None = None


def find_panel(
    client: LogClient, log_key: Verifier, claim: str, start: int = 0, note: str | None = None
) -> PanelView:
    """Read the log from ``start`` for ``claim``'s appeal, pool and draw (see :class:`PanelView`).

    The checkpoint (``note``, else the latest) is verified with ``log_key``; a
    ``panel.pooled`` in its tree must be proven included, by ``/v1/proof/inclusion``
    against its root, and its pool signature must verify: else
    :class:`VerificationError`. The entries up to it are the server's word only:
    they say where to look, and a server that hides the pool only delays the reveal.
    """
    checkpoint = accept_checkpoint(client.checkpoint() if note is None else note, log_key)
    view = PanelView(checkpoint)
    size = checkpoint.size
    _scan_panel(client, claim, min(start, size), size, view)
    if view.pooled is not None:
        _prove_pooled(client, log_key, claim, view.pooled, checkpoint)
    elif view.drawn is None:
        served = client.log_info().tree_size
        beyond = PanelView(checkpoint)
        _scan_panel(client, claim, size, served, beyond)
        if beyond.pooled is not None:
            view.pooled_uncovered = beyond.pooled.seq
    return view


def _scan_panel(client: LogClient, claim: str, start: int, end: int, view: PanelView) -> None:
    while start < end:
        page = client.entries(start, min(end, start + MAX_PAGE))
        for served in page:
            entry = parse_entry(served.raw)
            if entry.seq != served.seq:
                raise VerificationError(
                    f"the entry served as seq {served.seq} says it is seq {entry.seq}"
                )
            if entry.body.get("claim") != claim:
                continue
            if entry.type == "claim.appealed":
                view.appealed = entry
            elif entry.type == "panel.pooled":
                view.pooled = entry
            elif entry.type == "panel.drawn":
                view.drawn = entry
        start += len(page)


def _prove_pooled(
    client: LogClient, log_key: Verifier, claim: str, pooled: Entry, checkpoint: Checkpoint
) -> None:
    seq, size = pooled.seq, checkpoint.size
    proof = client.inclusion_proof(seq, size)
    try:
        verify_inclusion(seq, size, leaf_hash(pooled.raw), proof, checkpoint.root)
    except (ProofError, RootMismatchError) as exc:
        raise VerificationError(
            f"the panel.pooled of {claim} served as seq {seq} is not in the signed tree of "
            f"{size:,} entries: {exc}"
        ) from None
    body = pooled.body
    try:
        root = bytes.fromhex(str(body.get("pool_root")))
        verify_pool_signature(
            log_key, checkpoint.origin, claim, root, str(body.get("pool_signature"))
        )
    except (ValueError, PlanError) as exc:
        raise VerificationError(
            f"seq {seq}: the pool signature of {claim} is not the log key's: {exc}"
        ) from None
