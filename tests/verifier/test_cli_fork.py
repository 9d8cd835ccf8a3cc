"""Forks with real servers: one key, two histories, served at the same URL one after the other.

Two logs are built from the same key file and origin, with different entries: a
log operator who keeps both can show either to whom it likes (a split view), or
roll one back. ``tally-verify`` must refuse the second history with exit code 3,
keep the saved checkpoint, and write evidence that ``tally-verify evidence``
re-checks offline.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

from ledger.instance import Ledger
from tests.verifier.cli_support import AppServer, run, run_json
from tests.verifier.live_log import app_of, build_log, key_of


@pytest.fixture
def key_file(tmp_path: Path) -> Path:
    return tmp_path / "log.key"


@pytest.fixture
def state(tmp_path: Path) -> Path:
    return tmp_path / "state"


TwoHistories = Callable[[int, int], tuple[Ledger, Ledger]]


@pytest.fixture
def two_histories(tmp_path: Path, key_file: Path) -> Iterator[TwoHistories]:
    """Build two logs of one key: ``first`` and ``second`` entries after genesis."""
    made: list[Ledger] = []

    def make(first: int, second: int) -> tuple[Ledger, Ledger]:
        made.append(build_log(tmp_path, "a", key_file, first, tag="a"))
        made.append(build_log(tmp_path, "b", key_file, second, tag="b"))
        return made[0], made[1]

    yield make
    for ledger in made:
        ledger.close()


def init_on(server: AppServer, state: Path, key_file: Path) -> None:
    result = run(state, "init", server.url, "--key", key_of(key_file))
    assert result.exit_code == 0, result.output


def test_another_history_at_the_same_url_is_a_fork(
    two_histories: TwoHistories, key_file: Path, state: Path, tmp_path: Path
) -> None:
    a, b = two_histories(4, 9)  # 5 entries, then 10 of another history
    evidence = tmp_path / "evidence.json"
    with AppServer(app_of(a)) as server:
        init_on(server, state, key_file)
        assert run(state, "checkpoint").exit_code == 0
        before = (state / "state.json").read_text()

        server.app = app_of(b)
        result = run(state, "checkpoint", "--evidence", str(evidence))
    assert result.exit_code == 3, result.output
    assert "FORK: the operator has shown two different histories of the log" in result.stderr
    assert "whose first 5 entries have another root" in result.stderr
    assert f"Evidence saved to {evidence}" in result.stderr
    assert (state / "state.json").read_text() == before

    doc = json.loads(evidence.read_text())
    assert doc["format"] == "tally-verify-fork-evidence/1"
    assert (doc["kind"], doc["conclusive"], doc["log_shrank"]) == ("diverged", True, False)
    assert doc["verifier_key"] == key_of(key_file)
    assert doc["first"]["checkpoint"] == json.loads(before)["checkpoint"]
    assert doc["second"]["checkpoint"].startswith("test.example/log\n10\n")
    assert doc["first"]["source"] == doc["second"]["source"] == server.url
    assert doc["second"]["fetched_at"].endswith("Z")
    assert doc["consistency_proof"]["first"] == 5
    assert doc["consistency_proof"]["second"] == 10
    assert doc["second_root_at_first_size"] is not None

    checked = run(state, "evidence", str(evidence))
    assert checked.exit_code == 3, checked.output
    assert "This file shows that the log misbehaved" in checked.stdout
    assert "It is conclusive" in checked.stdout
    assert "The file's key is the one pinned in your state." in checked.stdout


def test_tampered_evidence_proves_nothing(
    two_histories: TwoHistories, key_file: Path, state: Path, tmp_path: Path
) -> None:
    a, b = two_histories(4, 9)
    evidence = tmp_path / "evidence.json"
    with AppServer(app_of(a)) as server:
        init_on(server, state, key_file)
        server.app = app_of(b)
        assert run(state, "checkpoint", "--evidence", str(evidence)).exit_code == 3
    doc = json.loads(evidence.read_text())
    lines = doc["second"]["checkpoint"].split("\n")
    lines[1] = "11"  # the size, altered after signing
    doc["second"]["checkpoint"] = "\n".join(lines)
    tampered = tmp_path / "tampered.json"
    tampered.write_text(json.dumps(doc))

    result = run(state, "evidence", str(tampered))
    assert result.exit_code == 1, result.output
    assert "This file does not prove misbehaviour" in result.stdout
    assert "does not verify with the file's key" in result.stdout

    garbage = tmp_path / "garbage.json"
    garbage.write_text("{")
    code, out = run_json(state, "evidence", str(garbage))
    assert code == 1
    assert out["holds"] is False


def test_rollback_to_a_shorter_history(
    two_histories: TwoHistories, key_file: Path, state: Path, tmp_path: Path, monkeypatch: Any
) -> None:
    a, b = two_histories(10, 4)  # 11 entries, then only 5
    monkeypatch.chdir(tmp_path)
    with AppServer(app_of(a)) as server:
        init_on(server, state, key_file)
        server.app = app_of(b)
        code, out = run_json(state, "checkpoint")
    assert code == 3
    assert (out["error"], out["kind"], out["conclusive"]) == ("fork", "rollback", False)
    written = Path(out["evidence_file"])
    assert written.parent == tmp_path
    assert written.name.startswith("tally-fork-evidence-")
    doc = json.loads(written.read_text())
    assert doc["log_shrank"] is True
    assert doc["consistency_proof"] is None

    checked = run(state, "evidence", str(written))
    assert checked.exit_code == 3
    assert "the server later presented one of only 5 entries" in checked.stdout


def test_same_size_different_roots(
    two_histories: TwoHistories, key_file: Path, state: Path, tmp_path: Path
) -> None:
    a, b = two_histories(6, 6)
    with AppServer(app_of(a)) as server:
        init_on(server, state, key_file)
        server.app = app_of(b)
        code, out = run_json(state, "audit", "--evidence", str(tmp_path))
    assert code == 3
    assert out["kind"] == "same-size"
    assert Path(out["evidence_file"]).parent == tmp_path
    assert "two different trees of the same 7 entries" in out["message"]

    code, checked = run_json(state, "evidence", out["evidence_file"])
    assert code == 3
    assert (checked["kind"], checked["conclusive"]) == ("same-size", True)


def test_two_forks_never_overwrite_each_others_evidence(
    two_histories: TwoHistories, key_file: Path, state: Path, tmp_path: Path
) -> None:
    a, b = two_histories(2, 5)
    target = tmp_path / "evidence.json"
    with AppServer(app_of(a)) as server:
        init_on(server, state, key_file)
        server.app = app_of(b)
        first = run_json(state, "checkpoint", "--evidence", str(target))[1]
        second = run_json(state, "checkpoint", "--evidence", str(target))[1]
    assert first["evidence_file"] == str(target)
    assert second["evidence_file"] == str(tmp_path / "evidence-1.json")


def test_a_dump_of_another_history_is_a_fork(
    two_histories: TwoHistories, key_file: Path, tmp_path: Path
) -> None:
    """The saved checkpoint has 4 entries (a power of two), the dump another history of 9.

    The evidence carries a proof built from the dump and the dump's root at 4, so it
    is conclusive although RFC 9162 leaves that root out of the proof itself.
    """
    a, b = two_histories(3, 8)
    member, auditor = tmp_path / "member", tmp_path / "auditor"
    folder = tmp_path / "dump"
    with AppServer(app_of(b)) as server:
        init_on(server, auditor, key_file)
        assert run(auditor, "dump", str(folder)).exit_code == 0
    with AppServer(app_of(a)) as server:
        init_on(server, member, key_file)
    code, out = run_json(member, "audit", "--dir", str(folder), "--evidence", str(tmp_path))
    assert code == 3, out
    assert (out["kind"], out["conclusive"]) == ("diverged", True)
    assert out["evidence"]["second"]["source"] == f"dump:{folder}"

    code, checked = run_json(tmp_path / "nobody", "evidence", out["evidence_file"])
    assert code == 3
    assert checked["conclusive"] is True
    assert checked["key_matches_pinned"] is None


def test_evidence_of_another_key_is_flagged(
    two_histories: TwoHistories, key_file: Path, state: Path, tmp_path: Path
) -> None:
    a, b = two_histories(4, 6)
    with AppServer(app_of(a)) as server:
        init_on(server, state, key_file)
        server.app = app_of(b)
        out = run_json(state, "checkpoint", "--evidence", str(tmp_path))[1]
    other = build_log(tmp_path, "other", tmp_path / "other.key")
    try:
        with AppServer(app_of(other)) as server:
            elsewhere = tmp_path / "elsewhere"
            assert run(elsewhere, "init", server.url).exit_code == 0
    finally:
        other.close()
    result = run(elsewhere, "evidence", out["evidence_file"])
    assert result.exit_code == 3
    assert "The file's key is NOT the one pinned in your state" in result.stdout
