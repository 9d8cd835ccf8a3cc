"""The plan's state read from, and written back to, the projection tables (ADR 0018).

:class:`StoredPlanState` is a :class:`~ledger.domain.state.PlanState` whose large
parts (members, claims, each year's charges, payments and recoveries) are rows of
:mod:`ledger.domain.projection_rows`, read one key at a time as the rules ask for
them and cached for the life of the object; the small parts (rules versions, the
wind-down, the closed periods' bodies) load from the ``plan_core`` row. The same
rule modules check an entry against it as against the in-memory replay, and
:meth:`StoredPlanState.save` writes back exactly the rows the applied entries
changed, in the caller's transaction.

Reads go through the connection the state is bound to (a writer's transaction, see
:mod:`ledger.domain.plan_core`), or else through a short read of the store each.
"""

from __future__ import annotations

import json
from collections import Counter
from collections.abc import Callable, Iterable, Iterator, Mapping, MutableMapping
from contextlib import contextmanager
from dataclasses import dataclass, field, replace
from typing import Any, Generic, TypeVar

from sqlalchemy import delete, func, insert, select, text, update
from sqlalchemy.engine import Connection

from ledger.domain.apportion import Apportionment
from ledger.domain.close_stream import SpooledClose, spool_close
from ledger.domain.model import Claim, Member, PeriodClose, WindDown
from ledger.domain.projection_rows import (
    PAID,
    RECOVERED,
    Movement,
    add_movement,
    charge_table,
    claim_row,
    claim_table,
    core_table,
    encode_claim,
    key_table,
    member_row,
    member_table,
    money_table,
    movement_table,
    parse_claim,
    parse_member_row,
)
from ledger.domain.rules import parse_rules
from ledger.domain.state import PlanState
from ledger.domain.store import bulk_insert
from ledger.log.entry import Entry, parse_entry
from ledger.log.store import Store
from ledger.publish.note import parse_verifier_key

T = TypeVar("T")
STREAM_CHUNK = 10_000
MEMBER_COLUMNS = [
    member_table.c[name]
    for name in (
        "member",
        "age_band",
        "joined",
        "joined_seq",
        "joined_period",
        "left_at",
        "left_seq",
        "left_period",
        "juror_key",
        "juror_seq",
        "seq",
        "member_key",
        "last_request",
        "request_seq",
        "recovery_key",
        "recovery_effective",
        "recovery_seq",
    )
]


class Reads:
    """Where a stored state reads: its bound connection, or a short read of the store."""

    def __init__(self, store: Store) -> None:
        self.store = store
        self.conn: Connection | None = None

    @contextmanager
    def connection(self) -> Iterator[Connection]:
        """The bound connection, or a new read transaction for this one read."""
        if self.conn is not None:
            yield self.conn
        else:
            with self.store.reader() as conn:
                yield conn


class _Rows(MutableMapping[str, T], Generic[T]):
    """A table's rows by key, read on first use and remembered; new and changed rows
    are known by comparing each with the form it was read in."""

    def __init__(
        self,
        reads: Reads,
        fetch: Callable[[Connection, str], T | None],
        encode: Callable[[T], object],
        count: Callable[[Connection], int],
        key: Any,
    ) -> None:
        self._key = key
        self._reads = reads
        self._fetch = fetch
        self._encode = encode
        self._count = count
        self._cache: dict[str, T | None] = {}
        self._read: dict[str, object] = {}

    def __getitem__(self, key: str) -> T:
        if key not in self._cache:
            with self._reads.connection() as conn:
                found = self._fetch(conn, key)
            self._cache[key] = found
            if found is not None:
                self._read[key] = self._encode(found)
        value = self._cache[key]
        if value is None:
            raise KeyError(key)
        return value

    def __setitem__(self, key: str, value: T) -> None:
        self._cache[key] = value

    def __delitem__(self, key: str) -> None:
        raise TypeError("the plan's records are never deleted")

    def __iter__(self) -> Iterator[str]:
        """Every key, stored ones in key order, then those added (a read per chunk)."""
        last = ""
        while True:
            with self._reads.connection() as conn:
                keys = conn.execute(
                    select(self._key)
                    .where(self._key > last)
                    .order_by(self._key)
                    .limit(STREAM_CHUNK)
                ).scalars()
                batch = [str(k) for k in keys]
            yield from batch
            if len(batch) < STREAM_CHUNK:
                break
            last = batch[-1]
        yield from [k for k, v in self._cache.items() if v is not None and k not in self._read]

    def __len__(self) -> int:
        with self._reads.connection() as conn:
            stored = self._count(conn)
        return stored + len(self.new())

    def cached(self, key: str) -> T | None:
        """The record if it has been read or added (without reading it)."""
        return self._cache.get(key)

    def new(self) -> list[T]:
        """Records added since the rows were read."""
        return [v for k, v in self._cache.items() if v is not None and k not in self._read]

    def changed_from(self) -> list[tuple[T, Any]]:
        """Records read from a row that have changed since, each with the form read."""
        return [
            (v, self._read[k])
            for k, v in self._cache.items()
            if v is not None and k in self._read and self._encode(v) != self._read[k]
        ]

    def changed(self) -> list[T]:
        """Records read from a row that have changed since."""
        return [
            v
            for k, v in self._cache.items()
            if v is not None and k in self._read and self._encode(v) != self._read[k]
        ]

    def prefetch(
        self,
        keys: Iterable[str],
        fetch_many: Callable[[Connection, list[str]], list[T]],
        key_of: Callable[[T], str],
    ) -> None:
        """Read the rows of many keys at once (a batch of entries names them)."""
        wanted = sorted({k for k in keys if k not in self._cache})
        for start in range(0, len(wanted), 1_000):
            batch = wanted[start : start + 1_000]
            with self._reads.connection() as conn:
                found = {key_of(v): v for v in fetch_many(conn, batch)}
            for key in batch:
                value = found.get(key)
                self._cache[key] = value
                if value is not None:
                    self._read[key] = self._encode(value)


class _InRows(dict[Any, Any]):
    """Stands for a part of the in-memory state that the stored state keeps as rows:
    any use is a mistake, refused rather than answered with nothing."""

    def _refuse(self, *_: Any, **__: Any) -> Any:
        raise TypeError("the stored state keeps this as rows: read it through its methods")

    __getitem__ = __contains__ = __iter__ = __len__ = get = setdefault = items = _refuse
    keys = values = _refuse


def _fetch_member(conn: Connection, member: str) -> Member | None:
    row = conn.execute(select(*MEMBER_COLUMNS).where(member_table.c.member == member)).first()
    return None if row is None else parse_member_row(row)


def _fetch_members(conn: Connection, members: list[str]) -> list[Member]:
    rows = conn.execute(select(*MEMBER_COLUMNS).where(member_table.c.member.in_(members)))
    return [parse_member_row(row) for row in rows]


def _member_fields(member: Member) -> tuple[object, ...]:
    """What tells a changed member from the row it was read from."""
    return (
        member.left,
        member.left_seq,
        member.juror_key,
        member.juror_seq,
        member.last_request,
        member.request_seq,
        member.member_key,
        member.recovery_key,
        member.recovery_effective,
        member.recovery_seq,
    )


def _fetch_claim(conn: Connection, claim: str) -> Claim | None:
    data = conn.execute(select(claim_table.c.data).where(claim_table.c.claim == claim)).scalar()
    return None if data is None else parse_claim(str(data))


def _count(table: Any) -> Callable[[Connection], int]:
    return lambda conn: int(conn.execute(select(func.count()).select_from(table)).scalar_one())


@dataclass
class Core:
    """The ``plan_core`` row: the entries applied, and the plan's small state."""

    size: int
    rules_seqs: list[int] = field(default_factory=list)
    wound_down: list[Any] | None = None
    closed: list[dict[str, Any]] = field(default_factory=list)
    generation: int = 0
    """Counts the rebuilds: rows read before one are never reused after it."""

    def encode(self) -> str:
        """The row's ``data``."""
        data = {
            "rules_seqs": self.rules_seqs,
            "wound_down": self.wound_down,
            "closed": self.closed,
            "generation": self.generation,
        }
        return json.dumps(data, sort_keys=True, separators=(",", ":"))

    def same_rows(self) -> tuple[int, int]:
        """What a cached state must match to reuse its rows: (size, generation)."""
        return self.size, self.generation

    @classmethod
    def parse(cls, size: int, data: str) -> Core:
        """The core a row holds."""
        fields = json.loads(data)
        return cls(
            size,
            fields["rules_seqs"],
            fields["wound_down"],
            fields["closed"],
            int(fields.get("generation", 0)),
        )


def read_core(conn: Connection) -> Core | None:
    """The stored core, or None when the projections were never built."""
    row = conn.execute(select(core_table.c.size, core_table.c.data)).first()
    return None if row is None else Core.parse(int(row[0]), str(row[1]))


def _slim(close: PeriodClose) -> PeriodClose:
    """A closed period as the state keeps it: its body (its rows stay in the tables)."""
    body = close.body
    apportionment = Apportionment(
        aid_fen=int(body["aid_fen"]),
        fee_fen=int(body["fee_fen"]),
        carry_in_fen=int(body["carry_in_fen"]),
        due_fen=int(body["aid_fen"]) + int(body["fee_fen"]) - int(body["carry_in_fen"]),
        members=int(body["members"]),
        share_fen=int(body["share_fen"]),
        carry_out_fen=int(body["carry_out_fen"]),
        subsidy_fen=int(body["subsidy_fen"]),
        capped_members=int(body["capped_members"]),
        charges={},
    )
    return PeriodClose(close.period, body, apportionment, [], [], close.seq, close.time)


@dataclass
class StoredPlanState(PlanState):
    """The plan's state over the projection tables (see the module's docstring)."""

    reads: Reads | None = None
    generation: int = 0
    _money: list[tuple[str, int, str, str, int]] = field(default_factory=list)
    _charges: dict[int, dict[str, int]] = field(default_factory=dict)
    _charged_years: dict[int, dict[str, int]] = field(default_factory=dict)
    _new_jurors: dict[str, str] = field(default_factory=dict)
    _new_keys: dict[str, tuple[str, int]] = field(default_factory=dict)
    _held: dict[str, str | None] = field(default_factory=dict)
    """Who held each key a batch names, as read before it was applied (prefetch)."""
    spool_closes: bool = True
    """Whether a period close streams the members and spools its rows to files (bounded
    memory; its charges are then written at once); a view that may write nothing
    computes a close in memory."""

    @classmethod
    def load(cls, store: Store, conn: Connection | None = None) -> StoredPlanState:
        """The state the tables hold (empty, size 0, when they were never built)."""
        reads = Reads(store)
        reads.conn = conn
        with reads.connection() as c:
            core = read_core(c)
            state = cls(
                reads=reads,
                paid_in=_InRows(),
                recovered_in=_InRows(),
                charged=_InRows(),
                member_keys=_InRows(),
            )
            state.forget_rows()
            if core is not None:
                state.generation = core.generation
            if core is None or core.size == 0:
                return state
            seqs = [0, *core.rules_seqs]
            raws = dict(store.entries_in(c, seqs))
        genesis = parse_entry(raws[0])
        state.origin = str(genesis.body["origin"])
        state.log_key = parse_verifier_key(str(genesis.body["verifier_key"]))
        for seq in core.rules_seqs:
            state.add_rules(parse_rules(parse_entry(raws[seq]).body), seq)
        if core.wound_down is not None:
            seq, at, until = core.wound_down
            state.wound_down = WindDown(int(seq), str(at), str(until))
        state.closed = [
            _slim(PeriodClose(c["period"], c["body"], None, [], [], c["seq"], c["time"]))  # type: ignore[arg-type]
            for c in core.closed
        ]
        state.size = core.size
        return state

    def prefetch(self, entries: Iterable[Entry]) -> None:
        """Read at once the members a batch of entries names (a join or leave each), and
        who holds the keys it names (a keyed join's, an enrolment's)."""
        batch = list(entries)
        named = (e.body.get("member") for e in batch)
        self._members.prefetch(
            (m for m in named if isinstance(m, str)), _fetch_members, lambda m: m.id
        )
        keys = sorted(
            {
                k
                for e in batch
                for k in (e.body.get("member_key"), e.body.get("juror_key"))
                if isinstance(k, str) and k not in self._held
            }
        )
        m = member_table.c
        for start in range(0, len(keys), 1_000):
            chunk = keys[start : start + 1_000]
            with self._conn() as conn:
                found = dict(
                    conn.execute(
                        select(key_table.c.key, key_table.c.member).where(
                            key_table.c.key.in_(chunk)
                        )
                    ).all()
                )
                found.update(
                    conn.execute(select(m.juror_key, m.member).where(m.juror_key.in_(chunk))).all()
                )
            for key in chunk:
                self._held[key] = None if found.get(key) is None else str(found[key])

    def read_members(self, members: Iterable[str]) -> None:
        """Read these members' rows at once (a statement names a period's claimants and
        jurors), so that looking each up reads nothing more."""
        self._members.prefetch(members, _fetch_members, lambda m: m.id)

    def forget_rows(self) -> None:
        """Drop the rows read so far (after :meth:`save`), to bound a long replay's memory."""
        assert self.reads is not None
        self.members = _Rows(
            self.reads, _fetch_member, _member_fields, _count(member_table), member_table.c.member
        )
        self.claims = _Rows(
            self.reads, _fetch_claim, encode_claim, _count(claim_table), claim_table.c.claim
        )
        self._charged_years.clear()
        self._held.clear()

    @property
    def bound(self) -> bool:
        """Whether reads go through a transaction's connection (see :meth:`bind`)."""
        return self.reads is not None and self.reads.conn is not None

    def bind(self, conn: Connection | None) -> None:
        """Read through ``conn`` (a transaction) from now on; None: short reads again."""
        assert self.reads is not None
        self.reads.conn = conn

    @property
    def _members(self) -> _Rows[Member]:
        assert isinstance(self.members, _Rows)
        return self.members

    @property
    def _claims(self) -> _Rows[Claim]:
        assert isinstance(self.claims, _Rows)
        return self.claims

    @contextmanager
    def _conn(self) -> Iterator[Connection]:
        assert self.reads is not None
        with self.reads.connection() as conn:
            yield conn

    def _stream_members(self, *where: Any) -> Iterator[Member]:
        """Members in id order (rows as stored, overlaid with this state's changes)."""
        last = ""
        while True:
            with self._conn() as conn:
                rows = conn.execute(
                    select(*MEMBER_COLUMNS)
                    .where(member_table.c.member > last, *where)
                    .order_by(member_table.c.member)
                    .limit(STREAM_CHUNK)
                ).all()
            for row in rows:
                cached = self._members.cached(str(row[0]))
                yield cached if cached is not None else parse_member_row(row)
            if len(rows) < STREAM_CHUNK:
                return
            last = str(rows[-1][0])

    # -- reading ------------------------------------------------------------------

    def claims_for_diagnosis(self, member: str, condition: str, diagnosed: str) -> list[Claim]:
        """Every claim of ``member`` for this condition and diagnosis date, in filing order."""
        c = claim_table.c
        with self._conn() as conn:
            ids = conn.execute(
                select(c.claim)
                .where(c.member == member, c.condition == condition, c.diagnosed == diagnosed)
                .order_by(c.filed_seq)
            ).scalars()
            stored = [str(i) for i in ids]
        new = [
            claim.id
            for claim in self._claims.new()
            if (claim.member, claim.condition, claim.diagnosed) == (member, condition, diagnosed)
        ]
        return [self.claims[i] for i in [*stored, *new]]

    def key_holder(self, key: str) -> str | None:
        """The member who holds ``key`` as their member key or juror key, if any."""
        if key in self._new_keys:
            return self._new_keys[key][0]
        if key in self._new_jurors:
            return self._new_jurors[key]
        if key in self._held:  # read with the batch (prefetch)
            return self._held[key]
        with self._conn() as conn:  # each by its own index
            owner = conn.execute(select(key_table.c.member).where(key_table.c.key == key)).scalar()
            if owner is None:
                m = member_table.c
                owner = conn.execute(select(m.member).where(m.juror_key == key)).scalar()
        return None if owner is None else str(owner)

    def jurors_active_at(self, time: str) -> Iterator[Member]:
        """Enrolled jurors who are active members at ``time``."""
        with self._conn() as conn:  # by the juror-key index: jurors are few
            rows = conn.execute(
                select(*MEMBER_COLUMNS).where(member_table.c.juror_key.is_not(None))
            ).all()
        found: dict[str, Member] = {}
        for row in rows:
            cached = self._members.cached(str(row[0]))
            found[str(row[0])] = cached if cached is not None else parse_member_row(row)
        for member in self._members.new():
            found[member.id] = member
        for owner in self._new_jurors.values():
            found[owner] = self.members[owner]
        return (m for m in found.values() if m.juror_key is not None and m.active_at(time))

    def counted_ids(self, cutoff: str) -> list[str]:
        """The ids of the members a period with this cutoff counts (§8.2), in id order."""
        m = member_table.c
        with self._conn() as conn:
            ids = conn.execute(
                select(m.member)
                .where(m.joined < cutoff, m.left_at.is_(None) | (m.left_at >= cutoff))
                .order_by(m.member)
            ).scalars()
            counted = [str(i) for i in ids]
        touched = self._members.changed() + self._members.new()
        if not touched:
            return counted
        ids_touched = {t.id for t in touched}
        kept = [i for i in counted if i not in ids_touched]
        return sorted(kept + [t.id for t in touched if t.counted_at(cutoff)])

    def spool_close(
        self, period: str, cutoff: str, year: int, **figures: int
    ) -> SpooledClose | None:
        """The close of ``period`` streamed over the member rows in bounded memory
        (:mod:`ledger.domain.close_stream`; ``figures`` as its :func:`spool_close`
        takes them), read in one snapshot; None for a state that may write nothing."""
        if not self.spool_closes:
            return None
        if self.bound:
            return self._spool(period, cutoff, year, figures)
        assert self.reads is not None
        with self.reads.store.snapshot() as conn:
            self.bind(conn)
            try:
                return self._spool(period, cutoff, year, figures)
            finally:
                self.bind(None)

    def _spool(self, period: str, cutoff: str, year: int, figures: dict[str, int]) -> SpooledClose:
        touched = {m.id: m for m in [*self._members.new(), *self._members.changed()]}
        return spool_close(
            period,
            self._counted_with_charges(cutoff, year, touched),
            self._counted_count(cutoff),
            **figures,
        )

    def _counted_count(self, cutoff: str) -> int:
        m = member_table.c
        with self._conn() as conn:
            stored = conn.execute(
                select(func.count()).where(
                    m.joined < cutoff, m.left_at.is_(None) | (m.left_at >= cutoff)
                )
            ).scalar_one()
        count = int(stored) + sum(member.counted_at(cutoff) for member in self._members.new())
        for member, (left, *_) in self._members.changed_from():
            count += int(member.counted_at(cutoff)) - int(
                replace(member, left=left).counted_at(cutoff)
            )
        return count

    def _counted_with_charges(
        self, cutoff: str, year: int, touched: dict[str, Member]
    ) -> Iterator[tuple[str, int]]:
        """(member, charged earlier in ``year``) of every member counted at ``cutoff``,
        in id order: stored rows a page at a time, merged with this state's changes."""
        pending = self._charges.get(year, {})
        mine = iter(sorted(self._touched_charges(cutoff, year, touched).items()))
        next_mine = next(mine, None)
        mark = "?" if self._dialect() == "sqlite" else "%s"
        page = (  # plain SQL: a close reads every member, and this is its inner loop
            "SELECT m.member, COALESCE(c.amount_fen, 0) FROM plan_member AS m "
            f"LEFT JOIN plan_charge AS c ON c.year = {mark} AND c.member = m.member "
            f"WHERE m.member > {mark} AND m.joined < {mark} "
            f"AND (m.left_at IS NULL OR m.left_at >= {mark}) "
            f"ORDER BY m.member LIMIT {mark}"
        )
        last = ""
        while True:
            with self._conn() as conn:
                cursor = conn.connection.dbapi_connection.cursor()  # type: ignore[union-attr]
                try:
                    cursor.execute(page, (year, last, cutoff, cutoff, STREAM_CHUNK))
                    rows = cursor.fetchall()
                finally:
                    cursor.close()
            for member, charged in rows:
                member = str(member)
                while next_mine is not None and next_mine[0] < member:
                    yield next_mine
                    next_mine = next(mine, None)
                if member not in touched:
                    yield member, int(charged) + pending.get(member, 0)
            if len(rows) < STREAM_CHUNK:
                break
            last = str(rows[-1][0])
        while next_mine is not None:
            yield next_mine
            next_mine = next(mine, None)

    def _dialect(self) -> str:
        assert self.reads is not None
        return self.reads.store.dialect

    def _touched_charges(
        self, cutoff: str, year: int, touched: dict[str, Member]
    ) -> dict[str, int]:
        """What each changed or new member counted at ``cutoff`` was charged in ``year``."""
        counted = sorted(i for i, member in touched.items() if member.counted_at(cutoff))
        pending = self._charges.get(year, {})
        out = {i: pending.get(i, 0) for i in counted}
        c = charge_table.c
        for start in range(0, len(counted), 1_000):
            with self._conn() as conn:
                rows = conn.execute(
                    select(c.member, c.amount_fen).where(
                        c.year == year, c.member.in_(counted[start : start + 1_000])
                    )
                ).all()
            for member, amount in rows:
                out[str(member)] += int(amount)
        return out

    def add_close_charges(self, year: int, close: PeriodClose) -> None:
        """Add a closed period's charges to the year's rows: at once, through the
        writer's transaction this state is bound to, for a spooled close."""
        if close.spool is None:
            self.add_charges(year, close.apportionment.charges)
            return
        with self._conn() as conn:
            for batch in close.spool.charges():
                _save_charges(conn, year, dict(batch))
        self._charged_years.pop(year, None)

    def all_members(self) -> Iterator[Member]:
        """Every member who ever joined, in id order."""
        yield from self._stream_members()
        yield from self._members.new()

    def all_claims(self) -> Iterator[Claim]:
        """Every claim filed, in filing order."""
        with self._conn() as conn:
            rows = conn.execute(
                select(claim_table.c.claim, claim_table.c.data).order_by(claim_table.c.filed_seq)
            ).all()
        for claim_id, data in rows:
            cached = self._claims.cached(str(claim_id))
            yield cached if cached is not None else parse_claim(str(data))
        yield from self._claims.new()

    def open_claims(self) -> list[Claim]:
        """Every claim not finished, in filing order (by the index on ``open``)."""
        c = claim_table.c
        with self._conn() as conn:
            rows = conn.execute(
                select(c.claim, c.data).where(c.open == 1).order_by(c.filed_seq)
            ).all()
        found = {str(i): parse_claim(str(d)) for i, d in rows}
        for claim in self._claims.changed() + self._claims.new():
            found[claim.id] = claim
        for key in found:
            cached = self._claims.cached(key)
            if cached is not None:
                found[key] = cached
        opened = [claim for claim in found.values() if not claim.finished]
        return sorted(opened, key=lambda claim: claim.history[0][0])

    def claims_of(self, member: str) -> list[Claim]:
        """Every claim ``member`` filed, in filing order (by the index on member)."""
        c = claim_table.c
        with self._conn() as conn:
            ids = [
                str(i)
                for i in conn.execute(
                    select(c.claim).where(c.member == member).order_by(c.filed_seq)
                ).scalars()
            ]
        return [self.claims[i] for i in ids] + [
            claim for claim in self._claims.new() if claim.member == member
        ]

    def member_counts(self, time: str) -> tuple[int, int, int]:
        """(members active at ``time``, members ever, enrolled jurors): from the per-period
        counts when ``time`` is at or after the last entry (every join and leave is then
        before it), else counted in SQL."""
        rows = self.movement()
        ever = sum(j for j, _, _ in rows.values())
        jurors = sum(u for _, _, u in rows.values())
        last = self._last_time()
        if last is not None and time >= last:
            return ever - sum(left for _, left, _ in rows.values()), ever, jurors
        m = member_table.c
        active = (m.joined <= time) & (m.left_at.is_(None) | (m.left_at > time))
        with self._conn() as conn:
            stored = conn.execute(select(func.count()).where(active)).scalar_one()
        active_count = int(stored)
        for member in self._members.new():
            active_count += member.active_at(time)
        for member, (left, *_) in self._members.changed_from():
            was_active = member.joined <= time and (left is None or left > time)
            active_count += int(member.active_at(time)) - int(was_active)
        return active_count, ever, jurors

    def _last_time(self) -> str | None:
        """The time of the last entry applied, if the log in this snapshot has it."""
        if self.size == 0:
            return None
        assert self.reads is not None
        with self._conn() as conn:
            found = self.reads.store.entries_in(conn, [self.size - 1])
        return parse_entry(found[0][1]).time if found else None

    def movement(self) -> Movement:
        """Per period: (joins, leaves, jurors who joined in it), as stored plus what this
        state changed and has not saved."""
        c = movement_table.c
        with self._conn() as conn:
            rows = conn.execute(select(c.period, c.joins, c.leaves, c.jurors)).all()
        out: Movement = {str(p): (int(j), int(left), int(u)) for p, j, left, u in rows}
        for period, (j, left, u) in self._movement_changes().items():
            a, b, c_ = out.get(period, (0, 0, 0))
            out[period] = (a + j, b + left, c_ + u)
        return out

    def _movement_changes(self) -> Movement:
        changes: Movement = {}
        for member in self._members.new():
            add_movement(changes, member)
        for member, (left, left_seq, juror_key, *_) in self._members.changed_from():
            add_movement(changes, member)
            before = replace(member, left=left, left_seq=left_seq, juror_key=juror_key)
            add_movement(changes, before, -1)
        return {p: d for p, d in changes.items() if d != (0, 0, 0)}

    def movements(self) -> tuple[Counter[str], Counter[str]]:
        """How many members joined, and how many left, in each period (stored counts)."""
        rows = self.movement()
        joined = Counter({p: j for p, (j, _, _) in rows.items() if j})
        left = Counter({p: n for p, (_, n, _) in rows.items() if n})
        return joined, left

    def _money_in(self, period: str, kind: str) -> list[tuple[str, int]]:
        c = money_table.c
        with self._conn() as conn:
            rows = conn.execute(
                select(c.claim, c.amount_fen)
                .where(c.period == period, c.kind == kind)
                .order_by(c.seq)
            ).all()
        stored = [(str(claim), int(amount)) for claim, amount in rows]
        return stored + [(cl, a) for p, _, k, cl, a in self._money if p == period and k == kind]

    def paid_in_period(self, period: str) -> list[tuple[str, int]]:
        """(claim, fen) of each payment counted in ``period``, in log order."""
        return self._money_in(period, PAID)

    def recovered_in_period(self, period: str) -> list[tuple[str, int]]:
        """(claim, fen) of each recovery credited to ``period``, in log order."""
        return self._money_in(period, RECOVERED)

    def year_charges(self, year: int) -> Mapping[str, int]:
        """Each member's charges so far in ``year`` (read once, for a period close)."""
        if year not in self._charged_years:
            c = charge_table.c
            with self._conn() as conn:
                rows = conn.execute(select(c.member, c.amount_fen).where(c.year == year))
                self._charged_years[year] = {str(m): int(a) for m, a in rows}
        return self._charged_years[year]

    # -- changing -----------------------------------------------------------------

    def enrol_juror(self, member: Member, key: str, seq: int) -> None:
        """Record ``member``'s juror key."""
        member.juror_key = key
        member.juror_seq = seq
        self._new_jurors[key] = member.id

    def add_member(self, member: Member) -> None:
        """Record a new member (a row when saved)."""
        self.members[member.id] = member
        if member.member_key is not None:
            self.name_key(member, member.member_key, member.joined_seq)

    def name_key(self, member: Member, key: str, seq: int) -> None:
        """Record that entry ``seq`` named ``key`` as ``member``'s (a row when saved)."""
        self._new_keys[key] = (member.id, seq)

    def add_claim(self, claim: Claim) -> None:
        """Record a newly filed claim."""
        self.claims[claim.id] = claim

    def add_paid(self, period: str, claim: str, amount: int, seq: int) -> None:
        """Count a payment (entry ``seq``) in ``period``."""
        self._money.append((period, seq, PAID, claim, amount))

    def add_recovered(self, period: str, claim: str, amount: int, seq: int) -> None:
        """Credit a recovery (entry ``seq``) to ``period``."""
        self._money.append((period, seq, RECOVERED, claim, amount))

    def add_charges(self, year: int, charges: Mapping[str, int]) -> None:
        """Add a closed period's charges to each member's total for ``year``."""
        before = dict(self.year_charges(year))
        pending = self._charges.setdefault(year, {})
        for member, charge in charges.items():
            pending[member] = pending.get(member, 0) + charge
        merged = self._charged_years[year] = before
        for member, charge in charges.items():
            merged[member] = merged.get(member, 0) + charge

    def add_closed(self, close: PeriodClose) -> None:
        """Record a closed period: its body (its charges are rows)."""
        self.closed.append(_slim(close))

    # -- writing back ---------------------------------------------------------------

    def core(self) -> Core:
        """The ``plan_core`` row this state is."""
        wound = self.wound_down
        return Core(
            self.size,
            list(self.rules_seqs),
            None if wound is None else [wound.seq, wound.at, wound.claims_until],
            [
                {"period": c.period, "body": c.body, "seq": c.seq, "time": c.time}
                for c in self.closed
            ],
            self.generation,
        )

    def save(self, conn: Connection) -> None:
        """Write every row the applied entries changed, and the core, in ``conn``'s
        transaction (the one appending those entries)."""
        _save_movement(conn, self._movement_changes())
        new_members = self._members.new()
        if new_members:  # COPY on PostgreSQL, the driver's executemany on SQLite
            bulk_insert(
                conn, "plan_member", member_table.c.keys(), [member_row(m) for m in new_members]
            )
        for member in self._members.changed():
            values = dict(zip(member_table.c.keys(), member_row(member), strict=True))
            conn.execute(
                update(member_table).where(member_table.c.member == member.id).values(values)
            )
        if self._new_keys:
            conn.execute(
                insert(key_table),
                [{"key": k, "member": m, "seq": s} for k, (m, s) in self._new_keys.items()],
            )
        new_claims = self._claims.new()
        if new_claims:
            conn.execute(insert(claim_table), [claim_row(c) for c in new_claims])
        for claim in self._claims.changed():
            conn.execute(
                update(claim_table).where(claim_table.c.claim == claim.id).values(claim_row(claim))
            )
        if self._money:
            conn.execute(
                insert(money_table),
                [
                    {"period": p, "seq": s, "kind": k, "claim": c, "amount_fen": a}
                    for p, s, k, c, a in self._money
                ],
            )
        for year, charges in self._charges.items():
            _save_charges(conn, year, charges)
        conn.execute(delete(core_table))
        conn.execute(insert(core_table).values(id=1, size=self.size, data=self.core().encode()))
        self.forget_rows()  # a long-lived process keeps no more rows than one command's
        self._money.clear()
        self._charges.clear()
        self._new_jurors.clear()
        self._new_keys.clear()


def _save_movement(conn: Connection, changes: Movement) -> None:
    """Add ``changes`` to the ``plan_movement`` rows (ON CONFLICT ... DO UPDATE, on both)."""
    if not changes:
        return
    conn.execute(
        text(
            "INSERT INTO plan_movement (period, joins, leaves, jurors) "
            "VALUES (:period, :joins, :leaves, :jurors) "
            "ON CONFLICT (period) DO UPDATE SET joins = plan_movement.joins + excluded.joins, "
            "leaves = plan_movement.leaves + excluded.leaves, "
            "jurors = plan_movement.jurors + excluded.jurors"
        ),
        [
            {"period": p, "joins": j, "leaves": left, "jurors": u}
            for p, (j, left, u) in sorted(changes.items())
        ],
    )


def _save_charges(conn: Connection, year: int, added: Mapping[str, int]) -> None:
    """Add a period's charges to the year's rows, at the driver's best speed: on
    PostgreSQL COPY into a scratch table and one upsert from it, on SQLite the
    driver's executemany of the upsert (ON CONFLICT ... DO UPDATE, on both)."""
    raw: Any = conn.connection.dbapi_connection
    upsert = (
        "INSERT INTO plan_charge (year, member, amount_fen) {source} "
        "ON CONFLICT (year, member) DO UPDATE "
        "SET amount_fen = plan_charge.amount_fen + excluded.amount_fen"
    )
    if conn.dialect.name == "postgresql":
        with raw.cursor() as cursor:
            cursor.execute(
                "CREATE TEMPORARY TABLE IF NOT EXISTS plan_charge_added "
                "(member TEXT PRIMARY KEY, amount_fen BIGINT NOT NULL) ON COMMIT DELETE ROWS"
            )
            with cursor.copy("COPY plan_charge_added (member, amount_fen) FROM STDIN") as copy:
                for row in added.items():
                    copy.write_row(row)
            cursor.execute(
                upsert.format(source="SELECT %s, member, amount_fen FROM plan_charge_added"),
                (year,),
            )
            cursor.execute("DELETE FROM plan_charge_added")
    else:
        cursor = raw.cursor()
        cursor.executemany(
            upsert.format(source="VALUES (?, ?, ?)"),
            ((year, member, amount) for member, amount in added.items()),
        )
        cursor.close()
