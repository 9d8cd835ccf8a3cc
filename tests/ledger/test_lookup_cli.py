"""The operator's lookups on the command line, on both backends: a member by id or by
identity record, the claims queue, the plan's status with its calendar; read-only, and
without the key; an identity index built for a ledger made before it existed."""

from __future__ import annotations

import json
import re
from pathlib import Path

from sqlalchemy import text

from ledger.cli import EXIT_USAGE
from ledger.domain.identity import canonical_record
from ledger.domain.store import record_hash
from ledger.log.store import Store
from tests.ledger.test_cli_operator import ok, run

START = "2025-01-01T00:00:00Z"


def setup_plan(db: str, tmp_path: Path) -> tuple[Path, list[str], str]:
    """A plan with two members (Wu Fang and Li Na) and one claim filed by Wu Fang."""
    key = tmp_path / "k.key"
    ok(run(db, key, "init", clock=START))
    rules = tmp_path / "rules.json"
    rules.write_text(
        ok(
            run(
                db,
                key,
                "rules",
                "reference",
                "--effective",
                START,
                "--member-signatures",
                "optional",
            )
        )
    )
    ok(run(db, key, "rules", "announce", str(rules), clock=START))
    people = tmp_path / "people.csv"
    people.write_text("age_band,name,phone\n0-39,Wu Fang,13800000001\n40-59,Li Na,13800000002\n")
    joined = ok(run(db, key, "member", "import", str(people), clock=START))
    found = re.findall(r"m-[0-9a-f]{20}", joined)
    evidence = tmp_path / "e.txt"
    evidence.write_text("discharge summary")
    filed = ok(
        run(
            db,
            key,
            *("claim", "file", found[0], "ACC", "--amount", "2500"),
            *("--diagnosed", "2025-01-02T08:00:00Z", "--evidence", str(evidence)),
            clock="2025-01-03T00:00:00Z",
        )
    )
    return key, found, re.findall(r"c-\d+", filed)[0]


def test_a_member_found_by_name_phone_or_record_hash(db_url: str, tmp_path: Path) -> None:
    key, (wu, li), claim = setup_plan(db_url, tmp_path)
    absent = tmp_path / "absent.key"  # lookups never need the key
    by_name = ok(run(db_url, absent, "member", "find", "--name", " Wu Fang "))
    assert by_name.startswith(f"{wu}: active, age band 0-39; joined {START}")
    assert li not in by_name
    assert wu in ok(run(db_url, absent, "member", "find", "--phone", "13800000001"))
    both = ok(
        run(db_url, absent, "member", "find", "--field", "name=Li Na", "--phone", "13800000002")
    )
    assert li in both
    digest = record_hash(canonical_record({"name": "Li Na", "phone": "13800000002"}))
    found = json.loads(ok(run(db_url, absent, "member", "find", "--record-hash", digest, "--json")))
    assert [m["member"] for m in found["members"]] == [li]
    assert ok(run(db_url, absent, "member", "find", "--name", "Nobody")) == (
        "No member has that identity record.\n"
    )
    mismatch = ok(run(db_url, absent, "member", "find", "--name", "Wu Fang", "--phone", "1"))
    assert mismatch == "No member has that identity record.\n"
    shown = ok(run(db_url, absent, "member", "show", wu, clock="2025-01-04T00:00:00Z"))
    assert f"Claim {claim} (ACC, filed 2025-01-03T00:00:00Z): filed, claimed 2,500.00 yuan" in shown
    assert "Charged 0.00 yuan (0 fen) over 0 closed periods." in shown
    as_json = json.loads(ok(run(db_url, absent, "member", "show", wu, "--json")))
    assert as_json["joined"]["seq"] >= 2
    assert as_json["claims"][0]["claim"] == claim
    assert as_json["identity_kept"] is True
    for bad in (
        ["member", "find"],
        ["member", "find", "--record-hash", "abc"],
        ["member", "find", "--field", "name"],
        ["member", "show", "m-00000000000000000000"],
    ):
        result = run(db_url, absent, *bad)
        assert result.exit_code == EXIT_USAGE, (bad, result.output)
        assert "Traceback" not in result.output
    assert key.exists()


def test_an_erased_record_is_no_longer_found(db_url: str, tmp_path: Path) -> None:
    key, (wu, _), _ = setup_plan(db_url, tmp_path)
    ok(run(db_url, key, "member", "erase", wu))
    assert wu not in ok(run(db_url, key, "member", "find", "--name", "Wu Fang"))
    assert "Their identity record was erased." in ok(run(db_url, key, "member", "show", wu))


def test_the_queue_and_the_calendar(db_url: str, tmp_path: Path) -> None:
    key, (wu, _), claim = setup_plan(db_url, tmp_path)
    queue = ok(run(db_url, key, "claim", "queue", clock="2025-01-03T00:00:00Z"))
    assert queue == (
        "1 claim waiting at 2025-01-03T00:00:00Z:\n"
        f"  {claim} ({wu}) waits for assessment by the operator, now: filed for 250000 fen.\n"
    )
    status = ok(run(db_url, key, "plan", "status", clock="2025-01-10T00:00:00Z"))
    assert "Rules version 1; 2 active members (2 ever), 0 jurors; 1 claim;" in status
    assert "Next period 2025-01a: its cutoff is 2025-01-14T00:00:00Z." in status
    assert "1 claim waiting on the operator:" in status
    later = ok(run(db_url, key, "plan", "status", clock="2025-01-15T00:00:00Z"))
    assert "close it with `tally period close --period 2025-01a`" in later
    facts = json.loads(ok(run(db_url, key, "plan", "status", "--json")))
    assert facts["next_period"] == "2025-01a"
    assert facts["waiting"]["assessment"] == 1
    assert [w["claim"] for w in facts["operator_work"]] == [claim]


def test_a_ledger_made_before_the_identity_index(db_url: str, tmp_path: Path) -> None:
    key, (wu, li), _ = setup_plan(db_url, tmp_path)
    store = Store(db_url)
    try:
        with store.writer() as conn:
            conn.execute(text("DROP TABLE member_identity_field"))
    finally:
        store.dispose()
    # Read-only: the records are read one by one instead of the index.
    assert wu in ok(run(db_url, key, "member", "find", "--name", "Wu Fang"))
    # The next command that opens the plan builds the index from the private records
    # (here an erasure, which then removes that member's rows from it).
    ok(run(db_url, key, "member", "erase", li))
    store = Store(db_url)
    try:
        with store.reader() as conn:
            rows = conn.execute(text("SELECT count(*) FROM member_identity_field")).scalar_one()
    finally:
        store.dispose()
    assert rows == 2  # name and phone of the one record kept
    assert wu in ok(run(db_url, key, "member", "find", "--phone", "13800000001"))


def test_a_member_of_a_log_whose_plan_tables_were_never_made(db_url: str, tmp_path: Path) -> None:
    """Entries appended by another tool (a restore, a benchmark) before any command
    opened the plan: the member is shown, with no identity record kept."""
    from ledger.domain.rules import reference_rules
    from ledger.instance import init_ledger
    from ledger.log.log import NewEntry

    ledger, _ = init_ledger(db_url, tmp_path / "k.key", "bare.example/log", genesis_time=START)
    member = "m-" + "ab" * 10
    try:
        ledger.log.append_batch(
            [
                NewEntry(
                    "plan.rules",
                    "operator",
                    reference_rules(START, member_signatures=None).to_body(),
                    time=START,
                ),
                NewEntry(
                    "member.joined",
                    "operator",
                    {"member": member, "age_band": "0-39", "identity_commitment": "cd" * 32},
                    time=START,
                ),
            ]
        )
    finally:
        ledger.close()
    shown = json.loads(ok(run(db_url, tmp_path / "k.key", "member", "show", member, "--json")))
    assert (shown["member"], shown["identity_kept"]) == (member, False)
