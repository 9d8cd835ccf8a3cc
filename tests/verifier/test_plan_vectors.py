"""The plan vectors under specs/vectors/plan/, checked by the verifier's own code.

The ledger writes these files from its own implementation (specs/plan.md: the worked
examples of §6-§9 are vectors); the verifier shares no code with it. Until the folder
exists every test here skips. Loaders accept extra keys but need every key below:

- ``apportion-*.json``: aid_fen, fee_bp, carry_in_fen, annual_cap_fen,
  members [{member, charged_before_fen}], expected {fee_fen, share_fen,
  carry_out_fen, subsidy_fen, capped_members, charges {member: fen}};
- ``sumtree-*.json``: period, leaves [{member, amount_fen}], root {hash (base64),
  count, total}, proofs [{index, siblings [{hash, count, total}]}];
- ``draw-*.json``: origin, claim, pool, pool_root (hex), verifier_key,
  pool_signature (base64), secret, secret_commitment, seed (hex), panel_size, jurors;
- ``vote-*.json``: origin, claim, choice, rationale_hash, juror_key, signature, valid;
- ``periods.json``: cases [{time, period_open, cutoff}].
"""

from __future__ import annotations

import base64
import json
from pathlib import Path
from typing import Any

import pytest

from tests.verifier.test_plan_sumtree import proof_for
from verifier.errors import VerificationError
from verifier.note import parse_verifier_key
from verifier.plan.apportion import apportion, check_conservation
from verifier.plan.draw import check_secret, draw, pool_root, seed, verify_pool_signature
from verifier.plan.periods import cutoff, period_open_at
from verifier.plan.sumtree import Node, leaf, root, verify_proof
from verifier.plan.vote import verify_vote

PLAN_VECTORS = Path(__file__).resolve().parents[2] / "specs" / "vectors" / "plan"
MISSING = f"plan vectors not generated yet: {PLAN_VECTORS} does not exist"


def vectors(pattern: str) -> list[Any]:
    """The files matching ``pattern``, or one skipped parameter saying why there are none."""
    if not PLAN_VECTORS.is_dir():
        return [pytest.param(None, marks=pytest.mark.skip(reason=MISSING), id="missing")]
    found = sorted(PLAN_VECTORS.glob(pattern))
    if not found:
        reason = f"no {pattern} in {PLAN_VECTORS}"
        return [pytest.param(None, marks=pytest.mark.skip(reason=reason), id="none")]
    return [pytest.param(p, id=p.stem) for p in found]


def load(path: Path) -> dict[str, Any]:
    value = json.loads(path.read_text(encoding="utf-8"))
    assert isinstance(value, dict), f"{path.name}: expected a JSON object"
    return value


def need(obj: dict[str, Any], where: str, *keys: str) -> list[Any]:
    """The values of ``keys`` in ``obj``; fails naming the missing ones (extra keys are fine)."""
    missing = [k for k in keys if k not in obj]
    assert not missing, f"{where}: missing keys {missing}, found {sorted(obj)}"
    return [obj[k] for k in keys]


def node(obj: dict[str, Any], where: str) -> Node:
    h, count, total = need(obj, where, "hash", "count", "total")
    return Node(base64.b64decode(h, validate=True), count, total)


@pytest.mark.parametrize("path", vectors("apportion-*.json"))
def test_apportion_vectors(path: Path) -> None:
    case = load(path)
    aid, bp, carry_in, cap, members, expected = need(
        case,
        path.name,
        "aid_fen",
        "fee_bp",
        "carry_in_fen",
        "annual_cap_fen",
        "members",
        "expected",
    )
    pairs = [
        tuple(need(m, f"{path.name} members[{i}]", "member", "charged_before_fen"))
        for i, m in enumerate(members)
    ]
    fee, share, carry_out, subsidy, capped, charges = need(
        expected,
        f"{path.name} expected",
        "fee_fen",
        "share_fen",
        "carry_out_fen",
        "subsidy_fen",
        "capped_members",
        "charges",
    )
    a = apportion(aid, bp, carry_in, pairs, cap)
    assert a.fee_fen == fee
    assert a.share_fen == share
    assert a.carry_out_fen == carry_out
    assert a.subsidy_fen == subsidy
    assert a.capped_members == capped
    assert dict(a.charges) == charges
    check_conservation(charges.values(), aid, fee, carry_in, carry_out, subsidy)


@pytest.mark.parametrize("path", vectors("sumtree-*.json"))
def test_sumtree_vectors(path: Path) -> None:
    case = load(path)
    period, leaves, root_obj, proofs = need(case, path.name, "period", "leaves", "root", "proofs")
    nodes = [
        leaf(period, *need(entry, f"{path.name} leaves[{i}]", "member", "amount_fen"))
        for i, entry in enumerate(leaves)
    ]
    expected = node(root_obj, f"{path.name} root")
    assert root(nodes) == expected
    for p in proofs:
        index, siblings = need(p, f"{path.name} proof", "index", "siblings")
        where = f"{path.name} proof {index}"
        sibling_nodes = [node(s, f"{where} sibling {k}") for k, s in enumerate(siblings)]
        verify_proof(nodes[index], index, len(nodes), sibling_nodes, expected)
        assert sibling_nodes == proof_for(nodes, index), f"{where}: other siblings than PATH"


@pytest.mark.parametrize("path", vectors("draw-*.json"))
def test_draw_vectors(path: Path) -> None:
    case = load(path)
    (
        origin,
        claim,
        pool,
        root_hex,
        verifier_key,
        signature_b64,
        secret_hex,
        commitment_hex,
        seed_hex,
        panel_size,
        jurors,
    ) = need(
        case,
        path.name,
        "origin",
        "claim",
        "pool",
        "pool_root",
        "verifier_key",
        "pool_signature",
        "secret",
        "secret_commitment",
        "seed",
        "panel_size",
        "jurors",
    )
    root_bytes = pool_root(claim, pool)
    assert root_bytes.hex() == root_hex
    signature = verify_pool_signature(
        parse_verifier_key(verifier_key), origin, claim, root_bytes, signature_b64
    )
    secret = check_secret(secret_hex, commitment_hex)
    s = seed(root_bytes, signature, secret)
    assert s.hex() == seed_hex
    assert draw(pool, s, panel_size) == jurors


@pytest.mark.parametrize("path", vectors("vote-*.json"))
def test_vote_vectors(path: Path) -> None:
    case = load(path)
    origin, claim, choice, rationale, key, signature, valid = need(
        case,
        path.name,
        "origin",
        "claim",
        "choice",
        "rationale_hash",
        "juror_key",
        "signature",
        "valid",
    )
    assert isinstance(valid, bool), f"{path.name}: 'valid' must be true or false"
    if valid:
        verify_vote(key, origin, claim, choice, rationale, signature)
    else:
        with pytest.raises(VerificationError):
            verify_vote(key, origin, claim, choice, rationale, signature)


@pytest.mark.parametrize("path", vectors("periods.json"))
def test_period_vectors(path: Path) -> None:
    (cases,) = need(load(path), path.name, "cases")
    assert cases, f"{path.name}: no cases"
    for i, c in enumerate(cases):
        time, open_period, cut = need(c, f"{path.name} cases[{i}]", "time", "period_open", "cutoff")
        assert period_open_at(time) == open_period, f"cases[{i}] at {time}"
        assert cutoff(open_period) == cut, f"cases[{i}] cutoff of {open_period}"
