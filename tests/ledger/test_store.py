"""Append-only is enforced by the database itself, on both backends."""

from __future__ import annotations

import pytest
from sqlalchemy import text
from sqlalchemy.exc import DBAPIError

from ledger.errors import StoreError
from ledger.instance import Ledger
from ledger.log.log import NewEntry
from ledger.log.store import Store, normalize_url

ATTACKS = [
    "UPDATE entry SET data = data WHERE seq = 0",
    "DELETE FROM entry WHERE seq = (SELECT MAX(seq) FROM entry)",
    "DELETE FROM entry",
    "UPDATE tree_hash SET hash = hash WHERE idx = 0",
    "DELETE FROM tree_hash WHERE idx = 0",
    "UPDATE checkpoint SET note = 'forged'",
    "DELETE FROM checkpoint",
    "UPDATE log_meta SET origin = 'elsewhere'",
    "DELETE FROM log_meta",
    "INSERT INTO entry (seq, data) VALUES ((SELECT MAX(seq) + 2 FROM entry), 'x')",
    "INSERT INTO entry (seq, data) VALUES (0, 'x')",
]


@pytest.mark.parametrize("sql", ATTACKS)
def test_direct_sql_cannot_rewrite_history(ledger: Ledger, sql: str) -> None:
    ledger.log.append_batch([NewEntry("demo.thing", "operator", {"i": i}) for i in range(5)])
    size = ledger.log.size()
    root = ledger.log.root(size)
    with pytest.raises(DBAPIError), ledger.store.engine.begin() as conn:
        conn.execute(text(sql))
    assert ledger.log.size() == size
    assert ledger.log.root(size) == root


def test_sqlite_replace_cannot_overwrite(tmp_path: object) -> None:
    from pathlib import Path

    from ledger.instance import init_ledger

    made, _ = init_ledger(f"sqlite:///{tmp_path}/r.db", Path(f"{tmp_path}/r.key"), "t.example/r")
    try:
        with pytest.raises(DBAPIError), made.store.engine.begin() as conn:
            conn.exec_driver_sql("INSERT OR REPLACE INTO entry (seq, data) VALUES (0, x'00')")
        with pytest.raises(DBAPIError), made.store.engine.begin() as conn:
            conn.exec_driver_sql("INSERT OR REPLACE INTO tree_hash (idx, hash) VALUES (0, x'00')")
    finally:
        made.close()


@pytest.mark.parametrize("backend", ["postgresql"], indirect=True)
def test_postgres_truncate_is_refused(ledger: Ledger) -> None:
    """SQLite has no TRUNCATE (its DELETE fires the triggers); PostgreSQL's is refused too."""
    for table in ("entry", "tree_hash", "checkpoint", "log_meta"):
        with pytest.raises(DBAPIError), ledger.store.engine.begin() as conn:
            conn.execute(text(f"TRUNCATE {table}"))


def test_sqlite_is_durable_by_configuration(tmp_path: object) -> None:
    store = Store(f"sqlite:///{tmp_path}/d.db", create=True)
    with store.engine.connect() as conn:
        assert conn.exec_driver_sql("PRAGMA journal_mode").scalar() == "wal"
        assert conn.exec_driver_sql("PRAGMA synchronous").scalar() == 2  # FULL
    store.dispose()


@pytest.mark.parametrize("url", ["mysql://localhost/x", "not a url", "", "http://example.org"])
def test_unsupported_urls_are_refused(url: str) -> None:
    with pytest.raises(StoreError):
        normalize_url(url)


def test_missing_sqlite_file_is_not_created(tmp_path: object) -> None:
    from pathlib import Path

    target = Path(f"{tmp_path}/absent.db")
    with pytest.raises(StoreError, match="no database"):
        Store(f"sqlite:///{target}")
    assert not target.exists()


def test_uninitialised_database_is_reported(db_url: str) -> None:
    store = Store(db_url, create=True)
    try:
        assert store.meta() is None
        with pytest.raises(StoreError, match="tally init"):
            store.require_meta()
    finally:
        store.dispose()


def test_unreachable_postgres_is_a_store_error() -> None:
    store = Store("postgresql://postgres@127.0.0.1:1/nothing")
    with pytest.raises(StoreError):
        store.require_meta()
    store.dispose()
