"""``tally-verify statement`` and ``bundle``: the member's statement (specs/statement.md).

The vector bundle verifies offline; tampered copies fail with the check that catches
them named. Nothing here imports the ledger (the live test is test_statement_live.py).
"""

from __future__ import annotations

import base64
import copy
import hashlib
import json
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

import pytest

from tests.verifier.cli_support import run, run_json
from tests.verifier.helpers import parse_go_private_key, sign_note
from verifier.jcs import canonicalize
from verifier.merkle import leaf_hash, root_from_leaf_hashes
from verifier.state import State, StateDir
from verifier.statement import split_signed

SPECS = Path(__file__).resolve().parents[2] / "specs" / "vectors"
VECTOR = json.loads((SPECS / "statement" / "statement.json").read_text())
BUNDLE: dict[str, Any] = VECTOR["statement"]
LOG_KEY = json.loads((SPECS / "keys" / "log-key.json").read_text())
KEY: str = LOG_KEY["verifier_key"]
PLAN_LOG = json.loads((SPECS / "plan" / "plan-log.json").read_text())
MEMBER = BUNDLE["member"]


def write(tmp_path: Path, doc: Any, name: str = "bundle.json") -> Path:
    path = tmp_path / name
    path.write_text(doc if isinstance(doc, str) else json.dumps(doc))
    return path


def decode(item: dict[str, Any]) -> dict[str, Any]:
    value: dict[str, Any] = json.loads(base64.b64decode(item["leaf"]))
    return value


def encode(entry: dict[str, Any]) -> str:
    return base64.b64encode(canonicalize(entry)).decode()


def find(bundle: dict[str, Any], entry_type: str, **body: Any) -> dict[str, Any]:
    for item in bundle["entries"]:
        e = decode(item)
        if e["type"] == entry_type and all(e["body"].get(k) == v for k, v in body.items()):
            return item  # type: ignore[no-any-return]
    raise AssertionError(f"no {entry_type} {body} in the bundle")


def pinned_state(folder: Path, note: str) -> Path:
    StateDir(folder).save(
        State(
            "http://127.0.0.1:9/",
            KEY,
            "pinned",
            "2025-01-01T00:00:00Z",
            note,
            "http://127.0.0.1:9/",
            "2025-01-01T00:00:00Z",
        )
    )
    return folder


def test_the_vector_verifies_with_bundle(tmp_path: Path) -> None:
    result = run(tmp_path / "s", "bundle", str(write(tmp_path, BUNDLE)), "--key", KEY)
    assert result.exit_code == 0, result.output
    out = result.stdout
    assert "You paid 188.00 yuan in period 2025-02b" in out
    assert "It paid for 2 claims: c-21 (accident, 9,000.00 yuan; decided by a drawn panel; " in out
    assert "your part 54.02 yuan)" in out
    assert "c-18 (accident, 20,000.00 yuan; your part 120.05 yuan)" in out
    assert "The management fee was 2,320.00 yuan (your part 13.93 yuan)." in out
    assert "the annual cap of 188.00 yuan limited your charge" in out
    assert "The operator paid the rest for you: 3,727.00 yuan in this period" in out
    assert "in proportion" in out
    assert "checks passed." in out

    code, doc = run_json(tmp_path / "s", "bundle", str(write(tmp_path, BUNDLE)), "--key", KEY)
    assert code == 0, doc
    assert doc["ok"] is True
    assert doc["charge_fen"] == 18800
    assert sum(c["part_fen"] for c in doc["claims"]) + doc["fee_part_fen"] == 18800
    assert doc["checks_passed"] == len(doc["checks"]) > 10
    assert not (tmp_path / "s").exists(), "bundle saves nothing without a state"


def test_the_vector_verifies_with_statement_bundle(tmp_path: Path) -> None:
    state = pinned_state(tmp_path / "s", BUNDLE["checkpoint"])
    path = write(tmp_path, BUNDLE)
    code, doc = run_json(state, "statement", "--member", MEMBER, "--bundle", str(path))
    assert code == 0, doc
    assert doc["checkpoint_compared"].startswith("the same as your saved checkpoint")
    # The pinned key is used by `bundle` too when there is a state.
    code, doc = run_json(state, "bundle", str(path))
    assert code == 0, doc


def test_statement_bundle_for_another_member_or_period(tmp_path: Path) -> None:
    state = pinned_state(tmp_path / "s", BUNDLE["checkpoint"])
    path = str(write(tmp_path, BUNDLE))
    code, doc = run_json(state, "statement", "--member", "m-" + "0" * 20, "--bundle", path)
    assert (code, doc["check"]) == (1, "bundle.request")
    code, doc = run_json(
        state, "statement", "--member", MEMBER, "--period", "2025-02a", "--bundle", path
    )
    assert (code, doc["check"]) == (1, "bundle.request")
    result = run(state, "statement", "--member", "bob", "--bundle", path)
    assert result.exit_code == 2


def test_bundle_without_state_or_key_is_a_usage_error(tmp_path: Path) -> None:
    assert run(tmp_path / "s", "bundle", str(write(tmp_path, BUNDLE))).exit_code == 2


def _alter_leaf(b: dict[str, Any]) -> None:
    item = find(b, "claim.paid")
    e = decode(item)
    e["body"]["amount_fen"] += 100
    item["leaf"] = encode(e)


def _alter_amount(b: dict[str, Any]) -> None:
    b["contributions"][-1]["amount_fen"] = 100


def _alter_sibling(b: dict[str, Any]) -> None:
    sib = b["contributions"][-1]["siblings"][1]
    sib["hash"] = base64.b64encode(b"\x07" * 32).decode()


def _inflate_share(b: dict[str, Any]) -> None:
    item = find(b, "period.closed", period="2025-02b")
    e = decode(item)
    e["body"]["share_fen"] += 1
    item["leaf"] = encode(e)


def _other_key(b: dict[str, Any]) -> None:
    body = b["checkpoint"].split("\n\n")[0] + "\n"
    b["checkpoint"] = sign_note(body, (LOG_KEY["origin"], b"\x05" * 32))


def _alter_vote(b: dict[str, Any]) -> None:
    item = find(b, "vote.cast")
    e = decode(item)
    sig = bytearray(base64.b64decode(e["body"]["signature"]))
    sig[0] ^= 1
    e["body"]["signature"] = base64.b64encode(bytes(sig)).decode()
    item["leaf"] = encode(e)


def _drop_claimant_join(b: dict[str, Any]) -> None:
    claimants = [
        decode(i)["body"]["member"] for i in b["entries"] if decode(i)["type"] == "claim.filed"
    ]
    claimant = next(c for c in claimants if c != MEMBER)
    b["entries"].remove(find(b, "member.joined", member=claimant))


def _drop_previous_close(b: dict[str, Any]) -> None:
    b["entries"].remove(find(b, "period.closed", period="2025-02a"))


def _drop_vote(b: dict[str, Any]) -> None:
    b["entries"].remove(find(b, "vote.cast"))


def _drop_juror(b: dict[str, Any]) -> None:
    b["entries"].remove(find(b, "juror.enrolled"))


def _format(b: dict[str, Any]) -> None:
    b["format"] = "tally-statement/v0"


def _swap_order(b: dict[str, Any]) -> None:
    b["entries"][1], b["entries"][2] = b["entries"][2], b["entries"][1]


@pytest.mark.parametrize(
    ("tamper", "check"),
    [
        (_alter_leaf, "entry.inclusion"),
        (_alter_amount, "contribution.proof"),
        (_alter_sibling, "contribution.proof"),
        # Without the log's key the inflated period entry cannot get a new proof.
        (_inflate_share, "entry.inclusion"),
        (_other_key, "checkpoint.signature"),
        (_alter_vote, "entry.inclusion"),
        (_drop_claimant_join, "bundle.complete"),
        (_drop_previous_close, "bundle.complete"),
        # The decision's counts no longer match the votes in the bundle.
        (_drop_vote, "plan.rules"),
        # The pool recomputed without that juror no longer has the stated pool_root.
        (_drop_juror, "plan.rules"),
        (_format, "bundle.format"),
        (_swap_order, "entries.order"),
    ],
)
def test_a_tampered_bundle_fails(
    tmp_path: Path, tamper: Callable[[dict[str, Any]], None], check: str
) -> None:
    bundle = copy.deepcopy(BUNDLE)
    tamper(bundle)
    path = str(write(tmp_path, bundle))
    code, doc = run_json(tmp_path / "s", "bundle", path, "--key", KEY)
    assert (code, doc["ok"], doc["check"]) == (1, False, check), doc
    result = run(tmp_path / "s", "bundle", path, "--key", KEY)
    assert f"Statement verification failed: check {check}:" in result.stderr


@pytest.mark.parametrize("text", ["{not json", "[1, 2]", '{"a": 1, "a": 2}', "\xff", '{"a": 1.5}'])
def test_garbage_fails(tmp_path: Path, text: str) -> None:
    code, doc = run_json(tmp_path / "s", "bundle", str(write(tmp_path, text)), "--key", KEY)
    assert (code, doc["check"]) == (1, "bundle.json"), doc


# -- a bundle re-signed with the (published) test log key: the rules catch it ---------


def _path(m: int, leaves: Sequence[bytes]) -> list[bytes]:
    """RFC 9162 §2.1.3.1 PATH(m, D[n]), over leaf hashes."""
    n = len(leaves)
    if n <= 1:
        return []
    k = 1
    while k * 2 < n:
        k *= 2
    if m < k:
        return [*_path(m, leaves[:k]), root_from_leaf_hashes(leaves[k:])]
    return [*_path(m - k, leaves[k:]), root_from_leaf_hashes(leaves[:k])]


def _resign(bundle: dict[str, Any], edit: Callable[[dict[str, Any]], None]) -> dict[str, Any]:
    """Edit entries of the whole log, re-chain, rebuild the tree, re-sign, re-prove."""
    raws = [base64.b64decode(b) for b in PLAN_LOG["entries_b64"]]
    entries = [json.loads(r) for r in raws]
    raws = []
    for e in entries:
        edit(e)
        if raws:  # re-chained: the operator rewrote history consistently
            e["prev"] = hashlib.sha256(raws[-1]).hexdigest()
        raws.append(canonicalize(e))
    leaves = [leaf_hash(r) for r in raws]
    root = root_from_leaf_hashes(leaves)
    name, seed = parse_go_private_key(LOG_KEY["signer_key"])
    body = f"{name}\n{len(raws)}\n{base64.b64encode(root).decode()}\n"
    out = copy.deepcopy(bundle)
    out["checkpoint"] = sign_note(body, (name, seed))
    for item in out["entries"]:
        s = item["seq"]
        item["leaf"] = base64.b64encode(raws[s]).decode()
        item["proof"] = [base64.b64encode(h).decode() for h in _path(s, leaves)]
    return out


def test_a_resigned_bundle_verifies_when_nothing_changed(tmp_path: Path) -> None:
    bundle = _resign(BUNDLE, lambda e: None)
    code, doc = run_json(tmp_path / "s", "bundle", str(write(tmp_path, bundle)), "--key", KEY)
    assert code == 0, doc


def _share(e: dict[str, Any]) -> None:
    if e["type"] == "period.closed" and e["body"]["period"] == "2025-02b":
        e["body"]["share_fen"] += 1


def _paid(e: dict[str, Any]) -> None:
    if e["type"] == "claim.paid":
        e["body"]["amount_fen"] += 1


@pytest.mark.parametrize(("edit", "check"), [(_share, "apportion.share"), (_paid, "plan.rules")])
def test_a_resigned_bundle_with_wrong_numbers_fails(
    tmp_path: Path, edit: Callable[[dict[str, Any]], None], check: str
) -> None:
    """Even a log key that signs anything cannot make the numbers add up differently."""
    bundle = _resign(BUNDLE, edit)
    code, doc = run_json(tmp_path / "s", "bundle", str(write(tmp_path, bundle)), "--key", KEY)
    assert (code, doc["check"]) == (1, check), doc


def test_split_is_exact() -> None:
    assert split_signed(18800, [900000, 2000000, 232000]) == [5402, 12005, 1393]
    assert split_signed(10, [1, 1, 1]) == [4, 3, 3]
    assert split_signed(0, [1, 2]) == [0, 0]
    assert split_signed(5, [0, 0]) == [0, 0]
    for total in range(0, 200, 7):
        assert sum(split_signed(total, [3, 5, 11, 0, 2])) == total


@pytest.mark.parametrize(
    "problem",
    [
        {"type": "about:blank", "title": "Not found", "status": 404, "detail": "no member m-1"},
        {"title": "Log unavailable", "status": 503, "detail": "the store is down"},
        {"type": "tag:tally,2025:problem/unknown-period", "title": "Not found", "status": 404},
    ],
)
def test_a_saved_error_answer_is_named_not_verified(tmp_path: Path, problem: Any) -> None:
    path = str(write(tmp_path, problem))
    result = run(tmp_path / "s", "bundle", path, "--key", KEY)
    assert result.exit_code == 2, result.output
    assert result.stderr.startswith(
        "Error: this file is the server's error answer, not a statement bundle: "
        f"{problem['status']} {problem['title']}"
    )
    code, doc = run_json(tmp_path / "s", "bundle", path, "--key", KEY)
    assert (code, doc["error"]) == (2, "usage_error"), doc
    state = pinned_state(tmp_path / "pinned", BUNDLE["checkpoint"])
    code, doc = run_json(state, "statement", "--member", MEMBER, "--bundle", path)
    assert (code, doc["error"]) == (2, "usage_error"), doc
    assert "the server's error answer" in doc["message"]


@pytest.mark.parametrize(
    "doc",
    [
        {"status": 404, "title": "Not found", "format": "tally-statement/v1"},  # claims a format
        {"status": 200, "title": "OK"},  # not an error status
        {"status": 404},  # says nothing
        {"status": 404, "title": 7},
    ],
)
def test_only_an_error_answer_is_taken_for_one(tmp_path: Path, doc: Any) -> None:
    code, out = run_json(tmp_path / "s", "bundle", str(write(tmp_path, doc)), "--key", KEY)
    assert (code, out["check"]) == (1, "bundle.format"), out
