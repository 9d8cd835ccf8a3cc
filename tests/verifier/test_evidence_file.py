"""The one evidence writer, and reading evidence back (verifier.evidence_file)."""

from __future__ import annotations

import json
from pathlib import Path

from tests.verifier.cli_support import FakeLog
from verifier.checkpoint import verify_checkpoint
from verifier.evidence_file import (
    check_evidence_file,
    evidence_name,
    write_evidence,
    write_fork_evidence,
)
from verifier.fork import SAME_SIZE, Fork, Seen
from verifier.note import parse_verifier_key


def test_the_name_carries_the_time() -> None:
    name = evidence_name("fork", "2026-01-02T03:04:05Z")
    assert name == "tally-fork-evidence-20260102T030405Z.json"


def test_never_over_earlier_evidence(tmp_path: Path) -> None:
    name = "tally-x-evidence-1.json"
    first = write_evidence({"n": 1}, tmp_path, name)
    second = write_evidence({"n": 2}, tmp_path, name)
    third = write_evidence({"n": 3}, tmp_path / name, name)
    assert [w.path for w in (first, second, third)] == [
        tmp_path / name,
        tmp_path / "tally-x-evidence-1-1.json",
        tmp_path / "tally-x-evidence-1-2.json",
    ]
    assert [json.loads(w.path.read_text())["n"] for w in (first, second, third) if w.path] == [
        1,
        2,
        3,
    ]
    assert (tmp_path / name).read_text().endswith("}\n")


def test_an_unwritable_place_is_reported_not_raised(tmp_path: Path) -> None:
    written = write_evidence({"n": 1}, tmp_path / "no" / "such" / "folder" / "e.json", "e.json")
    assert written.path is None
    assert written.error
    assert written.document == {"n": 1}


def test_fork_evidence_written_then_rechecked(tmp_path: Path) -> None:
    log = FakeLog().grow(5)
    other = FakeLog(entries=log.entries[:3]).grow(3, tag="b")
    key = parse_verifier_key(log.key)
    a, b = log.checkpoint(), other.checkpoint()
    fork = Fork(
        SAME_SIZE,
        Seen(a, verify_checkpoint(a, key), "http://a", None),
        Seen(b, verify_checkpoint(b, key), "http://b", None),
    )
    written = write_fork_evidence(fork, log.key, tmp_path)
    assert written.path is not None
    assert written.path.name.startswith("tally-fork-evidence-")
    checked = check_evidence_file(written.path, key)
    assert checked.verdict.holds
    assert checked.verdict.conclusive
    assert checked.verdict.key_matches_pinned is True
    assert not checked.about_receipt


def test_a_file_that_is_not_strict_json_proves_nothing(tmp_path: Path) -> None:
    path = tmp_path / "e.json"
    path.write_text('{"kind": "receipt_censorship", "kind": "x"}')
    checked = check_evidence_file(path, None)
    assert not checked.verdict.holds
    assert checked.message.startswith("The file does not prove anything: cannot read")
    assert "twice in one object" in checked.message
