"""The operator's commands on rules and members (specs/plan.md §2-§4)."""

from __future__ import annotations

import base64
import hashlib
from collections.abc import Sequence
from typing import Any

from sqlalchemy import delete, insert, select
from sqlalchemy.engine import Connection

from ledger.domain.identity import (
    active_holders,
    canonical_record,
    refuse_known_people,
)
from ledger.domain.identity_index import forget, index_records
from ledger.domain.plan_core import OPERATOR, PlanCore, operator_actor
from ledger.domain.requests import RequestDocument, RequestDocumentError
from ledger.domain.rules import Rules, add_days
from ledger.domain.store import (
    private_table,
    record_hash,
)
from ledger.log.entry import Entry
from ledger.log.log import Appended, NewEntry


class MemberCommands(PlanCore):
    """The operator's commands on rules and members (specs/plan.md §2-§4)."""

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
        requests: Sequence[RequestDocument | None] | None = None,
    ) -> list[tuple[str, Appended]]:
        """Many joins in one batch.

        ``requests``, beside ``people``, holds each person's signed join request
        (specs/requests.md), or None: a keyed join takes its member id, key, number and
        signature from the request, the age band and identity commitment from the
        operator's check of the person (plan.md §4.1).

        A person whose identity record is an active member's, or who appears twice in
        ``people``, is refused (:class:`IdentityTakenError`):
        records are compared by the hash kept beside them in the private table, and
        checked again inside the append's transaction, so two imports at once cannot
        both enrol one person.

        The private records are written first: if the joins are then refused, they are
        deleted again; if the process dies in between, an orphan record (on no entry)
        is all that is left, never a member whose record was lost.
        """
        actor = operator_actor(actor)
        when = self.time(at)
        entries: list[NewEntry] = []
        private: list[dict[str, Any]] = []
        if requests is not None and len(requests) != len(people):
            raise ValueError("expected one join request (or None) per person")
        for n, (age_band, identity) in enumerate(people):
            request = None if requests is None else requests[n]
            if request is not None and request.type != "member.joined":
                raise RequestDocumentError(
                    f"expected a member.joined request, found a {request.type} request"
                )
            member = "m-" + self._random(10).hex() if request is None else request.member
            salt = self._random(32)
            record = canonical_record(identity)
            commitment = hashlib.sha256(salt + record.encode()).hexdigest()
            body = {"member": member, "age_band": age_band, "identity_commitment": commitment}
            entries.append(
                NewEntry(
                    "member.joined",
                    actor,
                    body if request is None else {**request.body, **body},
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
            index_records(
                conn, [(str(p["member"]), i) for p, (_, i) in zip(private, people, strict=True)]
            )

        def still_new(conn: Connection, _: list[Entry]) -> None:
            assert self._state is not None
            refuse_known_people(conn, self._state, digests, when, new)

        try:
            appended = self.submit(entries, check=still_new)
        except BaseException:
            with self.ledger.store.writer() as conn:
                conn.execute(delete(private_table).where(private_table.c.member.in_(sorted(new))))
                forget(conn, sorted(new))
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
            forget(conn, [member])
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

    def submit_request(self, request: RequestDocument, *, at: str | None = None) -> Appended:
        """Append a member's signed request (not a join: that needs the operator's check
        of the person, :meth:`join_many`) as its member's entry (plan.md §4.5)."""
        return self.submit_requests([request], at=at)[0]

    def submit_requests(
        self, requests: Sequence[RequestDocument], *, at: str | None = None
    ) -> list[Appended]:
        """Append many signed requests in one batch: all of them, or none if one breaks a rule."""
        when = self.time(at)
        entries = []
        for request in requests:
            if request.type == "member.joined":
                raise RequestDocumentError(
                    "a join request is appended by the operator with the person's identity "
                    "(tally member join --request), not on its own"
                )
            entries.append(NewEntry(request.type, request.actor, request.body, time=when))
        return self.submit(entries)

    def recover_key(
        self,
        member: str,
        member_key: str,
        key_signature: str,
        *,
        effective: str | None = None,
        at: str | None = None,
        actor: str = OPERATOR,
    ) -> Appended:
        """Give a member who lost their key a new one (plan.md §4.6), in force from
        ``effective`` (by default the earliest the rules' notice allows); until then
        the old key may refuse it."""
        when = self.time(at)
        rules = self.state.rules_at(when)
        body = {
            "member": member,
            "member_key": member_key,
            "key_signature": key_signature,
            "effective": effective or add_days(when, rules.notice_days),
            "rules_version": rules.version,
        }
        return self._one("member.key_recovery", body, when, actor)

    def leave(self, member: str, *, at: str | None = None, actor: str = OPERATOR) -> Appended:
        """A member leaves the plan."""
        return self._one("member.left", {"member": member}, at, actor)

    def leave_many(
        self, members: Sequence[str], *, at: str | None = None, actor: str = OPERATOR
    ) -> list[Appended]:
        """Many members leave, in one batch: all of them, or none if one may not."""
        actor, when = operator_actor(actor), self.time(at)
        return self.submit(
            [NewEntry("member.left", actor, {"member": m}, time=when) for m in members]
        )

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
