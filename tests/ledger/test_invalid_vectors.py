"""The negative vectors of specs/plan.md §10, on the ledger, on both backends.

Each vector is a prefix of a base plan (``plan/invalid/base.json``, or the plan under
member signatures ``base-signed.json`` that it names) and one entry that breaks one
rule. The ledger must refuse that entry as a command, naming the rule's id, and
append nothing; and ``tally check`` must name the rule and the seq on a log that
holds the entry (put there behind the plan's back, as a rewriting operator would).
The rule table itself is held to specs/plan.md: every id has a vector, every
vector names an id of the table.
"""

from __future__ import annotations

import base64
import json
import os
import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner

from ledger.cli import main
from ledger.domain.errors import RuleError
from ledger.domain.plan import Plan
from ledger.domain.rule_ids import RULES
from ledger.instance import Ledger, init_ledger
from ledger.log.entry import parse_entry
from ledger.log.log import NewEntry
from tests.conftest import SPEC_VECTORS

INVALID = SPEC_VECTORS / "plan" / "invalid"
BASES = {p.name: json.loads(p.read_text()) for p in INVALID.glob("base*.json")}
BASE_RAWS = {
    name: [base64.b64decode(b) for b in base["entries_b64"]] for name, base in BASES.items()
}
VECTORS = sorted(p for p in INVALID.glob("*.json") if p.name not in BASES)
KEY_DOC = json.loads((SPEC_VECTORS / "keys" / "log-key.json").read_text())
PLAN_MD = SPEC_VECTORS.parent / "plan.md"


def spec_table() -> dict[str, str]:
    """Rule id -> section, read from the table of specs/plan.md §10."""
    text = PLAN_MD.read_text().split("## 10. Rule ids", 1)[1]
    return {
        m.group(1): m.group(2).strip()
        for m in re.finditer(r"^\| `([a-z_.]+)` \| ([^|]+) \| .+ \|$", text, re.MULTILINE)
    }


def test_the_ledger_names_rules_by_the_spec_table_alone() -> None:
    assert dict(RULES) == spec_table()


def test_every_rule_has_a_vector_and_every_vector_a_rule() -> None:
    named = {json.loads(p.read_text())["rule"] for p in VECTORS}
    assert set(spec_table()) - named == set(), "rules without a negative vector"
    assert named - set(spec_table()) == set(), "vectors naming no rule of the table"


def test_vector_files_are_named_by_their_rule() -> None:
    for path in VECTORS:
        rule = json.loads(path.read_text())["rule"]
        assert path.stem == rule or path.stem.startswith(rule + "-"), path.name


def key_file(folder: Path) -> Path:
    """The published vector key, as a key file (mode 0600)."""
    path = folder / "vectors.key"
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(fd, "w") as out:
        out.write(KEY_DOC["signer_key"] + "\n")
    return path


def as_new(raw: bytes) -> NewEntry:
    """An entry's bytes as the command that appends exactly them again."""
    entry = parse_entry(raw)
    return NewEntry(entry.type, entry.actor, dict(entry.body), time=entry.time)


def ledger_holding(db_url: str, folder: Path, raws: list[bytes]) -> Ledger:
    """A ledger on ``db_url`` whose log is exactly ``raws`` (the vector key's genesis first)."""
    first = parse_entry(raws[0])
    ledger, _ = init_ledger(db_url, key_file(folder), KEY_DOC["origin"], genesis_time=first.time)
    ledger.log.append_batch([as_new(raw) for raw in raws[1:]])
    stored = [raw for _, raw in ledger.log.entries(0, ledger.log.size())]
    assert stored == raws, "the vector's entries re-encode to other bytes"
    return ledger


@pytest.fixture(params=VECTORS, ids=lambda p: p.stem)
def vector(request: pytest.FixtureRequest) -> dict[str, Any]:
    return dict(json.loads(request.param.read_text()))


@pytest.fixture
def prefix(vector: dict[str, Any], db_url: str, tmp_path: Path) -> Iterator[Ledger]:
    ledger = ledger_holding(db_url, tmp_path, BASE_RAWS[vector["base"]][: vector["prefix"]])
    yield ledger
    ledger.close()


def test_the_ledger_refuses_and_check_names_the_rule(
    vector: dict[str, Any], prefix: Ledger, db_url: str
) -> None:
    raw = base64.b64decode(vector["entry_b64"])
    assert json.loads(raw) == vector["entry"]
    size = prefix.log.size()
    assert size == vector["seq"]
    with pytest.raises(RuleError) as caught:
        Plan(prefix).submit([as_new(raw)])
    assert caught.value.rule == vector["rule"], caught.value
    assert prefix.log.size() == size, "a refused command appended nothing"

    prefix.log.append_batch([as_new(raw)])  # behind the plan's back
    result = CliRunner().invoke(main, ["--db", db_url, "check"])
    assert result.exit_code == 1, result.output
    assert f"seq {size}: breaks a plan rule: {vector['rule']} (plan.md" in result.output
