"""The plan replay (verifier/plan/state.py) on specs/vectors/plan/plan-log.json, and tampered.

The vector is a whole small plan the ledger wrote; its ``expected`` section says what
a replay must find. The tamper suite changes one thing in its entries and chains
them again (every ``prev`` recomputed, ``seq`` renumbered), so the log itself stays
valid and only a plan rule is broken: the replay must name that rule and the seq.
Entries are rebuilt with the verifier's own RFC 8785 code; nothing here comes from
the ledger.
"""

from __future__ import annotations

import base64
import copy
import hashlib
import json
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from tests.verifier.cli_support import FakeLog, HostileServer, run, run_json
from tests.verifier.helpers import parse_go_private_key, public_key
from verifier.audit import AuditFailedError, Replayer
from verifier.entry import ChainVerifier
from verifier.jcs import canonicalize
from verifier.note import parse_verifier_key
from verifier.plan.draw import draw, pool_root, pool_signature_message, seed
from verifier.plan.errors import ReplayOrderError
from verifier.plan.records import PlanRuleError, format_time, seconds
from verifier.plan.state import PlanReplay
from verifier.plan.sumtree import Node, leaf, tree_root, verify_proof
from verifier.plan.vote import vote_message

SPECS = Path(__file__).resolve().parents[2] / "specs" / "vectors"
VECTOR_PATH = SPECS / "plan" / "plan-log.json"
if not VECTOR_PATH.is_file():  # pragma: no cover - the vectors are part of the repository
    pytest.skip(f"{VECTOR_PATH} not generated yet", allow_module_level=True)
VECTOR: dict[str, Any] = json.loads(VECTOR_PATH.read_text(encoding="utf-8"))
EXPECTED: dict[str, Any] = VECTOR["expected"]
RAW = [base64.b64decode(b) for b in VECTOR["entries_b64"]]
RAW_BODIES: list[dict[str, Any]] = [json.loads(raw)["body"] for raw in RAW]
KEY_DOC = json.loads((SPECS / "keys" / "log-key.json").read_text(encoding="utf-8"))

Envelope = dict[str, Any]


# -- helpers ------------------------------------------------------------------------


def envelopes() -> list[Envelope]:
    """The vector's entries as JSON objects (a fresh copy each time)."""
    return [json.loads(raw) for raw in RAW]


def rechain(entries: list[Envelope]) -> list[bytes]:
    """Canonical bytes of ``entries`` renumbered from 0 and chained again (log.md §3)."""
    out: list[bytes] = []
    prev = "0" * 64
    for seq, entry in enumerate(entries):
        raw = canonicalize({**entry, "seq": seq, "prev": prev})
        out.append(raw)
        prev = hashlib.sha256(raw).hexdigest()
    return out


def replay(raws: list[bytes]) -> PlanReplay:
    """Check the chain and replay the plan over ``raws``."""
    chain = ChainVerifier()
    plan = PlanReplay()
    for raw in raws:
        plan.apply(chain.add(raw))
    return plan


def flip_b64(text: str) -> str:
    """The base64 of the same bytes with one bit of the first byte flipped."""
    raw = bytearray(base64.b64decode(text))
    raw[0] ^= 1
    return base64.b64encode(bytes(raw)).decode()


@pytest.fixture(scope="module")
def vector_replay() -> PlanReplay:
    return replay(RAW)


# -- the vector replays exactly ------------------------------------------------------


def test_rechaining_the_untouched_vector_gives_its_exact_bytes() -> None:
    assert rechain(envelopes()) == RAW


def test_members_claims_and_panel_match_the_vector(vector_replay: PlanReplay) -> None:
    summary = vector_replay.summary()
    assert summary.members == EXPECTED["members"]
    assert summary.entries == len(RAW)
    assert summary.plan_entries == len(RAW) - 1
    assert summary.rules_version == 1
    claims = vector_replay.claims
    assert set(claims) == set(EXPECTED["claims"])
    for claim_id, want in EXPECTED["claims"].items():
        assert claims[claim_id].outcome == want["outcome"], claim_id
        assert claims[claim_id].paid_fen == want["paid_fen"], claim_id
    for claim_id, jurors in EXPECTED["panel"].items():
        assert claims[claim_id].jurors == jurors
    assert (summary.claims, summary.paid, summary.denied) == (2, 2, 0)


def test_every_period_body_matches_the_vector(vector_replay: PlanReplay) -> None:
    bodies = [p.body for p in vector_replay.periods.values()]
    assert bodies == EXPECTED["periods"]
    assert vector_replay.summary().periods_closed == len(EXPECTED["periods"])
    # the conservation of §8.2, from the bodies the replay re-derived
    last = vector_replay.periods["2025-02b"]
    charged = sum(vector_replay.charge_of(m, "2025-02b") or 0 for m in vector_replay.members)
    b = last.body
    assert isinstance(b["aid_fen"], int)
    assert charged == b["contribution_total_fen"] == 8 * 18800


def test_contribution_proofs_of_the_vector(vector_replay: PlanReplay) -> None:
    last = vector_replay.periods["2025-02b"]
    root_hash = base64.b64decode(str(last.body["contribution_root"]))
    size, total = last.body["members"], last.body["contribution_total_fen"]
    assert isinstance(size, int)
    assert isinstance(total, int)
    root_node = Node(root_hash, size, total)
    counted = sorted(m for m in vector_replay.members if vector_replay.charge_of(m, last.period))
    for proof in EXPECTED["contribution_proofs"]:
        member, index, amount = proof["member"], proof["index"], proof["amount_fen"]
        assert vector_replay.charge_of(member, last.period) == amount
        assert counted.index(member) == index
        siblings = [
            Node(base64.b64decode(s["hash"]), s["count"], s["total"]) for s in proof["siblings"]
        ]
        verify_proof(leaf(last.period, member, amount), index, size, siblings, root_node)


def test_the_projection_tells_a_claims_history(vector_replay: PlanReplay) -> None:
    c21 = vector_replay.claims["c-21"]
    assert [seq for seq, _ in c21.history] == list(range(21, PAID_21 + 1))
    assert [t for _, t in c21.history][3:6] == ["claim.appealed", "panel.pooled", "panel.drawn"]
    assert c21.pooled_seq == POOLED
    assert c21.pool_root == bytes.fromhex(RAW_BODIES[POOLED]["pool_root"])
    assert c21.basis == "panel"
    assert c21.votes == dict.fromkeys(EXPECTED["panel"]["c-21"], "approve")
    assert c21.paid_period == "2025-02b"
    c18 = vector_replay.claims["c-18"]
    assert [t for _, t in c18.history] == [
        "claim.filed",
        "claim.assessed",
        "claim.disclosed",
        "claim.decided",
        "claim.paid",
    ]
    assert (c18.basis, c18.status) == ("assessment", "paid")


def test_the_projection_tells_how_a_share_was_used(vector_replay: PlanReplay) -> None:
    rows = vector_replay.contributions("m-01a2a498249473a5b199")
    assert [r.period for r in rows] == ["2025-01a", "2025-01b", "2025-02a", "2025-02b"]
    assert (rows[-1].charge_fen, rows[-1].share_fen) == (18800, 391500)
    assert rows[-1].claims == ["c-21", "c-18"]
    assert vector_replay.charge_of("m-01a2a498249473a5b199", "2025-03a") is None
    assert vector_replay.charge_of("m-ffffffffffffffffffff", "2025-02b") is None


def test_an_operator_entry_may_name_the_operators_agent() -> None:
    entries = envelopes()
    agents = ("operator:alice", "operator:bob@example.org", "operator:" + "a" * 128)
    for i, entry in enumerate(entries[1:]):
        if entry["actor"] == "operator":
            entry["actor"] = agents[i % len(agents)]
    plan = replay(rechain(entries))
    assert plan.summary().paid == 2


def test_types_outside_the_plan_are_violations() -> None:
    entries = envelopes()
    extra = {**entries[-1], "type": "demo.note", "body": {"claim": "c-999", "x": [1]}}
    with pytest.raises(PlanRuleError) as caught:
        replay(rechain([*entries, extra]))
    assert (caught.value.seq, caught.value.rule) == (len(RAW), "entry.type")


def test_entries_must_come_in_seq_order() -> None:
    chain = ChainVerifier()
    first, second = chain.add(RAW[0]), chain.add(RAW[1])
    plan = PlanReplay()
    with pytest.raises(ReplayOrderError, match="expected the entry at seq 0 next"):
        plan.apply(second)
    plan.apply(first)
    plan.apply(second)


def test_times_round_trip() -> None:
    for text in ("2025-02-19T05:00:00Z", "0001-01-01T00:00:00Z", "9999-12-31T23:59:59Z"):
        assert format_time(seconds(text)) == text
    assert format_time(seconds("9999-12-31T23:59:59Z") + 1) is None


# -- the tamper suite ------------------------------------------------------------------

Edit = Callable[[list[Envelope]], None]


def _body(seq: int, **changes: Any) -> Edit:
    def edit(entries: list[Envelope]) -> None:
        entries[seq]["body"].update(changes)

    return edit


def _envelope(seq: int, **changes: Any) -> Edit:
    def edit(entries: list[Envelope]) -> None:
        entries[seq].update(changes)

    return edit


def _duplicate(seq: int) -> Edit:
    def edit(entries: list[Envelope]) -> None:
        entries.insert(seq + 1, copy.deepcopy(entries[seq]))

    return edit


def _insert(at: int, entry: Envelope) -> Edit:
    def edit(entries: list[Envelope]) -> None:
        entries.insert(at, copy.deepcopy(entry))

    return edit


def _each(*edits: Edit) -> Edit:
    def edit(entries: list[Envelope]) -> None:
        for e in edits:
            e(entries)

    return edit


POOLED, DRAWN, VOTE, DECIDED_21, PAID_21, DECIDED_18, CLOSED = 25, 26, 27, 30, 31, 32, 34
"""Seqs in the vector: c-21's pool signature, its draw, its first vote, its decision and
payment, c-18's decision, and the last period's close."""


def _alter_vote_signature(entries: list[Envelope]) -> None:
    body = entries[VOTE]["body"]
    body["signature"] = flip_b64(body["signature"])


def _alter_pool_signature(entries: list[Envelope]) -> None:
    body = entries[POOLED]["body"]
    body["pool_signature"] = flip_b64(body["pool_signature"])


def _pool_signed_by_another_key(entries: list[Envelope]) -> None:
    body = entries[POOLED]["body"]
    message = pool_signature_message(ORIGIN, body["claim"], bytes.fromhex(body["pool_root"]))
    other = Ed25519PrivateKey.from_private_bytes(hashlib.sha256(b"not the log key").digest())
    body["pool_signature"] = base64.b64encode(other.sign(message)).decode()


def _draw_before_the_pool(entries: list[Envelope]) -> None:
    drawn = entries.pop(DRAWN)
    drawn["time"] = entries[POOLED]["time"]  # same time, so the chain itself stays valid
    entries.insert(POOLED, drawn)


def _reverse_jurors(entries: list[Envelope]) -> None:
    entries[DRAWN]["body"]["jurors"].reverse()


def _drawn_in_the_old_shape(entries: list[Envelope]) -> None:
    pooled = entries[POOLED]["body"]
    entries[DRAWN]["body"].update(
        {k: pooled[k] for k in ("pool_root", "pool_size", "pool_signature")}
    )


def _vote_by(member: str) -> Edit:
    return _each(_envelope(VOTE, actor=f"juror:{member}"), _body(VOTE, juror=member))


def _rules_v2(time: str, effective: str) -> Envelope:
    rules = copy.deepcopy(envelopes()[1])
    rules["time"] = time
    rules["body"].update(version=2, effective=effective)
    return rules


def _leave(member: str, time: str) -> Envelope:
    return {**envelopes()[2], "time": time, "type": "member.left", "body": {"member": member}}


NOT_DRAWN = "m-28a5caf18c3461109948"  # an enrolled juror the draw did not pick
CLAIMANT_18 = "m-01a2a498249473a5b199"
FIRST_JUROR = "m-f3bcbdc0cb790f9dd040"  # the juror of the vote at seq VOTE
REVEAL_ENDS = "2025-02-19T00:00:00Z"  # the appeal at 2025-02-17T00:00:00Z + reveal_days 2

TAMPERS: list[Any] = [
    # votes, the draw, payments, decisions, periods
    pytest.param(_alter_vote_signature, VOTE, "vote.signature", id="vote-signature-altered"),
    pytest.param(_vote_by(NOT_DRAWN), VOTE, "vote.panel", id="vote-by-juror-not-drawn"),
    pytest.param(_duplicate(VOTE), VOTE + 1, "vote.twice", id="second-vote-same-juror"),
    pytest.param(
        _insert(VOTE, _leave(FIRST_JUROR, "2025-02-17T12:00:00Z")),
        VOTE + 1,
        "vote.juror_active",
        id="vote-by-a-juror-who-left",
    ),
    pytest.param(_reverse_jurors, DRAWN, "panel.drawn.jurors", id="panel-not-the-draw"),
    pytest.param(
        _envelope(PAID_21, time="2025-02-19T04:00:00Z"),
        PAID_21,
        "claim.paid.early",
        id="paid-early",
    ),
    pytest.param(_duplicate(PAID_21), PAID_21 + 1, "claim.paid.twice", id="second-payment"),
    pytest.param(
        _body(PAID_21, amount_fen=900001), PAID_21, "claim.paid.amount", id="paid-too-much"
    ),
    pytest.param(
        _body(DECIDED_21, outcome="denied", amount_fen=0),
        DECIDED_21,
        "claim.decided.outcome",
        id="decision-vs-tally",
    ),
    pytest.param(_body(CLOSED, share_fen=391501), CLOSED, "period.share", id="share-inflated"),
    pytest.param(
        _body(CLOSED, contribution_root=EXPECTED["periods"][2]["contribution_root"]),
        CLOSED,
        "period.contributions",
        id="contribution-root-wrong",
    ),
    pytest.param(
        _each(
            _insert(19, _rules_v2("2025-02-16T00:30:00Z", "2025-06-01T00:00:00Z")),
            _body(20, rules_version=2),
        ),
        20,
        "rules.applied",
        id="assessed-under-rules-not-in-force",
    ),
    pytest.param(_body(18, condition="C50"), 18, "claim.filed.waiting", id="filed-in-waiting"),
    # the pool's signature on its own entry, before the secret (§5.6, §6)
    pytest.param(
        _draw_before_the_pool, POOLED, "panel.drawn.order", id="draw-before-the-pool-is-signed"
    ),
    pytest.param(_duplicate(POOLED), POOLED + 1, "panel.pooled.twice", id="second-pooled"),
    pytest.param(
        _pool_signed_by_another_key,
        POOLED,
        "panel.pooled.signature",
        id="pool-signed-by-another-key",
    ),
    pytest.param(
        _envelope(POOLED, time=REVEAL_ENDS),
        POOLED,
        "panel.pooled.window",
        id="pooled-after-the-reveal-window",
    ),
    pytest.param(
        _envelope(DRAWN, time=REVEAL_ENDS),
        DRAWN,
        "panel.drawn.window",
        id="drawn-after-the-reveal-window",
    ),
    pytest.param(
        _body(POOLED, claim="c-18"),
        POOLED,
        "panel.pooled.order",
        id="pooled-without-an-appeal",
    ),
    pytest.param(
        _body(POOLED, rules_version=2), POOLED, "rules.applied", id="pooled-rules-version"
    ),
    pytest.param(
        _body(POOLED, secret="00" * 32), POOLED, "entry.keys", id="pooled-with-the-secret"
    ),
    pytest.param(_drawn_in_the_old_shape, DRAWN, "entry.keys", id="drawn-in-the-old-shape"),
    pytest.param(_alter_pool_signature, POOLED, "panel.pooled.signature", id="pool-signature"),
    pytest.param(_body(POOLED, pool_size=4), POOLED, "panel.pooled.pool", id="pool-size"),
    pytest.param(_body(POOLED, pool_root="00" * 32), POOLED, "panel.pooled.pool", id="pool-root"),
    pytest.param(
        _body(DRAWN, secret="00" * 32), DRAWN, "panel.drawn.secret", id="secret-not-committed"
    ),
    pytest.param(_body(DRAWN, seed="00" * 32), DRAWN, "panel.drawn.seed", id="seed"),
    pytest.param(
        _body(DRAWN, voting_closes="2025-02-20T06:00:01Z"),
        DRAWN,
        "panel.drawn.voting_closes",
        id="closes",
    ),
    # more of each section
    pytest.param(
        _insert(2, _rules_v2("2025-01-01T00:00:00Z", "2025-01-15T00:00:00Z")),
        2,
        "rules.notice",
        id="rules-short-notice",
    ),
    pytest.param(
        _body(1, effective="2025-01-03T00:00:00Z"),
        2,
        "rules.in_force",
        id="join-before-rules",
    ),
    pytest.param(_body(1, juror_tenure_days=40), 12, "juror.enrolled.tenure", id="tenure"),
    pytest.param(_body(3, member=CLAIMANT_18), 3, "member.joined.new", id="joined-twice"),
    pytest.param(_body(3, age_band="60-69"), 3, "member.joined.age_band", id="band-unknown"),
    pytest.param(
        _insert(18, _leave(CLAIMANT_18, "2025-02-15T00:00:00Z")),
        19,
        "claim.filed.member",
        id="filed-after-leaving",
    ),
    pytest.param(_body(19, amount_fen=2000001), 19, "claim.assessed.amount", id="over-claim"),
    pytest.param(_body(20, days_since_joining=44), 20, "claim.disclosed.fields", id="days"),
    pytest.param(
        _body(20, objections_close="2025-02-19T02:00:01Z"),
        20,
        "claim.disclosed.fields",
        id="objections-close",
    ),
    pytest.param(_body(23, category="cancer"), 23, "claim.disclosed.fields", id="category"),
    pytest.param(
        _body(24, appellant=CLAIMANT_18), 24, "claim.appealed.appellant", id="wrong-appellant"
    ),
    pytest.param(_envelope(VOTE, actor="operator"), VOTE, "vote.actor", id="vote-by-the-operator"),
    pytest.param(
        _body(DECIDED_21, approve=2), DECIDED_21, "claim.decided.outcome", id="counts-vs-log"
    ),
    pytest.param(
        _envelope(DECIDED_18, time="2025-02-20T00:00:00Z"),
        DECIDED_18,
        "claim.decided.early",
        id="too-early",
    ),
    pytest.param(
        _body(PAID_21, period="2025-03a"), PAID_21, "claim.paid.period", id="paid-other-period"
    ),
    pytest.param(
        _body(17, period="2025-02b", cutoff="2025-02-28T00:00:00Z"),
        17,
        "period.order",
        id="period-skipped",
    ),
    pytest.param(_body(CLOSED, carry_in_fen=1), CLOSED, "period.carry", id="carry-in"),
    pytest.param(
        _body(CLOSED, claims=["c-18", "c-21"]), CLOSED, "period.claims", id="claims-order"
    ),
    pytest.param(
        _body(CLOSED, contribution_total_fen=150401),
        CLOSED,
        "period.contributions",
        id="total",
    ),
    pytest.param(_body(PAID_21, note="x"), PAID_21, "entry.keys", id="extra-body-key"),
    pytest.param(
        _envelope(PAID_21, actor="admin:alice"), PAID_21, "entry.actor", id="actor-not-operator"
    ),
    pytest.param(
        _envelope(POOLED, actor=f"juror:{FIRST_JUROR}"),
        POOLED,
        "entry.actor",
        id="pooled-by-a-juror",
    ),
    pytest.param(
        _envelope(PAID_21, actor="operators"), PAID_21, "entry.actor", id="actor-operators"
    ),
    pytest.param(_body(22, claim="c-19"), 22, "claim.known", id="unknown-claim"),
]


@pytest.mark.parametrize(("edit", "seq", "rule"), TAMPERS)
def test_a_tampered_plan_fails_naming_the_rule_and_seq(edit: Edit, seq: int, rule: str) -> None:
    entries = envelopes()
    edit(entries)
    raws = rechain(entries)
    with pytest.raises(PlanRuleError) as caught:
        replay(raws)
    err = caught.value
    assert (err.seq, err.rule) == (seq, rule), str(err)
    assert f"seq {seq} " in str(err)
    assert "expected" in str(err)
    # nothing before the tampered entry is held against the log
    replay(raws[:seq])


# -- in the audit: the replayer and the CLI --------------------------------------------

ORIGIN = VECTOR["origin"]
SEED = parse_go_private_key(KEY_DOC["signer_key"])[1]
KEY = VECTOR["verifier_key"]


def fake_log(raws: list[bytes]) -> FakeLog:
    """The vector's log, served or dumped with a checkpoint signed by the vector key."""
    log = FakeLog(origin=ORIGIN, seed=SEED, entries=list(raws))
    assert log.key == KEY
    return log


def write_dump(folder: Path, log: FakeLog) -> Path:
    folder.mkdir()
    (folder / "checkpoint").write_text(log.checkpoint())
    lines = (
        json.dumps({"seq": i, "leaf": base64.b64encode(r).decode()})
        for i, r in enumerate(log.entries)
    )
    (folder / "entries.jsonl").write_text("".join(line + "\n" for line in lines))
    return folder


def test_audit_of_the_vector_dump_reports_the_plan(tmp_path: Path) -> None:
    folder = write_dump(tmp_path / "dump", fake_log(RAW))
    result = run(tmp_path / "s", "audit", "--dir", str(folder), "--key", KEY)
    assert result.exit_code == 0, result.output
    assert (
        "The plan's rules hold for all 35 entries: 8 members, 2 claims (2 paid, 0 denied, "
        "0 reversed for fraud with 0.00 yuan recovered), 4 closed periods: 29,000.00 yuan of "
        "aid, 2,320.00 yuan of fees, " in result.stdout
    )
    code, doc = run_json(tmp_path / "s", "audit", "--dir", str(folder), "--key", KEY)
    assert code == 0
    plan = doc["plan"]
    assert (plan["entries"], plan["members"], plan["claims"], plan["paid"]) == (35, 8, 2, 2)
    assert (plan["denied"], plan["periods_closed"], plan["last_period"]) == (0, 4, "2025-02b")


def test_audit_of_a_tampered_dump_fails_at_the_seq(tmp_path: Path) -> None:
    entries = envelopes()
    _body(CLOSED, share_fen=391501)(entries)
    folder = write_dump(tmp_path / "dump", fake_log(rechain(entries)))
    code, doc = run_json(tmp_path / "s", "audit", "--dir", str(folder), "--key", KEY)
    assert code == 1, doc
    assert doc["violation_count"] == 1
    (violation,) = doc["violations"]
    assert violation["seq"] == CLOSED
    assert violation["rule"] == "period.share"
    assert "expected share_fen 391500, found 391501" in violation["message"]
    result = run(tmp_path / "s", "audit", "--dir", str(folder), "--key", KEY)
    assert result.exit_code == 1
    assert f"seq {CLOSED} (period.closed): period.share (plan.md §8.2)" in result.stderr


@pytest.fixture
def served() -> Iterator[tuple[FakeLog, HostileServer]]:
    log = fake_log(RAW[:20])
    with HostileServer(log.route) as server:
        yield log, server


def test_a_resumed_audit_replays_the_plan_from_genesis(
    tmp_path: Path, served: tuple[FakeLog, HostileServer]
) -> None:
    log, server = served
    state = tmp_path / "state"
    assert run(state, "init", server.url, "--key", KEY).exit_code == 0
    code, first = run_json(state, "audit")
    assert code == 0, first
    assert (first["start_seq"], first["plan"]["entries"], first["plan"]["claims"]) == (0, 20, 1)

    log.entries[:] = RAW  # the log grows to the whole vector
    code, second = run_json(state, "audit")
    assert code == 0, second
    assert (second["start_seq"], second["entries_checked"]) == (20, 15)
    assert (second["plan"]["entries"], second["plan"]["paid"]) == (35, 2)

    code, third = run_json(state, "audit")  # nothing new: the plan is replayed all the same
    assert code == 0, third
    assert (third["entries_checked"], third["plan"]["periods_closed"]) == (0, 4)


def test_a_resumed_plan_replay_refuses_other_entries_than_those_audited() -> None:
    key = parse_verifier_key(KEY)
    first = Replayer(key, check_plan=True)
    for raw in RAW[:20]:
        first.add(raw)
    progress = first.progress()

    entries = envelopes()
    _body(5, identity_commitment="ab" * 32)(entries)
    other = rechain(entries)
    resumed = Replayer(key, progress, check_plan=True)
    assert resumed.plan_prefix_size == 20
    with pytest.raises(ValueError, match="through add_prefix first"):
        resumed.add(RAW[20])
    for raw in other[:20]:
        resumed.add_prefix(raw)
    assert resumed.plan_prefix_size == 0
    with pytest.raises(AuditFailedError) as caught:
        resumed.raise_if_failed()
    assert caught.value.violations[0].seq == 19
    assert "other entries than those it served before" in caught.value.violations[0].message
    assert resumed.plan_summary() is None


def test_the_replayer_stops_the_plan_at_its_first_violation() -> None:
    entries = envelopes()
    _duplicate(PAID_21)(entries)  # a second payment; the close after it then disagrees too
    replayer = Replayer(parse_verifier_key(KEY), check_plan=True)
    for raw in rechain(entries):
        replayer.add(raw)
    assert [v.seq for v in replayer.violations] == [PAID_21 + 1]
    assert replayer.violations[0].rule == "claim.paid.twice"
    assert replayer.plan_stopped_at == PAID_21 + 1


# -- hand-made plans: the paths the vector does not take ---------------------------------

M1, M2, M3, M4, M5, M6 = (f"m-{str(i) * 20}" for i in range(1, 7))
COMMIT = "ab" * 32


class PlanLog:
    """A plan written entry by entry from the spec, on the vector's key and origin."""

    def __init__(self, **rules: Any) -> None:
        genesis, first_rules = envelopes()[:2]
        start = "2025-12-01T00:00:00Z"
        first_rules["body"].update(
            effective=start,
            annual_cap_fen=1000,
            waiting_days=0,
            objection_days=1,
            appeal_days=1,
            reveal_days=1,
            voting_days=1,
            juror_tenure_days=0,
            panel_size=3,
            quorum=2,
            **rules,
        )
        self.entries = [{**genesis, "time": start}, {**first_rules, "time": start}]

    def add(self, time: str, type_: str, body: dict[str, Any], actor: str = "operator") -> int:
        """Append an entry; return its seq."""
        self.entries.append({**self.entries[0], "time": time, "type": type_, "actor": actor})
        self.entries[-1]["body"] = body
        return len(self.entries) - 1

    def join(self, time: str, *members: str, band: str = "0-39") -> None:
        for m in members:
            self.add(
                time,
                "member.joined",
                {"member": m, "age_band": band, "identity_commitment": COMMIT},
            )

    def claim(
        self, member: str, amount: int, band: str, filed: str, days: int, paid_period: str | None
    ) -> str:
        """An accident claim approved in full: filed at ``filed`` (a day's hours follow)."""
        day = filed[:11]
        seq = self.add(
            filed,
            "claim.filed",
            {
                "member": member,
                "condition": "ACC",
                "amount_fen": amount,
                "diagnosed": filed,
                "evidence_commitment": COMMIT,
            },
        )
        claim = f"c-{seq}"
        self.add(
            f"{day}01:00:00Z",
            "claim.assessed",
            {
                "claim": claim,
                "decision": "approve",
                "amount_fen": amount,
                "reason": "covered",
                "report_commitment": COMMIT,
                "rules_version": 1,
            },
        )
        close = format_time(seconds(f"{day}02:00:00Z") + 86_400)
        self.add(
            f"{day}02:00:00Z",
            "claim.disclosed",
            {
                "claim": claim,
                "age_band": band,
                "category": "accident",
                "amount_fen": amount,
                "days_since_joining": days,
                "objections_close": close,
            },
        )
        if paid_period is not None:
            decided = format_time(seconds(f"{day}02:00:00Z") + 2 * 86_400)
            assert decided is not None
            self.add(
                decided,
                "claim.decided",
                {
                    "claim": claim,
                    "outcome": "approved",
                    "amount_fen": amount,
                    "basis": "assessment",
                    "approve": 0,
                    "deny": 0,
                    "rules_version": 1,
                },
            )
            self.add(
                decided[:11] + "03:00:00Z",
                "claim.paid",
                {
                    "claim": claim,
                    "amount_fen": amount,
                    "period": paid_period,
                },
            )
        return claim

    def close(
        self, period: str, cutoff: str, claims: list[str], charges: dict[str, int], **numbers: int
    ) -> None:
        """A ``period.closed`` with the root computed over ``charges`` (§9)."""
        root = tree_root(period, sorted(charges.items()))
        body = {
            "period": period,
            "cutoff": cutoff,
            "rules_version": 1,
            "claims": claims,
            "members": len(charges),
            "contribution_root": base64.b64encode(root.hash).decode(),
            "contribution_total_fen": root.total,
            **numbers,
        }
        self.add(cutoff, "period.closed", body)


def money_plan() -> tuple[PlanLog, list[str]]:
    """Charges capped per calendar year, a leaver counted at the cutoff, a reversal's
    credit, a negative aid carried, a wind-down. Every number below is worked by hand."""
    plan = PlanLog()
    plan.join("2025-12-01T00:00:00Z", M1, M3)
    plan.join("2025-12-01T00:00:00Z", M2, band="40-59")
    c1 = plan.claim(M1, 3000, "0-39", "2025-12-02T00:00:00Z", 1, "2025-12a")
    plan.add("2025-12-14T00:00:00Z", "member.left", {"member": M3})  # left at the cutoff
    # aid 3000, fee 240, due 3240 over 3 members: share 1080, each capped at 1000
    plan.close(
        "2025-12a",
        "2025-12-14T00:00:00Z",
        [c1],
        {M1: 1000, M2: 1000, M3: 1000},
        aid_fen=3000,
        fee_fen=240,
        carry_in_fen=0,
        share_fen=1080,
        carry_out_fen=0,
        subsidy_fen=240,
        capped_members=3,
    )
    c2 = plan.claim(M2, 400, "40-59", "2025-12-20T00:00:00Z", 19, "2025-12b")
    plan.add(
        "2025-12-23T00:00:00Z",
        "claim.reversed",
        {"claim": c1, "recovered_fen": 1000, "reason": "fraud"},
    )
    # aid 400 - 1000 = -600: no fee, no share, 600 carried out as a credit; M3 gone
    plan.close(
        "2025-12b",
        "2025-12-28T00:00:00Z",
        [c2],
        {M1: 0, M2: 0},
        aid_fen=-600,
        fee_fen=0,
        carry_in_fen=0,
        share_fen=0,
        carry_out_fen=600,
        subsidy_fen=0,
        capped_members=0,
    )
    c3 = plan.claim(M2, 5000, "40-59", "2026-01-02T00:00:00Z", 32, "2026-01a")
    plan.add(
        "2026-01-05T00:00:00Z",
        "plan.wound_down",
        {"claims_until": "2026-02-01T00:00:00Z", "rules_version": 1},
    )
    # a new year: the cap starts again. aid 5000, fee 400, carry_in 600: due 4800, share 2400
    plan.close(
        "2026-01a",
        "2026-01-14T00:00:00Z",
        [c3],
        {M1: 1000, M2: 1000},
        aid_fen=5000,
        fee_fen=400,
        carry_in_fen=600,
        share_fen=2400,
        carry_out_fen=0,
        subsidy_fen=2800,
        capped_members=2,
    )
    return plan, [c1, c2, c3]


def test_a_hand_made_plan_with_caps_carries_reversal_and_wind_down() -> None:
    plan, (c1, c2, c3) = money_plan()
    replayed = replay(rechain(plan.entries))
    summary = replayed.summary()
    assert (summary.members, summary.members_left, summary.claims) == (2, 1, 3)
    assert (summary.paid, summary.reversed, summary.periods_closed) == (3, 1, 3)
    assert summary.wound_down
    assert replayed.claims[c1].recovered_period == "2025-12b"
    assert replayed.charge_of(M3, "2025-12a") == 1000
    assert replayed.charge_of(M3, "2025-12b") is None
    assert [(r.period, r.charge_fen) for r in replayed.contributions(M1)] == [
        ("2025-12a", 1000),
        ("2025-12b", 0),
        ("2026-01a", 1000),
    ]
    assert replayed.periods["2026-01a"].capped == {M1: 1000, M2: 1000}
    assert c2 in replayed.periods["2025-12b"].body["claims"]  # type: ignore[operator]
    assert replayed.claims[c3].paid_period == "2026-01a"


def _then(*adds: tuple[str, str, dict[str, Any]]) -> Callable[[PlanLog], None]:
    def edit(plan: PlanLog) -> None:
        for time, type_, body in adds:
            plan.add(time, type_, body)

    return edit


def _member_left_early(plan: PlanLog) -> None:
    leave = next(e for e in plan.entries if e["type"] == "member.left")
    leave["time"] = "2025-12-13T23:59:59Z"


def _filing(member: str, diagnosed: str) -> dict[str, Any]:
    return {
        "member": member,
        "condition": "ACC",
        "amount_fen": 100,
        "diagnosed": diagnosed,
        "evidence_commitment": COMMIT,
    }


@pytest.mark.parametrize(
    ("edit", "position", "rule"),
    [
        pytest.param(_member_left_early, 11, "period.members", id="leaver-counted"),
        pytest.param(
            _then(
                (
                    "2026-01-15T00:00:00Z",
                    "member.joined",
                    {"member": M4, "age_band": "0-39", "identity_commitment": COMMIT},
                )
            ),
            -1,
            "member.joined.wound_down",
            id="join-after-wind-down",
        ),
        pytest.param(
            _then(("2026-01-15T00:00:00Z", "claim.filed", _filing(M1, "2026-01-06T00:00:00Z"))),
            -1,
            "claim.filed.wound_down",
            id="diagnosed-after-wind-down",
        ),
        pytest.param(
            _then(("2026-02-02T00:00:00Z", "claim.filed", _filing(M1, "2026-01-04T00:00:00Z"))),
            -1,
            "claim.filed.wound_down",
            id="filed-after-claims-until",
        ),
        pytest.param(
            _then(
                (
                    "2026-01-15T00:00:00Z",
                    "claim.reversed",
                    {"claim": "c-5", "recovered_fen": 1, "reason": "x"},
                )
            ),
            -1,
            "claim.reversed.twice",
            id="reversed-twice",
        ),
        pytest.param(
            _then(("2026-01-15T00:00:00Z", "member.left", {"member": M3})),
            -1,
            "member.left.active",
            id="left-twice",
        ),
    ],
)
def test_a_tampered_hand_made_plan(
    edit: Callable[[PlanLog], None], position: int, rule: str
) -> None:
    plan, _ = money_plan()
    edit(plan)
    seq = position % len(plan.entries)
    with pytest.raises(PlanRuleError) as caught:
        replay(rechain(plan.entries))
    assert (caught.value.seq, caught.value.rule) == (seq, rule)


def juror_seed(member: str) -> bytes:
    return hashlib.sha256(member.encode()).digest()


def panel_plan(*, pool_with_objector: bool = False) -> tuple[PlanLog, str]:
    """An approval objected to and appealed by the objector; a panel of 3 denies it."""
    plan = PlanLog()
    start = "2025-12-01T00:00:00Z"
    plan.join(start, M1, M2, M3, M4, M5, M6)
    for m in (M2, M3, M4, M5, M6):
        juror_key = base64.b64encode(public_key(juror_seed(m))).decode()
        plan.add(start, "juror.enrolled", {"member": m, "juror_key": juror_key})
    claim = plan.claim(M1, 3000, "0-39", "2025-12-02T00:00:00Z", 1, None)
    plan.add(
        "2025-12-02T03:00:00Z",
        "claim.objected",
        {"claim": claim, "objector": M2, "reason_hash": COMMIT},
    )
    secret = bytes(range(32))
    plan.add(
        "2025-12-02T04:00:00Z",
        "claim.appealed",
        {
            "claim": claim,
            "appellant": M2,
            "secret_commitment": hashlib.sha256(secret).hexdigest(),
        },
    )
    pool = [M2, M3, M4, M5, M6] if pool_with_objector else [M3, M4, M5, M6]
    root = pool_root(claim, pool)
    message = pool_signature_message(ORIGIN, claim, root)
    signature = Ed25519PrivateKey.from_private_bytes(SEED).sign(message)
    plan.add(
        "2025-12-02T04:30:00Z",
        "panel.pooled",
        {
            "claim": claim,
            "pool_root": root.hex(),
            "pool_size": len(pool),
            "pool_signature": base64.b64encode(signature).decode(),
            "rules_version": 1,
        },
        actor="operator:alice",
    )
    drawn_seed = seed(root, signature, secret)
    jurors = draw(pool, drawn_seed, 3)
    plan.add(
        "2025-12-02T05:00:00Z",
        "panel.drawn",
        {
            "claim": claim,
            "secret": secret.hex(),
            "seed": drawn_seed.hex(),
            "jurors": jurors,
            "voting_closes": "2025-12-03T05:00:00Z",
            "rules_version": 1,
        },
    )
    for j in jurors:
        vote = vote_message(ORIGIN, claim, "deny", COMMIT)
        signed = Ed25519PrivateKey.from_private_bytes(juror_seed(j)).sign(vote)
        plan.add(
            "2025-12-02T06:00:00Z",
            "vote.cast",
            {
                "claim": claim,
                "juror": j,
                "choice": "deny",
                "rationale_hash": COMMIT,
                "signature": base64.b64encode(signed).decode(),
            },
            actor=f"juror:{j}",
        )
    plan.add(
        "2025-12-02T07:00:00Z",
        "claim.decided",
        {
            "claim": claim,
            "outcome": "denied",
            "amount_fen": 0,
            "basis": "panel",
            "approve": 0,
            "deny": 3,
            "rules_version": 1,
        },
    )
    return plan, claim


def test_an_approval_appealed_by_an_objector_and_denied_by_the_panel() -> None:
    plan, claim = panel_plan()
    replayed = replay(rechain(plan.entries))
    record = replayed.claims[claim]
    assert (record.objectors, record.appellant) == ([M2], M2)
    assert record.pool == [M3, M4, M5, M6]  # neither the claimant nor the objector
    assert (record.outcome, record.basis, record.decided_fen) == ("denied", "panel", 0)
    assert replayed.summary().denied == 1

    plan.add(
        "2025-12-04T00:00:00Z",
        "claim.paid",
        {"claim": claim, "amount_fen": 3000, "period": "2025-12a"},
    )
    with pytest.raises(PlanRuleError) as caught:
        replay(rechain(plan.entries))
    assert caught.value.rule == "claim.paid.approved"


def _seq_of(plan: PlanLog, type_: str) -> int:
    return next(i for i, e in enumerate(plan.entries) if e["type"] == type_)


def test_a_pool_with_the_objector_in_it_is_refused() -> None:
    plan, _ = panel_plan(pool_with_objector=True)
    pooled = _seq_of(plan, "panel.pooled")
    with pytest.raises(PlanRuleError) as caught:
        replay(rechain(plan.entries))
    assert (caught.value.seq, caught.value.rule) == (
        pooled,
        "panel.pooled.pool",
    )


def _undrawn(plan: PlanLog, *, pooled: bool, decided: str) -> int:
    """Cut the plan after its pool (or its appeal), then decide on the assessment."""
    keep = _seq_of(plan, "panel.pooled" if pooled else "claim.appealed")
    del plan.entries[keep + 1 :]
    return plan.add(
        decided,
        "claim.decided",
        {
            "claim": plan.entries[keep]["body"]["claim"],
            "outcome": "approved",
            "amount_fen": 3000,
            "basis": "assessment",
            "approve": 0,
            "deny": 0,
            "rules_version": 1,
        },
    )


@pytest.mark.parametrize("pooled", [True, False], ids=["pooled-not-drawn", "never-pooled"])
def test_an_appeal_never_drawn_stands_on_the_assessment_after_the_reveal_window(
    pooled: bool,
) -> None:
    plan, claim = panel_plan()
    # the appeal at 2025-12-02T04:00:00Z + reveal_days 1
    _undrawn(plan, pooled=pooled, decided="2025-12-03T04:00:00Z")
    record = replay(rechain(plan.entries)).claims[claim]
    assert (record.outcome, record.basis, record.decided_fen) == ("approved", "assessment", 3000)
    assert record.jurors is None
    assert (record.pool_signature is not None) is pooled

    plan, _ = panel_plan()
    seq = _undrawn(plan, pooled=pooled, decided="2025-12-03T03:59:59Z")
    with pytest.raises(PlanRuleError) as caught:
        replay(rechain(plan.entries))
    assert (caught.value.seq, caught.value.rule) == (seq, "claim.decided.early")
    assert ("pooled but never drawn" if pooled else "never pooled") in caught.value.detail


@pytest.mark.parametrize(
    ("pooled", "kind", "says"),
    [
        (False, "panel_not_convened", "the operator never signed the pool"),
        (True, "panel_not_drawn", "did not reveal the secret, or the operator did not record"),
    ],
)
def test_an_appeal_decided_without_its_panel_is_a_finding(
    pooled: bool, kind: str, says: str
) -> None:
    plan, claim = panel_plan()
    seq = _undrawn(plan, pooled=pooled, decided="2025-12-03T04:00:00Z")
    summary = replay(rechain(plan.entries)).summary()
    (finding,) = summary.findings
    assert (finding.seq, finding.claim, finding.kind) == (seq, claim, kind)
    assert says in finding.message
    assert "approved on the operator's own assessment" in finding.message
    assert summary.json()["findings"] == [finding.json()]
    assert summary.finding_lines()[1] == f"  seq {seq}: {finding.message}"


def test_a_panel_decision_makes_no_finding() -> None:
    plan, _ = panel_plan()
    assert replay(rechain(plan.entries)).summary().findings == ()


def test_too_few_jurors_is_a_finding_not_the_operators_fault() -> None:
    plan, claim = panel_plan()
    plan.entries[1]["body"]["panel_size"] = 5  # 4 eligible jurors: no pool can be signed
    _undrawn(plan, pooled=False, decided="2025-12-03T04:00:00Z")
    (finding,) = replay(rechain(plan.entries)).summary().findings
    assert (finding.claim, finding.kind) == (claim, "too_few_jurors")
    assert "only 4 jurors were eligible, fewer than the panel of 5" in finding.message


def test_a_stalled_appeal_is_a_finding_once_its_deadline_has_passed() -> None:
    plan, claim = panel_plan()
    appeal = _seq_of(plan, "claim.appealed")
    del plan.entries[appeal + 1 :]
    assert replay(rechain(plan.entries)).summary().findings == ()  # not yet due
    plan.entries.append(_leave(M6, "2025-12-03T04:00:00Z"))  # time moves on
    (finding,) = replay(rechain(plan.entries)).summary().findings
    assert (finding.seq, finding.claim, finding.kind) == (appeal, claim, "appeal_overdue")


def test_no_pool_or_draw_once_the_claim_is_decided() -> None:
    plan, _ = panel_plan()
    pooled = copy.deepcopy(plan.entries[_seq_of(plan, "panel.pooled")])
    _undrawn(plan, pooled=False, decided="2025-12-03T04:00:00Z")
    seq = plan.add("2025-12-03T04:00:00Z", "panel.pooled", pooled["body"])
    with pytest.raises(PlanRuleError) as caught:
        replay(rechain(plan.entries))
    assert (caught.value.seq, caught.value.rule) == (seq, "panel.pooled.order")


def test_the_draw_needs_the_panel_size_in_force_at_the_draw() -> None:
    plan, _ = panel_plan()
    plan.entries[1]["body"]["notice_days"] = 0
    drawn = _seq_of(plan, "panel.drawn")
    rules_v2 = copy.deepcopy(plan.entries[1])
    rules_v2["time"] = "2025-12-02T04:40:00Z"
    rules_v2["body"].update(version=2, effective="2025-12-02T04:45:00Z", panel_size=5)
    plan.entries.insert(drawn, rules_v2)
    plan.entries[drawn + 1]["body"]["rules_version"] = 2
    with pytest.raises(PlanRuleError) as caught:
        replay(rechain(plan.entries))
    assert (caught.value.seq, caught.value.rule) == (
        drawn + 1,
        "panel.drawn.size",
    )


def test_a_pool_smaller_than_the_panel_is_refused_at_the_pool() -> None:
    plan, _ = panel_plan()
    plan.entries[1]["body"]["panel_size"] = 5  # 4 eligible jurors
    with pytest.raises(PlanRuleError) as caught:
        replay(rechain(plan.entries))
    assert (caught.value.seq, caught.value.rule) == (
        _seq_of(plan, "panel.pooled"),
        "panel.pooled.size",
    )


def test_an_appeal_of_an_approval_by_a_non_objector_is_refused() -> None:
    plan, _ = panel_plan()
    appeal = next(i for i, e in enumerate(plan.entries) if e["type"] == "claim.appealed")
    plan.entries[appeal]["body"]["appellant"] = M3
    with pytest.raises(PlanRuleError) as caught:
        replay(rechain(plan.entries))
    assert (caught.value.seq, caught.value.rule) == (appeal, "claim.appealed.appellant")
