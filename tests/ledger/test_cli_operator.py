"""The operator's day on the command line, on both backends: a claim cycle rehearsed on
the simulated clock, money and sentences, entry times, read-only commands without the
key, and errors that say what happened."""

from __future__ import annotations

import os
import re
import socket
from collections.abc import Iterator
from pathlib import Path

import pytest
from click.testing import CliRunner, Result

from ledger.cli import EXIT_REFUSED, EXIT_UNAVAILABLE, EXIT_USAGE, main


def run(db: str, key: Path, *args: str, clock: str | None = None) -> Result:
    env = {"TALLY_CLOCK": clock} if clock is not None else {"TALLY_CLOCK": None}
    return CliRunner().invoke(main, ["--db", db, "--key", str(key), *args], env=env)


def ok(result: Result) -> str:
    assert result.exit_code == 0, result.output
    assert "Traceback" not in result.output
    return result.stdout


def test_a_claim_cycle_rehearsed_on_the_simulated_clock(db_url: str, tmp_path: Path) -> None:
    key = tmp_path / "r.key"
    start = "2025-01-01T00:00:00Z"
    out = ok(run(db_url, key, "init", "--origin", "rehearsal.example/plan", clock=start))
    assert "ready with 1 entry, from 2025-01-01T00:00:00Z." in out
    rules = tmp_path / "rules.json"
    rules.write_text(
        ok(
            run(
                db_url,
                key,
                "rules",
                "reference",
                "--effective",
                start,
                "--member-signatures",
                "optional",
            )
        )
    )
    ok(run(db_url, key, "rules", "announce", str(rules), clock=start))
    people = tmp_path / "people.csv"
    people.write_text("age_band,name,phone\n0-39,Wu Fang,13800000001\n40-59,Li Na,1380002\n")
    member = re.findall(
        r"m-[0-9a-f]{20}", ok(run(db_url, key, "member", "import", str(people), clock=start))
    )[0]
    evidence = tmp_path / "evidence.txt"
    evidence.write_text("A&E discharge summary")
    filed = ok(
        run(
            db_url,
            key,
            *("claim", "file", member, "ACC", "--amount", "25000"),
            *("--diagnosed", "2025-01-02T08:00:00Z", "--evidence", str(evidence)),
            clock="+2d",
        )
    )
    claim = re.findall(r"c-\d+", filed)[0]
    assert filed == (
        f"Filed {claim}: {member} claims 25,000.00 yuan (2,500,000 fen) for ACC, diagnosed "
        f"2025-01-02T08:00:00Z (seq {claim[2:]}).\n"
    )
    assessed = ok(
        run(
            db_url,
            key,
            *("claim", "assess", claim, "approve", "--amount", "25,000.00"),
            *("--reason", "covered", "--report", str(evidence)),
            clock="+1h",
        )
    )
    assert "approved 25,000.00 yuan (2,500,000 fen), reason 'covered'" in assessed
    disclosed = ok(run(db_url, key, "claim", "disclose", claim, clock="+1h"))
    assert "objections are open until 2025-01-06T02:00:00Z" in disclosed
    early = run(db_url, key, "claim", "decide", claim, clock="+1d")
    assert early.exit_code == EXIT_REFUSED
    assert "claim.decided.early" in early.output
    decided = ok(run(db_url, key, "claim", "decide", claim, clock="+6d"))
    assert "approved, 25,000.00 yuan (2,500,000 fen), as assessed" in decided
    paid = ok(run(db_url, key, "claim", "pay", claim, clock="+1m"))
    seq = int(re.findall(r"seq (\d+)", paid)[0])
    assert paid == (
        f"Paid {claim}: 25,000.00 yuan (2,500,000 fen) to {member}, in period 2025-01a "
        f"(seq {seq}).\n"
    )
    missing = run(db_url, key, "period", "close", clock="2025-01-14T00:00:00Z")
    assert missing.exit_code == EXIT_USAGE
    assert "the next is 2025-01a (cutoff 2025-01-14T00:00:00Z)" in missing.output
    closed = ok(
        run(db_url, key, "period", "close", "--period", "2025-01a", clock="2025-01-14T00:00:00Z")
    )
    assert closed.startswith(f"Closed 2025-01a at seq {seq + 1}: 2 members; aid 25,000.00 yuan")
    assert "share 13,500.00 yuan (1,350,000 fen) each" in closed  # (aid + 8% fee) / 2
    assert closed.endswith(
        "The next period to close is 2025-01b, from its cutoff 2025-01-28T00:00:00Z.\n"
    )
    twice = run(
        db_url, key, "period", "close", "--period", "2025-01a", clock="2025-01-28T00:00:00Z"
    )
    assert twice.exit_code == EXIT_REFUSED
    assert f"it was closed at seq {seq + 1}" in twice.output
    assert "OK: the plan's rules hold" in ok(run(db_url, key, "check"))


def test_entry_times_and_clock_settings_are_checked(db_url: str, tmp_path: Path) -> None:
    key = tmp_path / "k.key"
    ok(run(db_url, key, "init", "--at", "2025-01-01T00:00:00Z", clock="2025-03-01T00:00:00Z"))
    rules = tmp_path / "rules.json"
    rules.write_text(
        ok(
            run(
                db_url,
                key,
                "rules",
                "reference",
                "--effective",
                "2025-01-01T00:00:00Z",
                "--member-signatures",
                "optional",
            )
        )
    )
    ok(run(db_url, key, "rules", "announce", str(rules), "--at", "2025-01-01T00:00:00Z"))
    identity = tmp_path / "id.json"
    identity.write_text('{"name": "Wu"}')
    join = ("member", "join", "--age-band", "0-39", "--identity", str(identity))
    ahead = run(db_url, key, *join, "--at", "2025-03-01T00:00:01Z", clock="2025-03-01T00:00:00Z")
    assert ahead.exit_code == EXIT_REFUSED
    assert "no later than now (2025-03-01T00:00:00Z)" in ahead.output
    ok(run(db_url, key, *join, "--at", "2025-02-01T00:00:00Z"))
    identity.write_text('{"name": "Li"}')
    back = run(db_url, key, *join, "--at", "2025-01-31T00:00:00Z")
    assert back.exit_code == EXIT_REFUSED
    assert "no earlier than the log's last entry (2025-02-01T00:00:00Z)" in back.output
    for setting, says in (
        ("tomorrow", "YYYY-MM-DDTHH:MM:SSZ or a duration"),
        ("2025-01-15T00:00:00Z", "before the log's last entry (2025-02-01T00:00:00Z)"),
        ("+3w", "expected a duration like"),
    ):
        result = run(db_url, key, *join, clock=setting)
        assert result.exit_code == EXIT_USAGE, result.output
        assert says in result.output
    future = run(db_url, key, "init", "--at", "2999-01-01T00:00:00Z", clock=None)
    assert future.exit_code == EXIT_REFUSED


def test_read_only_commands_never_need_the_key(db_url: str, tmp_path: Path) -> None:
    key = tmp_path / "k.key"
    ok(run(db_url, key, "init"))
    loose = tmp_path / "loose.key"
    loose.write_text(key.read_text())
    loose.chmod(0o644)  # a key no signing command would accept
    for absent in (tmp_path / "missing.key", loose):
        for command in (
            ["plan", "status"],
            ["rules", "show"],
            ["check"],
            ["token", "list"],
            ["claim", "queue"],
            ["member", "find", "--name", "Wu"],
        ):
            result = run(db_url, absent, *command)
            assert result.exit_code == 0, (command, result.output)
            assert "key" not in result.stderr.lower(), (command, result.stderr)
    assert "0 active members" in run(db_url, tmp_path / "missing.key", "plan", "status").stdout


def test_a_file_that_is_not_a_database(tmp_path: Path) -> None:
    junk = tmp_path / "notes.db"
    junk.write_text("shopping list: rice, tea\n")
    result = run(f"sqlite:///{junk}", tmp_path / "k.key", "init")
    assert result.exit_code == EXIT_UNAVAILABLE
    assert f"expected a SQLite database at {junk}, found a file that is not one" in result.output
    assert "Traceback" not in result.output
    assert not (tmp_path / "k.key").exists()
    assert run(f"sqlite:///{junk}", tmp_path / "k.key", "check").exit_code == EXIT_UNAVAILABLE


def test_a_key_that_is_not_the_logs(db_url: str, tmp_path: Path) -> None:
    ok(run(db_url, tmp_path / "first.key", "init"))
    fresh = run(db_url, tmp_path / "new.key", "init")
    assert fresh.exit_code == EXIT_REFUSED
    assert "no new key was made" in fresh.output
    assert not (tmp_path / "new.key").exists()
    ok(run(f"sqlite:///{tmp_path}/other.db", tmp_path / "other.key", "init"))
    for command in (["init"], ["publish"]):
        wrong = run(db_url, tmp_path / "other.key", *command)
        assert wrong.exit_code == EXIT_REFUSED
        assert "does not sign this log" in wrong.output


@pytest.fixture
def busy_port() -> Iterator[int]:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        sock.listen(1)
        yield int(sock.getsockname()[1])


def test_a_busy_port_is_said_plainly(db_url: str, tmp_path: Path, busy_port: int) -> None:
    key = tmp_path / "k.key"
    ok(run(db_url, key, "init"))
    for command in (["serve"], ["demo", "--members", "100", "--periods", "1"]):
        result = run(db_url, key, *command, "--port", str(busy_port))
        assert result.exit_code == EXIT_UNAVAILABLE, result.output
        assert f"port {busy_port} on 127.0.0.1 is already in use" in result.output
        assert "make demo PORT=" in result.output
        assert "Traceback" not in result.output
    assert os.path.exists(key)
