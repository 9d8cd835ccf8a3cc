"""Write specs/vectors/plan/invalid/ (a negative vector per rule of specs/plan.md §10) and
the statement vectors of the same plan (specs/statement.md).

Run ``make vectors`` (or ``python specs/vectors/invalid_generate.py [OUT]``). The
ledger's own :class:`~ledger.domain.plan.Plan` builds ``plan/invalid/base.json``, a
small plan that keeps every rule, and names points in it (``labels``: the number of
entries up to that point). Each case takes a prefix of the base up to a label and
appends one entry that breaks exactly one rule; the file holds the entry's exact
bytes, the prefix length and the rule's id. Before writing, the generator checks
that the ledger's rules refuse the entry with that id, so a vector and the ledger
cannot silently disagree; the verifier's tests check every vector on their own.
"""

from __future__ import annotations

import base64
import hashlib
import json
import random
import sys
import tempfile
from collections.abc import Callable
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parents[1]))
sys.path.insert(0, str(HERE))

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey  # noqa: E402
from generate import ORIGIN, SIGNER  # noqa: E402

from ledger.domain.closing import close_period  # noqa: E402
from ledger.domain.draw import draw, pool_root, pool_signature_message, seed  # noqa: E402
from ledger.domain.errors import RuleError  # noqa: E402
from ledger.domain.plan import Plan  # noqa: E402
from ledger.domain.requests import (  # noqa: E402
    RequestDocument,
    juror_key_message,
    member_key_message,
    public_key,
    sign,
    sign_request,
)
from ledger.domain.rules import Rules, reference_rules  # noqa: E402
from ledger.domain.state import PlanState  # noqa: E402
from ledger.domain.vote import sign_vote  # noqa: E402
from ledger.instance import Ledger  # noqa: E402
from ledger.log.entry import Entry, encode_entry, entry_hash, parse_entry  # noqa: E402
from ledger.log.log import Log, NewEntry  # noqa: E402
from ledger.log.store import Store  # noqa: E402
from ledger.publish.publisher import Publisher  # noqa: E402

OUT = HERE
START = "2025-01-01T00:00:00Z"
RATIONALE = hashlib.sha256(b"the records support it").hexdigest()
BASE_RULES = replace(
    reference_rules(START, member_signatures=None),
    panel_size=3,
    quorum=2,
    notice_days=1,
    reveal_days=3,
    annual_cap_fen=300_000,
)


def b64(data: bytes) -> str:
    """Standard base64 with padding."""
    return base64.b64encode(data).decode()


def write(path: str, value: dict[str, Any]) -> None:
    """Write one vector file, sorted and indented so diffs stay readable."""
    target = OUT / path
    target.parent.mkdir(parents=True, exist_ok=True)
    target.write_text(json.dumps(value, indent=2, sort_keys=True, ensure_ascii=False) + "\n")


def juror_seed(n: int) -> bytes:
    """The private key seed of the base's n-th juror (published: test keys only)."""
    return hashlib.sha256(b"invalid-vector juror %d" % n).digest()


def juror_public(n: int) -> bytes:
    """The n-th juror's Ed25519 public key."""
    return Ed25519PrivateKey.from_private_bytes(juror_seed(n)).public_key().public_bytes_raw()


def secret_of(claim: str) -> bytes:
    """The appellant's secret for ``claim`` in the base."""
    return hashlib.sha256(b"invalid-vector secret " + claim.encode()).digest()


@dataclass
class Base:
    """The base plan: its entries' bytes, the labelled points, and who is who."""

    raws: list[bytes] = field(default_factory=list)
    labels: dict[str, int] = field(default_factory=dict)
    statements: dict[str, dict[str, Any]] = field(default_factory=dict)
    people: list[str] = field(default_factory=list)
    claims: dict[str, str] = field(default_factory=dict)
    panels: dict[str, list[str]] = field(default_factory=dict)
    seeds: dict[str, bytes] = field(default_factory=dict)
    member_seeds: dict[str, bytes] = field(default_factory=dict)
    """The member key seed of each keyed member (published: test keys only)."""

    def entry(self, seq: int) -> Entry:
        """The base entry at ``seq``, parsed."""
        return parse_entry(self.raws[seq])

    def state(self, size: int) -> PlanState:
        """The ledger's state after the first ``size`` entries."""
        state = PlanState()
        for raw in self.raws[:size]:
            state.apply(parse_entry(raw))
        return state

    def last_time(self, size: int) -> str:
        """The time of the entry before position ``size``."""
        return self.entry(size - 1).time

    def find(self, type_: str, claim: str | None = None) -> Entry:
        """The first base entry of ``type_`` (for ``claim``, if given)."""
        for raw in self.raws:
            entry = parse_entry(raw)
            if entry.type == type_ and (claim is None or entry.body.get("claim") == claim):
                return entry
        raise LookupError(f"no {type_} entry for {claim} in the base")


def build_base(run: Callable[[Plan, Base, Log], None] | None = None) -> Base:
    """Run the base plan through the ledger's Plan (see the module doc for its shape);
    ``run`` gives another plan (the signed base) instead."""
    base = Base()
    rng = random.Random(20250102)  # noqa: S311 - vectors are reproducible by design
    with tempfile.TemporaryDirectory() as tmp:
        store = Store(f"sqlite:///{tmp}/base.db", create=True)
        store.create_schema()
        with store.writer() as conn:
            conn.exec_driver_sql(
                "INSERT INTO log_meta (id, schema_version, origin, verifier_key) "
                "VALUES (?, ?, ?, ?)",
                (1, 1, ORIGIN, SIGNER.verifier().to_string()),
            )
        log = Log(store)
        genesis = {"origin": ORIGIN, "verifier_key": SIGNER.verifier().to_string()}
        log.append(NewEntry("log.genesis", "operator", genesis, time=START))
        plan = Plan(
            Ledger(store, log, SIGNER, Publisher(store, SIGNER)), random_bytes=rng.randbytes
        )
        (run or _run_base)(plan, base, log)
        base.raws = [raw for _, raw in log.entries(0, log.size())]
        plan.ledger.publisher.publish()
        if run is None:
            base.statements = _statements(plan, base)
        store.dispose()
    return base


STATEMENTS = (
    (
        "reversal",
        0,
        "2025-03a",
        "a period credited with a recovery (X reversed for fraud) "
        "and paying another claim; every member capped by the annual cap",
    ),
    (
        "paid-then-reversed",
        2,
        "2025-02b",
        "the period that paid X, which was reversed for "
        "fraud in the next period; the reversal is shown",
    ),
    (
        "absent",
        8,
        "2025-03a",
        "a member who left before the cutoff: proved to have no leaf "
        "in this period, counted in the earlier ones",
    ),
)


def _statements(plan: Plan, base: Base) -> dict[str, dict[str, Any]]:
    """Statement vectors of the base plan, with what a verifier must report of each."""
    from api.statement import build_statement

    state, out = plan.state, {}
    for name, who, period, description in STATEMENTS:
        member = base.people[who]
        bundle = build_statement(plan.ledger.log, state, member, period)
        out[name] = {
            "description": description,
            "request": f"/v1/members/{member}/statement?period={period}",
            "statement": bundle,
            "expected": _expected(plan, state, member, period),
        }
    return out


def _expected(plan: Plan, state: PlanState, member: str, period: str) -> dict[str, Any]:
    """What statement.md §4 says of ``member`` in ``period``, by the ledger's reckoning."""
    from ledger.domain.parts import Flows, member_parts
    from ledger.domain.store import stored_proof

    close = next(c for c in state.closed if c.period == period)
    body = close.body
    with plan.ledger.store.reader() as conn:
        found = stored_proof(conn, period, member, int(body["members"]))
    charge = 0 if found is None else found[1]
    flows = Flows(
        [(c, int(state.claims[c].paid_fen or 0)) for c in body["claims"]],
        int(body["fee_fen"]),
        state.recovered_in_period(period),
        int(body["carry_in_fen"]),
        int(body["carry_out_fen"]),
    )
    reversed_ = {
        c: {
            "recovered_fen": state.claims[c].recovered_fen,
            "period": state.claims[c].recovered_period,
        }
        for c in body["claims"]
        if state.claims[c].recovered_fen is not None
    }
    return {
        "counted": found is not None,
        "charge_fen": charge,
        "share_fen": int(body["share_fen"]),
        "parts": member_parts(charge, flows),
        "reversed": reversed_,
    }


def _run_base(plan: Plan, base: Base, log: Log) -> None:
    def mark(label: str) -> None:
        base.labels[label] = log.size()

    mark("genesis")
    plan.set_rules(BASE_RULES, at=START)
    mark("rules")
    people = [
        m
        for m, _ in plan.join_many(
            [("0-39" if i % 2 == 0 else "40-59", {"n": i}) for i in range(10)],
            at="2025-01-02T00:00:00Z",
        )
    ]
    base.people = people
    mark("joined")
    _claim_w(plan, base, mark)
    plan.close_period(at="2025-01-14T00:00:00Z")
    plan.close_period(at="2025-01-28T00:00:00Z")
    mark("closed_01b")
    for n, person in enumerate(people[3:8]):
        base.seeds[person] = juror_seed(n)
        plan.enrol_juror(person, juror_public(n), at="2025-02-05T00:00:00Z")
    mark("enrolled")
    plan.leave(people[8], at="2025-02-06T00:00:00Z")
    mark("p8_left")
    plan.close_period(at="2025-02-14T00:00:00Z")
    _claims_x_and_y(plan, base, mark)
    _claims_v2_and_v(plan, base, mark)
    plan.wind_down("2025-03-31T00:00:00Z", at="2025-03-15T00:00:00Z")
    mark("wound_down")


def _claim_w(plan: Plan, base: Base, mark: Callable[[str], None]) -> None:
    """W: a denial appealed by its claimant before any juror enrolled (an empty pool)."""
    p = base.people
    w = plan.file_claim(
        p[1], "ACC", 300_000, "2025-01-03T00:00:00Z", b"w", at="2025-01-03T00:00:00Z"
    )
    base.claims["W"] = w
    mark("w_filed")
    plan.assess(w, "deny", 0, "not an accident", b"r", at="2025-01-03T01:00:00Z")
    mark("w_assessed")
    plan.disclose(w, at="2025-01-03T02:00:00Z")
    mark("w_disclosed")
    plan.appeal(w, p[1], hashlib.sha256(secret_of(w)).hexdigest(), at="2025-01-04T00:00:00Z")
    mark("w_appealed")
    plan.decide(w, at="2025-01-07T00:00:00Z")
    mark("w_decided")


def _vote(plan: Plan, base: Base, claim: str, juror: str, at: str) -> None:
    signature = sign_vote(base.seeds[juror], ORIGIN, claim, "approve", RATIONALE)
    plan.cast_vote(claim, juror, "approve", RATIONALE, signature, at=at)


def _claims_x_and_y(plan: Plan, base: Base, mark: Callable[[str], None]) -> None:
    """X: approved, objected, appealed by the objector, upheld by a panel, paid, reversed.
    Y: denied, never appealed."""
    p = base.people
    x = plan.file_claim(
        p[0], "ACC", 2_000_000, "2025-02-15T00:00:00Z", b"x", at="2025-02-16T00:00:00Z"
    )
    base.claims["X"] = x
    mark("x_filed")
    plan.assess(x, "approve", 2_000_000, "covered", b"r", at="2025-02-16T01:00:00Z")
    mark("x_assessed")
    plan.disclose(x, at="2025-02-16T02:00:00Z")
    mark("x_disclosed")
    y = plan.file_claim(
        p[9], "ACC", 900_000, "2025-02-15T00:00:00Z", b"y", at="2025-02-16T03:00:00Z"
    )
    base.claims["Y"] = y
    plan.assess(y, "deny", 0, "not covered", b"r", at="2025-02-16T04:00:00Z")
    plan.disclose(y, at="2025-02-16T05:00:00Z")
    mark("y_disclosed")
    plan.object(x, p[2], "the records look forged", at="2025-02-17T00:00:00Z")
    mark("x_objected")
    plan.appeal(x, p[2], hashlib.sha256(secret_of(x)).hexdigest(), at="2025-02-18T00:00:00Z")
    mark("x_appealed")
    plan.sign_pool(x, at="2025-02-18T01:00:00Z")
    mark("x_pooled")
    jurors = plan.draw_panel(x, secret_of(x), at="2025-02-18T02:00:00Z")
    base.panels[x] = jurors
    mark("x_drawn")
    _vote(plan, base, x, jurors[0], "2025-02-18T03:00:00Z")
    mark("x_first_vote")
    _vote(plan, base, x, jurors[1], "2025-02-18T04:00:00Z")
    _vote(plan, base, x, jurors[2], "2025-02-18T05:00:00Z")
    mark("x_voted")
    plan.decide(x, at="2025-02-18T06:00:00Z")
    mark("x_decided")
    plan.decide(y, at="2025-02-22T06:00:00Z")
    mark("y_decided")
    plan.pay(x, at="2025-02-23T00:00:00Z")
    mark("x_paid")
    plan.close_period(at="2025-02-28T00:00:00Z")
    mark("closed_02b")
    plan.reverse(x, 500_000, "forged records", at="2025-03-01T00:00:00Z")
    mark("x_reversed")


def _claims_v2_and_v(plan: Plan, base: Base, mark: Callable[[str], None]) -> None:
    """V2: a denial overturned by a panel one of whose jurors left before voting.
    V: pooled, then a rules version with a larger panel takes force before the draw."""
    p = base.people
    v2 = plan.file_claim(
        p[0], "ACC", 1_000_000, "2025-03-01T00:00:00Z", b"v2", at="2025-03-02T00:00:00Z"
    )
    base.claims["V2"] = v2
    plan.assess(v2, "deny", 0, "not an accident", b"r", at="2025-03-02T01:00:00Z")
    plan.disclose(v2, at="2025-03-02T02:00:00Z")
    plan.appeal(v2, p[0], hashlib.sha256(secret_of(v2)).hexdigest(), at="2025-03-03T00:00:00Z")
    plan.sign_pool(v2, at="2025-03-03T01:00:00Z")
    jurors = plan.draw_panel(v2, secret_of(v2), at="2025-03-03T02:00:00Z")
    base.panels[v2] = jurors
    plan.leave(jurors[2], at="2025-03-03T03:00:00Z")
    mark("v2_juror_left")
    _vote(plan, base, v2, jurors[0], "2025-03-03T04:00:00Z")
    _vote(plan, base, v2, jurors[1], "2025-03-03T05:00:00Z")
    plan.decide(v2, at="2025-03-06T02:00:00Z")
    plan.pay(v2, at="2025-03-06T03:00:00Z")
    v = plan.file_claim(
        p[1], "ACC", 500_000, "2025-03-06T00:00:00Z", b"v", at="2025-03-07T00:00:00Z"
    )
    base.claims["V"] = v
    plan.assess(v, "deny", 0, "not an accident", b"r", at="2025-03-07T01:00:00Z")
    plan.disclose(v, at="2025-03-07T02:00:00Z")
    plan.appeal(v, p[1], hashlib.sha256(secret_of(v)).hexdigest(), at="2025-03-08T00:00:00Z")
    plan.sign_pool(v, at="2025-03-08T01:00:00Z")
    plan.set_rules(
        replace(BASE_RULES, version=2, effective="2025-03-09T02:00:00Z", panel_size=6),
        at="2025-03-08T02:00:00Z",
    )
    mark("v_rules_changed")
    plan.decide(v, at="2025-03-11T02:00:00Z")
    plan.close_period(at="2025-03-14T00:00:00Z")
    mark("closed_03a")


SIGNED_RULES = replace(BASE_RULES, member_signature_policy="required")
OTHER_SEED = hashlib.sha256(b"invalid-vector another key").digest()


def member_seed(n: int) -> bytes:
    """The member key seed of the signed base's n-th member (published: test keys only)."""
    return hashlib.sha256(b"invalid-vector member %d" % n).digest()


def signed_member(n: int) -> str:
    """The signed base's n-th member id (chosen by the member's tool, plan.md §1)."""
    return "m-" + hashlib.sha256(b"invalid-vector member id %d" % n).hexdigest()[:20]


def signed(base: Base, member: str, entry_type: str, body: dict[str, Any]) -> dict[str, Any]:
    """``body`` signed by ``member``'s own key."""
    return sign_request(base.member_seeds[member], ORIGIN, entry_type, body)


def enrolment(
    base: Base, member: str, juror_seed_: bytes, number: int, proof_seed: bytes | None = None
) -> dict[str, Any]:
    """A signed enrolment of ``member`` with the juror key of ``juror_seed_``, whose own
    signature is by ``proof_seed`` (the juror key itself unless given)."""
    key = public_key(juror_seed_)
    proof = sign(proof_seed or juror_seed_, juror_key_message(ORIGIN, member, key))
    body = {"member": member, "juror_key": key, "juror_signature": proof, "request": number}
    return signed(base, member, "juror.enrolled", body)


def join_request(member: str, seed: bytes, key_seed: bytes | None = None) -> dict[str, Any]:
    """A join request of ``member`` naming the key of ``key_seed`` (default ``seed``),
    signed by ``seed``."""
    body = {"member": member, "member_key": public_key(key_seed or seed), "request": 0}
    return sign_request(seed, ORIGIN, "member.joined", body)


def _run_signed_base(plan: Plan, base: Base, log: Log) -> None:
    """Members who sign: keyed joins, signed enrolments, a claim filed, objected to and
    appealed by signed requests, a signed leaving, under member_signatures required;
    then a rotation, a recovery the old key refuses, and a recovery that takes force
    (its key then signs a rotation)."""

    def mark(label: str) -> None:
        base.labels[label] = log.size()

    def submit(member: str, entry_type: str, body: dict[str, Any], at: str) -> None:
        plan.submit_request(
            RequestDocument(entry_type, signed(base, member, entry_type, body)), at=at
        )

    mark("genesis")
    plan.set_rules(SIGNED_RULES, at=START)
    people = [signed_member(n) for n in range(6)]
    base.people = people
    for n, person in enumerate(people):
        base.member_seeds[person] = member_seed(n)
    requests = [
        RequestDocument("member.joined", join_request(m, base.member_seeds[m])) for m in people
    ]
    plan.join_many(
        [("0-39", {"n": n, "signed": True}) for n in range(len(people))],
        requests=requests,
        at="2025-01-02T00:00:00Z",
    )
    mark("joined")
    for n, person in enumerate(people[3:]):
        base.seeds[person] = juror_seed(20 + n)
        doc = enrolment(base, person, base.seeds[person], 1)
        plan.submit_request(RequestDocument("juror.enrolled", doc), at="2025-02-05T00:00:00Z")
    mark("enrolled")
    body = filed(people[0], "ACC", 400_000, "2025-02-06T00:00:00Z")
    submit(people[0], "claim.filed", {**body, "request": 1}, "2025-02-06T00:00:00Z")
    s = f"c-{log.size() - 1}"
    base.claims["S"] = s
    plan.assess(s, "approve", 400_000, "covered", b"r", at="2025-02-06T01:00:00Z")
    plan.disclose(s, at="2025-02-06T02:00:00Z")
    mark("s_disclosed")
    objection = {"claim": s, "objector": people[1], "reason_hash": RATIONALE, "request": 1}
    submit(people[1], "claim.objected", objection, "2025-02-07T00:00:00Z")
    mark("s_objected")
    commitment = hashlib.sha256(secret_of(s)).hexdigest()
    appeal = {"claim": s, "appellant": people[1], "secret_commitment": commitment, "request": 2}
    submit(people[1], "claim.appealed", appeal, "2025-02-08T00:00:00Z")
    mark("s_appealed")
    submit(people[2], "member.left", {"member": people[2], "request": 1}, "2025-02-09T00:00:00Z")
    mark("p2_left")
    # Member 3 rotates their key; member 4 refuses a recovery; member 5 gets one.
    submit(people[3], "member.key_rotated", rotation(people[3], 103, 2), "2025-02-10T00:00:00Z")
    base.member_seeds[people[3]] = member_seed(103)
    mark("rotated")
    plan.recover_key(people[4], *new_key(people[4], 104), at="2025-02-10T01:00:00Z")
    recovery = log.size() - 1
    mark("recovery_written")
    refusal = {"member": people[4], "recovery": recovery, "request": 2}
    submit(people[4], "member.key_recovery_refused", refusal, "2025-02-10T02:00:00Z")
    mark("refused")
    plan.recover_key(people[5], *new_key(people[5], 105), at="2025-02-10T03:00:00Z")
    mark("m5_recovery")
    base.member_seeds[people[5]] = member_seed(105)  # in force from 2025-02-11T03:00:00Z
    submit(people[5], "member.key_rotated", rotation(people[5], 115, 2), "2025-02-12T00:00:00Z")
    base.member_seeds[people[5]] = member_seed(115)
    mark("m5_recovered")


def new_key(member: str, n: int, proof_seed: bytes | None = None) -> tuple[str, str]:
    """The key of ``member_seed(n)`` and its own signature (requests.md §3.2)."""
    key = public_key(member_seed(n))
    return key, sign(proof_seed or member_seed(n), member_key_message(ORIGIN, member, key))


def rotation(member: str, n: int, number: int, proof_seed: bytes | None = None) -> dict[str, Any]:
    """An unsigned rotation body to the key of ``member_seed(n)``."""
    key, proof = new_key(member, n, proof_seed)
    return {"member": member, "member_key": key, "key_signature": proof, "request": number}


# -- the cases ----------------------------------------------------------------------


@dataclass(frozen=True)
class Bad:
    """The entry a case appends (time: the last entry's time unless given)."""

    type: str
    body: dict[str, Any]
    actor: str = "operator"
    time: str | None = None


@dataclass(frozen=True)
class Case:
    """One negative vector: the rule, a variant name, what breaks it, where, and how."""

    rule: str
    variant: str
    description: str
    at: str
    make: Callable[[Base, int], Bad]
    base: str = "base.json"


def rules_body(rules: Rules, **changes: Any) -> dict[str, Any]:
    """A ``plan.rules`` body with some values changed."""
    return {**rules.to_body(), **changes}


def later_rules(base: Base, size: int, **changes: Any) -> dict[str, Any]:
    """Version 2 announced right after ``size`` entries with one day's notice, changed."""
    del base, size
    return rules_body(replace(BASE_RULES, version=2, effective="2025-05-01T00:00:00Z"), **changes)


def with_body(entry: Entry, **changes: Any) -> dict[str, Any]:
    """A copy of ``entry``'s body with some values changed."""
    return {**entry.body, **changes}


def pooled_body(base: Base, claim: str, pool: list[str], **changes: Any) -> dict[str, Any]:
    """A ``panel.pooled`` body over ``pool``, signed with the test key."""
    root = pool_root(claim, pool)
    signature = SIGNER.sign(pool_signature_message(ORIGIN, claim, root))
    body = {
        "claim": claim,
        "pool_root": root.hex(),
        "pool_size": len(pool),
        "pool_signature": b64(signature),
        "rules_version": 1,
    }
    return {**body, **changes}


def vote_body(base: Base, claim: str, juror: str, key_of: str | None = None) -> dict[str, Any]:
    """A ``vote.cast`` body signed with ``key_of``'s key (the juror's own by default)."""
    signature = sign_vote(base.seeds[key_of or juror], ORIGIN, claim, "approve", RATIONALE)
    return {
        "claim": claim,
        "juror": juror,
        "choice": "approve",
        "rationale_hash": RATIONALE,
        "signature": signature,
    }


def drawn_body(base: Base, size: int, claim: str, time: str, **changes: Any) -> dict[str, Any]:
    """The ``panel.drawn`` body the ledger would write for ``claim`` at ``time``."""
    state = base.state(size)
    found = state.claim(claim)
    assert found.pool is not None
    assert found.pool_signature is not None
    secret = secret_of(claim)
    seed_bytes = seed(pool_root(claim, found.pool), found.pool_signature, secret)
    rules = state.rules_at(time)
    body = {
        "claim": claim,
        "secret": secret.hex(),
        "seed": seed_bytes.hex(),
        "jurors": draw(found.pool, seed_bytes, min(rules.panel_size, len(found.pool))),
        "voting_closes": _add_days(time, rules.voting_days),
        "rules_version": rules.version,
    }
    return {**body, **changes}


def _add_days(time: str, days: int) -> str:
    from ledger.domain.rules import add_days

    return add_days(time, days)


def close_body(base: Base, size: int, period: str, time: str, **changes: Any) -> dict[str, Any]:
    """The ``period.closed`` body the rules give after ``size`` entries, changed."""
    return {**close_period(base.state(size), period, time).body, **changes}


def filed(member: str, code: str, amount: int, diagnosed: str) -> dict[str, Any]:
    """A ``claim.filed`` body."""
    return {
        "member": member,
        "condition": code,
        "amount_fen": amount,
        "diagnosed": diagnosed,
        "evidence_commitment": hashlib.sha256(b"evidence").hexdigest(),
    }


def joined(member: str, band: str = "0-39") -> dict[str, Any]:
    """A ``member.joined`` body."""
    return {
        "member": member,
        "age_band": band,
        "identity_commitment": hashlib.sha256(member.encode()).hexdigest(),
    }


NEW_MEMBER = "m-" + "0123456789abcdef0123"


def _p(base: Base, i: int) -> str:
    return base.people[i]


def _c(base: Base, name: str) -> str:
    return base.claims[name]


def _cases_general() -> list[Case]:
    return [
        Case(
            "entry.type",
            "",
            "an entry of a type specs/plan.md does not define",
            "joined",
            lambda b, n: Bad("demo.note", {"text": "not a plan entry"}),
        ),
        Case(
            "entry.actor",
            "",
            "a member leaves by an actor who is not the operator",
            "joined",
            lambda b, n: Bad("member.left", {"member": _p(b, 9)}, actor="admin:bob"),
        ),
        Case(
            "entry.keys",
            "",
            "a member.left with a key the type does not list",
            "joined",
            lambda b, n: Bad("member.left", {"member": _p(b, 9), "note": "moved away"}),
        ),
        Case(
            "entry.value",
            "member",
            "a member.left naming a malformed member id",
            "joined",
            lambda b, n: Bad("member.left", {"member": "m-XYZ"}),
        ),
        Case(
            "entry.value",
            "boolean",
            "an assessment whose amount is true, not an integer",
            "x_filed",
            lambda b, n: Bad(
                "claim.assessed", {**b.find("claim.assessed", _c(b, "X")).body, "amount_fen": True}
            ),
        ),
        Case(
            "entry.value",
            "time",
            "a claim diagnosed on 30 February",
            "enrolled",
            lambda b, n: Bad("claim.filed", filed(_p(b, 9), "ACC", 1000, "2025-02-30T00:00:00Z")),
        ),
        Case(
            "entry.value",
            "base64",
            "a juror key that is not base64 of 32 bytes",
            "enrolled",
            lambda b, n: Bad("juror.enrolled", {"member": _p(b, 9), "juror_key": "not-a-key"}),
        ),
        Case(
            "entry.value",
            "hex",
            "an identity commitment that is not 64 hex digits",
            "joined",
            lambda b, n: Bad("member.joined", {**joined(NEW_MEMBER), "identity_commitment": "XYZ"}),
        ),
        Case(
            "rules.in_force",
            "",
            "a member joins before any rules version",
            "genesis",
            lambda b, n: Bad("member.joined", joined(NEW_MEMBER)),
        ),
        Case(
            "rules.applied",
            "",
            "a wind-down naming rules version 2 while 1 is in force",
            "joined",
            lambda b, n: Bad(
                "plan.wound_down", {"claims_until": "2025-12-31T00:00:00Z", "rules_version": 2}
            ),
        ),
    ]


def _cases_rules() -> list[Case]:
    v2 = later_rules
    return [
        Case(
            "rules.version",
            "",
            "rules version 3 announced after version 1",
            "joined",
            lambda b, n: Bad("plan.rules", v2(b, n, version=3)),
        ),
        Case(
            "rules.effective",
            "",
            "the first version takes effect before its own entry",
            "genesis",
            lambda b, n: Bad(
                "plan.rules", rules_body(BASE_RULES, effective="2024-12-31T00:00:00Z")
            ),
        ),
        Case(
            "rules.effective",
            "later",
            "version 3 takes effect with version 2, not after it",
            "v_rules_changed",
            lambda b, n: Bad(
                "plan.rules",
                rules_body(
                    replace(BASE_RULES, version=3, effective="2025-03-09T02:00:00Z", panel_size=6)
                ),
            ),
        ),
        Case(
            "rules.notice",
            "",
            "version 2 takes effect with less than a day's notice",
            "joined",
            lambda b, n: Bad("plan.rules", v2(b, n, effective="2025-01-02T12:00:00Z")),
        ),
        Case(
            "rules.days",
            "",
            "a waiting period longer than a century",
            "joined",
            lambda b, n: Bad("plan.rules", v2(b, n, waiting_days=36_501)),
        ),
        Case(
            "rules.days",
            "window",
            "an objection window of no days",
            "joined",
            lambda b, n: Bad("plan.rules", v2(b, n, objection_days=0)),
        ),
        Case(
            "rules.fee",
            "",
            "a management fee above 100% of aid",
            "joined",
            lambda b, n: Bad("plan.rules", v2(b, n, fee_bp=10_001)),
        ),
        Case(
            "rules.quorum",
            "",
            "a quorum of no votes",
            "joined",
            lambda b, n: Bad("plan.rules", v2(b, n, quorum=0)),
        ),
        Case(
            "rules.quorum",
            "above-panel",
            "a quorum larger than the panel",
            "joined",
            lambda b, n: Bad("plan.rules", v2(b, n, quorum=4)),
        ),
        Case(
            "rules.threshold",
            "",
            "a threshold no panel can pass",
            "joined",
            lambda b, n: Bad("plan.rules", v2(b, n, threshold_bp=10_000)),
        ),
        Case(
            "rules.benefits",
            "",
            "a benefit for members over 59",
            "joined",
            lambda b, n: Bad(
                "plan.rules",
                v2(b, n, benefits={"0-39": 30_000_000, "40-59": 10_000_000, "60-69": 5_000_000}),
            ),
        ),
        Case(
            "rules.benefits",
            "light",
            "a light benefit of nothing",
            "joined",
            lambda b, n: Bad("plan.rules", v2(b, n, light_benefit_fen=0)),
        ),
        Case(
            "rules.conditions",
            "",
            "a condition listed twice",
            "joined",
            lambda b, n: Bad(
                "plan.rules",
                v2(
                    b,
                    n,
                    conditions=[
                        {"code": "C50", "category": "cancer", "kind": "major"},
                        {"code": "C50", "category": "cancer", "kind": "light"},
                    ],
                ),
            ),
        ),
        Case(
            "rules.conditions",
            "empty",
            "no covered condition at all",
            "joined",
            lambda b, n: Bad("plan.rules", v2(b, n, conditions=[])),
        ),
        Case(
            "rules.condition_kind",
            "",
            "breast cancer re-classed as an accident, which would skip the waiting period",
            "joined",
            lambda b, n: Bad(
                "plan.rules",
                v2(
                    b,
                    n,
                    conditions=[
                        {**c, "kind": "accident"} if c["code"] == "C50" else c
                        for c in BASE_RULES.to_body()["conditions"]
                    ],
                ),
            ),
        ),
        Case(
            "plan.wound_down.once",
            "",
            "a second wind-down",
            "wound_down",
            lambda b, n: Bad(
                "plan.wound_down", {"claims_until": "2025-04-30T00:00:00Z", "rules_version": 2}
            ),
        ),
        Case(
            "plan.wound_down.claims_until",
            "",
            "claims accepted only until before the wind-down",
            "joined",
            lambda b, n: Bad(
                "plan.wound_down", {"claims_until": "2025-01-01T00:00:00Z", "rules_version": 1}
            ),
        ),
    ]


def _cases_members() -> list[Case]:
    return [
        Case(
            "member.joined.new",
            "",
            "a member id that already joined",
            "joined",
            lambda b, n: Bad("member.joined", joined(_p(b, 0))),
        ),
        Case(
            "member.joined.age_band",
            "",
            "a member over 59 joins",
            "joined",
            lambda b, n: Bad("member.joined", joined(NEW_MEMBER, "60-69")),
        ),
        Case(
            "member.joined.wound_down",
            "",
            "a member joins after the wind-down",
            "wound_down",
            lambda b, n: Bad("member.joined", joined(NEW_MEMBER)),
        ),
        Case(
            "member.left.active",
            "",
            "a member leaves twice",
            "p8_left",
            lambda b, n: Bad("member.left", {"member": _p(b, 8)}),
        ),
        Case(
            "member.left.active",
            "unknown",
            "a member who never joined leaves",
            "joined",
            lambda b, n: Bad("member.left", {"member": NEW_MEMBER}),
        ),
        Case(
            "juror.enrolled.active",
            "",
            "a member who left enrols as a juror",
            "p8_left",
            lambda b, n: Bad(
                "juror.enrolled", {"member": _p(b, 8), "juror_key": b64(juror_public(8))}
            ),
        ),
        Case(
            "juror.enrolled.twice",
            "",
            "a juror enrols a second key",
            "enrolled",
            lambda b, n: Bad(
                "juror.enrolled", {"member": _p(b, 3), "juror_key": b64(juror_public(9))}
            ),
        ),
        Case(
            "juror.enrolled.tenure",
            "",
            "a member enrols on the day they joined",
            "joined",
            lambda b, n: Bad(
                "juror.enrolled", {"member": _p(b, 9), "juror_key": b64(juror_public(9))}
            ),
        ),
        Case(
            "juror.enrolled.key",
            "",
            "a member enrols with another juror's key",
            "enrolled",
            lambda b, n: Bad(
                "juror.enrolled", {"member": _p(b, 9), "juror_key": b64(juror_public(0))}
            ),
        ),
    ]


def _cases_filing() -> list[Case]:
    return [
        Case(
            "claim.known",
            "",
            "an assessment of a claim never filed",
            "joined",
            lambda b, n: Bad(
                "claim.assessed",
                {
                    "claim": "c-999",
                    "decision": "deny",
                    "amount_fen": 0,
                    "reason": "none",
                    "report_commitment": "ab" * 32,
                    "rules_version": 1,
                },
            ),
        ),
        Case(
            "claim.filed.member",
            "",
            "a member who left files a claim",
            "p8_left",
            lambda b, n: Bad("claim.filed", filed(_p(b, 8), "ACC", 1000, "2025-02-05T00:00:00Z")),
        ),
        Case(
            "claim.filed.condition",
            "",
            "a condition not on the covered list",
            "joined",
            lambda b, n: Bad("claim.filed", filed(_p(b, 9), "Z99", 1000, "2025-01-02T00:00:00Z")),
        ),
        Case(
            "claim.filed.amount",
            "",
            "a claim for nothing",
            "joined",
            lambda b, n: Bad("claim.filed", filed(_p(b, 9), "ACC", 0, "2025-01-02T00:00:00Z")),
        ),
        Case(
            "claim.filed.diagnosed",
            "",
            "a diagnosis after the filing",
            "joined",
            lambda b, n: Bad("claim.filed", filed(_p(b, 9), "ACC", 1000, "2025-01-05T00:00:00Z")),
        ),
        Case(
            "claim.filed.joined",
            "",
            "an accident the day before the member joined",
            "joined",
            lambda b, n: Bad("claim.filed", filed(_p(b, 9), "ACC", 1000, "2025-01-01T00:00:00Z")),
        ),
        Case(
            "claim.filed.waiting",
            "",
            "a cancer diagnosed inside the 90-day waiting period",
            "p8_left",
            lambda b, n: Bad("claim.filed", filed(_p(b, 9), "C50", 1000, "2025-02-01T00:00:00Z")),
        ),
        Case(
            "claim.filed.duplicate",
            "",
            "the same accident claimed again while the first is open",
            "x_filed",
            lambda b, n: Bad("claim.filed", filed(_p(b, 0), "ACC", 5000, "2025-02-15T00:00:00Z")),
        ),
        Case(
            "claim.filed.duplicate",
            "paid",
            "the same accident claimed again after the first was paid (and partly recovered)",
            "x_reversed",
            lambda b, n: Bad("claim.filed", filed(_p(b, 0), "ACC", 5000, "2025-02-15T00:00:00Z")),
        ),
        Case(
            "claim.filed.wound_down",
            "",
            "an accident after the wind-down",
            "wound_down",
            lambda b, n: Bad(
                "claim.filed",
                filed(_p(b, 9), "ACC", 1000, "2025-03-16T00:00:00Z"),
                time="2025-03-17T00:00:00Z",
            ),
        ),
        Case(
            "claim.filed.wound_down",
            "late",
            "a claim filed after claims_until",
            "wound_down",
            lambda b, n: Bad(
                "claim.filed",
                filed(_p(b, 9), "ACC", 1000, "2025-03-10T00:00:00Z"),
                time="2025-04-01T00:00:00Z",
            ),
        ),
        Case(
            "claim.assessed.twice",
            "",
            "a second assessment",
            "x_assessed",
            lambda b, n: Bad("claim.assessed", b.find("claim.assessed", _c(b, "X")).body),
        ),
        Case(
            "claim.assessed.amount",
            "",
            "an approval of more than was claimed",
            "x_filed",
            lambda b, n: Bad(
                "claim.assessed",
                with_body(b.find("claim.assessed", _c(b, "X")), amount_fen=2_000_001),
            ),
        ),
        Case(
            "claim.assessed.amount",
            "denial",
            "a denial that pays something",
            "w_filed",
            lambda b, n: Bad(
                "claim.assessed", with_body(b.find("claim.assessed", _c(b, "W")), amount_fen=100)
            ),
        ),
        Case(
            "claim.assessed.reason",
            "",
            "a denial without a reason",
            "w_filed",
            lambda b, n: Bad(
                "claim.assessed", with_body(b.find("claim.assessed", _c(b, "W")), reason="")
            ),
        ),
        Case(
            "claim.disclosed.order",
            "",
            "a disclosure before the assessment",
            "x_filed",
            lambda b, n: Bad("claim.disclosed", b.find("claim.disclosed", _c(b, "X")).body),
        ),
        Case(
            "claim.disclosed.twice",
            "",
            "a second disclosure",
            "x_disclosed",
            lambda b, n: Bad(
                "claim.disclosed",
                b.find("claim.disclosed", _c(b, "X")).body,
                time=b.find("claim.disclosed", _c(b, "X")).time,
            ),
        ),
        Case(
            "claim.disclosed.fields",
            "",
            "a disclosure with another category",
            "x_assessed",
            lambda b, n: Bad(
                "claim.disclosed",
                with_body(b.find("claim.disclosed", _c(b, "X")), category="cancer"),
                time=b.find("claim.disclosed", _c(b, "X")).time,
            ),
        ),
        Case(
            "claim.objected.order",
            "",
            "an objection before the disclosure",
            "x_assessed",
            lambda b, n: Bad("claim.objected", b.find("claim.objected", _c(b, "X")).body),
        ),
        Case(
            "claim.objected.window",
            "",
            "an objection once objections closed",
            "x_disclosed",
            lambda b, n: Bad(
                "claim.objected",
                b.find("claim.objected", _c(b, "X")).body,
                time=b.find("claim.disclosed", _c(b, "X")).body["objections_close"],
            ),
        ),
        Case(
            "claim.objected.objector",
            "",
            "the claimant objects to their own claim",
            "x_disclosed",
            lambda b, n: Bad(
                "claim.objected", with_body(b.find("claim.objected", _c(b, "X")), objector=_p(b, 0))
            ),
        ),
        Case(
            "claim.objected.objector",
            "left",
            "a member who left objects",
            "x_disclosed",
            lambda b, n: Bad(
                "claim.objected", with_body(b.find("claim.objected", _c(b, "X")), objector=_p(b, 8))
            ),
        ),
        Case(
            "claim.objected.twice",
            "",
            "a member objects twice",
            "x_objected",
            lambda b, n: Bad("claim.objected", b.find("claim.objected", _c(b, "X")).body),
        ),
        Case(
            "claim.appealed.order",
            "",
            "an appeal before the disclosure",
            "x_assessed",
            lambda b, n: Bad("claim.appealed", b.find("claim.appealed", _c(b, "X")).body),
        ),
        Case(
            "claim.appealed.order",
            "decided",
            "an appeal of a decided claim",
            "y_decided",
            lambda b, n: Bad(
                "claim.appealed",
                {"claim": _c(b, "Y"), "appellant": _p(b, 9), "secret_commitment": "cd" * 32},
            ),
        ),
        Case(
            "claim.appealed.twice",
            "",
            "a second appeal",
            "x_appealed",
            lambda b, n: Bad("claim.appealed", b.find("claim.appealed", _c(b, "X")).body),
        ),
        Case(
            "claim.appealed.window",
            "",
            "an appeal after the appeal window",
            "x_objected",
            lambda b, n: Bad(
                "claim.appealed",
                b.find("claim.appealed", _c(b, "X")).body,
                time="2025-02-22T02:00:00Z",
            ),
        ),
        Case(
            "claim.appealed.appellant",
            "",
            "an approval appealed by a member who did not object",
            "x_objected",
            lambda b, n: Bad(
                "claim.appealed",
                with_body(b.find("claim.appealed", _c(b, "X")), appellant=_p(b, 9)),
            ),
        ),
    ]


def _cases_panel() -> list[Case]:
    def pooled_x(b: Base, **changes: Any) -> dict[str, Any]:
        return with_body(b.find("panel.pooled", _c(b, "X")), **changes)

    def drawn_x(b: Base, **changes: Any) -> dict[str, Any]:
        return with_body(b.find("panel.drawn", _c(b, "X")), **changes)

    return [
        Case(
            "panel.pooled.order",
            "",
            "a pool signed before any appeal",
            "x_objected",
            lambda b, n: Bad("panel.pooled", pooled_x(b)),
        ),
        Case(
            "panel.pooled.twice",
            "",
            "the pool signed a second time",
            "x_pooled",
            lambda b, n: Bad("panel.pooled", pooled_x(b)),
        ),
        Case(
            "panel.pooled.window",
            "",
            "the pool signed after the reveal window",
            "x_appealed",
            lambda b, n: Bad("panel.pooled", pooled_x(b), time="2025-02-21T00:00:00Z"),
        ),
        Case(
            "panel.pooled.pool",
            "",
            "a pool of another size than the one fixed at the appeal",
            "x_appealed",
            lambda b, n: Bad("panel.pooled", pooled_x(b, pool_size=4)),
        ),
        Case(
            "panel.pooled.size",
            "",
            "a pool with fewer jurors than the panel",
            "w_appealed",
            lambda b, n: Bad("panel.pooled", pooled_body(b, _c(b, "W"), [])),
        ),
        Case(
            "panel.pooled.signature",
            "",
            "a pool signature by another key",
            "x_appealed",
            lambda b, n: Bad(
                "panel.pooled",
                pooled_x(
                    b,
                    pool_signature=b64(
                        Ed25519PrivateKey.from_private_bytes(juror_seed(0)).sign(
                            pool_signature_message(
                                ORIGIN,
                                _c(b, "X"),
                                bytes.fromhex(b.find("panel.pooled", _c(b, "X")).body["pool_root"]),
                            )
                        )
                    ),
                ),
            ),
        ),
        Case(
            "panel.drawn.order",
            "",
            "a draw before the pool is signed",
            "x_appealed",
            lambda b, n: Bad("panel.drawn", drawn_x(b)),
        ),
        Case(
            "panel.drawn.twice",
            "",
            "a second draw",
            "x_drawn",
            lambda b, n: Bad("panel.drawn", drawn_x(b)),
        ),
        Case(
            "panel.drawn.window",
            "",
            "a draw after the reveal window",
            "x_pooled",
            lambda b, n: Bad(
                "panel.drawn",
                drawn_body(b, n, _c(b, "X"), "2025-02-21T00:00:00Z"),
                time="2025-02-21T00:00:00Z",
            ),
        ),
        Case(
            "panel.drawn.size",
            "",
            "a draw once a rules version with a panel larger than the pool is in force",
            "v_rules_changed",
            lambda b, n: Bad(
                "panel.drawn",
                drawn_body(b, n, _c(b, "V"), "2025-03-09T03:00:00Z"),
                time="2025-03-09T03:00:00Z",
            ),
        ),
        Case(
            "panel.drawn.secret",
            "",
            "a secret that does not open the commitment",
            "x_pooled",
            lambda b, n: Bad("panel.drawn", drawn_x(b, secret="00" * 32)),
        ),
        Case(
            "panel.drawn.seed",
            "",
            "a seed that is not H(root, signature, secret)",
            "x_pooled",
            lambda b, n: Bad("panel.drawn", drawn_x(b, seed="00" * 32)),
        ),
        Case(
            "panel.drawn.jurors",
            "",
            "the drawn jurors in another order",
            "x_pooled",
            lambda b, n: Bad(
                "panel.drawn",
                drawn_x(b, jurors=list(reversed(b.find("panel.drawn", _c(b, "X")).body["jurors"]))),
            ),
        ),
        Case(
            "panel.drawn.voting_closes",
            "",
            "voting closing a day early",
            "x_pooled",
            lambda b, n: Bad("panel.drawn", drawn_x(b, voting_closes="2025-02-20T02:00:00Z")),
        ),
        Case(
            "vote.panel",
            "",
            "a vote by a juror who was not drawn",
            "x_drawn",
            lambda b, n: Bad(
                "vote.cast",
                vote_body(b, _c(b, "X"), _not_drawn(b, "X")),
                actor=f"juror:{_not_drawn(b, 'X')}",
            ),
        ),
        Case(
            "vote.actor",
            "",
            "a vote written as the operator's",
            "x_drawn",
            lambda b, n: Bad("vote.cast", vote_body(b, _c(b, "X"), b.panels[_c(b, "X")][0])),
        ),
        Case(
            "vote.twice",
            "",
            "a juror votes twice",
            "x_first_vote",
            lambda b, n: Bad(
                "vote.cast",
                vote_body(b, _c(b, "X"), b.panels[_c(b, "X")][0]),
                actor=f"juror:{b.panels[_c(b, 'X')][0]}",
            ),
        ),
        Case(
            "vote.window",
            "",
            "a vote after voting closed",
            "x_first_vote",
            lambda b, n: Bad(
                "vote.cast",
                vote_body(b, _c(b, "X"), b.panels[_c(b, "X")][1]),
                actor=f"juror:{b.panels[_c(b, 'X')][1]}",
                time="2025-02-21T02:00:00Z",
            ),
        ),
        Case(
            "vote.juror_active",
            "",
            "a vote by a drawn juror who left the plan",
            "v2_juror_left",
            lambda b, n: Bad(
                "vote.cast",
                vote_body(b, _c(b, "V2"), b.panels[_c(b, "V2")][2]),
                actor=f"juror:{b.panels[_c(b, 'V2')][2]}",
            ),
        ),
        Case(
            "vote.signature",
            "",
            "a vote signed with another juror's key",
            "x_drawn",
            lambda b, n: Bad(
                "vote.cast",
                vote_body(b, _c(b, "X"), b.panels[_c(b, "X")][0], key_of=b.panels[_c(b, "X")][1]),
                actor=f"juror:{b.panels[_c(b, 'X')][0]}",
            ),
        ),
    ]


def _not_drawn(base: Base, name: str) -> str:
    claim = base.claims[name]
    return next(j for j in base.seeds if j not in base.panels[claim])


def _cases_decisions() -> list[Case]:
    def decided(b: Base, name: str, **changes: Any) -> dict[str, Any]:
        return with_body(b.find("claim.decided", _c(b, name)), **changes)

    def paid_x(b: Base, **changes: Any) -> dict[str, Any]:
        return with_body(b.find("claim.paid", _c(b, "X")), **changes)

    def reversal(b: Base, **changes: Any) -> dict[str, Any]:
        return with_body(b.find("claim.reversed", _c(b, "X")), **changes)

    return [
        Case(
            "claim.decided.order",
            "",
            "a decision before the disclosure",
            "w_assessed",
            lambda b, n: Bad("claim.decided", decided(b, "W")),
        ),
        Case(
            "claim.decided.twice",
            "",
            "a second decision",
            "y_decided",
            lambda b, n: Bad("claim.decided", decided(b, "Y")),
        ),
        Case(
            "claim.decided.early",
            "",
            "a decision inside the appeal window",
            "y_disclosed",
            lambda b, n: Bad("claim.decided", decided(b, "Y")),
        ),
        Case(
            "claim.decided.outcome",
            "",
            "a denial recorded as approved",
            "x_decided",
            lambda b, n: Bad(
                "claim.decided",
                decided(b, "Y", outcome="approved", amount_fen=900_000),
                time=b.find("claim.decided", _c(b, "Y")).time,
            ),
        ),
        Case(
            "claim.decided.outcome",
            "counts",
            "a panel decision misstating the votes",
            "x_voted",
            lambda b, n: Bad("claim.decided", decided(b, "X", approve=2, deny=1)),
        ),
        Case(
            "claim.paid.approved",
            "",
            "a denied claim paid",
            "y_decided",
            lambda b, n: Bad(
                "claim.paid", {"claim": _c(b, "Y"), "amount_fen": 900_000, "period": "2025-02b"}
            ),
        ),
        Case(
            "claim.paid.twice",
            "",
            "a claim paid twice",
            "x_paid",
            lambda b, n: Bad("claim.paid", paid_x(b)),
        ),
        Case(
            "claim.paid.early",
            "",
            "a payment before objections close",
            "x_decided",
            lambda b, n: Bad("claim.paid", paid_x(b)),
        ),
        Case(
            "claim.paid.amount",
            "",
            "a payment of more than was decided",
            "y_decided",
            lambda b, n: Bad(
                "claim.paid",
                paid_x(b, amount_fen=2_000_001),
                time=b.find("claim.paid", _c(b, "X")).time,
            ),
        ),
        Case(
            "claim.paid.period",
            "",
            "a payment booked to another period",
            "y_decided",
            lambda b, n: Bad(
                "claim.paid",
                paid_x(b, period="2025-03a"),
                time=b.find("claim.paid", _c(b, "X")).time,
            ),
        ),
        Case(
            "claim.reversed.paid",
            "",
            "a reversal of a claim never paid",
            "y_decided",
            lambda b, n: Bad(
                "claim.reversed", {"claim": _c(b, "Y"), "recovered_fen": 100, "reason": "fraud"}
            ),
        ),
        Case(
            "claim.reversed.twice",
            "",
            "a second reversal",
            "x_reversed",
            lambda b, n: Bad("claim.reversed", reversal(b)),
        ),
        Case(
            "claim.reversed.amount",
            "",
            "more recovered than was paid",
            "closed_02b",
            lambda b, n: Bad("claim.reversed", reversal(b, recovered_fen=2_000_001)),
        ),
        Case(
            "claim.reversed.reason",
            "",
            "a reversal without a reason",
            "closed_02b",
            lambda b, n: Bad("claim.reversed", reversal(b, reason="")),
        ),
    ]


def _cases_periods() -> list[Case]:
    def close_02b(b: Base, n: int, **changes: Any) -> Bad:
        time = "2025-02-28T00:00:00Z"
        return Bad("period.closed", close_body(b, n, "2025-02b", time, **changes), time=time)

    return [
        Case(
            "period.order",
            "",
            "a period skipped",
            "joined",
            lambda b, n: Bad(
                "period.closed",
                {
                    **close_body(b, n, "2025-01a", "2025-01-28T00:00:00Z"),
                    "period": "2025-01b",
                    "cutoff": "2025-01-28T00:00:00Z",
                },
                time="2025-01-28T00:00:00Z",
            ),
        ),
        Case(
            "period.early",
            "",
            "a period closed before its cutoff",
            "joined",
            lambda b, n: Bad("period.closed", close_body(b, n, "2025-01a", "2025-01-14T00:00:00Z")),
        ),
        Case(
            "period.cutoff",
            "",
            "a period stating another cutoff",
            "x_paid",
            lambda b, n: close_02b(b, n, cutoff="2025-02-27T00:00:00Z"),
        ),
        Case(
            "period.claims",
            "",
            "a period leaving out the claim it paid",
            "x_paid",
            lambda b, n: close_02b(b, n, claims=[]),
        ),
        Case(
            "period.aid",
            "",
            "aid that is not the payments",
            "x_paid",
            lambda b, n: close_02b(b, n, aid_fen=1_999_999),
        ),
        Case(
            "period.fee",
            "",
            "a fee above fee_bp of the aid",
            "x_paid",
            lambda b, n: close_02b(b, n, fee_fen=160_001),
        ),
        Case(
            "period.carry",
            "",
            "a carry-in that is not the last carry-out",
            "x_paid",
            lambda b, n: close_02b(b, n, carry_in_fen=1),
        ),
        Case(
            "period.carry",
            "out",
            "a carry-out that is not share x N - due",
            "x_paid",
            lambda b, n: close_02b(
                b,
                n,
                carry_out_fen=close_body(b, n, "2025-02b", "2025-02-28T00:00:00Z")["carry_out_fen"]
                + 1,
            ),
        ),
        Case(
            "period.members",
            "",
            "a member count that includes a member who left",
            "x_paid",
            lambda b, n: close_02b(b, n, members=10),
        ),
        Case(
            "period.share",
            "",
            "a share one fen higher than the formula",
            "x_paid",
            lambda b, n: close_02b(
                b,
                n,
                share_fen=close_body(b, n, "2025-02b", "2025-02-28T00:00:00Z")["share_fen"] + 1,
            ),
        ),
        Case(
            "period.subsidy",
            "",
            "a subsidy the annual cap does not give",
            "x_paid",
            lambda b, n: close_02b(b, n, subsidy_fen=1),
        ),
        Case(
            "period.contributions",
            "",
            "a contribution root of other charges",
            "x_paid",
            lambda b, n: close_02b(b, n, contribution_root=b64(b"\x00" * 32)),
        ),
        Case(
            "period.contributions",
            "total",
            "a contribution total other than the charges",
            "x_paid",
            lambda b, n: close_02b(b, n, contribution_total_fen=1),
        ),
    ]


def _objection(b: Base, objector: int, number: int) -> dict[str, Any]:
    return {
        "claim": _c(b, "S"),
        "objector": _p(b, objector),
        "reason_hash": RATIONALE,
        "request": number,
    }


def _cases_signed() -> list[Case]:
    def member(b: Base, n: int) -> str:
        return f"member:{_p(b, n)}"

    def case(
        rule: str, variant: str, description: str, at: str, make: Callable[[Base], Bad]
    ) -> Case:
        return Case(rule, variant, description, at, lambda b, n: make(b), base="base-signed.json")

    return [
        case(
            "request.required",
            "",
            "the operator writes an objection in a member's name where the rules require "
            "member signatures",
            "s_disclosed",
            lambda b: Bad(
                "claim.objected",
                {"claim": _c(b, "S"), "objector": _p(b, 2), "reason_hash": RATIONALE},
            ),
        ),
        case(
            "request.required",
            "appeal",
            "the operator writes an appeal, with a secret commitment of its own choosing, "
            "where the rules require member signatures",
            "s_objected",
            lambda b: Bad(
                "claim.appealed",
                {
                    "claim": _c(b, "S"),
                    "appellant": _p(b, 1),
                    "secret_commitment": hashlib.sha256(b"operator's secret").hexdigest(),
                },
            ),
        ),
        case(
            "request.required",
            "join",
            "a member joins without a key where the rules require member signatures",
            "joined",
            lambda b: Bad("member.joined", joined(NEW_MEMBER)),
        ),
        case(
            "request.signature",
            "",
            "an objection in a member's name signed by a key that is not theirs",
            "s_disclosed",
            lambda b: Bad(
                "claim.objected",
                sign_request(OTHER_SEED, ORIGIN, "claim.objected", _objection(b, 2, 1)),
                member(b, 2),
            ),
        ),
        case(
            "request.signature",
            "cross-member",
            "one member's key signs an objection in another member's name",
            "s_disclosed",
            lambda b: Bad(
                "claim.objected",
                sign_request(
                    b.member_seeds[_p(b, 2)], ORIGIN, "claim.objected", _objection(b, 3, 1)
                ),
                member(b, 3),
            ),
        ),
        case(
            "request.replay",
            "",
            "an objection signed with the request number the member's join used",
            "s_disclosed",
            lambda b: Bad(
                "claim.objected",
                signed(b, _p(b, 2), "claim.objected", _objection(b, 2, 0)),
                member(b, 2),
            ),
        ),
        case(
            "request.replay",
            "reused",
            "a leaving signed with the number of the member's earlier appeal",
            "s_appealed",
            lambda b: Bad(
                "member.left",
                signed(b, _p(b, 1), "member.left", {"member": _p(b, 1), "request": 2}),
                member(b, 1),
            ),
        ),
        case(
            "entry.actor",
            "signed-by-operator",
            "a member-signed objection appended under the operator's actor",
            "s_disclosed",
            lambda b: Bad(
                "claim.objected", signed(b, _p(b, 2), "claim.objected", _objection(b, 2, 1))
            ),
        ),
        case(
            "member.joined.key",
            "",
            "a new member joins with another member's key (and its signature)",
            "joined",
            lambda b: Bad(
                "member.joined",
                {**joined(NEW_MEMBER), **join_request(NEW_MEMBER, b.member_seeds[_p(b, 0)])},
            ),
        ),
        case(
            "member.joined.key",
            "juror",
            "a new member joins with an enrolled juror's key (and its signature)",
            "enrolled",
            lambda b: Bad(
                "member.joined",
                {**joined(NEW_MEMBER), **join_request(NEW_MEMBER, b.seeds[_p(b, 3)])},
            ),
        ),
        case(
            "member.joined.signature",
            "",
            "a join naming a key that did not sign it (no proof of possession)",
            "joined",
            lambda b: Bad(
                "member.joined",
                {
                    **joined(NEW_MEMBER),
                    **join_request(NEW_MEMBER, OTHER_SEED, member_seed(99)),
                },
            ),
        ),
        case(
            "juror.enrolled.signature",
            "",
            "a member enrols a juror key that did not sign itself",
            "enrolled",
            lambda b: Bad(
                "juror.enrolled",
                enrolment(b, _p(b, 0), juror_seed(30), 1, OTHER_SEED),
                member(b, 0),
            ),
        ),
        case(
            "juror.enrolled.key",
            "member-key",
            "a member enrols another member's key as their juror key",
            "enrolled",
            lambda b: Bad(
                "juror.enrolled",
                enrolment(b, _p(b, 0), b.member_seeds[_p(b, 1)], 1),
                member(b, 0),
            ),
        ),
    ]


def _cases_keys() -> list[Case]:
    def case(
        rule: str, variant: str, description: str, at: str, make: Callable[[Base], Bad]
    ) -> Case:
        return Case(rule, variant, description, at, lambda b, n: make(b), base="base-signed.json")

    def rotated(b: Base, who: int, n: int, number: int, proof: bytes | None = None) -> Bad:
        body = signed(b, _p(b, who), "member.key_rotated", rotation(_p(b, who), n, number, proof))
        return Bad("member.key_rotated", body, f"member:{_p(b, who)}")

    def recovery(b: Base, who: int, n: int, effective: str) -> Bad:
        key, proof = new_key(_p(b, who), n)
        body = {
            "member": _p(b, who),
            "member_key": key,
            "key_signature": proof,
            "effective": effective,
            "rules_version": 1,
        }
        return Bad("member.key_recovery", body)

    def refusal(b: Base, who: int, recovery_seq: int, number: int) -> Bad:
        body = {"member": _p(b, who), "recovery": recovery_seq, "request": number}
        return Bad(
            "member.key_recovery_refused",
            signed(b, _p(b, who), "member.key_recovery_refused", body),
            f"member:{_p(b, who)}",
        )

    return [
        case(
            "request.signature",
            "rotated-away",
            "a leaving signed with the key the member rotated away from",
            "rotated",
            lambda b: Bad(
                "member.left",
                sign_request(
                    member_seed(3), ORIGIN, "member.left", {"member": _p(b, 3), "request": 5}
                ),
                f"member:{_p(b, 3)}",
            ),
        ),
        case(
            "request.signature",
            "recovered-key-early",
            "a leaving signed with a recovered key before the recovery takes force",
            "m5_recovery",
            lambda b: Bad(
                "member.left",
                sign_request(
                    member_seed(105), ORIGIN, "member.left", {"member": _p(b, 5), "request": 2}
                ),
                f"member:{_p(b, 5)}",
            ),
        ),
        case(
            "entry.actor",
            "rotation-by-operator",
            "a member's signed rotation appended under the operator's actor",
            "p2_left",
            lambda b: Bad(
                "member.key_rotated",
                signed(b, _p(b, 0), "member.key_rotated", rotation(_p(b, 0), 100, 2)),
            ),
        ),
        case(
            "member.key.active",
            "",
            "a member who left rotates their key",
            "p2_left",
            lambda b: rotated(b, 2, 102, 2),
        ),
        case(
            "member.key.new",
            "",
            "a member rotates to another member's key",
            "p2_left",
            lambda b: rotated(b, 0, 1, 2),
        ),
        case(
            "member.key.new",
            "rotated-away",
            "a member rotates to the key another member rotated away from",
            "rotated",
            lambda b: rotated(b, 0, 3, 2),
        ),
        case(
            "member.key.proof",
            "",
            "a rotation to a key that did not sign itself",
            "p2_left",
            lambda b: rotated(b, 0, 100, 2, OTHER_SEED),
        ),
        case(
            "member.key_recovery.notice",
            "",
            "a recovery that takes force at once, leaving the old key no time to refuse",
            "p2_left",
            lambda b: recovery(b, 0, 100, "2025-02-09T00:00:00Z"),
        ),
        case(
            "member.key_recovery.pending",
            "",
            "a second recovery while the first is pending",
            "m5_recovery",
            lambda b: recovery(b, 5, 106, "2025-03-01T00:00:00Z"),
        ),
        case(
            "member.key_recovery_refused.pending",
            "",
            "a recovery refused twice",
            "refused",
            lambda b: refusal(b, 4, b.labels["recovery_written"] - 1, 3),
        ),
        case(
            "member.key_recovery_refused.pending",
            "in-force",
            "a recovery refused after it took force",
            "m5_recovered",
            lambda b: refusal(b, 5, b.labels["m5_recovery"] - 1, 3),
        ),
    ]


def all_cases() -> list[Case]:
    """Every case, in the order of specs/plan.md §10."""
    return (
        _cases_general()
        + _cases_rules()
        + _cases_members()
        + _cases_filing()
        + _cases_panel()
        + _cases_decisions()
        + _cases_periods()
        + _cases_signed()
        + _cases_keys()
    )


def vector_of(base: Base, case: Case) -> dict[str, Any]:
    """The vector file of ``case``, after checking the ledger refuses it with its rule."""
    size = base.labels[case.at]
    bad = case.make(base, size)
    time = bad.time or base.last_time(size)
    raw = encode_entry(
        seq=size,
        time=time,
        type=bad.type,
        prev=entry_hash(base.raws[size - 1]),
        actor=bad.actor,
        body=bad.body,
    )
    state = base.state(size)
    try:
        state.apply(parse_entry(raw))
    except RuleError as exc:
        if exc.rule != case.rule:
            raise AssertionError(f"{case.rule}/{case.variant}: the ledger says {exc}") from None
    else:
        raise AssertionError(f"{case.rule}/{case.variant}: the ledger accepts the entry")
    return {
        "description": case.description,
        "rule": case.rule,
        "base": case.base,
        "prefix": size,
        "seq": size,
        "entry": json.loads(raw),
        "entry_b64": b64(raw),
    }


def main() -> None:
    """Regenerate plan/invalid/ (into the folder given as argument, by default here)."""
    global OUT
    if len(sys.argv) > 1:
        OUT = Path(sys.argv[1])
    base = build_base()
    state = base.state(len(base.raws))  # the whole base keeps every rule
    assert state.size == len(base.raws)
    signed_base = build_base(_run_signed_base)
    assert signed_base.state(len(signed_base.raws)).size == len(signed_base.raws)
    write(
        "plan/invalid/base.json",
        {
            "description": "a small plan that keeps every rule (specs/plan.md), run by the "
            "ledger: claims denied, appealed without a panel, objected to, decided by a drawn "
            "panel, paid and reversed, a juror leaving before voting, a rules change, five "
            "periods closed and a wind-down; each negative vector appends one entry to a "
            "prefix of it, at one of the labelled points",
            "origin": ORIGIN,
            "verifier_key": SIGNER.verifier().to_string(),
            "entries_b64": [b64(r) for r in base.raws],
            "labels": base.labels,
        },
    )
    write(
        "plan/invalid/base-signed.json",
        {
            "description": "a small plan whose rules require member signatures, run by the "
            "ledger: members join with their own keys, enrol as jurors, file, object to and "
            "appeal a claim and leave by requests they sign; the negative vectors of the "
            "member-signing rules append one entry to a prefix of it",
            "origin": ORIGIN,
            "verifier_key": SIGNER.verifier().to_string(),
            "entries_b64": [b64(r) for r in signed_base.raws],
            "labels": signed_base.labels,
        },
    )
    bases = {"base.json": base, "base-signed.json": signed_base}
    for case in all_cases():
        name = case.rule + (f"-{case.variant}" if case.variant else "")
        write(f"plan/invalid/{name}.json", vector_of(bases[case.base], case))
    for name, vector in base.statements.items():
        write(f"statement/{name}.json", vector)


if __name__ == "__main__":
    main()
