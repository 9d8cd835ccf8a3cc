"""Real logs for the CLI tests: built with ``ledger`` and served by ``api`` over HTTP.

This module and the tests that use it are the only verifier tests allowed to
import the log side (see ``test_independence.py``): they need a real server to
point ``tally-verify`` at. Expectations never come from here.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from api.app import create_app
from ledger.instance import Ledger, init_ledger
from ledger.log.entry import format_time
from ledger.log.log import NewEntry
from tests.plan_entries import joined_body, rules_body
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
    """Append ``entries`` plan entries and sign a checkpoint of the new size.

    The first entry after genesis is the plan's rules; every other is a member joining,
    whose id depends on ``tag`` (specs/plan.md: a plan's log holds no other types).
    """
    size = ledger.log.size()
    now = format_time(datetime.now(UTC))
    batch = []
    for seq in range(size, size + entries):
        if seq == 1:
            batch.append(NewEntry("plan.rules", "operator", rules_body(now), time=now))
        else:
            batch.append(NewEntry("member.joined", "operator", joined_body(tag, seq), time=now))
    if batch:
        ledger.log.append_batch(batch)
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
