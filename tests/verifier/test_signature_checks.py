"""Signatures checked aside (verifier.plan.signatures): the first failure, in seq order.

An audit hands the members' signatures to worker processes and goes on; what it
reports must still be the first entry that breaks a rule. Here the entries of the
signed base plan (specs/vectors/plan/invalid/base-signed.json) are checked with
one signature spoiled: the failure is found for every seq at or after it and for
none before it, and a replay that defers its checks names the same entry and rule
as one that does not, in an audit too.
"""

from __future__ import annotations

import base64
import hashlib
import json
from pathlib import Path
from typing import Any

import pytest

from tests.verifier.cli_support import run_json
from tests.verifier.helpers import parse_go_private_key, sign_note
from verifier.entry import ChainVerifier
from verifier.jcs import canonicalize
from verifier.merkle import leaf_hash, root_from_leaf_hashes
from verifier.plan import signatures
from verifier.plan.records import PlanRuleError
from verifier.plan.state import PlanReplay

SPECS = Path(__file__).resolve().parents[2] / "specs" / "vectors"
BASE: dict[str, Any] = json.loads((SPECS / "plan" / "invalid" / "base-signed.json").read_text())
RAWS = [base64.b64decode(b) for b in BASE["entries_b64"]]
KEY_DOC = json.loads((SPECS / "keys" / "log-key.json").read_text())


def spoiled(seq: int) -> list[bytes]:
    """The base with the signature of entry ``seq`` spoiled, the chain after it re-linked."""
    out = list(RAWS[:seq])
    for raw in RAWS[seq:]:
        entry = json.loads(raw)
        entry["prev"] = hashlib.sha256(out[-1]).hexdigest()
        if entry["seq"] == seq:
            signature = base64.b64decode(entry["body"]["signature"])
            entry["body"]["signature"] = base64.b64encode(bytes(64 - 1) + signature[-1:]).decode()
        out.append(canonicalize(entry))
    return out


def first_violation(raws: list[bytes], deferred: bool) -> tuple[int, str] | None:
    chain, plan = ChainVerifier(), PlanReplay()
    if deferred:
        plan.requests.signatures.defer(workers=1, after=0)
    try:
        for raw in raws:
            try:
                plan.apply(chain.add(raw))
            except PlanRuleError as exc:
                first = plan.requests.signatures.first_failure(exc.seq) or exc
                return first.seq, first.rule
        failed = plan.requests.signatures.first_failure()
        return None if failed is None else (failed.seq, failed.rule)
    finally:
        plan.requests.signatures.close()


def test_a_deferred_failure_is_found_at_its_seq_and_not_before() -> None:
    join = BASE["labels"]["genesis"] + 2  # the first keyed join (after the rules)
    assert json.loads(RAWS[join])["type"] == "member.joined"
    raws = spoiled(join)
    chain, plan = ChainVerifier(), PlanReplay()
    plan.requests.signatures.defer(workers=1, after=0)
    try:
        for raw in raws:
            plan.apply(chain.add(raw))  # optimistic: a deferred signature does not stop it
        checks = plan.requests.signatures
        assert checks.first_failure(join - 1) is None
        failed = checks.first_failure(join)
        assert failed is not None
        assert (failed.seq, failed.rule) == (join, "member.joined.signature")
        assert checks.first_failure() is not None
    finally:
        plan.requests.signatures.close()


@pytest.mark.parametrize("label", ["joined", "s_objected", "rotated"])
def test_deferred_and_immediate_checks_name_the_same_first_violation(label: str) -> None:
    seq = BASE["labels"][label] - 1
    entry = json.loads(RAWS[seq])
    assert "signature" in entry["body"], entry["type"]
    raws = spoiled(seq)
    assert first_violation(raws, deferred=True) == first_violation(raws, deferred=False)
    assert first_violation(raws, deferred=True) is not None


def test_the_audit_names_a_spoiled_signature_deep_in_the_log(tmp_path: Path) -> None:
    seq = BASE["labels"]["s_objected"] - 1  # a signed objection, entries after it
    raws = spoiled(seq)
    name, signer_seed = parse_go_private_key(KEY_DOC["signer_key"])
    root = root_from_leaf_hashes([leaf_hash(r) for r in raws])
    body = f"{name}\n{len(raws)}\n{base64.b64encode(root).decode()}\n"
    folder = tmp_path / "dump"
    folder.mkdir()
    (folder / "checkpoint").write_text(sign_note(body, (name, signer_seed)))
    with (folder / "entries.jsonl").open("w") as out:
        for n, raw in enumerate(raws):
            out.write(json.dumps({"seq": n, "leaf": base64.b64encode(raw).decode()}) + "\n")
    code, doc = run_json(
        tmp_path / "state", "audit", "--dir", str(folder), "--key", KEY_DOC["verifier_key"]
    )
    assert code == 1, doc
    first = doc["violations"][0]
    assert (first["seq"], first["rule"]) == (seq, "request.signature"), first


def test_a_lost_worker_leaves_its_checks_to_the_replay() -> None:
    import os
    import signal

    join = BASE["labels"]["genesis"] + 2
    raws = spoiled(join)
    chain, plan = ChainVerifier(), PlanReplay()
    checks = plan.requests.signatures
    checks.defer(workers=1, after=0)
    try:
        for raw in raws[: join + 1]:
            plan.apply(chain.add(raw))
        checks.first_failure(0)  # what was met is handed out: the worker has started
        pool = checks._pool
        assert pool is not None
        for pid in list(pool._processes):
            os.kill(pid, signal.SIGKILL)
        for raw in raws[join + 1 :]:
            plan.apply(chain.add(raw))
        failed = checks.first_failure()
        assert failed is not None
        assert (failed.seq, failed.rule) == (join, "member.joined.signature")
    finally:
        checks.close()


@pytest.mark.parametrize("label", ["joined", "rotated"])
def test_batches_taken_back_from_the_workers_name_the_same_first_violation(
    label: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Small batches: the replay ends long before a worker starts, so first_failure
    checks most of them itself, from the last back, and must still name the first."""
    monkeypatch.setattr(signatures, "BATCH", 2)
    seq = BASE["labels"][label] - 1
    raws = spoiled(seq)
    taken: list[int] = []
    take_back = signatures._Batch.take_back

    def counted(batch: signatures._Batch) -> bool:
        taken.append(batch.pending[0].seq)
        return take_back(batch)

    monkeypatch.setattr(signatures._Batch, "take_back", counted)
    assert first_violation(raws, deferred=True) == (seq, json_rule(raws[seq]))
    assert taken, "no batch was taken back"
    assert taken == sorted(taken, reverse=True)  # from the last back
    assert first_violation(raws, deferred=False) == (seq, json_rule(raws[seq]))


def json_rule(raw: bytes) -> str:
    entry_type = json.loads(raw)["type"]
    return "member.joined.signature" if entry_type == "member.joined" else "request.signature"
