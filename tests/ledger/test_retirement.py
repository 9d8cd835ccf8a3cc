"""Retiring a log (specs/log.md §7), on both backends: a last entry naming the successor,
the final checkpoint, and nothing appended or signed after it; `tally retire` and `tally
check`; the vectors."""

from __future__ import annotations

import base64
import json
import subprocess
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner

import ledger.log.log as log_module
from ledger.check import check_log
from ledger.cli import EXIT_REFUSED, EXIT_USAGE, main
from ledger.clock import SimulatedClock
from ledger.domain.plan import Plan
from ledger.domain.rules import reference_rules
from ledger.errors import PublishError, RetiredError
from ledger.instance import Ledger
from ledger.log.entry import RETIRED_TYPE, format_time, parse_entry
from ledger.log.log import Log, NewEntry
from ledger.log.store import Store, meta_table
from ledger.publish.note import Signer, parse_signer_key
from ledger.publish.publisher import Publisher
from ledger.retirement import RetirementError, retire
from tests.conftest import SPEC_VECTORS, empty_database

NEXT = Signer("next.tally.example/log", b"\x05" * 32)
NEXT_KEY = NEXT.verifier().to_string()


def soon() -> SimulatedClock:
    """A rehearsal clock a minute ahead of now: after the fixture's genesis, not too far ahead."""
    return SimulatedClock(format_time(datetime.now(UTC) + timedelta(seconds=60)))


@contextmanager
def unchecked_sequencer(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    """A sequencer modified to append after a retirement, as a dishonest operator's would."""
    with monkeypatch.context() as patched:
        patched.setattr(log_module, "RETIRED_TYPE", "no.such.type")
        yield


def test_a_retired_log_takes_nothing_more(ledger: Ledger) -> None:
    Plan(ledger).set_rules(reference_rules(format_time(datetime.now(UTC)), member_signatures=None))
    appended, final = retire(ledger, NEXT.name, NEXT_KEY, clock=soon())
    size = ledger.log.size()
    assert appended.seq == size - 1
    assert final.checkpoint.size == size
    entry = parse_entry(appended.raw)
    assert (entry.type, dict(entry.body)) == (
        RETIRED_TYPE,
        {"successor_origin": NEXT.name, "successor_verifier_key": NEXT_KEY},
    )
    with pytest.raises(RetiredError, match=f"retired at seq {appended.seq}"):
        ledger.log.append(NewEntry("demo.note", "operator", {"n": 2}))
    with pytest.raises(RetiredError):
        Plan(ledger).join("0-39", {"name": "late"})
    with pytest.raises(RetiredError):
        retire(ledger, NEXT.name, NEXT_KEY, clock=soon())
    assert ledger.log.size() == size
    assert ledger.publisher.publish().note == final.note  # the final checkpoint, again
    report = check_log(ledger.store)
    assert report.ok, report.mismatches
    assert (report.retired, report.successor, report.final) == (
        appended.seq,
        (NEXT.name, NEXT_KEY),
        True,
    )


def test_retirement_is_the_last_of_its_batch(ledger: Ledger) -> None:
    body = {"successor_origin": NEXT.name, "successor_verifier_key": NEXT_KEY}
    with pytest.raises(RetiredError, match="last entry"):
        ledger.log.append_batch(
            [NewEntry(RETIRED_TYPE, "operator", body), NewEntry("demo.note", "operator", {})]
        )
    assert ledger.log.size() == 1


@pytest.mark.parametrize(
    ("origin", "key", "says"),
    [
        (
            "test.tally.example/log",
            Signer("test.tally.example/log", b"\x06" * 32).verifier().to_string(),
            "origin of its own",
        ),
        (NEXT.name, "not a key", "malformed"),
        ("has space", NEXT_KEY, "malformed"),
        ("other.example/log", NEXT_KEY, "named after its origin"),
    ],
)
def test_a_successor_must_be_another_log(ledger: Ledger, origin: str, key: str, says: str) -> None:
    with pytest.raises(RetirementError, match=says):
        retire(ledger, origin, key, clock=soon())
    assert ledger.log.size() == 1


def test_entries_after_the_retirement_are_caught(
    ledger: Ledger, monkeypatch: pytest.MonkeyPatch
) -> None:
    appended, _ = retire(ledger, NEXT.name, NEXT_KEY, clock=soon())
    with unchecked_sequencer(monkeypatch):
        ledger.log.append(NewEntry("demo.note", "operator", {"after": True}))
    with pytest.raises(PublishError, match=f"retired at seq {appended.seq}"):
        ledger.publisher.publish()
    report = check_log(ledger.store)
    assert [m.seq for m in report.mismatches] == [appended.seq + 1]
    assert "after the log's retirement" in report.mismatches[0].what


def test_retire_and_check_from_the_command_line(db_url: str, tmp_path: Path) -> None:
    key = str(tmp_path / "op.key")

    def tally(*args: str, text: str | None = None) -> Any:
        return CliRunner().invoke(main, ["--db", db_url, "--key", key, *args], input=text)

    assert tally("init", "--origin", "cli.example/old").exit_code == 0
    retire_args = ("retire", "--successor-origin", NEXT.name, "--successor-key", NEXT_KEY)
    declined = tally(*retire_args, text="n\n")
    assert declined.exit_code == EXIT_USAGE
    assert "nothing was retired" in declined.output
    assert tally(*retire_args).exit_code == EXIT_USAGE  # no answer at all: not retired
    assert "Retire the log cli.example/old for good?" in declined.output
    done = tally(*retire_args, "--yes")
    assert done.exit_code == 0, done.output
    assert f"Retired the log cli.example/old at seq 1; its successor is {NEXT.name}" in done.stdout
    assert "final checkpoint, of 2 entries" in done.stdout
    assert "cli.example/old\n2\n" in done.stdout  # the final checkpoint's note
    assert "\n\n\u2014 cli.example/old " in done.stdout
    checked = tally("check")
    assert checked.exit_code == 0, checked.output
    assert (
        f"The log was retired at seq 1; its successor is {NEXT.name} ({NEXT_KEY})."
        in checked.output
    )
    again = tally(*retire_args, "--yes")
    assert again.exit_code == EXIT_REFUSED
    assert "retired at seq 1" in again.output
    identity = tmp_path / "id.json"
    identity.write_text('{"name": "late"}')
    late = tally("member", "join", "--age-band", "0-39", "--identity", str(identity))
    assert late.exit_code == EXIT_REFUSED
    assert "nothing may be appended" in late.output


def _store_of(url: str, case: dict[str, Any], entries: list[str]) -> Store:
    """A store holding exactly the vector's entries, appended by the real sequencer."""
    store = Store(url, create=True)
    store.create_schema()
    with store.writer() as conn:
        conn.execute(
            meta_table.insert(),
            {
                "id": 1,
                "schema_version": 1,
                "origin": case["origin"],
                "verifier_key": case["verifier_key"],
            },
        )
    log = Log(store)
    for text in entries:
        entry = parse_entry(base64.b64decode(text))
        log.append(NewEntry(entry.type, entry.actor, entry.body, time=entry.time))
    return store


def test_the_vectors(
    backend: str, request: pytest.FixtureRequest, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    retired = json.loads((SPEC_VECTORS / "retirement" / "retired.json").read_text())
    invalid = json.loads((SPEC_VECTORS / "retirement" / "invalid.json").read_text())
    postgres = request.getfixturevalue("postgres_url") if backend == "postgresql" else None
    signer = parse_signer_key(
        json.loads((SPEC_VECTORS / "keys" / "log-key.json").read_text())["signer_key"]
    )
    with empty_database(backend, tmp_path, postgres) as url:
        store = _store_of(url, retired, retired["entries_b64"])
        with store.reader() as conn:
            assert [base64.b64encode(r).decode() for _, r in store.entry_bytes(conn, 0, 10)] == (
                retired["entries_b64"]
            )
        assert Publisher(store, signer).publish().note == retired["final_checkpoint"]
        report = check_log(store)
        assert report.ok
        assert (report.retired, report.final) == (retired["retired_seq"], True)
        store.dispose()
    for n, case in enumerate(invalid["cases"]):
        (tmp_path / str(n)).mkdir()
        with (
            empty_database(backend, tmp_path / str(n), postgres) as url,
            unchecked_sequencer(monkeypatch),
        ):
            store = _store_of(url, invalid, case["entries_b64"])
            report = check_log(store)
            assert report.mismatches[0].seq == case["error_seq"], (case["description"], report)
            store.dispose()


def test_the_vectors_regenerate_byte_for_byte(tmp_path: Path) -> None:
    subprocess.run(
        [sys.executable, str(SPEC_VECTORS / "retirement_generate.py"), str(tmp_path)], check=True
    )
    for name in ("retired.json", "invalid.json"):
        made = (tmp_path / "retirement" / name).read_bytes()
        assert made == (SPEC_VECTORS / "retirement" / name).read_bytes(), name
