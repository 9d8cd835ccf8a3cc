"""The core of the operator's commands (specs/plan.md): the plan's state, and appending.

A command builds its entries from the current state, then appends them through the
log with a guard: inside the sequencer's lock the guard reads the state the
projection tables hold (ADR 0018; the rows read while building are reused when no
other writer appended meanwhile), checks the new entries through
:meth:`PlanState.apply`, and writes the rows they change in the same transaction.
An entry that breaks a rule refuses the whole command, with the rule's id, and
nothing is appended or written.

Every entry but a vote has the operator's actor: ``operator`` by default, or
``operator:<name>`` naming who gave the command (the admin API passes its token's
name); a vote's actor is always ``juror:<member>`` (specs/plan.md §7).
"""

from __future__ import annotations

import contextlib
import re
import secrets
from collections.abc import Callable, Sequence
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.engine import Connection

from ledger.domain.errors import RuleError
from ledger.domain.projections import behind, catch_up, tables_at
from ledger.domain.store import (
    create_plan_schema,
    store_chunks,
    store_tree,
)
from ledger.domain.stored_state import StoredPlanState, read_core
from ledger.errors import ChainError, EntryError, EntryTimeError
from ledger.instance import Ledger
from ledger.log.entry import Entry, format_time, parse_entry, parse_time
from ledger.log.log import Appended, NewEntry
from ledger.log.store import entry_table

OPERATOR = "operator"
# The entry actor pattern (specs/entries.md §1) with the role fixed to the operator.
OPERATOR_ACTOR_RE = re.compile(r"\Aoperator(:[A-Za-z0-9._@-]{1,128})?\Z")


def _now() -> datetime:
    return datetime.now(UTC)


class PlanCore:
    """A plan kept in one ledger: its state, and how a command's entries are appended."""

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
        self._state: StoredPlanState | None = None
        self.appended: list[Appended] = []
        # Runs first inside every append's transaction (see submit): the admin API
        # records an idempotency key there, atomically with the entries.
        self.before_append: Callable[[Connection, list[Entry]], None] | None = None
        create_plan_schema(ledger.store)
        applied, size = behind(ledger.store)
        if applied < size and not ledger.store.read_only:
            # An upgraded ledger, or entries another tool appended. A log whose entries
            # break the plan's rules still opens (its log API serves); the first use of
            # the state then names the entry.
            with contextlib.suppress(RuleError, EntryError, ChainError):
                catch_up(ledger.store)

    # -- state --------------------------------------------------------------------

    @property
    def state(self) -> StoredPlanState:
        """The state as of the last entry in the log, over the projection tables.

        Rows are read as the rules ask for them. The object is kept while the tables
        stay as they were when it was loaded (the same size and generation: no other
        writer appended, no rebuild ran), so a command that builds its entries and
        then appends them reads each row once; inside an append's transaction it is
        the state that transaction is changing.
        """
        state = self._state
        if state is not None and state.bound:
            return state
        store = self.ledger.store
        key, size = tables_at(store)
        if key[0] < size:
            catch_up(store)  # entries another tool appended
            key, size = tables_at(store)
        if state is None or (state.size, state.generation) != key:
            state = StoredPlanState.load(store)
        self._state = state
        return state

    def _guard(self, conn: Connection, entries: list[Entry]) -> None:
        store = self.ledger.store
        core = read_core(conn)
        key = (0, 0) if core is None else core.same_rows()
        state = self._state
        if state is None or (state.size, state.generation) != key or state.bound:
            state = StoredPlanState.load(store, conn)
        state.bind(conn)
        self._state = state
        try:
            if entries and state.size < entries[0].seq:
                # Entries appended without the plan's tables (another tool): apply them too.
                for _, raw in store.entry_bytes(conn, state.size, entries[0].seq):
                    state.apply(parse_entry(raw))
                    state.close_cache = None
            state.prefetch(entries)
            for entry in entries:
                state.apply(entry)
                if entry.type == "period.closed":
                    # The tree is stored in the transaction that appends its entry:
                    # a period is never closed without its contribution rows.
                    cached = state.close_cache
                    assert cached is not None
                    assert cached[1].body == state.closed[-1].body
                    close = cached[1]
                    if close.spool is not None:
                        store_chunks(
                            conn, close.period, close.spool.charges(), close.spool.levels()
                        )
                        close.spool.discard()
                    else:
                        store_tree(
                            conn,
                            close.period,
                            close.members,
                            close.apportionment.charges,
                            close.tree,
                        )
                    state.close_cache = None
            state.save(conn)
        except BaseException:
            self._state = None  # partly applied: read the tables again next time
            raise

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
        try:
            self.appended = self.ledger.log.append_batch(entries, guard=guard)
        except BaseException:
            self._state = None  # the transaction rolled back: the tables did not change
            raise
        finally:
            if self._state is not None:
                self._state.bind(None)
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

    # -- helpers --------------------------------------------------------------------

    def _one(
        self, type_: str, body: dict[str, Any], at: str | None, actor: str = OPERATOR
    ) -> Appended:
        actor = operator_actor(actor)
        return self.submit([NewEntry(type_, actor, body, time=self.time(at))])[0]


def operator_actor(actor: str) -> str:
    """Every plan entry but a vote is the operator's: ``operator`` or ``operator:<who>``."""
    if not OPERATOR_ACTOR_RE.match(actor):
        raise RuleError(
            "entry.actor",
            f"expected the operator's actor, 'operator' or 'operator:<name>', found {actor!r}",
        )
    return actor
