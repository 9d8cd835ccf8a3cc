"""The append-only store: SQLModel tables on SQLite (default) or PostgreSQL.

Four tables, every one append-only and enforced so by the database itself
(specs/log.md §5): ``log_meta`` (the log's origin and key, written once),
``entry`` (seq, exact bytes), ``tree_hash`` (stored position, hash; see
:mod:`ledger.log.tree`) and ``checkpoint`` (every checkpoint ever signed).
Triggers refuse UPDATE and DELETE (and TRUNCATE on PostgreSQL), and refuse an
entry whose seq does not extend the log by exactly one.

SQLite runs in WAL mode with ``synchronous=FULL``, so a committed batch survives
power loss; writers take the write lock up front (``BEGIN IMMEDIATE``). On
PostgreSQL writers take a transaction-scoped advisory lock. Either way one
sequencer at a time assigns seq and prev.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from sqlalchemy import BigInteger, Column, LargeBinary, Text, bindparam, event, select, text
from sqlalchemy.engine import Connection, Engine, make_url
from sqlalchemy.exc import ArgumentError, DBAPIError, OperationalError
from sqlalchemy.pool import NullPool
from sqlmodel import Field, SQLModel, create_engine

from ledger.errors import StoreError
from ledger.log.tree import stored_hash_count

SCHEMA_VERSION = 1
# Any constant identifies the sequencer's lock; this one spells "tally".
ADVISORY_LOCK_KEY = 0x74616C6C79


class LogMeta(SQLModel, table=True):
    """The log's identity, written once by ``tally init``."""

    __tablename__ = "log_meta"
    id: int = Field(sa_column=Column(BigInteger, primary_key=True, autoincrement=False))
    schema_version: int = Field(sa_column=Column(BigInteger, nullable=False))
    origin: str = Field(sa_column=Column(Text, nullable=False))
    verifier_key: str = Field(sa_column=Column(Text, nullable=False))


class EntryRow(SQLModel, table=True):
    """One entry: its seq and its exact canonical bytes."""

    __tablename__ = "entry"
    seq: int = Field(sa_column=Column(BigInteger, primary_key=True, autoincrement=False))
    data: bytes = Field(sa_column=Column(LargeBinary, nullable=False))


class TreeHashRow(SQLModel, table=True):
    """One stored complete-subtree hash at its position (see ledger.log.tree)."""

    __tablename__ = "tree_hash"
    idx: int = Field(sa_column=Column(BigInteger, primary_key=True, autoincrement=False))
    hash: bytes = Field(sa_column=Column(LargeBinary, nullable=False))


class CheckpointRow(SQLModel, table=True):
    """A signed checkpoint: the tree size, its root and the signed note's full text."""

    __tablename__ = "checkpoint"
    tree_size: int = Field(sa_column=Column(BigInteger, primary_key=True, autoincrement=False))
    root: bytes = Field(sa_column=Column(LargeBinary, nullable=False))
    note: str = Field(sa_column=Column(Text, nullable=False))
    signed_at: str = Field(sa_column=Column(Text, nullable=False))


APPEND_ONLY_TABLES = ("log_meta", "entry", "tree_hash", "checkpoint")
entry_table = EntryRow.__table__  # type: ignore[attr-defined]
hash_table = TreeHashRow.__table__  # type: ignore[attr-defined]
checkpoint_table = CheckpointRow.__table__  # type: ignore[attr-defined]
meta_table = LogMeta.__table__  # type: ignore[attr-defined]

_SQLITE_TRIGGERS = [
    *(
        f"CREATE TRIGGER IF NOT EXISTS {table}_no_{verb.lower()} BEFORE {verb} ON {table} "
        f"BEGIN SELECT RAISE(ABORT, '{table} is append-only: {verb} refused'); END"
        for table in APPEND_ONLY_TABLES
        for verb in ("UPDATE", "DELETE")
    ),
    "CREATE TRIGGER IF NOT EXISTS entry_extends_log BEFORE INSERT ON entry "
    "WHEN NEW.seq IS NOT (SELECT COALESCE(MAX(seq) + 1, 0) FROM entry) "
    "BEGIN SELECT RAISE(ABORT, 'entry seq must extend the log by exactly one'); END",
    "CREATE TRIGGER IF NOT EXISTS tree_hash_extends_tree BEFORE INSERT ON tree_hash "
    "WHEN NEW.idx IS NOT (SELECT COALESCE(MAX(idx) + 1, 0) FROM tree_hash) "
    "BEGIN SELECT RAISE(ABORT, 'tree_hash idx must extend the tree by exactly one'); END",
    # INSERT OR REPLACE deletes the old row without firing DELETE triggers (unless
    # recursive_triggers is on), so refuse any insert that would collide.
    *(
        f"CREATE TRIGGER IF NOT EXISTS {table}_no_replace BEFORE INSERT ON {table} "
        f"WHEN EXISTS (SELECT 1 FROM {table} WHERE {key} = NEW.{key}) "
        f"BEGIN SELECT RAISE(ABORT, '{table} is append-only: REPLACE refused'); END"
        for table, key in (("checkpoint", "tree_size"), ("log_meta", "id"))
    ),
]

_POSTGRES_TRIGGERS = [
    """CREATE OR REPLACE FUNCTION tally_append_only() RETURNS trigger LANGUAGE plpgsql AS $$
    BEGIN
        RAISE EXCEPTION '% is append-only: % refused', TG_TABLE_NAME, TG_OP
            USING ERRCODE = 'integrity_constraint_violation';
    END $$""",
    """CREATE OR REPLACE FUNCTION tally_entry_extends_log() RETURNS trigger LANGUAGE plpgsql AS $$
    BEGIN
        IF NEW.seq IS DISTINCT FROM (SELECT COALESCE(MAX(seq) + 1, 0) FROM entry) THEN
            RAISE EXCEPTION 'entry seq must extend the log by exactly one, found %', NEW.seq
                USING ERRCODE = 'integrity_constraint_violation';
        END IF;
        RETURN NEW;
    END $$""",
    *(
        f"CREATE OR REPLACE TRIGGER {table}_append_only BEFORE UPDATE OR DELETE ON {table} "
        "FOR EACH ROW EXECUTE FUNCTION tally_append_only()"
        for table in APPEND_ONLY_TABLES
    ),
    *(
        f"CREATE OR REPLACE TRIGGER {table}_no_truncate BEFORE TRUNCATE ON {table} "
        "FOR EACH STATEMENT EXECUTE FUNCTION tally_append_only()"
        for table in APPEND_ONLY_TABLES
    ),
    "CREATE OR REPLACE TRIGGER entry_extends_log BEFORE INSERT ON entry "
    "FOR EACH ROW EXECUTE FUNCTION tally_entry_extends_log()",
]


def normalize_url(url: str) -> str:
    """Accept ``sqlite:///PATH`` and ``postgresql://...``; pick the psycopg 3 driver."""
    try:
        parsed = make_url(url)
    except ArgumentError:
        raise StoreError(
            f"expected a URL like sqlite:///tally.db or postgresql://host/db, found {url!r}"
        ) from None
    if parsed.drivername in ("postgresql", "postgres", "postgresql+psycopg"):
        return parsed.set(drivername="postgresql+psycopg").render_as_string(hide_password=False)
    if parsed.drivername in ("sqlite", "sqlite+pysqlite"):
        return url
    raise StoreError(
        f"expected a sqlite:// or postgresql:// URL, found scheme {parsed.drivername!r}"
    )


class Store:
    """A connection to the log's database, with the few raw operations the log needs."""

    def __init__(
        self, url: str, *, create: bool = False, pool: bool = True, read_only: bool = False
    ) -> None:
        """Open the database at ``url``; a missing SQLite file is made only if ``create``.

        With ``read_only`` every connection is made read-only by the database itself
        (PostgreSQL: ``default_transaction_read_only``; SQLite: ``query_only``) and
        :meth:`writer` refuses, so that nothing can write: what a server on a
        PostgreSQL hot standby needs, where any write would fail.
        """
        if read_only and create:
            raise ValueError("a store opened read-only cannot create its database")
        self.read_only = read_only
        self.url = normalize_url(url)
        parsed = make_url(self.url)
        self.dialect = parsed.get_backend_name()
        if self.dialect == "sqlite":
            _check_sqlite_file(parsed.database, create=create)
        kwargs: dict[str, Any] = {}
        if not pool:
            kwargs["poolclass"] = NullPool
        else:
            # As many connections as the API's worker threads may want at once.
            kwargs.update(pool_size=20, max_overflow=20)
        if self.dialect == "sqlite":
            kwargs["connect_args"] = {"check_same_thread": False, "timeout": 60}
        else:
            kwargs["connect_args"] = {"connect_timeout": 10}
        try:
            self.engine: Engine = create_engine(self.url, **kwargs)
        except (ArgumentError, ImportError) as exc:
            raise StoreError(f"cannot open database {url!r}: {exc}") from None
        # Single-statement reads (proofs, roots) skip BEGIN/ROLLBACK round trips: a
        # stored hash never changes once written, so no snapshot is needed.
        try:
            self.read_engine: Engine = create_engine(
                self.url,
                isolation_level="AUTOCOMMIT",
                pool_reset_on_return=None,
                **kwargs,
            )
        except (ArgumentError, ImportError) as exc:
            raise StoreError(f"cannot open database {url!r}: {exc}") from None
        if self.dialect == "sqlite":
            _configure_sqlite(self.engine, transactions=True, read_only=read_only)
            _configure_sqlite(self.read_engine, transactions=False, read_only=read_only)
        elif read_only:
            _configure_postgres_read_only(self.engine)
            _configure_postgres_read_only(self.read_engine)
        self._read_hashes_sql = select(hash_table.c.idx, hash_table.c.hash).where(
            hash_table.c.idx.in_(bindparam("ids", expanding=True))
        )

    def dispose(self) -> None:
        """Close every pooled connection."""
        self.engine.dispose()
        self.read_engine.dispose()

    def scan(self, start: int, end: int) -> tuple[list[tuple[int, bytes]], list[bytes]]:
        """Entries ``start <= seq < end`` and every hash stored for them, in order.

        The bulk read of ``tally check`` and audits; one read transaction so both
        lists describe the same state.
        """
        first, last = stored_hash_count(start), stored_hash_count(end)
        mark = "%s" if self.dialect == "postgresql" else "?"
        raw = self.engine.raw_connection()
        try:
            cursor = raw.cursor()
            if self.dialect == "sqlite":
                cursor.execute("BEGIN")
            cursor.execute(
                f"SELECT seq, data FROM entry WHERE seq >= {mark} AND seq < {mark} ORDER BY seq",
                (start, end),
            )
            entries = [(int(seq), bytes(data)) for seq, data in cursor.fetchall()]
            cursor.execute(
                f"SELECT hash FROM tree_hash WHERE idx >= {mark} AND idx < {mark} ORDER BY idx",
                (first, last),
            )
            hashes = [bytes(h) for (h,) in cursor.fetchall()]
            if self.dialect == "sqlite":
                cursor.execute("COMMIT")
            cursor.close()
            raw.rollback()
        except Exception as exc:  # the driver's own error types differ per backend
            raise StoreError(f"cannot read the log: {_reason(exc)}") from None
        finally:
            raw.close()
        return entries, hashes

    def fetch_hashes(self, indexes: Sequence[int]) -> list[bytes]:
        """Stored hashes at the given positions, in order, in one autocommit statement.

        This is the hot path of every proof, so it speaks the driver's SQL directly.
        Raises :class:`StoreError` naming the first position not stored.
        """
        wanted = sorted(set(indexes))
        raw = self.read_engine.raw_connection()
        try:
            cursor = raw.cursor()
            if self.dialect == "postgresql":
                cursor.execute("SELECT idx, hash FROM tree_hash WHERE idx = ANY(%s)", (wanted,))
            else:
                marks = ",".join("?" * len(wanted))
                cursor.execute(f"SELECT idx, hash FROM tree_hash WHERE idx IN ({marks})", wanted)
            rows = cursor.fetchall()
            cursor.close()
        except Exception as exc:  # the driver's own error types differ per backend
            raise StoreError(f"cannot read stored hashes: {_reason(exc)}") from None
        finally:
            raw.close()
        found = {int(idx): bytes(h) for idx, h in rows}
        if len(found) != len(wanted):
            missing = [i for i in wanted if i not in found]
            raise MissingHashError(missing[0])
        return [found[i] for i in indexes]

    # -- schema ---------------------------------------------------------------

    def create_schema(self) -> None:
        """Create the tables and the append-only triggers; idempotent."""
        with self.writer() as conn:
            SQLModel.metadata.create_all(
                conn,
                tables=[meta_table, entry_table, hash_table, checkpoint_table],
            )
            for statement in (
                _POSTGRES_TRIGGERS if self.dialect == "postgresql" else _SQLITE_TRIGGERS
            ):
                conn.execute(text(statement))

    def meta(self) -> LogMeta | None:
        """The log's identity, or None before ``tally init``."""
        try:
            with self.engine.connect() as conn:
                row = conn.execute(select(meta_table)).mappings().first()
        except (OperationalError, DBAPIError) as exc:
            if _is_missing_table(exc):
                return None
            raise StoreError(f"cannot read the log's database: {_reason(exc)}") from None
        if row is None:
            return None
        return LogMeta(**dict(row))

    def require_meta(self) -> LogMeta:
        """The log's identity; raise :class:`StoreError` when the log was never initialised."""
        meta = self.meta()
        if meta is None:
            raise StoreError("this database holds no log yet: run 'tally init' first")
        if meta.schema_version != SCHEMA_VERSION:
            raise StoreError(
                f"expected schema version {SCHEMA_VERSION}, found {meta.schema_version}"
            )
        return meta

    # -- transactions ---------------------------------------------------------

    @contextmanager
    def reader(self) -> Iterator[Connection]:
        """A read transaction: a consistent snapshot on both backends."""
        try:
            with self.engine.connect() as conn, conn.begin():
                yield conn
        except OperationalError as exc:
            raise StoreError(f"database unavailable: {_reason(exc)}") from None

    @contextmanager
    def snapshot(self) -> Iterator[Connection]:
        """A read transaction that sees one state of the database in all its statements:
        REPEATABLE READ on PostgreSQL (its default, READ COMMITTED, takes a new snapshot
        per statement); on SQLite every read transaction already does."""
        try:
            with self.engine.connect() as conn:
                if self.dialect == "postgresql":
                    conn = conn.execution_options(isolation_level="REPEATABLE READ")
                with conn.begin():
                    yield conn
        except OperationalError as exc:
            raise StoreError(f"database unavailable: {_reason(exc)}") from None

    @contextmanager
    def writer(self) -> Iterator[Connection]:
        """A write transaction holding the sequencer lock until it commits or rolls back."""
        if self.read_only:
            raise StoreError(
                "this store was opened read-only (a read-only server or export): it writes nothing"
            )
        try:
            with self.engine.connect() as conn:
                conn = conn.execution_options(tally_writer=True)
                with conn.begin():
                    if self.dialect == "postgresql":
                        conn.exec_driver_sql(f"SELECT pg_advisory_xact_lock({ADVISORY_LOCK_KEY})")
                    yield conn
        except OperationalError as exc:
            raise StoreError(f"database unavailable: {_reason(exc)}") from None

    # -- raw reads ------------------------------------------------------------

    def size(self, conn: Connection) -> int:
        """Number of entries in the log as ``conn`` sees it."""
        last = conn.execute(select(entry_table.c.seq).order_by(entry_table.c.seq.desc()).limit(1))
        value = last.scalar()
        return 0 if value is None else int(value) + 1

    def read_hashes(self, conn: Connection, indexes: Sequence[int]) -> list[bytes]:
        """Stored hashes at the given positions, in the order asked."""
        wanted = sorted(set(indexes))
        rows = conn.execute(self._read_hashes_sql, {"ids": wanted}).all()
        found = {int(idx): bytes(h) for idx, h in rows}
        if len(found) != len(wanted):
            missing = [i for i in wanted if i not in found]
            raise MissingHashError(missing[0])
        return [found[i] for i in indexes]

    def entry_bytes(self, conn: Connection, start: int, end: int) -> list[tuple[int, bytes]]:
        """Entries with ``start <= seq < end``, in seq order."""
        rows = conn.execute(
            select(entry_table.c.seq, entry_table.c.data)
            .where(entry_table.c.seq >= start, entry_table.c.seq < end)
            .order_by(entry_table.c.seq)
        ).all()
        return [(int(seq), bytes(data)) for seq, data in rows]

    def entries_in(self, conn: Connection, seqs: Sequence[int]) -> list[tuple[int, bytes]]:
        """The entries whose seq is in ``seqs`` (those that exist), in seq order."""
        rows = conn.execute(
            select(entry_table.c.seq, entry_table.c.data)
            .where(entry_table.c.seq.in_(list(seqs)))
            .order_by(entry_table.c.seq)
        ).all()
        return [(int(seq), bytes(data)) for seq, data in rows]


class MissingHashError(StoreError):
    """A stored hash the tree needs is absent: the tree asked for is larger than the log."""

    def __init__(self, position: int) -> None:
        super().__init__(f"no stored hash at position {position}")
        self.position = position


class StoreHashReader:
    """Adapts :meth:`Store.fetch_hashes` to :class:`ledger.log.tree.HashReader`."""

    def __init__(self, store: Store) -> None:
        self._store = store

    def read_hashes(self, indexes: Sequence[int]) -> list[bytes]:
        """Stored hashes at the given positions, in order."""
        return self._store.fetch_hashes(indexes)


class ConnectionHashReader:
    """Adapts a connection to :class:`ledger.log.tree.HashReader`."""

    def __init__(self, store: Store, conn: Connection) -> None:
        self._store = store
        self._conn = conn

    def read_hashes(self, indexes: Sequence[int]) -> list[bytes]:
        """Stored hashes at the given positions, in order."""
        return self._store.read_hashes(self._conn, indexes)


SQLITE_HEADER = b"SQLite format 3\x00"


def _check_sqlite_file(path: str | None, *, create: bool) -> None:
    """Refuse a missing file (unless ``create``) or one that is not a SQLite database."""
    if not path or path == ":memory:":
        return
    file = Path(path)
    if not file.exists():
        if create:
            return
        raise StoreError(f"no database at {path}: run 'tally init' first, or check --db")
    try:
        with file.open("rb") as handle:
            header = handle.read(len(SQLITE_HEADER))
    except OSError as exc:
        raise StoreError(f"cannot open the database file {path}: {exc.strerror}") from None
    if header and header != SQLITE_HEADER:
        raise StoreError(
            f"expected a SQLite database at {path}, found a file that is not one (it does "
            "not begin with the SQLite header): check --db"
        )


def _configure_sqlite(engine: Engine, *, transactions: bool, read_only: bool = False) -> None:
    @event.listens_for(engine, "connect")
    def _on_connect(dbapi_conn: Any, _record: Any) -> None:
        # Let SQLAlchemy's "begin" hook below issue BEGIN, not pysqlite.
        dbapi_conn.isolation_level = None
        cursor = dbapi_conn.cursor()
        if read_only:
            # WAL mode is kept in the file, set by the writer; a reader changes nothing.
            cursor.execute("PRAGMA query_only=ON")
        else:
            cursor.execute("PRAGMA journal_mode=WAL")
            cursor.execute("PRAGMA synchronous=FULL")
        cursor.execute("PRAGMA busy_timeout=60000")
        cursor.close()

    if not transactions:
        return  # each statement is its own implicit transaction

    @event.listens_for(engine, "begin")
    def _on_begin(conn: Connection) -> None:
        immediate = conn.get_execution_options().get("tally_writer", False)
        conn.exec_driver_sql("BEGIN IMMEDIATE" if immediate else "BEGIN")


def _configure_postgres_read_only(engine: Engine) -> None:
    @event.listens_for(engine, "connect")
    def _on_connect(dbapi_conn: Any, _record: Any) -> None:
        # Every transaction of the session is READ ONLY: the server refuses any write.
        cursor = dbapi_conn.cursor()
        cursor.execute("SET default_transaction_read_only = on")
        cursor.close()
        dbapi_conn.commit()  # a SET in a transaction rolled back would be undone


def _is_missing_table(exc: Exception) -> bool:
    text = str(exc).lower()
    return "no such table" in text or ("does not exist" in text and "relation" in text)


def _reason(exc: Exception) -> str:
    orig = getattr(exc, "orig", None)
    return str(orig if orig is not None else exc).strip().splitlines()[0]
