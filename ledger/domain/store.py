"""The plan's own tables: private identity records, and each period's contribution tree.

``member_private`` is the operator-private table of specs/plan.md §4.3: salts and
identity records, and each record's hash to find a person who is already a member;
never served, erasable. ``contribution`` (one row per member and
period) and ``contribution_node`` (the sum tree's levels, packed) are append-only
like the log's tables; they let the API prove a member's charge in O(log N) reads.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterable, Mapping, Sequence
from typing import Any

from sqlalchemy import BigInteger, Column, LargeBinary, Text, inspect, select, text, update
from sqlalchemy.engine import Connection
from sqlmodel import Field, SQLModel

from ledger.domain import sumtree
from ledger.errors import StoreError
from ledger.log.store import Store

NODES_PER_CHUNK = 1024


class MemberPrivate(SQLModel, table=True):
    """A member's identity record and the salt of its commitment (never served)."""

    __tablename__ = "member_private"
    member: str = Field(sa_column=Column(Text, primary_key=True))
    salt: bytes = Field(sa_column=Column(LargeBinary, nullable=False))
    record: str = Field(sa_column=Column(Text, nullable=False))
    # SHA-256 of ``record``: finds a person who is already a member (never on the log).
    record_hash: str | None = Field(default=None, sa_column=Column(Text, nullable=True))


class ContributionRow(SQLModel, table=True):
    """One member's charge in one period, at its leaf position in the period's tree."""

    __tablename__ = "contribution"
    # Keyed by member (one index serves both the insert and a member's lookup);
    # leaves are in member order, so position order is member order too.
    period: str = Field(sa_column=Column(Text, primary_key=True))
    member: str = Field(sa_column=Column(Text, primary_key=True))
    position: int = Field(sa_column=Column(BigInteger, nullable=False))
    amount_fen: int = Field(sa_column=Column(BigInteger, nullable=False))


class ContributionNodeRow(SQLModel, table=True):
    """Up to 1,024 nodes of one level of a period's sum tree, 48 bytes each."""

    __tablename__ = "contribution_node"
    period: str = Field(sa_column=Column(Text, primary_key=True))
    level: int = Field(sa_column=Column(BigInteger, primary_key=True, autoincrement=False))
    chunk: int = Field(sa_column=Column(BigInteger, primary_key=True, autoincrement=False))
    data: bytes = Field(sa_column=Column(LargeBinary, nullable=False))


private_table = MemberPrivate.__table__  # type: ignore[attr-defined]
contribution_table = ContributionRow.__table__  # type: ignore[attr-defined]
node_table = ContributionNodeRow.__table__  # type: ignore[attr-defined]
APPEND_ONLY = ("contribution", "contribution_node")


def create_plan_schema(store: Store) -> None:
    """Create the plan's tables (idempotent; the tree tables are append-only), then bring
    the projection tables to this code's schema (:func:`ledger.domain.projections.migrate`)."""
    with store.writer() as conn:
        SQLModel.metadata.create_all(conn, tables=[private_table, contribution_table, node_table])
        _add_record_hashes(conn)
        # The field index reads this module's private table, so it is imported here.
        from ledger.domain.identity_index import create_index

        create_index(conn)
        if store.dialect == "postgresql":
            # Packed hashes do not compress; skip TOAST's compression attempts.
            conn.execute(
                text("ALTER TABLE contribution_node ALTER COLUMN data SET STORAGE EXTERNAL")
            )
        for table in APPEND_ONLY:
            if store.dialect == "postgresql":
                conn.execute(
                    text(
                        f"CREATE OR REPLACE TRIGGER {table}_append_only BEFORE UPDATE OR DELETE "
                        f"ON {table} FOR EACH ROW EXECUTE FUNCTION tally_append_only()"
                    )
                )
            else:
                for verb in ("UPDATE", "DELETE"):
                    conn.execute(
                        text(
                            f"CREATE TRIGGER IF NOT EXISTS {table}_no_{verb.lower()} BEFORE "
                            f"{verb} ON {table} BEGIN SELECT RAISE(ABORT, "
                            f"'{table} is append-only: {verb} refused'); END"
                        )
                    )
    from ledger.domain.projections import migrate

    migrate(store)


def record_hash(record: str) -> str:
    """The private lookup key of an identity record: SHA-256 of its canonical JSON, hex."""
    return hashlib.sha256(record.encode()).hexdigest()


def _add_record_hashes(conn: Connection) -> None:
    """Give ``member_private`` its ``record_hash`` column and index, filled in (idempotent)."""
    columns = {c["name"] for c in inspect(conn).get_columns("member_private")}
    if "record_hash" not in columns:
        conn.execute(text("ALTER TABLE member_private ADD COLUMN record_hash TEXT"))
    conn.execute(
        text(
            "CREATE INDEX IF NOT EXISTS member_private_record_hash ON member_private (record_hash)"
        )
    )
    missing = conn.execute(
        select(private_table.c.member, private_table.c.record).where(
            private_table.c.record_hash.is_(None)
        )
    ).all()
    for member, record in missing:
        conn.execute(
            update(private_table)
            .where(private_table.c.member == member)
            .values(record_hash=record_hash(str(record)))
        )


def members_with_records(conn: Connection, hashes: Sequence[str]) -> list[tuple[str, str]]:
    """(member, record hash) of every private record whose hash is among ``hashes``."""
    found: list[tuple[str, str]] = []
    wanted = sorted(set(hashes))
    for start in range(0, len(wanted), 1_000):
        rows = conn.execute(
            select(private_table.c.member, private_table.c.record_hash).where(
                private_table.c.record_hash.in_(wanted[start : start + 1_000])
            )
        ).all()
        found.extend((str(member), str(digest)) for member, digest in rows)
    return found


def store_tree(
    conn: Connection,
    period: str,
    members: Sequence[str],
    charges: Mapping[str, int],
    tree: sumtree.Tree,
) -> None:
    """Write a period's leaves as rows (in member order) and its levels as packed chunks."""
    if members:
        bulk_insert(
            conn,
            "contribution",
            ("period", "member", "position", "amount_fen"),
            [(period, m, i, charges[m]) for i, m in enumerate(members)],
        )
    rows = []
    for level, nodes in enumerate(tree):
        for chunk in range(0, len(nodes), NODES_PER_CHUNK):
            data = b"".join(nodes[chunk : chunk + NODES_PER_CHUNK])
            rows.append(
                {"period": period, "level": level, "chunk": chunk // NODES_PER_CHUNK, "data": data}
            )
    if rows:
        conn.execute(node_table.insert(), rows)


def store_chunks(
    conn: Connection,
    period: str,
    rows: Iterable[list[tuple[str, int]]],
    levels: Iterable[tuple[int, Iterable[bytes]]],
) -> None:
    """:func:`store_tree` for a tree too large to hold: the leaves as batches of
    (member, amount) in member order, each level as its chunks of packed nodes."""
    position = 0
    for batch in rows:
        bulk_insert(
            conn,
            "contribution",
            ("period", "member", "position", "amount_fen"),
            [(period, m, position + i, amount) for i, (m, amount) in enumerate(batch)],
        )
        position += len(batch)
    for level, chunks in levels:
        pending: list[dict[str, Any]] = []
        for number, data in enumerate(chunks):
            pending.append({"period": period, "level": level, "chunk": number, "data": data})
            if len(pending) == 1_000:
                conn.execute(node_table.insert(), pending)
                pending = []
        if pending:
            conn.execute(node_table.insert(), pending)


def load_tree(conn: Connection, period: str) -> sumtree.Tree:
    """Read a period's stored tree back, level by level."""
    rows = conn.execute(
        select(node_table.c.level, node_table.c.data)
        .where(node_table.c.period == period)
        .order_by(node_table.c.level, node_table.c.chunk)
    ).all()
    levels: sumtree.Tree = []
    for level, data in rows:
        while len(levels) <= level:
            levels.append([])
        blob = bytes(data)
        levels[level].extend(
            blob[i : i + sumtree.NODE_SIZE] for i in range(0, len(blob), sumtree.NODE_SIZE)
        )
    return levels or [[]]


def bulk_insert(
    conn: Connection, table: str, columns: Sequence[str], rows: Sequence[tuple[object, ...]]
) -> None:
    """Insert many rows at the driver's best speed: COPY on PostgreSQL, executemany on SQLite."""
    raw: Any = conn.connection.dbapi_connection
    names = ", ".join(columns)
    if conn.dialect.name == "postgresql":
        with raw.cursor() as cursor, cursor.copy(f"COPY {table} ({names}) FROM STDIN") as copy:
            for row in rows:
                copy.write_row(row)
    else:
        marks = ", ".join("?" * len(columns))
        cursor = raw.cursor()
        cursor.executemany(f"INSERT INTO {table} ({names}) VALUES ({marks})", rows)
        cursor.close()


Proof = tuple[int, int, list[sumtree.Node]]
"""A member's (index, amount, siblings) in a period's sum tree."""


def stored_proof(conn: Connection, period: str, member: str, size: int) -> Proof | None:
    """A member's (index, amount, siblings) in a period's stored tree of ``size`` leaves.

    Reads the member's row and only the chunks holding the O(log N) nodes the proof
    folds; None when the member was not counted in the period.
    """
    return stored_proofs(conn, [(period, member, size)])[0]


def stored_proofs(conn: Connection, wanted: Sequence[tuple[str, str, int]]) -> list[Proof | None]:
    """:func:`stored_proof` of each (period, member, size) in ``wanted``, in two queries
    however many there are (a statement's periods of a year, say), reading only the
    48 bytes of each node a proof folds."""
    leaves = _leaves(conn, {(period, member) for period, member, _ in wanted})
    pieces: list[list[list[tuple[int, int]]] | None] = []
    for period, member, size in wanted:
        leaf = leaves.get((period, member))
        pieces.append(None if leaf is None else sumtree.proof_pieces(size, leaf[0]))
    nodes = _nodes(
        conn,
        {
            (period, level, i)
            for (period, _, _), sibs in zip(wanted, pieces, strict=True)
            for sib in sibs or ()
            for level, i in sib
        },
    )
    out: list[Proof | None] = []
    for (period, member, _), sibs in zip(wanted, pieces, strict=True):
        if sibs is None:
            out.append(None)
            continue
        index, amount = leaves[(period, member)]
        folded = [sumtree.fold([nodes[(period, level, i)] for level, i in sib]) for sib in sibs]
        out.append((index, amount, folded))
    return out


# Plain SQL with the driver's own parameters: a statement's proofs fold a dozen nodes a
# period, and building as many SQL expressions would cost more than reading them.


def _mark(conn: Connection) -> str:
    return "?" if conn.dialect.paramstyle == "qmark" else "%s"


def _leaves(
    conn: Connection, pairs: set[tuple[str, str]]
) -> dict[tuple[str, str], tuple[int, int]]:
    """(period, member) -> (position, amount) of the leaves among ``pairs``."""
    if not pairs:
        return {}
    mark, terms, params = _mark(conn), [], []
    periods_of: dict[str, list[str]] = {}
    for period, member in sorted(pairs):
        periods_of.setdefault(member, []).append(period)
    for member, periods in periods_of.items():  # terms the primary key serves
        terms.append(f"(member = {mark} AND period IN ({', '.join([mark] * len(periods))}))")
        params += [member, *periods]
    rows = conn.exec_driver_sql(
        "SELECT period, member, position, amount_fen FROM contribution WHERE " + " OR ".join(terms),
        tuple(params),
    ).all()
    return {(str(p), str(m)): (int(i), int(a)) for p, m, i, a in rows}


def _nodes(
    conn: Connection, wanted: set[tuple[str, int, int]]
) -> dict[tuple[str, int, int], bytes]:
    """(period, level, index) -> the packed node, each cut from its stored chunk in SQL."""
    if not wanted:
        return {}
    mark = _mark(conn)
    row = f"(CAST({mark} AS TEXT), CAST({mark} AS BIGINT), CAST({mark} AS BIGINT), "
    row += f"CAST({mark} AS INTEGER))"
    params: list[object] = []
    order = sorted(wanted)
    for period, level, i in order:
        chunk, at = divmod(i, NODES_PER_CHUNK)
        params += [period, level, chunk, at * sumtree.NODE_SIZE + 1]
    found = conn.exec_driver_sql(
        "SELECT v.column1, v.column2, v.column3, v.column4,"
        f" substr(n.data, v.column4, {sumtree.NODE_SIZE})"
        f" FROM (VALUES {', '.join([row] * len(order))}) AS v"
        " JOIN contribution_node AS n"
        " ON n.period = v.column1 AND n.level = v.column2 AND n.chunk = v.column3",
        tuple(params),
    ).all()
    nodes: dict[tuple[str, int, int], bytes] = {}
    for period, level, chunk, at, data in found:
        index = int(chunk) * NODES_PER_CHUNK + (int(at) - 1) // sumtree.NODE_SIZE
        nodes[(str(period), int(level), index)] = bytes(data)
    if len(nodes) != len(wanted) or any(len(d) != sumtree.NODE_SIZE for d in nodes.values()):
        period, level, i = sorted(
            wanted - {k for k, d in nodes.items() if len(d) == sumtree.NODE_SIZE}
        )[0]
        raise StoreError(
            f"period {period}: no stored tree node {i} at level {level} "
            f"(chunk {i // NODES_PER_CHUNK})"
        )
    return nodes


def stored_neighbours(
    conn: Connection, period: str, member: str
) -> tuple[int, tuple[str, int] | None, tuple[str, int] | None]:
    """Where ``member`` would be among a period's leaves, and the leaves on either side.

    Returns (index, left, right): index is the number of leaves whose member id is
    smaller; left and right are the (member, amount) of the leaves at index - 1 and
    index, or None past either end. Leaves are in member order (specs/plan.md §9), so
    two adjacent leaves bracketing ``member`` prove it has none (specs/statement.md §1).
    """
    c = contribution_table.c
    left = conn.execute(
        select(c.position, c.member, c.amount_fen)
        .where(c.period == period, c.member < member)
        .order_by(c.member.desc())
        .limit(1)
    ).first()
    right = conn.execute(
        select(c.member, c.amount_fen)
        .where(c.period == period, c.member > member)
        .order_by(c.member)
        .limit(1)
    ).first()
    index = 0 if left is None else int(left[0]) + 1
    return (
        index,
        None if left is None else (str(left[1]), int(left[2])),
        None if right is None else (str(right[0]), int(right[1])),
    )
