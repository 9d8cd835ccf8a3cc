"""The verifier's saved state: where it lives, checked on load, written atomically, locked."""

from __future__ import annotations

import json
import os
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from tests.verifier.cli_support import FakeLog, HostileServer, run, run_json
from verifier.errors import StateError
from verifier.state import StateDir, default_state_dir, write_atomic


@pytest.fixture
def fake() -> FakeLog:
    return FakeLog().grow(6)


@pytest.fixture
def server(fake: FakeLog) -> Iterator[HostileServer]:
    with HostileServer(fake.route) as served:
        yield served


@pytest.fixture
def state(tmp_path: Path, fake: FakeLog, server: HostileServer) -> Path:
    folder = tmp_path / "state"
    assert run(folder, "init", server.url, "--key", fake.key).exit_code == 0
    assert run(folder, "audit").exit_code == 0
    return folder


def edit(state: Path, change: Any) -> None:
    path = state / "state.json"
    doc = json.loads(path.read_text())
    change(doc)
    path.write_text(json.dumps(doc))


def test_default_state_dir(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.setenv("XDG_STATE_HOME", str(tmp_path / "xdg"))
    assert default_state_dir() == tmp_path / "xdg" / "tally-verify"
    monkeypatch.setenv("XDG_STATE_HOME", "relative/path")  # invalid by the XDG spec
    monkeypatch.setenv("HOME", str(tmp_path / "home"))
    assert default_state_dir() == tmp_path / "home" / ".local" / "state" / "tally-verify"
    monkeypatch.delenv("XDG_STATE_HOME")
    assert default_state_dir() == tmp_path / "home" / ".local" / "state" / "tally-verify"


def test_saved_state_round_trips(state: Path) -> None:
    loaded = StateDir(state).load()
    assert loaded is not None
    assert loaded.to_json() == json.loads((state / "state.json").read_text())
    assert loaded.audit is not None
    assert loaded.audit.next_seq == 7
    assert sorted(p.name for p in state.iterdir()) == ["lock", "state.json"]


@pytest.mark.parametrize(
    ("change", "says"),
    [
        (lambda d: d.update(format="other/9"), "expected format"),
        (lambda d: d.update(trust="maybe"), "expected trust"),
        (lambda d: d.update(verifier_key="x"), "the saved verifier key is not valid"),
        (
            lambda d: d.update(checkpoint=d["checkpoint"].replace("\n7\n", "\n8\n")),
            "the saved checkpoint does not verify",
        ),
        (lambda d: d["audit"].update(next_seq=99), "between 0 and the checkpoint size 7"),
        (lambda d: d["audit"].update(frontier=[]), "frontier of 3 hashes"),
        (lambda d: d["audit"].update(last_hash="zz"), "64 hex digits"),
        (lambda d: d.pop("url"), "expected 'url'"),
    ],
)
def test_an_edited_or_damaged_state_is_refused(state: Path, change: Any, says: str) -> None:
    edit(state, change)
    result = run(state, "checkpoint")
    assert result.exit_code == 2, result.output
    assert "is unusable" in result.stderr
    assert says in result.stderr


def test_a_state_that_is_not_json(state: Path, fake: FakeLog, server: HostileServer) -> None:
    (state / "state.json").write_text('{"format": ')
    result = run(state, "audit")
    assert result.exit_code == 2
    assert "is not JSON" in result.stderr
    assert run(state, "init", server.url, "--key", fake.key).exit_code == 2
    assert run(state, "init", server.url, "--key", fake.key, "--force").exit_code == 0
    assert run(state, "checkpoint").exit_code == 0


def test_a_second_run_waits_for_no_one(state: Path) -> None:
    """While one run holds the state's lock, another refuses instead of racing it."""
    with StateDir(state).lock():
        code, doc = run_json(state, "checkpoint")
    assert code == 2
    assert "another tally-verify is using the state" in doc["message"]
    assert run(state, "checkpoint").exit_code == 0


def test_a_failed_write_leaves_the_old_state(
    state: Path, fake: FakeLog, monkeypatch: pytest.MonkeyPatch
) -> None:
    before = (state / "state.json").read_text()
    fake.grow(5)

    def crash(*_: object) -> None:
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(os, "replace", crash)
    result = run(state, "checkpoint")
    assert result.exit_code == 2
    assert "cannot save the state" in result.stderr
    assert (state / "state.json").read_text() == before
    assert sorted(p.name for p in state.iterdir()) == ["lock", "state.json"]


def test_write_atomic_never_replaces_when_told_not_to(tmp_path: Path) -> None:
    target = tmp_path / "evidence.json"
    write_atomic(target, b"first", replace=False)
    with pytest.raises(FileExistsError):
        write_atomic(target, b"second", replace=False)
    assert target.read_bytes() == b"first"
    assert [p.name for p in tmp_path.iterdir()] == ["evidence.json"]


def test_require_without_a_state(tmp_path: Path) -> None:
    with pytest.raises(StateError, match="run `tally-verify init URL` first"):
        StateDir(tmp_path).require()
