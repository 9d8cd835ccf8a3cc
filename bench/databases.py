"""Fresh, throw-away databases for the bench, and what each backend is running on.

Every measured log lives in a database made for it and removed afterwards: an
SQLite file in a temporary directory, or a PostgreSQL database created through
an admin connection (``tally_bench_<pid>_<name>``) and dropped at the end, even
when a measurement fails. Durability settings are read back from the live
servers, because "durable appends/s" means nothing without them.
"""

from __future__ import annotations

import os
import subprocess
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path

import psycopg
from psycopg import sql
from sqlalchemy.engine import make_url

from ledger.log.store import APPEND_ONLY_TABLES, Store

BACKENDS = ("sqlite", "postgresql")
DEFAULT_PG_URL = "postgresql://postgres@127.0.0.1:5432/postgres"
PG_SETTINGS = (
    "server_version",
    "fsync",
    "synchronous_commit",
    "wal_sync_method",
    "full_page_writes",
    "shared_buffers",
    "data_directory",
)


@dataclass(frozen=True)
class Target:
    """One fresh database holding one log."""

    backend: str
    url: str
    key_path: Path
    data_path: Path


@dataclass
class BackendInfo:
    """Version, durability settings and disk of one backend."""

    backend: str
    version: str
    settings: dict[str, str] = field(default_factory=dict)
    disk: str = "n/a"


def libpq_url(url: str) -> str:
    """The URL in the form psycopg accepts (no ``+driver`` suffix)."""
    parsed = make_url(url).set(drivername="postgresql")
    return parsed.render_as_string(hide_password=False)


def _with_database(url: str, name: str) -> str:
    return make_url(url).set(database=name).render_as_string(hide_password=False)


@contextmanager
def sqlite_target(workdir: Path, name: str) -> Iterator[Target]:
    """An SQLite file (and its key) under ``workdir``; deleted afterwards."""
    path = workdir / f"{name}.db"
    key = workdir / f"{name}.key"
    try:
        yield Target("sqlite", f"sqlite:///{path}", key, workdir)
    finally:
        for leftover in (path, Path(f"{path}-wal"), Path(f"{path}-shm"), key):
            leftover.unlink(missing_ok=True)


@contextmanager
def postgres_target(admin_url: str, workdir: Path, name: str) -> Iterator[Target]:
    """A database created for this run through ``admin_url``; dropped afterwards."""
    admin = libpq_url(admin_url)
    dbname = f"tally_bench_{os.getpid()}_{name}"
    key = workdir / f"{name}.key"
    with psycopg.connect(admin, autocommit=True) as conn:
        conn.execute(
            sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(sql.Identifier(dbname))
        )
        conn.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(dbname)))
        data_dir = conn.execute("SHOW data_directory").fetchone()
    try:
        yield Target(
            "postgresql",
            _with_database(admin, dbname),
            key,
            Path(str(data_dir[0])) if data_dir else workdir,
        )
    finally:
        key.unlink(missing_ok=True)
        with psycopg.connect(admin, autocommit=True) as conn:
            conn.execute(
                sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(sql.Identifier(dbname))
            )


def describe(target: Target, store: Store) -> BackendInfo:
    """Read the backend's version and durability settings from the live store."""
    with store.engine.connect() as conn:
        if target.backend == "sqlite":
            version = str(conn.exec_driver_sql("SELECT sqlite_version()").scalar())
            settings = {
                "journal_mode": str(conn.exec_driver_sql("PRAGMA journal_mode").scalar()),
                "synchronous": _SQLITE_SYNC.get(
                    int(conn.exec_driver_sql("PRAGMA synchronous").scalar() or 0), "?"
                ),
            }
        else:
            settings = {
                name: str(conn.exec_driver_sql(f"SHOW {name}").scalar()) for name in PG_SETTINGS
            }
            version = settings.pop("server_version")
        conn.rollback()
    return BackendInfo(target.backend, version, settings, disk_of(target.data_path))


_SQLITE_SYNC = {0: "OFF", 1: "NORMAL", 2: "FULL", 3: "EXTRA"}


def log_bytes(target: Target, store: Store) -> int:
    """Bytes the log's tables (with indexes) occupy now, excluding WAL and empty-database overhead.

    SQLite: used pages as this connection sees them (committed WAL pages included,
    free pages not). PostgreSQL: total relation size of the log's four tables.
    """
    with store.engine.connect() as conn:
        if target.backend == "sqlite":
            pages = int(conn.exec_driver_sql("PRAGMA page_count").scalar() or 0)
            free = int(conn.exec_driver_sql("PRAGMA freelist_count").scalar() or 0)
            size = int(conn.exec_driver_sql("PRAGMA page_size").scalar() or 0)
            total = (pages - free) * size
        else:
            total = sum(
                int(conn.exec_driver_sql(f"SELECT pg_total_relation_size('{table}')").scalar() or 0)
                for table in APPEND_ONLY_TABLES
            )
        conn.rollback()
    return total


def disk_of(path: Path) -> str:
    """``df`` of the filesystem holding ``path``: device, type, size, available, mount."""
    if not path.exists():
        return f"n/a ({path} is not on this machine)"
    try:
        out = subprocess.run(
            ["df", "-hPT", str(path)], capture_output=True, text=True, check=True, timeout=10
        ).stdout
    except (OSError, subprocess.SubprocessError):
        return "n/a (df failed)"
    lines = out.strip().splitlines()
    if len(lines) < 2:
        return "n/a (df printed nothing)"
    device, fstype, size, _used, avail, _pct, mount = lines[-1].split(None, 6)
    return f"{device} {fstype} {size} ({avail} free) at {mount}, path {path}"
