"""The admin API's engine: one plan, its commands run one at a time, receipts, publishing.

Commands run under one lock (the :class:`ledger.domain.plan.Plan` keeps a cached
state that is not thread-safe; the log serialises appends anyway). After each write
the publishing loop is woken, so a checkpoint covering the new entries is signed at
once, and every entry written is answered with a receipt (specs/receipt.md) signed
with the log's key.
"""

from __future__ import annotations

import math
import threading
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import TypeVar

from sqlalchemy.engine import Connection

from api.admin.idempotency import CURRENT, Pending
from api.problems import ProblemError
from ledger.domain.errors import RuleError
from ledger.domain.identity import IdentityTakenError
from ledger.domain.plan import Plan
from ledger.domain.state import PlanState
from ledger.errors import ChainError, EntryError, EntryTimeError, LedgerError, StoreError
from ledger.idempotency import KeyTakenError, claim_key, create_idempotency_schema, lookup
from ledger.instance import Ledger
from ledger.log.entry import Entry, format_time
from ledger.log.log import Appended
from ledger.publish.loop import DEFAULT_INTERVAL, PublishLoop, RemoteWake
from ledger.publish.receipt import Receipt, sign_receipt
from ledger.tokens import create_token_schema

T = TypeVar("T")
# Seconds added to the publish interval in a receipt's promise: the signing itself,
# and the rounding of entry times to whole seconds.
COVER_SLACK = 1


def _now() -> datetime:
    return datetime.now(UTC)


@dataclass(frozen=True)
class Written:
    """One entry an admin command appended, with its signed receipt."""

    seq: int
    entry_hash: str
    covered_by: str
    receipt: str


class AdminService:
    """Runs plan commands for the admin API over one ledger that holds the signing key."""

    def __init__(
        self,
        ledger: Ledger,
        *,
        publish_interval: float = DEFAULT_INTERVAL,
        clock: Callable[[], datetime] | None = None,
        wall_clock: Callable[[], datetime] = _now,
        publisher_pid: int | None = None,
    ) -> None:
        """Open the plan and prepare the publishing loop (started by the app's lifespan).

        ``clock`` gives the time of entries whose request names no ``at`` (by default
        the wall clock; a simulation passes its own); ``wall_clock`` times receipts.
        With ``publisher_pid``, checkpoints are signed by that process, not this one
        (a worker of ``tally serve --workers``): a write wakes its loop.
        """
        self.ledger = ledger
        self.origin = ledger.publisher.origin
        self.clock = clock if clock is not None else _now
        self.wall_clock = wall_clock
        self.publishing: PublishLoop | RemoteWake = (
            PublishLoop(ledger.publisher, publish_interval)
            if publisher_pid is None
            else RemoteWake(publisher_pid, publish_interval)
        )
        self._lock = threading.Lock()
        create_token_schema(ledger.store)
        create_idempotency_schema(ledger.store)
        self.plan = Plan(ledger, clock=self.clock)

    @property
    def cover_seconds(self) -> int:
        """How long after acceptance a receipt promises a checkpoint covering the entry."""
        return math.ceil(self.publishing.interval) + COVER_SLACK

    def check_at(self, at: str | None) -> str | None:
        """An ``at`` from a request: an entry time, and not in the future."""
        if at is not None:
            now = format_time(self.clock())
            if at > now:
                raise ProblemError(
                    422,
                    "Entry time in the future",
                    f"expected an entry time no later than now ({now}), found {at}",
                )
        return at

    def run(self, command: Callable[[Plan], T]) -> tuple[T, list[Written]]:
        """Run one plan command; its result and a receipt for every entry it appended.

        A refusal becomes a problem document: a plan rule 409 (naming the rule), an
        entry time before the log's last 409 (in the future 422), an entry the log
        refuses 422; an unavailable store stays a :class:`StoreError` (503). With an
        idempotency key pending (api.admin.idempotency), the key is recorded in the
        transaction that appends the entries; :class:`KeyTakenError` if another request
        recorded it first.
        """
        pending = CURRENT.get()
        with self._lock:
            if pending is not None:
                self.plan.before_append = self._recorder(pending)
            try:
                result = command(self.plan)
            except KeyTakenError:
                raise  # the route answers with the first request's answer
            except LedgerError as exc:
                if pending is not None and self._key_used(pending):
                    # Refused because a request with this key got there first (it
                    # enrolled the person, closed the period): answer with that one.
                    raise KeyTakenError(str(exc)) from None
                raise _problem(exc) from None
            finally:
                self.plan.before_append = None
            appended = list(self.plan.appended)
        self.publishing.wake()
        return result, [self.receipt(a) for a in appended]

    def read(self, query: Callable[[Connection, PlanState, str], T]) -> T:
        """Run a read-only ``query`` over the plan's state, a store connection and now."""
        with self._lock:
            try:
                state = self.plan.state
                now = self.plan.time()
                try:
                    with self.ledger.store.reader() as conn:
                        return query(conn, state, now)
                finally:
                    state.forget_rows()  # reads keep no rows between requests
            except LedgerError as exc:
                raise _problem(exc) from None

    def _recorder(self, pending: Pending) -> Callable[[Connection, list[Entry]], None]:
        """Record the request's idempotency key in the transaction of its entries."""

        def record(conn: Connection, entries: list[Entry]) -> None:
            claim_key(
                conn,
                pending.scope,
                pending.key,
                pending.request_hash,
                (entries[0].seq, entries[-1].seq),
                self.wall_clock(),
            )

        return record

    def _key_used(self, pending: Pending) -> bool:
        return lookup(self.ledger.store, pending.scope, pending.key) is not None

    def next_close(self) -> tuple[str, str] | None:
        """The next period to close and its cutoff (for a request that names none)."""
        with self._lock:
            try:
                return self.plan.next_close()
            except LedgerError as exc:
                raise _problem(exc) from None

    def receipt(self, appended: Appended) -> Written:
        """Sign the receipt for an appended entry, promising cover within the interval."""
        covered_by = format_time(self.wall_clock() + timedelta(seconds=self.cover_seconds))
        note = sign_receipt(
            Receipt(self.origin, appended.seq, appended.hash, covered_by), self.ledger.signer
        )
        return Written(appended.seq, appended.hash, covered_by, note)


def _problem(exc: LedgerError) -> Exception:
    """A command's refusal as a problem document (a store failure stays itself: 503)."""
    if isinstance(exc, StoreError):
        return exc
    if isinstance(exc, IdentityTakenError):
        extensions: dict[str, object] = {"index": exc.index}
        if exc.member is not None:
            extensions["member"] = exc.member
        return ProblemError(409, "Refused: already a member", str(exc), extensions=extensions)
    if isinstance(exc, RuleError):
        return ProblemError(
            409, "Refused by the plan's rules", str(exc), extensions={"rule": exc.rule}
        )
    if isinstance(exc, ChainError):
        return ProblemError(409, "Refused by the log", str(exc))
    if isinstance(exc, EntryTimeError):
        status = 422 if exc.kind == "future" else 409
        return ProblemError(status, "Entry time refused", str(exc), extensions={"kind": exc.kind})
    if isinstance(exc, EntryError):
        return ProblemError(422, "Entry refused", str(exc), extensions={"kind": exc.kind})
    return ProblemError(422, "Refused", str(exc))
