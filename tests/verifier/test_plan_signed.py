"""Member keys and member-signed actions in the plan replay (specs/plan.md §4.1, §4.4, §4.5).

Small plans are written here entry by entry from the spec, on the origin and key of
the negative vectors' base, with member and juror keys made from fixed seeds and
signed with the verifier's own request code (:mod:`verifier.plan.requests`); then
one thing is changed and the replay must name the rule and the seq. ``audit`` over
a dump of such a plan reports how many actions were signed and how many assisted.
Nothing here comes from the ledger.
"""

from __future__ import annotations

import base64
import copy
import hashlib
import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from tests.verifier.cli_support import run, run_json
from tests.verifier.helpers import parse_go_private_key, sign_note
from verifier.entry import ChainVerifier
from verifier.jcs import canonicalize
from verifier.merkle import leaf_hash, root_from_leaf_hashes
from verifier.plan.records import PlanRuleError, format_time, seconds
from verifier.plan.requests import public_key, sign_juror_key, sign_request
from verifier.plan.state import ActionCounts, PlanReplay
from verifier.statement.sparse import SparseReplay

SPECS = Path(__file__).resolve().parents[2] / "specs" / "vectors"
BASE = json.loads((SPECS / "plan" / "invalid" / "base.json").read_text())
GENESIS, RULES = (json.loads(base64.b64decode(b)) for b in BASE["entries_b64"][:2])
ORIGIN = BASE["origin"]
KEY_DOC = json.loads((SPECS / "keys" / "log-key.json").read_text())
START = "2025-12-01T00:00:00Z"
HOUR = 3600
COMMIT = "ab" * 32
M1, M2, M3, M4 = (f"m-{str(i) * 20}" for i in range(1, 5))

Envelope = dict[str, Any]


def seed_of(name: str) -> bytes:
    """A fixed 32-byte seed per name (a member's key, or ``juror:<member>``)."""
    return hashlib.sha256(name.encode()).digest()


def key_of(name: str) -> str:
    return base64.b64encode(public_key(seed_of(name))).decode()


class SignedPlan:
    """A plan written entry by entry, one hour apart, members signing their own actions."""

    def __init__(self, **rules: Any) -> None:
        body = {
            **RULES["body"],
            "effective": START,
            "waiting_days": 0,
            "juror_tenure_days": 0,
            **rules,
        }
        self.entries: list[Envelope] = [
            {**GENESIS, "time": START},
            {**RULES, "time": START, "body": body},
        ]
        self.numbers: dict[str, int] = {}

    @property
    def now(self) -> str:
        time = format_time(seconds(START) + len(self.entries) * HOUR)
        assert time is not None
        return time

    def add(self, type_: str, body: dict[str, Any], actor: str = "operator") -> int:
        """Append an entry at the next hour; return its seq."""
        self.entries.append({**GENESIS, "time": self.now, "type": type_, "actor": actor})
        self.entries[-1]["body"] = body
        return len(self.entries) - 1

    def join(self, member: str, *, keyed: bool = True, request: int = 0) -> int:
        body = {"member": member, "age_band": "0-39", "identity_commitment": COMMIT}
        if keyed:
            body.update(member_key=key_of(member), request=request)
            body = sign_request(seed_of(member), ORIGIN, "member.joined", body)
            self.numbers[member] = request
        return self.add("member.joined", body)

    def act(self, type_: str, member: str, body: dict[str, Any], *, signed: bool = True) -> int:
        """A member action by ``member``: signed with the next request number, or assisted."""
        if not signed:
            return self.add(type_, body)
        number = self.numbers[member] = self.numbers[member] + 1
        body = sign_request(seed_of(member), ORIGIN, type_, {**body, "request": number})
        return self.add(type_, body, actor=f"member:{member}")

    def enrol(self, member: str, *, signed: bool = True) -> int:
        juror_key, juror_signature = sign_juror_key(seed_of(f"juror:{member}"), ORIGIN, member)
        body = {"member": member, "juror_key": juror_key}
        if signed:
            body["juror_signature"] = juror_signature
        return self.act("juror.enrolled", member, body, signed=signed)

    def file(self, member: str, *, signed: bool = True) -> str:
        body = {
            "member": member,
            "condition": "ACC",
            "amount_fen": 1000,
            "diagnosed": self.now,
            "evidence_commitment": COMMIT,
        }
        return f"c-{self.act('claim.filed', member, body, signed=signed)}"

    def deny_and_disclose(self, claim: str, days_since_joining: int = 0) -> None:
        self.add(
            "claim.assessed",
            {
                "claim": claim,
                "decision": "deny",
                "amount_fen": 0,
                "reason": "not an accident",
                "report_commitment": COMMIT,
                "rules_version": 1,
            },
        )
        close = format_time(seconds(self.now) + 3 * 86_400)
        self.add(
            "claim.disclosed",
            {
                "claim": claim,
                "age_band": "0-39",
                "category": "accident",
                "amount_fen": 0,
                "days_since_joining": days_since_joining,
                "objections_close": close,
            },
        )


def rechain(entries: list[Envelope]) -> list[bytes]:
    out: list[bytes] = []
    prev = "0" * 64
    for seq, entry in enumerate(entries):
        raw = canonicalize({**entry, "seq": seq, "prev": prev})
        out.append(raw)
        prev = hashlib.sha256(raw).hexdigest()
    return out


def replay(plan: SignedPlan) -> PlanReplay:
    chain, replayed = ChainVerifier(), PlanReplay()
    for raw in rechain(plan.entries):
        replayed.apply(chain.add(raw))
    return replayed


def refused(plan: SignedPlan) -> tuple[int, str]:
    with pytest.raises(PlanRuleError) as caught:
        replay(plan)
    return caught.value.seq, caught.value.rule


def signed_plan(**rules: Any) -> tuple[SignedPlan, str]:
    """M1 and M2 keyed, M3 not; M1 files (signed), is denied, appeals; M2 objects,
    enrols and leaves, each signed; M3 files, assisted. Under required signatures,
    M3 is left out."""
    plan = SignedPlan(**rules)
    unkeyed = rules.get("member_signatures") != "required"
    plan.join(M1)
    plan.join(M2, request=40)
    if unkeyed:
        plan.join(M3, keyed=False)
    claim = plan.file(M1)
    plan.deny_and_disclose(claim)
    plan.act("claim.objected", M2, {"claim": claim, "objector": M2, "reason_hash": COMMIT})
    plan.act("claim.appealed", M1, {"claim": claim, "appellant": M1, "secret_commitment": COMMIT})
    plan.enrol(M2)
    plan.act("member.left", M2, {"member": M2})
    if unkeyed:
        plan.file(M3, signed=False)
    return plan, claim


# -- plans that keep the rules ------------------------------------------------------


def test_signed_and_assisted_actions_replay_and_are_counted() -> None:
    plan, claim = signed_plan()
    replayed = replay(plan)
    m1, m2, m3 = (replayed.members[m] for m in (M1, M2, M3))
    assert (m1.member_key, m1.request) == (key_of(M1), 2)
    assert (m2.member_key, m2.request) == (key_of(M2), 43)
    assert (m3.member_key, m3.request) == (None, None)
    assert m2.juror_key == key_of(f"juror:{M2}")
    assert replayed.claims[claim].appellant == M1
    summary = replayed.summary()
    assert summary.member_actions == ActionCounts(
        signed=5, assisted=1, keyed_joins=2, unkeyed_joins=1
    )
    assert dict(summary.member_actions_by_period) == {"2025-12a": summary.member_actions}
    doc = summary.json()
    assert doc["member_actions"] == {
        "signed": 5,
        "assisted": 1,
        "keyed_joins": 2,
        "unkeyed_joins": 1,
        "key_recoveries": 0,
    }
    assert list(doc["member_actions_by_period"]) == ["2025-12a"]


def test_a_signed_plan_under_required_signatures_replays() -> None:
    plan = SignedPlan(member_signatures="required")
    plan.join(M1)
    plan.join(M2)
    claim = plan.file(M1)
    plan.deny_and_disclose(claim)
    plan.act("claim.objected", M2, {"claim": claim, "objector": M2, "reason_hash": COMMIT})
    plan.enrol(M2)
    summary = replay(plan).summary()
    assert summary.member_actions == ActionCounts(signed=3, keyed_joins=2)


def test_request_numbers_may_skip() -> None:
    plan = SignedPlan()
    plan.join(M1, request=5)
    plan.numbers[M1] = 100
    plan.act("member.left", M1, {"member": M1})
    assert replay(plan).members[M1].request == 101


def test_actions_are_counted_in_the_period_open_at_their_time() -> None:
    plan = SignedPlan()
    plan.join(M1)
    plan.join(M2, keyed=False)
    plan.entries[-1]["time"] = "2025-12-14T00:00:00Z"  # the cutoff: 2025-12b is open
    plan.entries.append(
        {**GENESIS, "time": "2026-01-02T00:00:00Z", "type": "member.left", "actor": "operator"}
    )
    plan.entries[-1]["body"] = {"member": M2}
    by_period = replay(plan).summary().member_actions_by_period
    assert dict(by_period) == {
        "2025-12a": ActionCounts(keyed_joins=1),
        "2025-12b": ActionCounts(unkeyed_joins=1),
        "2026-01a": ActionCounts(assisted=1),
    }


def _signatures_rule(plan: SignedPlan) -> str:
    rules = replay(plan).rules.latest
    assert rules is not None
    return rules.member_signatures


def test_member_signatures_is_optional_when_absent_and_read_when_present() -> None:
    assert "member_signatures" not in SignedPlan().entries[1]["body"]
    assert _signatures_rule(SignedPlan()) == "optional"
    for value in ("required", "optional"):
        assert _signatures_rule(SignedPlan(member_signatures=value)) == value
    for bad in ("sometimes", "", 1, None):
        with pytest.raises(PlanRuleError) as caught:
            replay(SignedPlan(member_signatures=bad))
        assert (caught.value.seq, caught.value.rule) == (1, "entry.value")


# -- plans that break one rule --------------------------------------------------------


Edit = Callable[[SignedPlan], int]


def _resign(entry: Envelope, seed: bytes) -> None:
    entry["body"] = sign_request(seed, ORIGIN, entry["type"], entry["body"])


def _join_with_key_of(holder: str) -> Edit:
    def edit(plan: SignedPlan) -> int:
        seq = plan.add(
            "member.joined",
            {
                "member": M4,
                "age_band": "0-39",
                "identity_commitment": COMMIT,
                "member_key": key_of(holder),
                "request": 0,
            },
        )
        _resign(plan.entries[seq], seed_of(holder))
        return seq

    return edit


def _join_signed_by_another_key(plan: SignedPlan) -> int:
    seq = plan.join(M4)
    _resign(plan.entries[seq], seed_of(M1))
    return seq


def _join_body(**changes: Any) -> Edit:
    def edit(plan: SignedPlan) -> int:
        seq = plan.join(M4)
        plan.entries[seq]["body"].update(changes)
        for key in [k for k, v in plan.entries[seq]["body"].items() if v is None]:
            del plan.entries[seq]["body"][key]
        return seq

    return edit


def _unkeyed_join(plan: SignedPlan) -> int:
    return plan.join(M4, keyed=False)


def _assisted(type_: str, member: str, body: dict[str, Any]) -> Edit:
    return lambda plan: plan.act(type_, member, body, signed=False)


def _signed(type_: str, member: str, body: dict[str, Any], **envelope: Any) -> Edit:
    def edit(plan: SignedPlan) -> int:
        seq = plan.act(type_, member, body)
        plan.entries[seq].update(envelope)
        return seq

    return edit


def _signed_with_number(member: str, number: int) -> Edit:
    def edit(plan: SignedPlan) -> int:
        body = sign_request(
            seed_of(member), ORIGIN, "member.left", {"member": member, "request": number}
        )
        return plan.add("member.left", body, actor=f"member:{member}")

    return edit


def _signed_by(member: str, signer: str) -> Edit:
    def edit(plan: SignedPlan) -> int:
        body = sign_request(
            seed_of(signer), ORIGIN, "member.left", {"member": member, "request": 99}
        )
        return plan.add("member.left", body, actor=f"member:{member}")

    return edit


def _enrol_with(juror_key: str, *, signer: str | None = None, member: str = M1) -> Edit:
    def edit(plan: SignedPlan) -> int:
        seed = seed_of(signer if signer is not None else f"juror:{member}")
        signature = sign_juror_key(seed, ORIGIN, member)[1]
        body = {"member": member, "juror_key": juror_key, "juror_signature": signature}
        return plan.act("juror.enrolled", member, body)

    return edit


def _left_then(edit: Edit) -> Edit:
    def both(plan: SignedPlan) -> int:
        plan.act("member.left", M1, {"member": M1})
        return edit(plan)

    return both


LEAVE_M1 = ("member.left", M1, {"member": M1})


@pytest.mark.parametrize(
    ("edit", "rule", "rules"),
    [
        pytest.param(_join_with_key_of(M1), "member.joined.key", {}, id="join-member-key"),
        pytest.param(
            _join_with_key_of(f"juror:{M2}"), "member.joined.key", {}, id="join-juror-key"
        ),
        pytest.param(
            _join_signed_by_another_key, "member.joined.signature", {}, id="join-other-signer"
        ),
        pytest.param(_join_body(member_key="AAAA"), "entry.value", {}, id="join-short-key"),
        pytest.param(_join_body(request=-1), "entry.value", {}, id="join-negative-request"),
        pytest.param(_join_body(signature=None), "entry.keys", {}, id="join-no-signature"),
        pytest.param(_join_body(juror_key=key_of(M4)), "entry.keys", {}, id="join-extra-key"),
        pytest.param(
            _unkeyed_join, "request.required", {"member_signatures": "required"}, id="join-unkeyed"
        ),
        pytest.param(
            _assisted(*LEAVE_M1),
            "request.required",
            {"member_signatures": "required"},
            id="assisted",
        ),
        pytest.param(
            _signed(*LEAVE_M1, actor="operator"), "entry.actor", {}, id="signed-operator-actor"
        ),
        pytest.param(
            _signed(*LEAVE_M1, actor=f"member:{M2}"), "entry.actor", {}, id="signed-other-actor"
        ),
        pytest.param(
            _signed(*LEAVE_M1, actor=f"juror:{M1}"), "entry.actor", {}, id="signed-juror-actor"
        ),
        pytest.param(
            lambda plan: plan.add("member.left", {"member": M1}, actor=f"member:{M1}"),
            "entry.actor",
            {},
            id="assisted-member-actor",
        ),
        pytest.param(_signed_by(M1, M2), "request.signature", {}, id="other-key"),
        pytest.param(_signed_by(M3, M3), "request.signature", {}, id="joined-unkeyed"),
        pytest.param(_signed_by(M4, M4), "request.signature", {}, id="never-joined"),
        pytest.param(_signed_with_number(M1, 2), "request.replay", {}, id="replayed"),
        pytest.param(_signed_with_number(M2, 40), "request.replay", {}, id="join-number-again"),
        pytest.param(_signed_with_number(M1, 1), "request.replay", {}, id="older"),
        pytest.param(_enrol_with(key_of(M1)), "juror.enrolled.key", {}, id="own-member-key"),
        pytest.param(_enrol_with(key_of(M2)), "juror.enrolled.key", {}, id="other-member-key"),
        pytest.param(
            _enrol_with(key_of(f"juror:{M2}")), "juror.enrolled.key", {}, id="other-juror-key"
        ),
        pytest.param(
            _enrol_with(key_of(f"juror:{M1}"), signer=f"juror:{M3}"),
            "juror.enrolled.signature",
            {},
            id="juror-key-did-not-sign",
        ),
        pytest.param(
            _left_then(_signed_by(M1, M2)), "request.signature", {}, id="left-and-bad-signature"
        ),
        pytest.param(
            _left_then(_signed_with_number(M1, 3)), "request.replay", {}, id="left-and-replayed"
        ),
        pytest.param(
            _left_then(_signed(*LEAVE_M1)), "member.left.active", {}, id="left-then-left-again"
        ),
    ],
)
def test_a_signed_plan_that_breaks_a_rule(edit: Edit, rule: str, rules: dict[str, Any]) -> None:
    plan, _ = signed_plan(**rules)
    seq = edit(plan)
    assert refused(plan) == (seq, rule)


def test_a_claim_entrys_values_are_read_before_the_claim_is_looked_up() -> None:
    plan, _ = signed_plan()
    body = {"claim": "c-999", "objector": M1, "reason_hash": COMMIT}
    seq = plan.act("claim.objected", M1, body)
    assert refused(plan) == (seq, "claim.known")
    plan.entries[seq]["actor"] = "operator"
    assert refused(plan) == (seq, "entry.actor")
    plan.entries[seq]["body"]["objector"] = "m-1"
    assert refused(plan) == (seq, "entry.value")


def test_many_keyed_members_and_jurors_keep_their_keys_apart() -> None:
    plan = SignedPlan()
    members = [f"m-{i:020x}" for i in range(1, 1500)]
    for m in members:
        plan.join(m)
    for m in members[:20]:
        plan.enrol(m)
    replayed = replay(plan)
    table = replayed.members
    for m in members[::97]:
        o = table.ordinal(m)
        assert table.key_owner(public_key(seed_of(m))) == ("member", o)
        assert table.member_key(o) == public_key(seed_of(m))
    assert table.key_owner(public_key(seed_of(f"juror:{members[3]}"))) == (
        "juror",
        table.ordinal(members[3]),
    )
    assert table.key_owner(public_key(seed_of("no one"))) is None
    plan.join(M4)
    plan.entries[-1]["body"]["member_key"] = key_of(members[-1])
    _resign(plan.entries[-1], seed_of(members[-1]))
    assert refused(plan) == (len(plan.entries) - 1, "member.joined.key")


def test_a_statement_replay_cannot_check_an_objectors_key_it_never_saw() -> None:
    plan, claim = signed_plan()
    raws = rechain(plan.entries)
    chain = ChainVerifier()
    entries = [chain.add(raw) for raw in raws]
    objection = next(e for e in entries if e.type == "claim.objected")
    # the objector's join is not in a bundle (statement.md §2): a placeholder, no key
    kept = [e for e in entries if not (e.type == "member.joined" and e.body["member"] == M2)]
    kept = [e for e in kept if e.seq <= objection.seq]
    sparse = SparseReplay()
    for entry in kept:
        sparse.apply(entry)
    assert sparse.placeholders == [M2]
    assert sparse.claims[claim].objectors == [M2]


# -- audit -------------------------------------------------------------------------------


def write_dump(folder: Path, raws: list[bytes]) -> None:
    name, seed = parse_go_private_key(KEY_DOC["signer_key"])
    root = root_from_leaf_hashes([leaf_hash(r) for r in raws])
    note = sign_note(f"{name}\n{len(raws)}\n{base64.b64encode(root).decode()}\n", (name, seed))
    folder.mkdir()
    (folder / "checkpoint").write_text(note)
    (folder / "entries.jsonl").write_text(
        "".join(
            json.dumps({"seq": i, "leaf": base64.b64encode(r).decode()}) + "\n"
            for i, r in enumerate(raws)
        )
    )


def test_audit_reports_signed_and_assisted_actions_per_period(tmp_path: Path) -> None:
    plan, _ = signed_plan()
    late = copy.deepcopy(plan.entries[-1])  # M3's assisted filing, again in January
    late["time"] = "2026-01-02T00:00:00Z"
    late["body"]["diagnosed"] = "2026-01-02T00:00:00Z"
    plan.entries.append(late)
    write_dump(tmp_path / "dump", rechain(plan.entries))
    args = ("audit", "--dir", str(tmp_path / "dump"), "--key", KEY_DOC["verifier_key"])
    code, doc = run_json(tmp_path / "state", *args)
    assert code == 0, doc
    assert doc["plan"]["member_actions"] == {
        "signed": 5,
        "assisted": 2,
        "keyed_joins": 2,
        "unkeyed_joins": 1,
        "key_recoveries": 0,
    }
    assert doc["plan"]["member_actions_by_period"] == {
        "2025-12a": {
            "signed": 5,
            "assisted": 1,
            "keyed_joins": 2,
            "unkeyed_joins": 1,
            "key_recoveries": 0,
        },
        "2026-01a": {
            "signed": 0,
            "assisted": 1,
            "keyed_joins": 0,
            "unkeyed_joins": 0,
            "key_recoveries": 0,
        },
    }
    result = run(tmp_path / "state", *args)
    assert result.exit_code == 0, result.output
    assert (
        "Member actions (specs/plan.md §4.5): 5 signed by the member, 2 assisted (written by "
        "the operator for the member); joins: 2 with the member's own key, 1 without one.\n"
        "  2025-12a: 5 signed, 1 assisted; joins: 2 keyed, 1 without a key\n"
        "  2026-01a: 0 signed, 1 assisted; joins: 0 keyed, 0 without a key\n"
    ) in result.stdout


def test_audit_of_a_plan_without_member_actions_says_nothing_of_them(tmp_path: Path) -> None:
    write_dump(tmp_path / "dump", rechain(SignedPlan().entries))
    args = ("audit", "--dir", str(tmp_path / "dump"), "--key", KEY_DOC["verifier_key"])
    result = run(tmp_path / "state", *args)
    assert result.exit_code == 0, result.output
    assert "Member actions" not in result.stdout
    code, doc = run_json(tmp_path / "state", *args)
    assert (code, doc["plan"]["member_actions_by_period"]) == (0, {})
