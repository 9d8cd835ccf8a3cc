"""A member's statement (specs/statement.md): check one bundle completely and offline.

A bundle is a sparse part of the log: some entries, each with its inclusion proof
against one signed checkpoint, and the member's contribution proofs. Nothing in it
is believed: :func:`verify_bundle` checks the checkpoint's signature with the key the
caller trusts, every proof, every entry's bytes (entries.md), the chain links between
adjacent seqs, and re-runs the plan's rules (plan.md) over the entries present with a
sparse variant of :class:`~verifier.plan.state.PlanReplay`. P's apportionment and the
member's own charge are recomputed from the entries and the contribution proofs.

What one bundle cannot show is that nothing was left out of the log (statement.md
§3); the report says which checks a full ``audit`` adds.
"""

from __future__ import annotations

import base64
import binascii
from dataclasses import dataclass, field
from typing import Any

from verifier.checkpoint import Checkpoint, verify_checkpoint
from verifier.entry import GENESIS_TYPE, Entry, entry_hash_hex, parse_entry
from verifier.errors import VerificationError
from verifier.merkle import leaf_hash, verify_inclusion
from verifier.note import Verifier
from verifier.plan.apportion import charge_fen, fee_fen, share_fen
from verifier.plan.errors import PlanError
from verifier.plan.findings import Finding, appeal_findings
from verifier.plan.ids import check_member
from verifier.plan.periods import calendar_year, parse_period, period_open_at
from verifier.plan.records import Body, MemberRecord, seconds
from verifier.plan.rules import check_rules_version
from verifier.plan.state import CLOSED_KEYS, PlanReplay
from verifier.plan.sumtree import Node, leaf, verify_proof
from verifier.strict_json import StrictJSONError, loads_object

FORMAT = "tally-statement/v1"
BUNDLE_KEYS = frozenset(
    {"format", "origin", "verifier_key", "member", "period", "checkpoint", "entries"}
    | {"contributions"}
)
NOT_CHECKED = (
    "that the log holds no entry left out of this bundle (a juror's enrolment, a "
    "member.left, a reversal, another claim paid): only `tally-verify audit` replays "
    "the whole log",
    "that the member count N of each period is right (the contribution proofs show "
    "that N leaves add up to the announced total, not who the other members are)",
)


class StatementError(VerificationError):
    """A statement check failed; ``check`` names it (``checkpoint.signature``, …)."""

    def __init__(self, check: str, message: str) -> None:
        super().__init__(f"check {check} failed: {message}")
        self.check = check
        self.detail = message


@dataclass(frozen=True)
class ClaimPart:
    """A claim paid in P and the member's proportional part of it."""

    claim: str
    category: str
    condition: str
    amount_fen: int
    part_fen: int
    basis: str


@dataclass
class StatementReport:
    """What a verified statement says, in numbers."""

    member: str
    period: str
    checkpoint_size: int
    charge_fen: int
    share_fen: int
    fee_fen: int
    fee_part_fen: int
    carry_in_fen: int
    claims: list[ClaimPart]
    checks: list[str] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)
    findings: list[Finding] = field(default_factory=list)
    """Paid claims whose appeal ended without its panel (:mod:`verifier.plan.findings`)."""
    checkpoint_compared: str = "not compared"

    def json(self) -> dict[str, Any]:
        """The report as a JSON object."""
        return {
            "member": self.member,
            "period": self.period,
            "checkpoint_size": self.checkpoint_size,
            "charge_fen": self.charge_fen,
            "share_fen": self.share_fen,
            "fee_fen": self.fee_fen,
            "fee_part_fen": self.fee_part_fen,
            "carry_in_fen": self.carry_in_fen,
            "claims": [c.__dict__ for c in self.claims],
            "checks_passed": len(self.checks),
            "checks": self.checks,
            "checkpoint_compared": self.checkpoint_compared,
            "notes": self.notes,
            "findings": [f.json() for f in self.findings],
            "not_checked": list(NOT_CHECKED),
        }

    def lines(self) -> list[str]:
        """A short plain-language report."""
        text = f"You paid {yuan(self.charge_fen)} in period {self.period}"
        if self.charge_fen != self.share_fen:
            text += f" (the share was {yuan(self.share_fen)}; the annual cap limited yours)"
        text += "."
        if self.claims:
            parts = [
                f"{c.claim} ({c.category}, {yuan(c.amount_fen)}"
                + ("; decided by a drawn panel" if c.basis == "panel" else "")
                + f"; your part {yuan(c.part_fen)})"
                for c in self.claims
            ]
            text += (
                f" It paid for {len(self.claims)} claim{'s' if len(self.claims) != 1 else ''}: "
                + ", ".join(parts)
                + f", plus {yuan(self.fee_fen)} management fee (your part "
                f"{yuan(self.fee_part_fen)})."
            )
        else:
            text += " No claim was paid in it."
        lines = [text]
        if self.claims:
            lines.append(
                "Your parts are your charge split in proportion to each claim's amount and "
                "the fee (rounded to the fen so that they add up exactly to your charge)."
            )
        if self.carry_in_fen:
            lines.append(
                f"{yuan(self.carry_in_fen)} carried in from the period before reduced what was due."
            )
        lines.append(f"Checkpoint: {self.checkpoint_size:,} entries; {self.checkpoint_compared}.")
        lines.extend(self.notes)
        lines.append(f"All {len(self.checks)} checks passed.")
        lines.append(
            "Not shown by a statement (run `tally-verify audit` for these): "
            + "; ".join(NOT_CHECKED)
            + "."
        )
        return lines


def yuan(fen: int) -> str:
    """``18800`` -> ``188.00 yuan``."""
    sign = "-" if fen < 0 else ""
    return f"{sign}{abs(fen) // 100:,}.{abs(fen) % 100:02d} yuan"


def split_proportionally(total: int, weights: list[int]) -> list[int]:
    """Split ``total`` fen in proportion to ``weights``, largest remainder; sums to ``total``."""
    w = sum(weights)
    if w <= 0 or total <= 0:
        return [0] * len(weights)
    floors = [total * x // w for x in weights]
    rest = total - sum(floors)
    order = sorted(range(len(weights)), key=lambda i: (-((total * weights[i]) % w), i))
    for i in order[:rest]:
        floors[i] += 1
    return floors


def parse_bundle_bytes(data: bytes) -> dict[str, Any]:
    """Strict JSON (:mod:`verifier.strict_json`) holding one object."""
    try:
        return loads_object(data)
    except StrictJSONError as exc:
        raise StatementError("bundle.json", str(exc)) from None


def _b64(text: object, what: str, check: str) -> bytes:
    if not isinstance(text, str):
        raise StatementError(check, f"{what}: expected a base64 string, found {text!r}")
    try:
        return base64.b64decode(text, validate=True)
    except (binascii.Error, ValueError):
        raise StatementError(check, f"{what}: expected standard base64, found {text!r}") from None


def _int(value: object, what: str, check: str) -> int:
    if not isinstance(value, int) or isinstance(value, bool) or value < 0:
        raise StatementError(check, f"{what}: expected an integer >= 0, found {value!r}")
    return value


def _num(entry: Entry, key: str) -> int:
    """An integer of a period.closed body (its type was checked by the replay)."""
    value = entry.body[key]
    if not isinstance(value, int) or isinstance(value, bool):
        raise StatementError("plan.rules", f"seq {entry.seq}: {key} is not an integer")
    return value


class _SparseReplay(PlanReplay):
    """PlanReplay over the entries of a bundle: gaps allowed, periods checked apart."""

    def __init__(self) -> None:
        super().__init__()
        self.closed: dict[str, Entry] = {}
        self.placeholders: list[str] = []
        self._handlers["period.closed"] = self._record_closed

    def apply(self, entry: Entry) -> None:
        self.next_seq = entry.seq
        if entry.type == "claim.objected" and isinstance(entry.body.get("objector"), str):
            objector = str(entry.body["objector"])
            if objector not in self.members:
                # statement.md §2 does not include objectors' joins: not checkable here.
                self.members[objector] = MemberRecord(objector, -1, entry.time, 0, "", "")
                self.placeholders.append(objector)
        super().apply(entry)

    def _record_closed(self, entry: Entry, t: int, rules: Any) -> None:
        body = Body(entry, CLOSED_KEYS)
        check_rules_version(body, rules)
        for key in CLOSED_KEYS:
            if key.endswith("_fen") or key in ("members", "capped_members"):
                body.integer(key, None if key == "carry_out_fen" else 0)
        try:
            period = parse_period(body.value("period")).id
        except PlanError as exc:
            body.fail("§8.1", "closed.period", f"expected a period id: {exc}")
        cutoff = parse_period(period).cutoff
        body.same("§8.3", "cutoff", cutoff)
        if t < seconds(cutoff):
            body.fail("§8.1", "closed.early", f"expected a close at or after {cutoff}")
        if period in self.closed:
            body.fail("§8.1", "closed.twice", f"period {period} closed twice")
        self.closed[period] = entry


def verify_bundle(doc: dict[str, Any], key: Verifier) -> tuple[StatementReport, Checkpoint]:
    """Check a statement bundle completely with the trusted ``key`` (statement.md §3)."""
    checks: list[str] = []

    def ok(name: str) -> None:
        checks.append(name)

    # -- format
    if doc.get("format") != FORMAT:
        raise StatementError(
            "bundle.format", f"expected format {FORMAT!r}, found {doc.get('format')!r}"
        )
    if set(doc) != BUNDLE_KEYS:
        raise StatementError(
            "bundle.format", f"expected exactly the keys {sorted(BUNDLE_KEYS)}, found {sorted(doc)}"
        )
    try:
        member = check_member(doc["member"])
        period = parse_period(doc["period"]).id
    except PlanError as exc:
        raise StatementError("bundle.format", str(exc)) from None
    if not isinstance(doc["entries"], list) or not isinstance(doc["contributions"], list):
        raise StatementError("bundle.format", "expected lists of entries and contributions")
    ok("bundle.format")

    # -- checkpoint
    if doc["origin"] != key.name or doc["verifier_key"] != key.to_string():
        raise StatementError(
            "bundle.key",
            f"expected the pinned origin {key.name!r} and key, found {doc['origin']!r} "
            f"and {doc['verifier_key']!r}",
        )
    ok("bundle.key")
    note = doc["checkpoint"]
    if not isinstance(note, str):
        raise StatementError("checkpoint.signature", "expected a checkpoint note string")
    try:
        cp = verify_checkpoint(note, key)
    except VerificationError as exc:
        raise StatementError(
            "checkpoint.signature", f"expected a checkpoint signed by the pinned key: {exc}"
        ) from None
    ok("checkpoint.signature")

    # -- entries: bytes, proofs, order, chain links
    entries: list[Entry] = []
    last: tuple[int, bytes] | None = None
    for i, item in enumerate(doc["entries"]):
        if not isinstance(item, dict) or set(item) != {"seq", "leaf", "proof"}:
            raise StatementError("entries.format", f"entries[{i}]: expected {{seq, leaf, proof}}")
        seq = _int(item["seq"], f"entries[{i}].seq", "entries.format")
        if last is not None and seq <= last[0]:
            raise StatementError("entries.order", f"entries[{i}]: seq {seq} after seq {last[0]}")
        if seq >= cp.size:
            raise StatementError(
                "entries.order",
                f"entries[{i}]: seq {seq} is not below the checkpoint size {cp.size}",
            )
        raw = _b64(item["leaf"], f"entries[{i}].leaf", "entries.format")
        if not isinstance(item["proof"], list):
            raise StatementError("entries.format", f"entries[{i}].proof: expected a list")
        proof = [_b64(p, f"entries[{i}].proof", "entries.format") for p in item["proof"]]
        try:
            verify_inclusion(seq, cp.size, leaf_hash(raw), proof, cp.root)
        except VerificationError as exc:
            raise StatementError(
                "entry.inclusion", f"entry at seq {seq}: its inclusion proof fails: {exc}"
            ) from None
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
        entries.append(entry)
        last = (seq, raw)
    ok(f"entry.inclusion ({len(entries)} entries)")
    ok("entry.parse")
    ok("entry.chain (adjacent seqs)")

    # -- genesis
    if not entries or entries[0].seq != 0 or entries[0].type != GENESIS_TYPE:
        raise StatementError("genesis", "expected entry 0, log.genesis, in the bundle")
    g = entries[0].body
    if g.get("origin") != key.name or g.get("verifier_key") != key.to_string():
        raise StatementError(
            "genesis", "expected the genesis entry to name the pinned origin and key"
        )
    ok("genesis")

    # -- completeness before the replay (statement.md §2)
    by_type: dict[str, list[Entry]] = {}
    for e in entries:
        by_type.setdefault(e.type, []).append(e)
    joined = {str(e.body.get("member")): e for e in by_type.get("member.joined", [])}
    if member not in joined:
        raise StatementError(
            "bundle.complete", f"the member's own member.joined ({member}) is missing"
        )
    for e in by_type.get("claim.filed", []):
        claimant = str(e.body.get("member"))
        if claimant not in joined or joined[claimant].seq > e.seq:
            raise StatementError(
                "bundle.complete",
                f"the claimant {claimant}'s member.joined (for c-{e.seq}) is missing",
            )
    ok("bundle.complete")

    # -- the plan's rules over the entries present
    replay = _SparseReplay()
    try:
        for e in entries:
            replay.apply(e)
    except PlanError as exc:
        raise StatementError("plan.rules", str(exc)) from None
    ok(
        "plan.claims (rules in force, waiting period, condition, benefit, disclosure, "
        "objection window, pool, pool signature, secret, seed, draw, votes, quorum, "
        "decision, payment)"
    )
    notes = [
        f"The objector {m} is not in the bundle (statement.md §2 does not include it); "
        "their membership was not checked."
        for m in replay.placeholders
    ]

    # -- contributions
    closed = replay.closed
    contribs: dict[str, int] = {}
    for i, c in enumerate(doc["contributions"]):
        if not isinstance(c, dict) or set(c) != {"period", "index", "amount_fen", "siblings"}:
            raise StatementError("contribution.format", f"contributions[{i}]: bad shape")
        cp_id = c["period"]
        if cp_id not in closed:
            raise StatementError("bundle.complete", f"period.closed of {cp_id!r} is missing")
        body = closed[cp_id].body
        amount = _int(c["amount_fen"], f"contributions[{i}].amount_fen", "contribution.format")
        index = _int(c["index"], f"contributions[{i}].index", "contribution.format")
        if not isinstance(c["siblings"], list):
            raise StatementError(
                "contribution.format", f"contributions[{i}].siblings: expected a list"
            )
        sibs = []
        for s in c["siblings"]:
            if not isinstance(s, dict) or set(s) != {"hash", "count", "total"}:
                raise StatementError("contribution.format", f"contributions[{i}]: bad sibling")
            sibs.append(
                Node(
                    _b64(s["hash"], "sibling hash", "contribution.format"),
                    _int(s["count"], "sibling count", "contribution.format"),
                    _int(s["total"], "sibling total", "contribution.format"),
                )
            )
        root = Node(
            _b64(body["contribution_root"], "contribution_root", "contribution.proof"),
            _int(body["members"], "members", "contribution.proof"),
            _int(body["contribution_total_fen"], "contribution_total_fen", "contribution.proof"),
        )
        try:
            verify_proof(leaf(cp_id, member, amount), index, root.count, sibs, root)
        except PlanError as exc:
            raise StatementError(
                "contribution.proof", f"your contribution in {cp_id} does not verify: {exc}"
            ) from None
        if cp_id in contribs:
            raise StatementError("contribution.format", f"two contributions for {cp_id}")
        contribs[cp_id] = amount
    ok(f"contribution.proof ({len(contribs)} periods)")

    # -- P's apportionment
    if period not in closed:
        raise StatementError("bundle.complete", f"period.closed of {period} is missing")
    pe = closed[period]
    pb = pe.body
    rules = replay.rules.in_force(seconds(pe.time))
    first = replay.rules.first
    if rules is None or first is None:  # pragma: no cover - checked by the replay
        raise StatementError("plan.rules", "no rules in force at the close")
    first_period = period_open_at(first.effective)
    prev = next((p for p in closed if parse_period(p).next().id == period), None)
    if prev is None and period != first_period:
        raise StatementError("bundle.complete", f"the period.closed before {period} is missing")
    carry_in = 0 if prev is None else _num(closed[prev], "carry_out_fen")
    book = replay._book
    payments = [] if book is None else book.paid_in.get(period, [])
    recovered = 0 if book is None else book.recovered_in.get(period, 0)
    if pb["claims"] != [c for c, _ in payments]:
        raise StatementError(
            "apportion.claims",
            f"period.closed lists claims {pb['claims']}, "
            f"the bundle pays {[c for c, _ in payments]}",
        )
    aid = sum(a for _, a in payments) - recovered
    n = _int(pb["members"], "members", "apportion")
    fee = fee_fen(aid, rules.fee_bp)
    due = aid + fee - carry_in
    share = share_fen(due, n)
    expected = {
        "aid_fen": aid,
        "fee_fen": fee,
        "carry_in_fen": carry_in,
        "share_fen": share,
        "carry_out_fen": share * n - due,
    }
    for k, v in expected.items():
        if _num(pe, k) != v:
            raise StatementError(
                f"apportion.{k.removesuffix('_fen')}",
                f"period {period} states {k} {pb[k]}, recomputed {v}",
            )
    subsidy = _num(pe, "subsidy_fen")
    if _num(pe, "contribution_total_fen") != due + expected["carry_out_fen"] - subsidy:
        raise StatementError(
            "apportion.conservation",
            f"the contributions add up to {pb['contribution_total_fen']}, expected "
            f"aid + fee - carry_in + carry_out - subsidy = "
            f"{due + expected['carry_out_fen'] - subsidy}",
        )
    ok("apportion (aid, fee, carry_in, share, carry_out, conservation)")

    # -- the member's own charges this year
    mrec = replay.members[member]
    year = calendar_year(period)
    p = parse_period(first_period)
    before = 0
    charge = 0
    while True:
        pid = p.id
        if calendar_year(pid) == year and mrec.counted_at(seconds(p.cutoff)):
            if pid not in contribs:
                raise StatementError("bundle.complete", f"your contribution for {pid} is missing")
            cap_rules = replay.rules.in_force(seconds(closed[pid].time))
            cap = rules.annual_cap_fen if cap_rules is None else cap_rules.annual_cap_fen
            s = _num(closed[pid], "share_fen")
            want = charge_fen(s, cap, before)
            if contribs[pid] != want:
                raise StatementError(
                    "charge",
                    f"your charge in {pid} is {contribs[pid]}, recomputed min(share {s}, "
                    f"cap {cap} - {before} charged earlier) = {want}",
                )
            before += want
            charge = want
        if pid == period:
            break
        p = p.next()
    if period not in contribs:
        raise StatementError("bundle.complete", f"you were not counted in {period}")
    ok("charge (share, annual cap, earlier charges)")

    # -- report
    claims = [] if book is None else [book.claims[c] for c, _ in payments]
    for r in claims:
        steps = "rules in force, waiting period, condition, benefit, disclosure, objection window"
        if r.jurors is not None:
            steps += (
                f", pool of {len(r.pool or [])} recomputed and signed, secret, seed, draw of "
                f"{len(r.jurors)}, {len(r.votes)} vote signatures, quorum and threshold"
            )
        ok(f"claim {r.claim} ({steps}, decision {r.basis}, payment)")
    weights = [a for _, a in payments] + [fee]
    parts = split_proportionally(charge, weights)
    # A paid claim's appeal can only have ended before its payment: no "now" is needed.
    findings = appeal_findings(claims, None)
    notes.extend(f"Note on claim {finding.message}" for finding in findings)
    report = StatementReport(
        member=member,
        period=period,
        checkpoint_size=cp.size,
        charge_fen=charge,
        share_fen=share,
        fee_fen=fee,
        fee_part_fen=parts[-1],
        carry_in_fen=carry_in,
        claims=[
            ClaimPart(r.claim, r.category, r.condition, a, part, r.basis or "")
            for r, (_, a), part in zip(claims, payments, parts, strict=False)
        ],
        checks=checks,
        notes=notes,
        findings=findings,
    )
    return report, cp
