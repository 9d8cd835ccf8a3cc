"""Backing up and restoring a ledger as docs/operations.md §3 says, on SQLite and PostgreSQL.

Each documented command is run as printed, with only its paths, database URLs and
port swapped for the test's. After the restore, `tally check` passes, and a
verifier that saw the log before the backup (`tally-verify`, which shares no code
with the ledger) accepts the restored log as the same history and audits it.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import psycopg
import pytest
from sqlalchemy.engine import make_url

from ledger.log.store import Store
from tests.conftest import REPO
from tests.test_deploy import wait_for
from tests.test_end_to_end import free_port

DOC = (REPO / "docs" / "operations.md").read_text()
BIN = Path(sys.executable).parent
SQLITE_BACKUP = """sqlite3 /var/lib/tally/tally.db ".backup '/var/backups/tally/tally.db'\""""
SQLITE_INTEGRITY = 'sqlite3 /var/backups/tally/tally.db "PRAGMA integrity_check"'
SQLITE_RESTORE = [
    "rm -f /var/lib/tally/tally.db-wal /var/lib/tally/tally.db-shm",
    "install -o tally -g tally -m 0600 /var/backups/tally/tally.db /var/lib/tally/tally.db",
    "tally --db sqlite:////var/lib/tally/tally.db check",
]
PG_BACKUP = (
    "pg_dump --format=custom --file=/var/backups/tally/tally.dump "
    "postgresql://tally@localhost/tally"
)
PG_RESTORE = [
    "createdb --owner=tally tally_restored",
    "pg_restore --no-owner --single-transaction --exit-on-error "
    "--dbname=postgresql://tally@localhost/tally_restored /var/backups/tally/tally.dump",
    "tally --db postgresql://tally@localhost/tally_restored check",
]
CHECK_RESTORE = [
    "tally --db postgresql://tally@localhost/tally_restored serve --port 8001 &",
    "cp -r /var/lib/tally-monitor /tmp/restore-check",
    'tally-verify --state /tmp/restore-check init http://127.0.0.1:8001 --key "$(cat '
    '/etc/tally/verifier-key)"',
    "tally-verify --state /tmp/restore-check audit",
]


def test_the_commands_tested_are_the_documented_ones() -> None:
    for command in [SQLITE_BACKUP, SQLITE_INTEGRITY, *SQLITE_RESTORE, PG_BACKUP]:
        assert command in DOC, command
    for command in [*PG_RESTORE, *CHECK_RESTORE]:
        assert command in DOC, command


def sh(command: str, swaps: dict[str, str], env: dict[str, str] | None = None) -> str:
    """Run a documented command with the test's paths swapped in; its output."""
    for old, new in swaps.items():
        command = command.replace(old, new)
    if command.startswith("install -o tally -g tally "):  # the test owns its files
        command = command.replace("-o tally -g tally ", "")
    result = subprocess.run(
        ["bash", "-c", command],
        capture_output=True,
        text=True,
        env={**os.environ, "PATH": f"{BIN}:{os.environ['PATH']}", **(env or {})},
        timeout=300,
    )
    assert result.returncode == 0, (command, result.stdout, result.stderr)
    return result.stdout


@contextmanager
def serving(db: str, port: int) -> Iterator[None]:
    server = subprocess.Popen(
        [str(BIN / "tally"), "--db", db, "serve", "--port", str(port)],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        wait_for(f"http://127.0.0.1:{port}/healthz")
        yield
    finally:
        server.terminate()
        server.wait(timeout=30)


def build_and_watch(db: str, tmp_path: Path) -> tuple[Path, str]:
    """A demo plan in ``db``, and a verifier state that saw it: (state, verifier key)."""
    key = tmp_path / "tally.key"
    built = subprocess.run(
        [
            *(str(BIN / "tally"), "--db", db, "--key", str(key), "demo", "--no-serve"),
            *("--members", "150", "--periods", "3"),
        ],
        capture_output=True,
        text=True,
    )
    assert built.returncode == 0, built.stderr
    store = Store(db)
    vkey = store.require_meta().verifier_key
    store.dispose()
    monitor = tmp_path / "monitor"
    port = free_port()
    with serving(db, port):
        init = subprocess.run(
            [
                *(str(BIN / "tally-verify"), "--state", str(monitor), "init"),
                *(f"http://127.0.0.1:{port}", "--key", vkey),
            ],
            capture_output=True,
            text=True,
        )
        assert init.returncode == 0, init.stdout + init.stderr
    return monitor, vkey


def check_the_restore(restored: str, monitor: Path, vkey: str, tmp_path: Path) -> None:
    """docs/operations.md, "Checking a restore", on the restored database."""
    etc = tmp_path / "etc"
    etc.mkdir()
    (etc / "verifier-key").write_text(vkey + "\n")
    port = free_port()
    swaps = {
        "/var/lib/tally-monitor": str(monitor),
        "/tmp/restore-check": str(tmp_path / "restore-check"),
        "/etc/tally/verifier-key": str(etc / "verifier-key"),
        "127.0.0.1:8001": f"127.0.0.1:{port}",
    }
    with serving(restored, port):
        for command in CHECK_RESTORE[1:]:
            out = sh(command, swaps)
        assert "Replayed all" in out, out


@pytest.mark.slow
def test_sqlite_backup_and_restore(tmp_path: Path) -> None:
    if shutil.which("sqlite3") is None:
        if os.environ.get("CI") == "true":
            pytest.fail("the sqlite3 command is not installed (.ci/run installs it)")
        pytest.skip("the sqlite3 command is not installed here")
    live, backups, restored = tmp_path / "lib", tmp_path / "backups", tmp_path / "restored"
    for folder in (live, backups, restored):
        folder.mkdir()
    monitor, vkey = build_and_watch(f"sqlite:///{live}/tally.db", tmp_path)
    swaps = {"/var/lib/tally/": f"{live}/", "/var/backups/tally/": f"{backups}/"}
    sh(SQLITE_BACKUP, swaps)
    assert sh(SQLITE_INTEGRITY, swaps).strip() == "ok"
    # Restored into a fresh folder, as onto a new machine.
    swaps["/var/lib/tally/"] = f"{restored}/"
    for command in SQLITE_RESTORE:
        out = sh(command, swaps)
    assert out.startswith("OK: ")
    assert "OK: the plan's rules hold" in out
    assert oct((restored / "tally.db").stat().st_mode & 0o777) == "0o600"
    check_the_restore(f"sqlite:///{restored}/tally.db", monitor, vkey, tmp_path)


@contextmanager
def fresh_database(server: str, name: str) -> Iterator[str]:
    with psycopg.connect(server, autocommit=True) as conn:
        conn.execute(f"DROP DATABASE IF EXISTS {name}")
        conn.execute(f"CREATE DATABASE {name}")
    try:
        yield str(make_url(server).set(database=name).render_as_string(hide_password=False))
    finally:
        with psycopg.connect(server, autocommit=True) as conn:
            conn.execute(f"DROP DATABASE IF EXISTS {name} WITH (FORCE)")


@pytest.mark.slow
def test_postgresql_backup_and_restore(postgres_url: str, tmp_path: Path) -> None:
    for tool in ("pg_dump", "pg_restore", "createdb"):
        if shutil.which(tool) is None:
            pytest.fail(f"{tool} is not installed: it comes with PostgreSQL's client")
    url = make_url(postgres_url)
    tag = uuid.uuid4().hex[:10]
    backups = tmp_path / "backups"
    backups.mkdir()
    with fresh_database(postgres_url, f"tally_live_{tag}") as live:
        monitor, vkey = build_and_watch(live, tmp_path)
        swaps = {"/var/backups/tally/": f"{backups}/", "postgresql://tally@localhost/tally": live}
        sh(PG_BACKUP, swaps)
    restored_name = f"tally_restored_{tag}"
    restored = str(url.set(database=restored_name).render_as_string(hide_password=False))
    swaps = {
        "/var/backups/tally/": f"{backups}/",
        "postgresql://tally@localhost/tally_restored": restored,
        "--owner=tally tally_restored": f"--owner={url.username} {restored_name}",
    }
    env = {"PGHOST": url.host or "127.0.0.1", "PGPORT": str(url.port or 5432)}
    env["PGUSER"] = url.username or "postgres"
    try:
        for command in PG_RESTORE:
            out = sh(command, swaps, env)
        assert "OK: the plan's rules hold" in out
        check_the_restore(restored, monitor, vkey, tmp_path)
    finally:
        with psycopg.connect(postgres_url, autocommit=True) as conn:
            conn.execute(f"DROP DATABASE IF EXISTS {restored_name} WITH (FORCE)")
