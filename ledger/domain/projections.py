"""Keeping the projection tables: migrations, catching up, rebuilding, comparing (ADR 0018).

- :func:`migrate` brings a ledger's plan tables to this code's schema, step by step,
  each step once (``plan_schema`` records the last one applied); a ledger made before
  the projections existed gets them this way, in place.
- :func:`catch_up` applies the entries the tables have not yet seen (all of them after
  a migration or a rebuild), a chunk per transaction, with the rows of a chunk dropped
  from memory once written: an upgrade or a rebuild runs in bounded memory.
- :func:`rebuild` empties the tables and catches up from the first entry (``tally
  projections rebuild``).
- :func:`compare` names the first row where the tables differ from what the entries
  give (an in-memory replay, as ``tally check`` makes), by table, key and seq.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass

from sqlalchemy import BigInteger, Column, MetaData, Table, delete, insert, inspect, select, text
from sqlalchemy.engine import Connection

from ledger.domain.projection_rows import (
    PROJECTION_TABLES,
    SEQ,
    Movement,
    add_movement,
    charge_table,
    claim_row,
    claim_table,
    core_table,
    key_table,
    member_row,
    member_table,
    metadata,
    money_table,
    movement_table,
)
from ledger.domain.state import PlanState
from ledger.domain.stored_state import MEMBER_COLUMNS, Core, StoredPlanState, read_core
from ledger.errors import StoreError
from ledger.log.entry import parse_entry
from ledger.log.store import Store

CHUNK = 10_000
"""Entries applied per transaction when catching up."""

_schema = MetaData()
schema_table = Table(
    "plan_schema",
    _schema,
    Column("version", BigInteger, primary_key=True, autoincrement=False),
)


def _v1_projections(conn: Connection) -> None:
    """Version 1: the projection tables (empty; :func:`catch_up` fills them)."""
    metadata.create_all(conn, tables=list(PROJECTION_TABLES))


def _v2_member_keys(conn: Connection) -> None:
    """Version 2: each member's own key, its recovery and last request number, and
    every member key ever named (specs/requests.md, plan.md §4.6).

    Version 1 creates the tables as this code defines them, so a ledger that starts
    here already has them; one made by the previous version gets the columns added,
    empty (no entry before this version names a member key).
    """
    present = {c["name"] for c in inspect(conn).get_columns("plan_member")}
    for name, kind in (
        ("member_key", "TEXT"),
        ("last_request", "BIGINT NOT NULL DEFAULT -1"),
        ("request_seq", "BIGINT NOT NULL DEFAULT -1"),
        ("recovery_key", "TEXT"),
        ("recovery_effective", "TEXT"),
        ("recovery_seq", "BIGINT NOT NULL DEFAULT -1"),
    ):
        if name not in present:
            conn.exec_driver_sql(f"ALTER TABLE plan_member ADD COLUMN {name} {kind}")
    metadata.create_all(conn, tables=[key_table])


def _v3_movement(conn: Connection) -> None:
    """Version 3: ``plan_movement``, the joins, leaves and jurors of each period, counted
    once from the member rows (the writes keep it from then on)."""
    metadata.create_all(conn, tables=[movement_table])
    conn.execute(delete(movement_table))
    conn.execute(
        text(
            "INSERT INTO plan_movement (period, joins, leaves, jurors) "
            "SELECT period, SUM(joins), SUM(leaves), SUM(jurors) FROM ("
            " SELECT joined_period AS period, 1 AS joins, 0 AS leaves,"
            " CASE WHEN juror_key IS NULL THEN 0 ELSE 1 END AS jurors FROM plan_member"
            " UNION ALL"
            " SELECT left_period, 0, 1, 0 FROM plan_member WHERE left_period IS NOT NULL"
            ") AS moved GROUP BY period"
        )
    )


MIGRATIONS: tuple[tuple[int, Callable[[Connection], None]], ...] = (
    (1, _v1_projections),
    (2, _v2_member_keys),
    (3, _v3_movement),
)
"""Every schema step, in order; a step is never changed once released, only added to."""
SCHEMA = MIGRATIONS[-1][0]


def schema_version(conn: Connection) -> int:
    """The last step applied to this ledger (0: none)."""
    if not inspect(conn).has_table("plan_schema"):
        return 0
    return int(conn.execute(select(schema_table.c.version)).scalar() or 0)


def migrate(store: Store) -> list[int]:
    """Apply the steps this ledger has not had, in one transaction; the steps applied."""
    if store.read_only:
        return []
    with store.writer() as conn:
        _schema.create_all(conn)
        current = schema_version(conn)
        if current > SCHEMA:
            # A newer version's tables: this one would write rows without the newer ones.
            raise StoreError(
                f"expected the plan's tables at schema step {SCHEMA} or older, found step "
                f"{current}: this ledger was upgraded by a newer version of tally; use it"
            )
        applied = []
        for version, step in MIGRATIONS:
            if version > current:
                step(conn)
                applied.append(version)
        if applied:
            conn.execute(delete(schema_table))
            conn.execute(insert(schema_table).values(version=applied[-1]))
    return applied


def tables_at(store: Store) -> tuple[tuple[int, int], int]:
    """The tables' (size, generation) and the log's size, read in one snapshot."""
    with store.snapshot() as conn:
        core = read_core(conn)
        return ((0, 0) if core is None else core.same_rows()), store.size(conn)


def behind(store: Store) -> tuple[int, int]:
    """(entries applied to the tables, entries in the log), read in one snapshot."""
    (applied, _), size = tables_at(store)
    return applied, size


def catch_up(store: Store, *, progress: Callable[[int, int], None] | None = None) -> int:
    """Apply every entry the tables lack, a chunk per transaction; the entries applied."""
    applied = 0
    while True:
        with store.writer() as conn:
            state = StoredPlanState.load(store, conn)
            start, size = state.size, store.size(conn)
            if start >= size:
                return applied
            end = min(size, start + CHUNK)
            entries = [parse_entry(raw) for _, raw in store.entry_bytes(conn, start, end)]
            state.prefetch(entries)
            for entry in entries:
                state.apply(entry)
                state.close_cache = None  # the period's tree was stored with its entry
            state.save(conn)
        applied += end - start
        if progress is not None:
            progress(end, size)


def apply_in_memory(store: Store, state: StoredPlanState, size: int, conn: Connection) -> None:
    """Apply entries up to ``size`` to ``state`` without writing anything, reading the
    entries and the rows through ``conn``: the snapshot the state was loaded in."""
    state.bind(conn)
    state.spool_closes = False  # a close among them is computed in memory: nothing written
    for start in range(state.size, size, CHUNK):
        entries = [
            parse_entry(raw) for _, raw in store.entry_bytes(conn, start, min(size, start + CHUNK))
        ]
        state.prefetch(entries)
        for entry in entries:
            state.apply(entry)
            state.close_cache = None


def read_state(store: Store, conn: Connection) -> PlanState:
    """The plan as of the log's last entry in ``conn``'s snapshot (see
    :meth:`Store.snapshot`), for a command or request that writes nothing.

    The tables' state, bound to ``conn``, with any entries they lack applied in
    memory; a ledger whose tables were never made (an older version's, opened
    read-only) is replayed in memory from its first entry.
    """
    if not inspect(conn).has_table("plan_schema"):
        replayed = PlanState()
        size = store.size(conn)
        for start in range(0, size, CHUNK):
            for _, raw in store.entry_bytes(conn, start, min(size, start + CHUNK)):
                replayed.apply(parse_entry(raw))
        return replayed
    state = StoredPlanState.load(store, conn)
    size = store.size(conn)
    if state.size < size:
        apply_in_memory(store, state, size, conn)
    return state


def rebuild(store: Store, *, progress: Callable[[int, int], None] | None = None) -> int:
    """Empty the projection tables, then rebuild them from the first entry."""
    with store.writer() as conn:
        core = read_core(conn)
        for table in reversed(PROJECTION_TABLES):
            conn.execute(delete(table))
        # A new generation: a command that read rows before the rebuild reads them again.
        fresh = Core(0, generation=(0 if core is None else core.generation) + 1)
        conn.execute(insert(core_table).values(id=1, size=0, data=fresh.encode()))
    return catch_up(store, progress=progress)


# -- comparing --------------------------------------------------------------------


@dataclass(frozen=True)
class Difference:
    """The first row where the tables and the entries disagree."""

    table: str
    key: str
    seq: int | None
    detail: str

    def __str__(self) -> str:
        at = f" (last changed by seq {self.seq})" if self.seq is not None else ""
        return f"projection {self.table}, row {self.key}{at}: {self.detail}"


class MovedOnError(Exception):
    """The tables were changed (entries appended) while they were being compared."""


def compare(store: Store, state: PlanState) -> Difference | None:
    """The first difference between the stored projections and ``state`` (a replay of
    the entries the tables say they have applied), or None when every row is as the
    entries give it. Raises :class:`MovedOnError` when the tables hold another size
    (another writer appended meanwhile): there is nothing to compare then.
    """
    with store.snapshot() as conn:
        core = read_core(conn)
        if core is None or core.size != state.size:
            raise MovedOnError(f"the tables now hold {0 if core is None else core.size} entries")
        expected = StoredPlanState(
            size=state.size,
            rules_seqs=list(state.rules_seqs),
            wound_down=state.wound_down,
            closed=state.closed,
            generation=core.generation,
        ).core()
        if expected.encode() != core.encode():
            return Difference(
                "plan_core", "1", core.size - 1, "the rules, wind-down or closed periods differ"
            )
        return (
            _compare_members(conn, state)
            or _compare_keys(conn, state)
            or _compare_claims(conn, state)
            or _compare_charges(conn, state)
            or _compare_money(conn, state)
            or _compare_movement(conn, state)
        )


def _merge(
    table: str,
    stored: Iterator[tuple[str, object, int]],
    expected: Iterator[tuple[str, object, int]],
) -> Difference | None:
    """Walk two key-ordered streams of (key, row, seq); the first key they differ at."""
    done = ("\uffff", None, -1)
    a, b = next(stored, done), next(expected, done)
    while a is not done or b is not done:
        if a[0] == b[0]:
            if a[1] != b[1]:
                return Difference(table, a[0], b[2], f"stored {a[1]!r}, the entries give {b[1]!r}")
            a, b = next(stored, done), next(expected, done)
        elif b is done or (a is not done and a[0] < b[0]):
            return Difference(table, a[0], a[2], "stored, but the entries give no such row")
        else:
            return Difference(table, b[0], b[2], "missing: the entries give this row")
    return None


def _compare_members(conn: Connection, state: PlanState) -> Difference | None:
    def stored() -> Iterator[tuple[str, object, int]]:
        last = ""
        while True:
            rows = conn.execute(
                select(*MEMBER_COLUMNS)
                .where(member_table.c.member > last)
                .order_by(member_table.c.member)
                .limit(CHUNK)
            ).all()
            for row in rows:
                yield str(row[0]), tuple(row), int(row[SEQ])
            if len(rows) < CHUNK:
                return
            last = str(rows[-1][0])

    expected = (
        (m.id, row, int(row[SEQ]))
        for m in sorted(state.all_members(), key=lambda m: m.id)
        for row in (member_row(m),)
    )
    return _merge("plan_member", stored(), expected)


def _compare_keys(conn: Connection, state: PlanState) -> Difference | None:
    c = key_table.c
    # Keys are base64 (both cases): ordered by their bytes, as Python compares them,
    # whatever the database's collation.
    key = c.key.collate("C") if conn.dialect.name == "postgresql" else c.key
    rows = conn.execute(select(c.key, c.member, c.seq).order_by(key))
    stored = ((str(k), (str(m), int(s)), int(s)) for k, m, s in rows)
    expected = ((k, (m, s), s) for k, (m, s) in sorted(state.member_keys.items()))
    return _merge("plan_key", stored, expected)


def _compare_claims(conn: Connection, state: PlanState) -> Difference | None:
    names = list(claim_table.c.keys())
    rows = conn.execute(select(claim_table).order_by(claim_table.c.claim)).all()
    stored = ((str(r[0]), dict(zip(names, r, strict=True)), int(r.seq)) for r in rows)
    claims = sorted(state.all_claims(), key=lambda c: c.id)
    expected = ((c.id, claim_row(c), int(claim_row(c)["seq"])) for c in claims)
    return _merge("plan_claim", stored, expected)


def _compare_charges(conn: Connection, state: PlanState) -> Difference | None:
    c = charge_table.c
    rows = conn.execute(select(c.year, c.member, c.amount_fen).order_by(c.year, c.member))
    stored = ((f"{y}/{m}", int(a), None) for y, m, a in rows)
    expected = (
        (f"{year}/{member}", amount, None)
        for year in sorted(state.charged)
        for member, amount in sorted(state.charged[year].items())
    )
    return _merge("plan_charge", stored, expected)  # type: ignore[arg-type]


def _compare_money(conn: Connection, state: PlanState) -> Difference | None:
    c = money_table.c
    rows = conn.execute(
        select(c.period, c.seq, c.kind, c.claim, c.amount_fen).order_by(c.period, c.seq)
    )
    stored = ((f"{p}/{int(s):012d}", (str(k), str(cl), int(a)), int(s)) for p, s, k, cl, a in rows)
    expected = ((f"{p}/{s:012d}", (k, cl, a), s) for p, s, k, cl, a in sorted(state.money))
    return _merge("plan_money", stored, expected)


def _compare_movement(conn: Connection, state: PlanState) -> Difference | None:
    c = movement_table.c
    rows = conn.execute(select(c.period, c.joins, c.leaves, c.jurors).order_by(c.period))
    stored = ((str(p), (int(j), int(n), int(u)), None) for p, j, n, u in rows)
    counts: Movement = {}
    for member in state.all_members():
        add_movement(counts, member)
    expected = ((p, counts[p], None) for p in sorted(counts))
    return _merge("plan_movement", stored, expected)  # type: ignore[arg-type]


__all__ = [
    "CHUNK",
    "MIGRATIONS",
    "SCHEMA",
    "Difference",
    "MovedOnError",
    "apply_in_memory",
    "behind",
    "catch_up",
    "compare",
    "migrate",
    "read_state",
    "rebuild",
    "schema_version",
    "tables_at",
]
