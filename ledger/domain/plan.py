"""The operator's commands on the plan (specs/plan.md), each checked before it is appended.

A command builds its entries from the current state, then appends them through the
log with a guard: inside the sequencer's lock the guard brings the state up to date
with any entries another writer appended meanwhile, and replays the new entries
through :meth:`PlanState.apply`. An entry that breaks a rule refuses the whole
command, with the rule's name, and nothing is appended.

Every entry but a vote has the operator's actor: ``operator`` by default, or
``operator:<name>`` naming who gave the command (the admin API passes its token's
name); a vote's actor is always ``juror:<member>`` (specs/plan.md §7).
"""

from __future__ import annotations

import base64
import hashlib
import re
import secrets
from collections.abc import Callable, Sequence
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import delete, insert, select
from sqlalchemy.engine import Connection

from ledger.domain import sumtree
from ledger.domain.claims import disclosure_body
from ledger.domain.closing import close_period
from ledger.domain.decisions import decision_body
from ledger.domain.draw import DrawError, draw, pool_root, pool_signature_message, seed
from ledger.domain.errors import RuleError
from ledger.domain.identity import (
    active_holders,
    canonical_record,
    refuse_known_people,
)
from ledger.domain.periods import cutoff, parse_period, period_open_at
from ledger.domain.rules import Rules, add_days
from ledger.domain.state import PlanState
from ledger.domain.store import (
    create_plan_schema,
    private_table,
    record_hash,
    store_tree,
    stored_proof,
)
from ledger.errors import EntryTimeError
from ledger.instance import Ledger
from ledger.log.entry import Entry, format_time, parse_entry, parse_time
from ledger.log.log import Appended, NewEntry
from ledger.log.store import entry_table

OPERATOR = "operator"
# The entry actor pattern (specs/entries.md §1) with the role fixed to the operator.
OPERATOR_ACTOR_RE = re.compile(r"\Aoperator(:[A-Za-z0-9._@-]{1,128})?\Z")


def _now() -> datetime:
    return datetime.now(UTC)


class Plan:
    """The plan kept in one ledger: its state, and every command an operator may give."""

    def __init__(
        self,
        ledger: Ledger,
        *,
        clock: Callable[[], datetime] = _now,
        random_bytes: Callable[[int], bytes] = secrets.token_bytes,
    ) -> None:
        """Open the plan kept in ``ledger``; ``clock`` and ``random_bytes`` are for simulations."""
        self.ledger = ledger
        self._clock = clock
        self._random = random_bytes
        self._state: PlanState | None = None
        self.appended: list[Appended] = []
        # Runs first inside every append's transaction (see submit): the admin API
        # records an idempotency key there, atomically with the entries.
        self.before_append: Callable[[Connection, list[Entry]], None] | None = None
        create_plan_schema(ledger.store)

    # -- state --------------------------------------------------------------------

    @property
    def state(self) -> PlanState:
        """The state as of the last entry in the log."""
        state = self._state if self._state is not None else PlanState()
        size = self.ledger.log.size()
        for start in range(state.size, size, 10_000):
            for _, raw in self.ledger.log.entries(start, min(start + 10_000, size)):
                state.apply(parse_entry(raw))
        self._state = state
        return state

    def _guard(self, conn: Connection, entries: list[Entry]) -> None:
        state = self._state if self._state is not None else PlanState()
        try:
            if entries and state.size < entries[0].seq:
                for _, raw in self.ledger.store.entry_bytes(conn, state.size, entries[0].seq):
                    state.apply(parse_entry(raw))
            for entry in entries:
                state.apply(entry)
                if entry.type == "period.closed":
                    # The tree is stored in the transaction that appends its entry:
                    # a period is never closed without its contribution rows.
                    cached = state.close_cache
                    assert cached is not None
                    assert cached[1].body == state.closed[-1].body
                    close = cached[1]
                    store_tree(
                        conn, close.period, close.members, close.apportionment.charges, close.tree
                    )
                    state.close_cache = None
        except BaseException:
            self._state = None  # partly applied: rebuild from the log next time
            raise
        self._state = state

    def submit(
        self,
        entries: Sequence[NewEntry],
        *,
        check: Callable[[Connection, list[Entry]], None] | None = None,
    ) -> list[Appended]:
        """Append entries if, and only if, every one of them passes the plan's rules.

        :attr:`before_append`, then the rules, then ``check`` run inside the append's
        transaction (holding the sequencer's lock); any may refuse by raising, and
        whatever they write commits with the entries or not at all.

        :attr:`appended` is then the entries of this, the latest command (empty while a
        command is refused), so a caller can issue receipts for them whatever the
        command returns.
        """

        def guard(conn: Connection, parsed: list[Entry]) -> None:
            if self.before_append is not None:
                self.before_append(conn, parsed)
            self._guard(conn, parsed)
            if check is not None:
                try:
                    check(conn, parsed)
                except BaseException:
                    self._state = None  # applied but not appended: rebuild from the log
                    raise

        self.appended = []
        self.appended = self.ledger.log.append_batch(entries, guard=guard)
        return self.appended

    def time(self, at: str | None = None) -> str:
        """The time a command's entries will carry: ``at``, or now, never before the last.

        An ``at`` (importing history, or a rehearsal) must be a valid entry time, no
        later than the clock's now and no earlier than the log's last entry, so that
        history is imported in time order and never dated ahead (:class:`EntryTimeError`).
        """
        now = format_time(self._clock())
        with self.ledger.store.reader() as conn:  # the last entry, in one read
            raw = conn.execute(
                select(entry_table.c.data).order_by(entry_table.c.seq.desc()).limit(1)
            ).scalar_one()
        last = parse_entry(bytes(raw)).time
        if at is None:
            return max(now, last)
        parse_time(at)
        # The last entry's own time is always allowed: it is what "now" gives when the
        # clock shows an earlier time than the log.
        if at > max(now, last):
            raise EntryTimeError(
                "future",
                f"expected an entry time no later than now ({now}), found {at}: "
                "entries are never dated ahead",
            )
        if at < last:
            raise EntryTimeError(
                "backwards",
                f"expected an entry time no earlier than the log's last entry ({last}), "
                f"found {at}: history is imported in time order",
            )
        return at

    # -- rules and members ----------------------------------------------------------

    def set_rules(self, rules: Rules, *, at: str | None = None, actor: str = OPERATOR) -> Appended:
        """Announce a rules version (it takes force at ``rules.effective``)."""
        return self._one("plan.rules", rules.to_body(), at, actor)

    def join(
        self,
        age_band: str,
        identity: dict[str, Any],
        *,
        at: str | None = None,
        actor: str = OPERATOR,
    ) -> tuple[str, Appended]:
        """A member joins: a random pseudonym, and a salted commitment to their identity."""
        results = self.join_many([(age_band, identity)], at=at, actor=actor)
        return results[0]

    def join_many(
        self,
        people: Sequence[tuple[str, dict[str, Any]]],
        *,
        at: str | None = None,
        actor: str = OPERATOR,
    ) -> list[tuple[str, Appended]]:
        """Many joins in one batch.

        A person whose identity record is an active member's, or who appears twice in
        ``people``, is refused (:class:`IdentityTakenError`):
        records are compared by the hash kept beside them in the private table, and
        checked again inside the append's transaction, so two imports at once cannot
        both enrol one person.

        The private records are written first: if the joins are then refused, they are
        deleted again; if the process dies in between, an orphan record (on no entry)
        is all that is left, never a member whose record was lost.
        """
        actor = _operator_actor(actor)
        when = self.time(at)
        entries: list[NewEntry] = []
        private: list[dict[str, Any]] = []
        for age_band, identity in people:
            member = "m-" + self._random(10).hex()
            salt = self._random(32)
            record = canonical_record(identity)
            commitment = hashlib.sha256(salt + record.encode()).hexdigest()
            entries.append(
                NewEntry(
                    "member.joined",
                    actor,
                    {"member": member, "age_band": age_band, "identity_commitment": commitment},
                    time=when,
                )
            )
            private.append(
                {
                    "member": member,
                    "salt": salt,
                    "record": record,
                    "record_hash": record_hash(record),
                }
            )
        digests = [str(p["record_hash"]) for p in private]
        new = {str(p["member"]) for p in private}
        with self.ledger.store.reader() as conn:
            refuse_known_people(conn, self.state, digests, when, new)
        with self.ledger.store.writer() as conn:
            conn.execute(insert(private_table), private)

        def still_new(conn: Connection, _: list[Entry]) -> None:
            assert self._state is not None
            refuse_known_people(conn, self._state, digests, when, new)

        try:
            appended = self.submit(entries, check=still_new)
        except BaseException:
            with self.ledger.store.writer() as conn:
                conn.execute(delete(private_table).where(private_table.c.member.in_(sorted(new))))
            raise
        return [(str(p["member"]), a) for p, a in zip(private, appended, strict=True)]

    def members_by_identity(
        self, identities: Sequence[dict[str, Any]], *, at: str | None = None
    ) -> list[tuple[str, str] | None]:
        """For each identity record, (member, joined) of the active member who has it, or None."""
        when = self.time(at)
        digests = [record_hash(canonical_record(identity)) for identity in identities]
        state = self.state
        with self.ledger.store.reader() as conn:
            holders = active_holders(conn, state, digests, when, set())
        return [holders.get(digest) for digest in digests]

    def erase(self, member: str) -> bool:
        """Erase a member's identity record and salt; the log stays verifiable."""
        with self.ledger.store.writer() as conn:
            result = conn.execute(delete(private_table).where(private_table.c.member == member))
        return bool(result.rowcount)

    def identity(self, member: str) -> tuple[bytes, str] | None:
        """The private (salt, record) of a member, or None once erased."""
        with self.ledger.store.reader() as conn:
            row = conn.execute(
                select(private_table.c.salt, private_table.c.record).where(
                    private_table.c.member == member
                )
            ).first()
        return None if row is None else (bytes(row[0]), str(row[1]))

    def leave(self, member: str, *, at: str | None = None, actor: str = OPERATOR) -> Appended:
        """A member leaves the plan."""
        return self._one("member.left", {"member": member}, at, actor)

    def enrol_juror(
        self, member: str, juror_key: bytes, *, at: str | None = None, actor: str = OPERATOR
    ) -> Appended:
        """A member enrols as a juror with their own Ed25519 public key."""
        body = {"member": member, "juror_key": base64.b64encode(juror_key).decode()}
        return self._one("juror.enrolled", body, at, actor)

    def wind_down(
        self, claims_until: str, *, at: str | None = None, actor: str = OPERATOR
    ) -> Appended:
        """Close the plan to new members; claims diagnosed before may be filed until then."""
        when = self.time(at)
        body = {"claims_until": claims_until, "rules_version": self.state.rules_at(when).version}
        return self._one("plan.wound_down", body, when, actor)

    # -- claims ---------------------------------------------------------------------

    def file_claim(
        self,
        member: str,
        condition: str,
        amount_fen: int,
        diagnosed: str,
        evidence: bytes,
        *,
        at: str | None = None,
        actor: str = OPERATOR,
    ) -> str:
        """File a claim; returns its id (``c-<seq>``)."""
        body = {
            "member": member,
            "condition": condition,
            "amount_fen": amount_fen,
            "diagnosed": diagnosed,
            "evidence_commitment": hashlib.sha256(evidence).hexdigest(),
        }
        return f"c-{self._one('claim.filed', body, at, actor).seq}"

    def assess(
        self,
        claim: str,
        decision: str,
        amount_fen: int,
        reason: str,
        report: bytes,
        *,
        at: str | None = None,
        actor: str = OPERATOR,
    ) -> Appended:
        """The operator's assessment: approve an amount, or deny with a reason."""
        when = self.time(at)
        body = {
            "claim": claim,
            "decision": decision,
            "amount_fen": amount_fen,
            "reason": reason,
            "report_commitment": hashlib.sha256(report).hexdigest(),
            "rules_version": self.state.rules_at(when).version,
        }
        return self._one("claim.assessed", body, when, actor)

    def disclose(self, claim: str, *, at: str | None = None, actor: str = OPERATOR) -> Appended:
        """Disclose a claim's anonymised, coarse fields; objections open until the window ends."""
        when = self.time(at)
        body = disclosure_body(self.state, self.state.claim(claim), when)
        return self._one("claim.disclosed", body, when, actor)

    def object(
        self,
        claim: str,
        objector: str,
        reason: str,
        *,
        at: str | None = None,
        actor: str = OPERATOR,
    ) -> Appended:
        """A member objects to a disclosed claim."""
        body = {
            "claim": claim,
            "objector": objector,
            "reason_hash": hashlib.sha256(reason.encode()).hexdigest(),
        }
        return self._one("claim.objected", body, at, actor)

    def appeal(
        self,
        claim: str,
        appellant: str,
        secret_commitment: str,
        *,
        at: str | None = None,
        actor: str = OPERATOR,
    ) -> Appended:
        """An appeal, committing to the appellant's secret (specs/plan.md §6)."""
        body = {"claim": claim, "appellant": appellant, "secret_commitment": secret_commitment}
        return self._one("claim.appealed", body, at, actor)

    def sign_pool(self, claim: str, *, at: str | None = None, actor: str = OPERATOR) -> Appended:
        """Sign the pool fixed at the appeal and put the signature on the log (``panel.pooled``).

        The appellant reveals their secret only once this entry is on the log
        (specs/plan.md §6), so the operator cannot choose a signature knowing it.
        """
        when = self.time(at)
        state = self.state
        found = state.claim(claim)
        if found.pool is None:
            raise RuleError("panel.pooled.order", f"claim {claim} has not been appealed")
        rules = state.rules_at(when)
        try:
            root = pool_root(claim, found.pool)
        except DrawError as exc:
            raise RuleError("panel.pooled.pool", str(exc)) from None
        signature = self.ledger.signer.sign(pool_signature_message(state.origin, claim, root))
        body = {
            "claim": claim,
            "pool_root": root.hex(),
            "pool_size": len(found.pool),
            "pool_signature": base64.b64encode(signature).decode(),
            "rules_version": rules.version,
        }
        return self._one("panel.pooled", body, when, actor)

    def draw_panel(
        self, claim: str, secret: bytes, *, at: str | None = None, actor: str = OPERATOR
    ) -> list[str]:
        """Draw the panel with the appellant's revealed secret, after ``sign_pool``."""
        when = self.time(at)
        state = self.state
        found = state.claim(claim)
        if found.pool is None or found.pool_signature is None:
            raise RuleError(
                "panel.drawn.order", f"claim {claim} has no signed pool yet (panel.pooled)"
            )
        rules = state.rules_at(when)
        seed_bytes = seed(pool_root(claim, found.pool), found.pool_signature, secret)
        try:
            jurors = draw(found.pool, seed_bytes, rules.panel_size)
        except DrawError as exc:
            raise RuleError("panel.drawn.size", str(exc)) from None
        body = {
            "claim": claim,
            "secret": secret.hex(),
            "seed": seed_bytes.hex(),
            "jurors": jurors,
            "voting_closes": add_days(when, rules.voting_days),
            "rules_version": rules.version,
        }
        self._one("panel.drawn", body, when, actor)
        return jurors

    def cast_vote(
        self,
        claim: str,
        juror: str,
        choice: str,
        rationale_hash: str,
        signature: str,
        *,
        at: str | None = None,
    ) -> Appended:
        """Record a vote that the juror signed with their own key."""
        body = {
            "claim": claim,
            "juror": juror,
            "choice": choice,
            "rationale_hash": rationale_hash,
            "signature": signature,
        }
        return self.submit([NewEntry("vote.cast", f"juror:{juror}", body, time=self.time(at))])[0]

    def decide(self, claim: str, *, at: str | None = None, actor: str = OPERATOR) -> Appended:
        """Record the decision that the assessment, the votes and the rules give."""
        when = self.time(at)
        state = self.state
        body = decision_body(state, state.claim(claim), state.rules_at(when))
        return self._one("claim.decided", body, when, actor)

    def pay(self, claim: str, *, at: str | None = None, actor: str = OPERATOR) -> Appended:
        """Pay a claim decided approved, in the period open now."""
        when = self.time(at)
        found = self.state.claim(claim)
        body = {"claim": claim, "amount_fen": found.decided_fen, "period": period_open_at(when)}
        return self._one("claim.paid", body, when, actor)

    def reverse(
        self,
        claim: str,
        recovered_fen: int,
        reason: str,
        *,
        at: str | None = None,
        actor: str = OPERATOR,
    ) -> Appended:
        """Record fraud found after payment: a compensating entry, never an edit."""
        body = {"claim": claim, "recovered_fen": recovered_fen, "reason": reason}
        return self._one("claim.reversed", body, at, actor)

    # -- periods --------------------------------------------------------------------

    def next_close(self) -> tuple[str, str] | None:
        """The next period to close and its cutoff, or None before the first rules."""
        period = self.state.next_period_to_close()
        return None if period is None else (period, cutoff(period))

    def close_period(
        self, *, period: str | None = None, at: str | None = None, actor: str = OPERATOR
    ) -> dict[str, Any]:
        """Close the next period: apportion it and store its contribution tree, atomically.

        ``period``, when given, must name the next period to close: an operator names
        it, so that a command given twice cannot close two periods.
        """
        when = self.time(at)
        state = self.state
        following = self.next_close()
        if following is None:
            raise RuleError("rules.in_force", "no period to close before the first rules")
        expected, cut = following
        if period is not None and period != expected:
            parse_period(period)
            done = next((c for c in state.closed if c.period == period), None)
            why = f"it was closed at seq {done.seq}" if done is not None else "it is not next"
            raise RuleError(
                "period.order",
                f"expected the next period to close, {expected} (cutoff {cut}), found "
                f"{period}: {why}",
            )
        if when < cut:
            raise RuleError(
                "period.early",
                f"period {expected} can be closed from its cutoff {cut}, not at {when}",
            )
        close = close_period(state, expected, when)
        self._one("period.closed", close.body, when, actor)
        return close.body

    def contribution_proof(
        self, period: str, member: str
    ) -> tuple[int, sumtree.Node, list[sumtree.Node], sumtree.Node] | None:
        """A member's leaf index, leaf, sibling nodes and the period's root, from the store."""
        close = next((c for c in self.state.closed if c.period == period), None)
        if close is None:
            return None
        with self.ledger.store.reader() as conn:
            found = stored_proof(conn, period, member, int(close.body["members"]))
        if found is None:
            return None
        index, amount, siblings = found
        root = sumtree.Node(
            base64.b64decode(str(close.body["contribution_root"])),
            int(close.body["members"]),
            int(close.body["contribution_total_fen"]),
        )
        return index, sumtree.leaf(period, member, amount), siblings, root

    # -- helpers --------------------------------------------------------------------

    def _one(
        self, type_: str, body: dict[str, Any], at: str | None, actor: str = OPERATOR
    ) -> Appended:
        actor = _operator_actor(actor)
        return self.submit([NewEntry(type_, actor, body, time=self.time(at))])[0]


def _operator_actor(actor: str) -> str:
    """Every plan entry but a vote is the operator's: ``operator`` or ``operator:<who>``."""
    if not OPERATOR_ACTOR_RE.match(actor):
        raise RuleError(
            "entry.actor",
            f"expected the operator's actor, 'operator' or 'operator:<name>', found {actor!r}",
        )
    return actor
