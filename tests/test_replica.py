"""`tally serve --read-only` on a real PostgreSQL hot standby, fed by streaming replication.

The test makes the standby itself: ``pg_basebackup -R`` from the test server, a
second cluster on a free port (as the ``postgres`` user when the test runs as root,
since PostgreSQL refuses to run as root), and removes it afterwards. The log is
written on the primary only; the read-only server on the standby answers the public
API, ``tally-verify`` audits it, follows its growth, and ``tally tiles export`` reads
from it too. A standby refuses every write, so this also proves that nothing a
read-only server does at startup or per request writes.

The test server must allow replication connections from 127.0.0.1 (``.ci/run`` sees
to it); without that the test skips, and fails under CI=true.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import NoReturn

import httpx
import psycopg
import pytest
from click.testing import CliRunner
from sqlalchemy.engine import make_url

from ledger.cli import main
from ledger.instance import Ledger, init_ledger
from tests.conftest import REPO, TEST_ORIGIN, empty_database
from tests.test_deploy import wait_for
from tests.test_end_to_end import free_port
from tests.verifier.cli_support import run_json
from tests.verifier.live_log import grow, key_of

pytestmark = pytest.mark.slow
CATCH_UP = 60.0
"""Seconds the standby may take to replay the primary's latest writes."""


def unavailable(reason: str) -> NoReturn:
    """Skip, or fail under CI=true: CI never skips PostgreSQL."""
    if os.environ.get("CI") == "true":
        pytest.fail(reason)
    pytest.skip(reason)


def as_postgres(command: list[str]) -> list[str]:
    """``command`` as the ``postgres`` OS user when running as root."""
    return ["runuser", "-u", "postgres", "--", *command] if os.geteuid() == 0 else command


def pg_bin(primary: psycopg.Connection[tuple[object, ...]]) -> Path:
    """The server binaries of the primary's major version."""
    major = int(str(primary.execute("SHOW server_version_num").fetchone()[0])) // 10_000  # type: ignore[index]
    found = Path(f"/usr/lib/postgresql/{major}/bin")
    if not (found / "pg_ctl").exists():
        unavailable(f"no PostgreSQL {major} server binaries at {found}")
    return found


def check_replication_allowed(primary: psycopg.Connection[tuple[object, ...]]) -> None:
    """Skip (fail in CI) unless the primary can feed a standby over loopback."""
    setting = {
        name: str(primary.execute(f"SHOW {name}").fetchone()[0])  # type: ignore[index]
        for name in ("wal_level", "max_wal_senders")
    }
    if setting["wal_level"] == "minimal" or setting["max_wal_senders"] == "0":
        unavailable(f"the test server cannot feed a standby: {setting}")
    rules = primary.execute(
        "SELECT 1 FROM pg_hba_file_rules WHERE 'replication' = ANY(database) "
        "AND (address = '127.0.0.1' OR address IS NULL AND type = 'host')"
    ).fetchall()
    if not rules:
        unavailable(
            "the test server's pg_hba.conf allows no replication connection from 127.0.0.1 "
            "(add 'host replication all 127.0.0.1/32 trust' as .ci/run does)"
        )


@contextmanager
def standby(primary_url: str) -> Iterator[int]:
    """A hot standby of the test server on a free port, removed afterwards; its port."""
    url = make_url(primary_url)
    with psycopg.connect(primary_url, autocommit=True) as primary:
        check_replication_allowed(primary)
        binaries = pg_bin(primary)
        limits = {
            name: str(primary.execute(f"SHOW {name}").fetchone()[0])  # type: ignore[index]
            for name in ("max_connections", "max_worker_processes", "max_locks_per_transaction")
        }
    home = Path(tempfile.mkdtemp(prefix="tally-standby-"))
    data, port = home / "data", free_port()
    if os.geteuid() == 0:
        shutil.chown(home, "postgres", "postgres")
    try:
        subprocess.run(
            as_postgres(
                [
                    str(binaries / "pg_basebackup"),
                    *("-h", url.host or "127.0.0.1", "-p", str(url.port or 5432)),
                    *("-U", url.username or "postgres", "-D", str(data), "-R"),
                    *("-X", "stream", "-c", "fast"),
                ]
            ),
            check=True,
            capture_output=True,
            timeout=300,
        )
        conf = [f"port = {port}", "listen_addresses = '127.0.0.1'", "hot_standby = on"]
        conf += [f"unix_socket_directories = '{home}'"]
        conf += [f"{name} = {value}" for name, value in limits.items()]
        _write_as_postgres(data / "postgresql.conf", "\n".join(conf) + "\n")
        hba = "local all all trust\nhost all all 127.0.0.1/32 trust\n"
        _write_as_postgres(data / "pg_hba.conf", hba)
        _write_as_postgres(data / "pg_ident.conf", "")
        subprocess.run(
            as_postgres(
                [
                    *(str(binaries / "pg_ctl"), "-D", str(data), "-l", str(home / "log")),
                    *("-w", "-t", "120", "start"),
                ]
            ),
            check=True,
            capture_output=True,
            timeout=180,
        )
        yield port
    finally:
        if (data / "postmaster.pid").exists():
            subprocess.run(
                as_postgres([str(binaries / "pg_ctl"), "-D", str(data), "-m", "fast", "stop"]),
                capture_output=True,
                timeout=120,
            )
        shutil.rmtree(home, ignore_errors=True)


def _write_as_postgres(path: Path, text: str) -> None:
    path.write_text(text)
    if os.geteuid() == 0:
        shutil.chown(path, "postgres", "postgres")


def caught_up(primary_url: str, replica_url: str) -> None:
    """Wait until the standby has replayed everything the primary has written."""
    with psycopg.connect(primary_url, autocommit=True) as primary:
        lsn = primary.execute("SELECT pg_current_wal_lsn()").fetchone()[0]  # type: ignore[index]
    deadline = time.monotonic() + CATCH_UP
    with psycopg.connect(replica_url, autocommit=True) as replica:
        assert replica.execute("SELECT pg_is_in_recovery()").fetchone() == (True,)
        replayed = "SELECT pg_last_wal_replay_lsn() >= %s::pg_lsn"
        while replica.execute(replayed, (lsn,)).fetchone() != (True,):
            if time.monotonic() > deadline:
                raise AssertionError(f"the standby did not replay up to {lsn}")
            time.sleep(0.1)


@contextmanager
def read_only_server(db: str, key: Path, log: Path) -> Iterator[str]:
    """``tally serve --read-only`` on ``db`` (given the key, which it must not use)."""
    port = free_port()
    with log.open("w") as err:
        server = subprocess.Popen(
            [
                *(sys.executable, "-m", "ledger.cli", "--db", db, "--key", str(key)),
                *("serve", "--read-only", "--port", str(port)),
            ],
            cwd=REPO,
            stdout=subprocess.DEVNULL,
            stderr=err,
        )
        try:
            wait_for(f"http://127.0.0.1:{port}/healthz")
            yield f"http://127.0.0.1:{port}"
        finally:
            server.terminate()
            server.wait(timeout=30)


def test_a_read_only_server_on_a_hot_standby(postgres_url: str, tmp_path: Path) -> None:
    key = tmp_path / "log.key"
    with empty_database("postgresql", tmp_path, postgres_url) as url:
        ledger, _ = init_ledger(url, key, TEST_ORIGIN)
        try:
            grow(ledger, 300)
            with standby(postgres_url) as port:
                replica = make_url(url).set(port=port).render_as_string(hide_password=False)
                caught_up(url, replica)
                _serve_and_audit(ledger, url, replica, key, tmp_path)
        finally:
            ledger.close()


def _serve_and_audit(ledger: Ledger, url: str, replica: str, key: Path, tmp_path: Path) -> None:
    errors = tmp_path / "serve.log"
    state = tmp_path / "state"
    with read_only_server(replica, key, errors) as base:
        log = httpx.get(f"{base}/v1/log").json()
        assert log["tree_size"] == 301
        assert httpx.get(f"{base}/v1/checkpoint").text.split("\n")[1] == "301"
        assert len(httpx.get(f"{base}/v1/entries?start=0&end=5").json()["entries"]) == 5
        assert httpx.get(f"{base}/v1/proof/inclusion?seq=7&tree_size=301").status_code == 200
        assert httpx.get(f"{base}/tile/entries/000").status_code == 200
        assert httpx.get(f"{base}/admin/v1/members/x").status_code == 404  # no admin API
        code, doc = run_json(state, "init", base, "--key", key_of(key))
        assert code == 0, doc
        code, doc = run_json(state, "audit")
        assert (code, doc["entries_checked"]) == (0, 301), doc

        # The primary grows; the standby follows; the audit follows it.
        grow(ledger, 100)
        caught_up(url, replica)
        code, doc = run_json(state, "audit")
        assert (code, doc["entries_checked"]) == (0, 100), doc

        # The static tiles can be exported from the standby too (no key, no writes).
        exported = CliRunner().invoke(
            main, ["--db", replica, "tiles", "export", str(tmp_path / "www")]
        )
        assert exported.exit_code == 0, exported.output
        assert (tmp_path / "www" / "tile" / "entries" / "001.p/145").is_file()
    said = errors.read_text()
    assert "Serving read-only (--read-only)" in said
    assert "Admin API" not in said
    assert "read-only transaction" not in said, said  # nothing tried to write
    assert "Traceback" not in said, said
