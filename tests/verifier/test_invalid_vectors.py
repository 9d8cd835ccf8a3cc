"""The negative vectors of specs/plan.md §10, on the verifier: replay and ``audit`` name the rule.

Each vector is a prefix of a base plan and one entry that breaks one rule: the base
its ``"base"`` field names (``base.json`` if it names none), such as
``base-signed.json``, a plan under ``member_signatures`` ``required``. The
verifier's plan replay must stop at that entry with the rule's id, and
``tally-verify audit`` over a dump of the same log (with a checkpoint signed by the
published test key) must report it as its first violation. The verifier's table of
ids is held to specs/plan.md. Nothing here comes from the ledger.
"""

from __future__ import annotations

import base64
import functools
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
BASES = sorted(INVALID.glob("base*.json"))
VECTORS = sorted(p for p in INVALID.glob("*.json") if not p.name.startswith("base"))
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


@functools.cache
def base_raws(name: str) -> list[bytes]:
    """The entries of the base plan ``name`` (a file of ``plan/invalid/``)."""
    base = json.loads((INVALID / name).read_text())
    return [base64.b64decode(b) for b in base["entries_b64"]]


def replay_base(name: str) -> PlanReplay:
    chain, plan = ChainVerifier(), PlanReplay()
    for raw in base_raws(name):
        plan.apply(chain.add(raw))
    return plan


def test_the_base_keeps_every_rule() -> None:
    summary = replay_base("base.json").summary()
    assert summary.periods_closed == 5
    assert summary.wound_down


@pytest.mark.parametrize("base", BASES, ids=lambda p: p.stem)
def test_every_base_keeps_every_rule(base: Path) -> None:
    plan = replay_base(base.name)
    assert plan.summary().plan_entries == plan.next_seq - 1


def test_the_signed_base_signs_every_member_action() -> None:
    if not (INVALID / "base-signed.json").is_file():  # pragma: no cover - vectors of main
        pytest.skip("no base-signed.json yet")
    plan = replay_base("base-signed.json")
    rules = plan.rules.latest
    assert rules is not None
    assert rules.member_signatures == "required"
    counts = plan.summary().member_actions
    assert counts.signed > 0
    assert (counts.assisted, counts.unkeyed_joins) == (0, 0)


def log_of(vector: dict[str, Any]) -> list[bytes]:
    raw = base64.b64decode(vector["entry_b64"])
    assert json.loads(raw) == vector["entry"]
    return [*base_raws(vector.get("base", "base.json"))[: vector["prefix"]], raw]


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
