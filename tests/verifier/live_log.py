"""Real logs for the CLI tests: built with ``ledger`` and served by ``api`` over HTTP.

This module and the tests that use it are the only verifier tests allowed to
import the log side (see ``test_independence.py``): they need a real server to
point ``tally-verify`` at. Expectations never come from here.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from api.app import create_app
from ledger.instance import Ledger, init_ledger
from ledger.log.log import NewEntry
from tests.verifier.cli_support import AppServer
from tests.verifier.helpers import parse_go_private_key, vkey

ORIGIN = "test.example/log"


def build_log(folder: Path, name: str, key: Path, entries: int = 0, tag: str = "a") -> Ledger:
    """A signed log of genesis plus ``entries`` entries in ``folder/name.db``, keyed by ``key``.

    Two logs built with the same ``key`` but different ``tag`` are two histories the
    same key signed: a fork.
    """
    ledger, _ = init_ledger(f"sqlite:///{folder}/{name}.db", key, ORIGIN)
    grow(ledger, entries, tag)
    return ledger


def grow(ledger: Ledger, entries: int, tag: str = "a") -> None:
    """Append ``entries`` entries and sign a checkpoint of the new size."""
    if entries:
        ledger.log.append_batch(
            [NewEntry("demo.thing", "operator", {"i": i, "tag": tag}) for i in range(entries)]
        )
    ledger.publisher.publish()


def key_of(key_file: Path) -> str:
    """The verifier key of a key file, derived by the test helpers, not by the ledger."""
    name, seed = parse_go_private_key(key_file.read_text().strip())
    return vkey(name, seed)


def app_of(ledger: Ledger) -> Any:
    """The public API app serving ``ledger``."""
    return create_app(ledger.store)


@contextmanager
def serving(ledger: Ledger) -> Iterator[AppServer]:
    """Serve ``ledger`` on loopback for the duration of the block."""
    with AppServer(app_of(ledger)) as server:
        yield server
