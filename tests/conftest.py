"""Fixtures shared by every test package: vector folders and the two storage backends.

Every storage test takes ``db_url`` (or, for a database shared by a module's tests,
``module_db_url``) and so runs twice: on SQLite in a temporary folder and on
PostgreSQL in a fresh schema of the database named by
``TALLY_TEST_POSTGRES_URL`` (``.ci/run`` creates one per run and exports it).
Without that variable the tests try the local server; if it is unreachable they
skip, except under ``CI=true``, where they fail: CI never skips PostgreSQL.
"""

from __future__ import annotations

import os
import sys
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any
from urllib.parse import quote

import psycopg
import pytest

from ledger.instance import Ledger, init_ledger

REPO = Path(__file__).resolve().parents[1]
SPEC_VECTORS = REPO / "specs" / "vectors"
SHARED_VECTORS = REPO.parent / "shared" / "vectors"
PG_ENV = "TALLY_TEST_POSTGRES_URL"
PG_DEFAULT = "postgresql://postgres@127.0.0.1:5432/postgres"
TEST_ORIGIN = "test.tally.example/log"

# The suite starts Python processes by the hundred (`tally`, `tally-verify`, servers and
# their workers), and each pytest-xdist worker imports every test module: with
# PYTHONDONTWRITEBYTECODE set, each would compile the project, and rewrite the tests'
# asserts, anew. Here bytecode is kept, in the usual (ignored) __pycache__ folders.
if os.environ.pop("PYTHONDONTWRITEBYTECODE", None):
    sys.dont_write_bytecode = False

# Memory-backed, where the machine has it (Linux): the temporary folders go there.
MEMORY_TEMP = Path("/dev/shm")
TEMP_ROOT_ENV = "PYTEST_DEBUG_TEMPROOT"


def pytest_configure(config: pytest.Config) -> None:
    """Keep the tests' temporary folders in memory when the machine has a memory-backed
    folder and no other place was asked for (``--basetemp``, or pytest's own
    ``PYTEST_DEBUG_TEMPROOT``). The SQLite logs the tests make there are written with
    ``synchronous=FULL``: on a disk each of their thousands of commits waits for the
    disk, which is not what these tests are about (none of them cuts the power).
    The variable is inherited by pytest-xdist's workers."""
    if config.option.basetemp or TEMP_ROOT_ENV in os.environ:
        return
    if MEMORY_TEMP.is_dir() and os.access(MEMORY_TEMP, os.W_OK | os.X_OK):
        os.environ[TEMP_ROOT_ENV] = str(MEMORY_TEMP)


@pytest.fixture(scope="session")
def shared_vectors() -> Path:
    """The public conformance vectors beside the repository; skip when absent."""
    if not SHARED_VECTORS.is_dir():
        pytest.skip(f"shared conformance vectors not found at {SHARED_VECTORS}")
    return SHARED_VECTORS


@pytest.fixture(scope="session")
def postgres_url() -> str:
    """A reachable PostgreSQL database URL, or a skip (a failure under CI=true)."""
    url = os.environ.get(PG_ENV, PG_DEFAULT)
    try:
        psycopg.connect(url, connect_timeout=5).close()
    except psycopg.OperationalError as exc:
        reason = f"PostgreSQL unreachable at {url}: {str(exc).strip().splitlines()[0]}"
        if os.environ.get("CI") == "true" or PG_ENV in os.environ:
            pytest.fail(reason)
        pytest.skip(reason)
    return url


# One connection per test process and server makes and drops the tests' schemas: a
# connection of its own for each would start a server process twice a test.
_SCHEMA_MAKERS: dict[str, psycopg.Connection[tuple[Any, ...]]] = {}


def schema_maker(postgres: str) -> psycopg.Connection[tuple[Any, ...]]:
    """This process's autocommit connection to ``postgres``, opened on first use."""
    conn = _SCHEMA_MAKERS.get(postgres)
    if conn is None or conn.closed or conn.broken:
        conn = _SCHEMA_MAKERS[postgres] = psycopg.connect(postgres, autocommit=True)
    return conn


def pytest_sessionfinish() -> None:
    """Close the schema makers' connections."""
    while _SCHEMA_MAKERS:
        _SCHEMA_MAKERS.popitem()[1].close()


@contextmanager
def empty_database(backend: str, folder: Path, postgres: str | None) -> Iterator[str]:
    """An empty database: a new SQLite file in ``folder``, or a new PostgreSQL schema."""
    if backend == "sqlite":
        yield f"sqlite:///{folder}/tally-{uuid.uuid4().hex[:8]}.db"
        return
    assert postgres is not None
    schema = f"t_{uuid.uuid4().hex[:16]}"
    schema_maker(postgres).execute(f"CREATE SCHEMA {schema}")
    separator = "&" if "?" in postgres else "?"
    try:
        yield f"{postgres}{separator}options={quote(f'-csearch_path={schema}')}"
    finally:
        schema_maker(postgres).execute(f"DROP SCHEMA {schema} CASCADE")


@pytest.fixture(params=["sqlite", "postgresql"])
def backend(request: pytest.FixtureRequest) -> str:
    """Each storage backend in turn (PostgreSQL only when reachable; always in CI)."""
    if request.param == "postgresql":
        request.getfixturevalue("postgres_url")
    return str(request.param)


@pytest.fixture
def db_url(backend: str, request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    """A URL to an empty database on each backend in turn."""
    postgres = request.getfixturevalue("postgres_url") if backend == "postgresql" else None
    with empty_database(backend, tmp_path, postgres) as url:
        yield url


@pytest.fixture(scope="module", params=["sqlite", "postgresql"])
def module_db_url(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[str]:
    """Like ``db_url``, but one empty database per backend for a whole module: for a
    fixture that fills it once for tests that only read it, or whose every command is
    refused (each of those checks that nothing was appended)."""
    postgres = request.getfixturevalue("postgres_url") if request.param == "postgresql" else None
    with empty_database(str(request.param), tmp_path_factory.mktemp("module-db"), postgres) as url:
        yield url


@pytest.fixture
def key_path(tmp_path: Path) -> Path:
    """Where the test log's key file goes (it does not exist yet)."""
    return tmp_path / "keys" / "log.key"


@pytest.fixture
def ledger(db_url: str, key_path: Path) -> Iterator[Ledger]:
    """A freshly initialised log (genesis and one checkpoint) on each backend."""
    made, _ = init_ledger(db_url, key_path, TEST_ORIGIN)
    yield made
    made.close()


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """Run the tests marked slow first: in a parallel run (pytest-xdist, `make test`) they
    then overlap the many quick ones instead of finishing last, alone.

    The browser tests come next: they share a demo and a server that take a while to
    make, once per process. `--dist worksteal` gives each process a contiguous part of
    this order and lets an idle one take the end of another's part: near the start of
    a part, they have run before another process could take them and make its own."""
    items.sort(
        key=lambda item: (
            item.get_closest_marker("slow") is None,
            item.get_closest_marker("browser") is None,
        )
    )
