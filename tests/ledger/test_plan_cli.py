"""The plan's commands through `tally`, each step once, and refusals as exit code 3."""

from __future__ import annotations

import json
import re
from pathlib import Path

from click.testing import CliRunner, Result

from ledger.cli import EXIT_REFUSED, EXIT_USAGE, main

T0 = "2025-01-01T00:00:00Z"
# The rehearsal's clock: every --at below is before it, so none is in the future.
CLOCK = "2025-12-31T00:00:00Z"


def tally(db: str, key: Path, *args: str) -> Result:
    return CliRunner().invoke(
        main, ["--db", db, "--key", str(key), *args], env={"TALLY_CLOCK": CLOCK}
    )


def ok(result: Result) -> str:
    assert result.exit_code == 0, result.output
    return result.stdout


def test_a_plan_run_from_the_command_line(db_url: str, tmp_path: Path) -> None:
    key = tmp_path / "op.key"
    ok(tally(db_url, key, "init", "--origin", "cli.example/plan", "--at", T0))
    rules_file = tmp_path / "rules.json"
    reference = ("rules", "reference", "--effective", T0, "--member-signatures", "optional")
    rules_file.write_text(ok(tally(db_url, key, *reference)))
    ok(tally(db_url, key, "rules", "announce", str(rules_file), "--at", T0))
    assert json.loads(ok(tally(db_url, key, "rules", "show")))[0]["fee_bp"] == 800

    csv_file = tmp_path / "people.csv"
    csv_file.write_text(
        "age_band,name,phone\n0-39,Wu,1380000\n40-59,Li,1390000\n0-39,Zhao,1370000\n"
    )
    out = ok(tally(db_url, key, "member", "import", str(csv_file), "--at", "2025-01-02T00:00:00Z"))
    people = re.findall(r"m-[0-9a-f]{20}", out)
    assert len(people) == 3
    identity = tmp_path / "id.json"
    identity.write_text('{"name": "Sun"}')
    out = ok(
        tally(
            db_url,
            key,
            "member",
            "join",
            "--age-band",
            "0-39",
            "--identity",
            str(identity),
            "--at",
            "2025-01-02T00:00:00Z",
        )
    )
    newcomer = re.findall(r"m-[0-9a-f]{20}", out)[0]
    for day, name in (("2025-01-14", "2025-01a"), ("2025-01-28", "2025-01b")):
        ok(tally(db_url, key, "period", "close", "--period", name, "--at", f"{day}T00:00:00Z"))

    evidence = tmp_path / "evidence.pdf"
    evidence.write_bytes(b"%PDF scan")
    refused = tally(
        db_url,
        key,
        "claim",
        "file",
        people[0],
        "C50",
        "--amount-fen",
        "100000",
        "--diagnosed",
        "2025-02-01T00:00:00Z",
        "--evidence",
        str(evidence),
        "--at",
        "2025-02-02T00:00:00Z",
    )
    assert refused.exit_code == EXIT_REFUSED
    assert "claim.filed.waiting" in refused.output
    out = ok(
        tally(
            db_url,
            key,
            "claim",
            "file",
            people[0],
            "ACC",
            "--amount",
            "1000",
            "--diagnosed",
            "2025-02-01T00:00:00Z",
            "--evidence",
            str(evidence),
            "--at",
            "2025-02-02T00:00:00Z",
        )
    )
    claim = re.findall(r"c-\d+", out)[0]
    ok(
        tally(
            db_url,
            key,
            "claim",
            "assess",
            claim,
            "approve",
            "--amount",
            "1,000.00",
            "--reason",
            "covered",
            "--report",
            str(evidence),
            "--at",
            "2025-02-02T01:00:00Z",
        )
    )
    ok(tally(db_url, key, "claim", "disclose", claim, "--at", "2025-02-02T02:00:00Z"))
    ok(
        tally(
            db_url,
            key,
            "claim",
            "object",
            claim,
            people[1],
            "--reason",
            "doubt",
            "--at",
            "2025-02-03T00:00:00Z",
        )
    )
    early = tally(db_url, key, "claim", "pay", claim, "--at", "2025-02-03T00:00:00Z")
    assert early.exit_code == EXIT_REFUSED
    ok(tally(db_url, key, "claim", "decide", claim, "--at", "2025-02-09T00:00:00Z"))
    ok(tally(db_url, key, "claim", "pay", claim, "--at", "2025-02-09T00:00:01Z"))
    ok(
        tally(
            db_url,
            key,
            "claim",
            "reverse",
            claim,
            "--amount-fen",
            "100000",
            "--reason",
            "fraud",
            "--at",
            "2025-02-10T00:00:00Z",
        )
    )

    juror_key = tmp_path / "juror.key"
    public = ok(CliRunner().invoke(main, ["juror", "keygen", "--out", str(juror_key)])).strip()
    assert juror_key.stat().st_mode & 0o777 == 0o600
    ok(tally(db_url, key, "juror", "enrol", people[2], public, "--at", "2025-02-10T00:00:00Z"))
    rationale = tmp_path / "why.txt"
    rationale.write_text("The records are consistent.")
    vote = tmp_path / "vote.json"
    vote.write_text(
        ok(
            CliRunner().invoke(
                main,
                [
                    "juror",
                    "sign",
                    "--key",
                    str(juror_key),
                    "--origin",
                    "cli.example/plan",
                    "--juror",
                    people[2],
                    "--claim",
                    claim,
                    "--choice",
                    "approve",
                    "--rationale",
                    str(rationale),
                ],
            )
        )
    )
    no_panel = tally(db_url, key, "claim", "vote", str(vote), "--at", "2025-02-10T00:00:01Z")
    assert no_panel.exit_code == EXIT_REFUSED
    assert "vote.panel" in no_panel.output

    out = ok(
        tally(
            db_url, key, "period", "close", "--period", "2025-02a", "--at", "2025-02-14T00:00:00Z"
        )
    )
    assert "Closed 2025-02a" in out
    assert "aid 0.00 yuan (0 fen)" in out  # paid and recovered in the same period
    status = ok(tally(db_url, key, "plan", "status"))
    assert "4 active members" in status
    assert "1 juror;" in status
    ok(tally(db_url, key, "member", "erase", newcomer))
    checked = ok(tally(db_url, key, "check"))
    assert "plan's rules hold" in checked
    ok(
        tally(
            db_url,
            key,
            "plan",
            "wind-down",
            "--claims-until",
            "2025-12-31T00:00:00Z",
            "--at",
            "2025-02-15T00:00:00Z",
        )
    )


def test_bad_plan_input_is_refused_plainly(db_url: str, tmp_path: Path) -> None:
    key = tmp_path / "op.key"
    ok(tally(db_url, key, "init"))
    bad_csv = tmp_path / "bad.csv"
    bad_csv.write_text("age_band,name\n99-120,Old\n")
    result = tally(db_url, key, "member", "import", str(bad_csv))
    assert result.exit_code == EXIT_REFUSED
    assert "line 2: refused: expected age_band 0-39 or 40-59, found '99-120'" in result.output
    bad_rules = tmp_path / "rules.json"
    bad_rules.write_text('{"version": 1}')
    result = tally(db_url, key, "rules", "announce", str(bad_rules))
    assert result.exit_code == EXIT_REFUSED
    assert "entry.keys" in result.output
    result = tally(db_url, key, "claim", "decide", "c-999")
    assert result.exit_code == EXIT_REFUSED
    assert "Traceback" not in result.output
    result = tally(db_url, key, "period", "close", "--period", "2025-01a", "--at", "not-a-time")
    assert result.exit_code == EXIT_USAGE
