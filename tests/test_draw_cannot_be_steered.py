"""An operator rewriting its log cannot choose an appeal's panel without the appellant.

The seed of a panel's draw takes the appellant's secret (specs/plan.md §6), and the
appeal carries the commitment to it. Where the rules require member signatures, the
appellant signs the appeal (§4.5), so an operator that rewrites its log to put in a
commitment of its own, grinding secrets until the draw gives the panel it wants, has
no appeal either implementation accepts: not with the appellant's signature kept
(it no longer verifies), not signed by another key, not written as the operator's.
Every one of many tries is refused by the ledger's replay and the verifier's, naming
the rule. The appeal on the signed base plan of specs/vectors/plan/invalid/.
"""

from __future__ import annotations

import base64
import hashlib
import json
from typing import Any

import pytest

from ledger.domain.errors import RuleError
from ledger.domain.requests import sign_request
from ledger.domain.state import PlanState
from ledger.log.entry import encode_entry, entry_hash, parse_entry
from tests.conftest import SPEC_VECTORS
from verifier.entry import ChainVerifier
from verifier.plan.records import PlanRuleError
from verifier.plan.state import PlanReplay

BASE: dict[str, Any] = json.loads(
    (SPEC_VECTORS / "plan" / "invalid" / "base-signed.json").read_text()
)
RAWS = [base64.b64decode(b) for b in BASE["entries_b64"]]
APPEAL = BASE["labels"]["s_appealed"] - 1
TRIES = 40


def rewritten(body: dict[str, Any], actor: str) -> list[bytes]:
    """The base up to the appeal, with this appeal in its place."""
    original = parse_entry(RAWS[APPEAL])
    assert original.type == "claim.appealed"
    raw = encode_entry(
        seq=APPEAL,
        time=original.time,
        type="claim.appealed",
        prev=entry_hash(RAWS[APPEAL - 1]),
        actor=actor,
        body=body,
    )
    return [*RAWS[:APPEAL], raw]


def refusals(raws: list[bytes]) -> tuple[str, str]:
    """The rule each implementation names for the last entry (every other one passes)."""
    ledger, chain, verifier = PlanState(), ChainVerifier(), PlanReplay()
    for raw in raws[:-1]:
        ledger.apply(parse_entry(raw))
        verifier.apply(chain.add(raw))
    with pytest.raises(RuleError) as by_ledger:
        ledger.apply(parse_entry(raws[-1]))
    with pytest.raises(PlanRuleError) as by_verifier:
        verifier.apply(chain.add(raws[-1]))
    return by_ledger.value.rule, by_verifier.value.rule


def test_the_appeal_on_the_log_is_the_appellants() -> None:
    appeal = parse_entry(RAWS[APPEAL])
    assert appeal.actor == f"member:{appeal.body['appellant']}"
    assert "signature" in appeal.body


@pytest.mark.parametrize("how", ["kept signature", "operator's key", "assisted"])
def test_no_commitment_of_the_operators_choosing_is_accepted(how: str) -> None:
    appeal = parse_entry(RAWS[APPEAL])
    appellant = str(appeal.body["appellant"])
    operator_seed = hashlib.sha256(b"the operator's own key").digest()
    for n in range(TRIES):
        secret = hashlib.sha256(b"operator secret %d" % n).digest()
        body = {**appeal.body, "secret_commitment": hashlib.sha256(secret).hexdigest()}
        actor = f"member:{appellant}"
        if how == "operator's key":
            body = sign_request(operator_seed, BASE["origin"], "claim.appealed", body)
        elif how == "assisted":
            body = {k: v for k, v in body.items() if k not in ("request", "signature")}
            actor = "operator"
        expected = "request.required" if how == "assisted" else "request.signature"
        assert refusals(rewritten(body, actor)) == (expected, expected), (how, n)
