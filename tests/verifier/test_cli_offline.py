"""``audit --dir`` on dumps made from the specs vectors, and on dumps that are not right."""

from __future__ import annotations

import base64
import json
from pathlib import Path
from typing import Any

import pytest

from tests.verifier.cli_support import run, run_json
from tests.verifier.helpers import vkey

LOG_7 = json.loads(
    (Path(__file__).resolve().parents[2] / "specs" / "vectors" / "log" / "log-7.json").read_text()
)
KEY = LOG_7["verifier_key"]


def write_dump(folder: Path, note: str, lines: list[str]) -> Path:
    folder.mkdir(exist_ok=True)
    (folder / "checkpoint").write_text(note)
    (folder / "entries.jsonl").write_text("".join(line + "\n" for line in lines))
    return folder


def vector_lines() -> list[str]:
    return [json.dumps({"seq": i, "leaf": b}) for i, b in enumerate(LOG_7["entries_b64"])]


def note_of(size: int) -> str:
    note: str = next(c["note"] for c in LOG_7["checkpoints"] if c["tree_size"] == size)
    return note


def test_the_vector_log_as_a_dump(tmp_path: Path) -> None:
    """log-7 is a vector of the log, not a plan: its chain and tree hold, its types do not."""
    folder = write_dump(tmp_path / "d", note_of(7), vector_lines())
    code, doc = run_json(tmp_path / "s", "audit", "--dir", str(folder), "--key", KEY, "--log-only")
    assert code == 0, doc
    assert doc["tree_size"] == 7
    assert doc["root"] == LOG_7["roots"]["7"]
    code, doc = run_json(tmp_path / "s", "audit", "--dir", str(folder), "--key", KEY)
    assert code == 1
    assert [(v["seq"], v["rule"]) for v in doc["violations"]] == [(1, "entry.type")]


@pytest.mark.parametrize(
    ("edit", "says"),
    [
        (lambda ls: ls.__setitem__(2, "not json"), "line 3: expected a JSON object"),
        (
            lambda ls: ls.__setitem__(2, ls[2][:-1] + ', "x": 1}'),
            'expected exactly {"seq", "leaf"}',
        ),
        (lambda ls: ls.__setitem__(2, ls[3]), "line 3: expected seq 2, found 3"),
        (
            lambda ls: ls.__setitem__(2, '{"seq": 2, "leaf": "%%%"}'),
            "leaf: expected standard base64",
        ),
        (lambda ls: ls.pop(), "holds 6 entries, but its checkpoint signs 7"),
        (lambda ls: ls.append(ls[-1]), "holds more than the 7 entries"),
    ],
)
def test_a_dump_not_in_the_format(tmp_path: Path, edit: Any, says: str) -> None:
    lines = vector_lines()
    edit(lines)
    folder = write_dump(tmp_path / "d", note_of(7), lines)
    result = run(tmp_path / "s", "audit", "--dir", str(folder), "--key", KEY)
    assert result.exit_code == 1, result.output
    assert says in result.stderr


def test_entries_swapped_in_a_dump(tmp_path: Path) -> None:
    """Entries 2 and 3 swapped, with their seq labels renumbered: the chain names seq 2."""
    raw = [base64.b64decode(b) for b in LOG_7["entries_b64"]]
    raw[2], raw[3] = raw[3], raw[2]
    lines = [
        json.dumps({"seq": i, "leaf": base64.b64encode(r).decode()}) for i, r in enumerate(raw)
    ]
    folder = write_dump(tmp_path / "d", note_of(7), lines)
    code, doc = run_json(tmp_path / "s", "audit", "--dir", str(folder), "--key", KEY)
    assert code == 1
    # log-7 is no plan (entry.type at seq 1); the chain's own break is named at seq 2.
    chain = [v for v in doc["violations"] if v["seq"] == 2]
    assert "log.seq (log.md §3): expected seq 2 next, found seq 3" in chain[0]["message"]
    assert doc["violations"][-1]["seq"] is None  # and the root does not match


def test_a_dump_checked_with_another_key(tmp_path: Path) -> None:
    folder = write_dump(tmp_path / "d", note_of(7), vector_lines())
    other = vkey("vectors.tally.example/log", b"\x05" * 32)
    result = run(tmp_path / "s", "audit", "--dir", str(folder), "--key", other)
    assert result.exit_code == 1
    assert "no signature from a known key" in result.stderr

    malformed = "vectors.tally.example/log+00000000+AeMWhPvU6hT9/0oHsD5ivumGP4XZCl63T7UzV9fPIdfz"
    result = run(tmp_path / "s", "audit", "--dir", str(folder), "--key", malformed)
    assert result.exit_code == 2  # the key ID does not match the key: a malformed --key
    assert "key ID" in result.stderr


def test_a_folder_that_is_not_a_dump(tmp_path: Path) -> None:
    (tmp_path / "d").mkdir()
    (tmp_path / "d" / "checkpoint").write_text(note_of(7))
    result = run(tmp_path / "s", "audit", "--dir", str(tmp_path / "d"), "--key", KEY)
    assert result.exit_code == 2
    assert "it has no entries.jsonl file" in result.stderr


def test_url_and_dir_together_is_a_usage_error(tmp_path: Path) -> None:
    folder = write_dump(tmp_path / "d", note_of(7), vector_lines())
    result = run(tmp_path / "s", "audit", "http://127.0.0.1:9", "--dir", str(folder))
    assert result.exit_code == 2


def test_log_only_on_the_vector_dump(tmp_path: Path) -> None:
    folder = write_dump(tmp_path / "d", note_of(7), vector_lines())
    code, doc = run_json(tmp_path / "s", "audit", "--dir", str(folder), "--key", KEY, "--log-only")
    assert code == 0, doc
    assert (doc["mode"], doc["tree_size"], doc["root"]) == ("log-only", 7, LOG_7["roots"]["7"])
    result = run(tmp_path / "s", "audit", "--dir", str(folder), "--key", KEY, "--log-only")
    assert "Their contents were not checked (--log-only)" in result.stdout


def test_log_only_names_swapped_entries_and_the_root(tmp_path: Path) -> None:
    raw = [base64.b64decode(b) for b in LOG_7["entries_b64"]]
    raw[2], raw[3] = raw[3], raw[2]
    lines = [
        json.dumps({"seq": i, "leaf": base64.b64encode(r).decode()}) for i, r in enumerate(raw)
    ]
    folder = write_dump(tmp_path / "d", note_of(7), lines)
    code, doc = run_json(tmp_path / "s", "audit", "--dir", str(folder), "--key", KEY, "--log-only")
    assert code == 1
    assert doc["violations"][0]["seq"] == 2
    assert doc["violations"][-1]["seq"] is None


def test_log_only_refuses_from_start(tmp_path: Path) -> None:
    folder = write_dump(tmp_path / "d", note_of(7), vector_lines())
    result = run(tmp_path / "s", "audit", "--dir", str(folder), "--log-only", "--from-start")
    assert result.exit_code == 2
    assert "--log-only always replays from genesis" in result.stderr


@pytest.mark.parametrize(
    ("extra", "says"),
    [
        (["--tiles"], "--tiles reads a server's tiles; a dump has none"),
        (["--tiles", "--log-only"], "--tiles reads a server's tiles; a dump has none"),
        (["--from-start"], "--dir always replays the dump from genesis; drop --from-start"),
        (["--log-only", "--evidence", "ev.json"], "so it writes no fork evidence"),
    ],
)
def test_options_a_dump_would_ignore_are_refused(
    tmp_path: Path, extra: list[str], says: str
) -> None:
    """Nothing given is silently ignored: each combination says why it cannot be."""
    folder = write_dump(tmp_path / "d", note_of(7), vector_lines())
    result = run(tmp_path / "s", "audit", "--dir", str(folder), "--key", KEY, *extra)
    assert result.exit_code == 2, result.output
    assert says in result.stderr
    assert not (tmp_path / "s").exists()


def test_evidence_with_a_full_dump_audit_is_used(tmp_path: Path) -> None:
    """--evidence goes with --dir when the dump is compared with the saved checkpoint."""
    folder = write_dump(tmp_path / "d", note_of(7), vector_lines())
    evidence = str(tmp_path / "ev.json")
    code, doc = run_json(
        tmp_path / "s", "audit", "--dir", str(folder), "--key", KEY, "--evidence", evidence
    )
    # Accepted (not a usage error): the audit ran and found log-7 is no plan.
    assert code == 1, doc
    assert [(v["seq"], v["rule"]) for v in doc["violations"]] == [(1, "entry.type")]


def test_key_is_for_a_dump_only(tmp_path: Path) -> None:
    result = run(tmp_path / "s", "audit", "--key", KEY)
    assert result.exit_code == 2
    assert "--key is for --dir" in result.stderr
