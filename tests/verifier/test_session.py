"""The verifier's library behind the commands, called directly as another program would.

Pinning a key (verifier.pinning), the session whose checkpoint only grows
(verifier.session), online and dump audits (verifier.audit_online,
verifier.audit_dump), against a log built from the specs and served on loopback.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import AbstractContextManager
from pathlib import Path

import pytest

from tests.verifier.cli_support import FakeLog, HostileServer
from verifier.audit import AuditFailedError
from verifier.audit_dump import audit_dump, audit_dump_links, holds_dump, save_dump
from verifier.audit_online import audit_links, audit_log
from verifier.b64 import encode
from verifier.errors import StateError, VerificationError
from verifier.fork import ROLLBACK, SAME_SIZE, ForkError
from verifier.note import parse_verifier_key
from verifier.pinning import pin_log
from verifier.progress import Advance
from verifier.session import open_session
from verifier.state import TRUST_PINNED, TRUST_TOFU, StateDir


@pytest.fixture
def fake() -> FakeLog:
    return FakeLog().grow(20)


@pytest.fixture
def server(fake: FakeLog) -> Iterator[HostileServer]:
    with HostileServer(fake.route) as served:
        yield served


@pytest.fixture
def folder(tmp_path: Path, fake: FakeLog, server: HostileServer) -> StateDir:
    """A state pinned to the fake log's key."""
    state_dir = StateDir(tmp_path / "state")
    pin_log(state_dir, server.url, parse_verifier_key(fake.key), force=False, timeout=5)
    return state_dir


def test_pin_log(tmp_path: Path, fake: FakeLog, server: HostileServer) -> None:
    state_dir = StateDir(tmp_path / "s")
    first = pin_log(state_dir, server.url, None, force=False, timeout=5)
    assert (first.state.trust, first.checkpoint.size, first.growth) == (TRUST_TOFU, 21, None)
    again = pin_log(state_dir, server.url, parse_verifier_key(fake.key), force=False, timeout=5)
    assert again.state.trust == TRUST_PINNED
    assert again.growth is not None
    assert not again.growth.json()["grew"]
    other = parse_verifier_key(FakeLog(seed=b"\x09" * 32).key)
    with pytest.raises(VerificationError, match="the server states"):
        pin_log(state_dir, server.url, other, force=False, timeout=5)
    (state_dir.path / "state.json").write_text("{")
    with pytest.raises(StateError):
        pin_log(state_dir, server.url, None, force=False, timeout=5)
    assert pin_log(state_dir, server.url, None, force=True, timeout=5).state.trust == TRUST_TOFU


def test_refresh_saves_growth(folder: StateDir, fake: FakeLog) -> None:
    fake.grow(5)
    with open_session(folder, 5) as session:
        grown = session.refresh()
    assert (grown.old.size, grown.new.size) == (21, 26)
    assert grown.sentence() == "The log grew from 21 to 26 entries without rewriting any of them."
    saved = folder.load()
    assert saved is not None
    assert saved.verified_checkpoint.size == 26


def test_refresh_raises_a_fork_with_the_key_and_keeps_the_state(
    folder: StateDir, fake: FakeLog, server: HostileServer
) -> None:
    before = (folder.path / "state.json").read_text()
    other = FakeLog(entries=[*fake.entries[:10]]).grow(11, tag="b")  # same key, other history
    server.route = other.route
    with open_session(folder, 5) as session, pytest.raises(ForkError) as caught:
        session.refresh()
    assert (caught.value.fork.kind, caught.value.verifier_key) == (SAME_SIZE, fake.key)
    server.route = FakeLog(entries=fake.entries[:5]).route
    with open_session(folder, 5) as session, pytest.raises(ForkError) as caught:
        session.refresh()
    assert caught.value.fork.kind == ROLLBACK
    assert (folder.path / "state.json").read_text() == before


class Bar:
    """A progress callback that records what it was told."""

    def __init__(self) -> None:
        self.seen: dict[str, int] = {}

    def __call__(self, label: str, done: int, total: int) -> AbstractContextManager[Advance]:
        self.seen[label] = done
        outer = self

        class Context(AbstractContextManager[Advance]):
            def __enter__(self) -> Advance:
                def advance(n: int) -> None:
                    outer.seen[label] += n

                return advance

            def __exit__(self, *_: object) -> None:
                return None

        return Context()


def test_audit_log_resumes_and_reports_progress(folder: StateDir, fake: FakeLog) -> None:
    bar = Bar()
    with open_session(folder, 5) as session:
        done = audit_log(session, from_start=False, tiles=False, progress=bar)
    assert (done.start, done.growth.new.size, bar.seen["Auditing"]) == (0, 21, 21)
    assert done.plan is not None
    fake.grow(4)
    with open_session(folder, 5) as session:
        done = audit_log(session, from_start=False, tiles=False)
    assert (done.start, done.growth.new.size) == (21, 25)
    saved = folder.load()
    assert saved is not None
    assert saved.audit is not None
    assert saved.audit.next_seq == 25


def test_audit_links_and_a_bad_entry(
    folder: StateDir, fake: FakeLog, server: HostileServer
) -> None:
    with open_session(folder, 5) as session:
        done = audit_links(session, tiles=False)
    assert (done.growth.new.size, done.plan) == (21, None)
    bad = FakeLog(entries=list(fake.entries))
    bad.entries[7] = FakeLog.make(7, "0" * 64, "demo.thing", {"i": 7})
    server.route = lambda p, q: (bad if p == "/v1/entries" else fake).route(p, q)
    with open_session(folder, 5) as session, pytest.raises(AuditFailedError) as caught:
        audit_links(session, tiles=False)
    assert caught.value.violations[0].seq == 7


def test_save_then_audit_a_dump(folder: StateDir, fake: FakeLog, tmp_path: Path) -> None:
    dump = tmp_path / "dump"
    assert not holds_dump(dump)
    with open_session(folder, 5) as session:
        grown = save_dump(session, dump)
    assert grown.new.size == 21
    assert holds_dump(dump)
    state, key = folder.load(), parse_verifier_key(fake.key)
    done = audit_dump(dump, key, state)
    assert (done.checkpoint.size, done.compared) == (21, True)
    assert audit_dump_links(dump, key).size == 21
    # A dump of the same key and size but another history is a fork of the saved one.
    forked = FakeLog(entries=[*fake.entries[:10]]).grow(11, tag="b")
    other = tmp_path / "other"
    other.mkdir()
    (other / "checkpoint").write_text(forked.checkpoint())
    (other / "entries.jsonl").write_text(
        "".join(f'{{"seq":{i},"leaf":"{encode(r)}"}}\n' for i, r in enumerate(forked.entries))
    )
    with pytest.raises(ForkError) as caught:
        audit_dump(other, key, state)
    assert (caught.value.fork.kind, caught.value.verifier_key) == (SAME_SIZE, fake.key)
