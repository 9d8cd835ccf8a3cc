"""A retired log (specs/log.md §7) on the verifier: the successor named, nothing after it.

The vectors of ``vectors/retirement/`` (written by the ledger's generator) are
checked by the verifier's own chain rules, on both of its paths: the entry-by-entry
chain (full audits) and the fast scan (``--log-only``), and by a plan replay.
"""

from __future__ import annotations

import base64
import hashlib
import json
from pathlib import Path
from typing import Any

import pytest

from tests.verifier.helpers import vkey
from verifier.entry import ChainVerifier, verify_chain
from verifier.errors import ChainError
from verifier.jcs import canonicalize
from verifier.links import LinkReplay, scan
from verifier.plan.state import PlanReplay

VECTORS = Path(__file__).resolve().parents[2] / "specs" / "vectors" / "retirement"
RETIRED: dict[str, Any] = json.loads((VECTORS / "retired.json").read_text())
INVALID: dict[str, Any] = json.loads((VECTORS / "invalid.json").read_text())
SUCCESSOR_KEY = vkey("next.example/log", b"\x09" * 32)


def raws_of(case: dict[str, Any]) -> list[bytes]:
    return [base64.b64decode(b) for b in case["entries_b64"]]


def test_a_retired_log_is_a_valid_chain_naming_its_successor() -> None:
    chain = ChainVerifier()
    for raw in raws_of(RETIRED):
        chain.add(raw)
    assert chain.retired == RETIRED["retired_seq"]
    links = LinkReplay()
    links.join(scan(raws_of(RETIRED), 0))
    assert links.break_count == 0


@pytest.mark.parametrize("case", INVALID["cases"], ids=lambda c: c["description"])
def test_a_broken_retirement_is_named(case: dict[str, Any]) -> None:
    with pytest.raises(ChainError) as caught:
        verify_chain(raws_of(case))
    assert (caught.value.seq, caught.value.rule) == (case["error_seq"], case["rule"])


def test_an_entry_after_the_retirement_breaks_the_fast_scan_too() -> None:
    case = next(c for c in INVALID["cases"] if c["error"] == "after_retirement")
    raws = raws_of(case)
    for cut in range(1, len(raws)):
        links = LinkReplay()
        links.join(scan(raws[:cut], 0))
        links.join(scan(raws[cut:], cut))
        assert [b.seq for b in links.breaks] == [case["error_seq"]], cut
        assert "log.retired" in links.breaks[0].message


def test_a_plan_may_end_in_a_retirement_and_nothing_after() -> None:
    base = json.loads((VECTORS.parent / "plan" / "invalid" / "base.json").read_text())
    raws = [base64.b64decode(b) for b in base["entries_b64"]]
    last = json.loads(raws[-1])
    body = {"successor_origin": "next.example/log", "successor_verifier_key": SUCCESSOR_KEY}
    retired = canonicalize(
        {
            **last,
            "seq": len(raws),
            "prev": hashlib.sha256(raws[-1]).hexdigest(),
            "type": "log.retired",
            "body": body,
        }
    )
    chain, plan = ChainVerifier(), PlanReplay()
    for raw in [*raws, retired]:
        plan.apply(chain.add(raw))
    assert chain.retired == len(raws)
    after = canonicalize(
        {**last, "seq": len(raws) + 1, "prev": hashlib.sha256(retired).hexdigest()}
    )
    with pytest.raises(ChainError) as caught:
        chain.add(after)
    assert (caught.value.seq, caught.value.rule) == (len(raws) + 1, "log.retired")
