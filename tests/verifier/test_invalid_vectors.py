"""The negative vectors of specs/plan.md §10, on the verifier: replay and ``audit`` name the rule.

Each vector is a prefix of ``plan/invalid/base.json`` and one entry that breaks one
rule. The verifier's plan replay must stop at that entry with the rule's id, and
``tally-verify audit`` over a dump of the same log (with a checkpoint signed by the
published test key) must report it as its first violation. The verifier's table of
ids is held to specs/plan.md. Nothing here comes from the ledger.
"""

from __future__ import annotations

import base64
import json
import re
from pathlib import Path
from typing import Any

import pytest

from tests.verifier.cli_support import run_json
from tests.verifier.helpers import parse_go_private_key, sign_note
from verifier.entry import ChainVerifier
from verifier.merkle import leaf_hash, root_from_leaf_hashes
from verifier.plan.records import PlanRuleError
from verifier.plan.rule_ids import SECTIONS
from verifier.plan.state import PlanReplay

SPECS = Path(__file__).resolve().parents[2] / "specs"
INVALID = SPECS / "vectors" / "plan" / "invalid"
BASE: dict[str, Any] = json.loads((INVALID / "base.json").read_text())
BASE_RAWS = [base64.b64decode(b) for b in BASE["entries_b64"]]
VECTORS = sorted(p for p in INVALID.glob("*.json") if p.name != "base.json")
KEY_DOC = json.loads((SPECS / "vectors" / "keys" / "log-key.json").read_text())


def test_the_verifier_names_rules_by_the_spec_table_alone() -> None:
    text = (SPECS / "plan.md").read_text().split("## 10. Rule ids", 1)[1]
    table = {
        m.group(1): m.group(2).strip()
        for m in re.finditer(r"^\| `([a-z_.]+)` \| ([^|]+) \| .+ \|$", text, re.MULTILINE)
    }
    assert dict(SECTIONS) == table
    named = {json.loads(p.read_text())["rule"] for p in VECTORS}
    assert named == set(table)


def test_the_base_keeps_every_rule() -> None:
    chain, plan = ChainVerifier(), PlanReplay()
    for raw in BASE_RAWS:
        plan.apply(chain.add(raw))
    summary = plan.summary()
    assert summary.periods_closed == 5
    assert summary.wound_down


def log_of(vector: dict[str, Any]) -> list[bytes]:
    raw = base64.b64decode(vector["entry_b64"])
    assert json.loads(raw) == vector["entry"]
    return [*BASE_RAWS[: vector["prefix"]], raw]


@pytest.fixture(params=VECTORS, ids=lambda p: p.stem)
def vector(request: pytest.FixtureRequest) -> dict[str, Any]:
    return dict(json.loads(request.param.read_text()))


def test_the_replay_names_the_rule_and_seq(vector: dict[str, Any]) -> None:
    chain, plan = ChainVerifier(), PlanReplay()
    raws = log_of(vector)
    for raw in raws[:-1]:
        plan.apply(chain.add(raw))
    with pytest.raises(PlanRuleError) as caught:
        plan.apply(chain.add(raws[-1]))
    assert (caught.value.seq, caught.value.rule) == (vector["seq"], vector["rule"]), caught.value


def test_audit_of_a_dump_names_the_rule(vector: dict[str, Any], tmp_path: Path) -> None:
    raws = log_of(vector)
    name, seed = parse_go_private_key(KEY_DOC["signer_key"])
    root = root_from_leaf_hashes([leaf_hash(r) for r in raws])
    note = sign_note(f"{name}\n{len(raws)}\n{base64.b64encode(root).decode()}\n", (name, seed))
    folder = tmp_path / "dump"
    folder.mkdir()
    (folder / "checkpoint").write_text(note)
    (folder / "entries.jsonl").write_text(
        "".join(
            json.dumps({"seq": i, "leaf": base64.b64encode(r).decode()}) + "\n"
            for i, r in enumerate(raws)
        )
    )
    code, doc = run_json(
        tmp_path / "state", "audit", "--dir", str(folder), "--key", KEY_DOC["verifier_key"]
    )
    assert code == 1, doc
    first = doc["violations"][0]
    assert (first["seq"], first["rule"]) == (vector["seq"], vector["rule"]), first
