"""Changing a member's key in the plan replay (specs/plan.md §4.6, specs/requests.md §3.2).

Small plans written entry by entry as in ``test_plan_signed``, with every key made
from a fixed seed: a member rotates their key, the operator recovers one with
notice, the old key refuses it. Each test then checks which key the replay holds
in force, or that one changed entry is refused with the rule and seq it breaks.
Nothing here comes from the ledger.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from tests.verifier.cli_support import run, run_json
from tests.verifier.test_plan_signed import (
    COMMIT,
    HOUR,
    KEY_DOC,
    M1,
    M2,
    M3,
    M4,
    ORIGIN,
    START,
    SignedPlan,
    key_of,
    rechain,
    refused,
    replay,
    seed_of,
    write_dump,
)
from verifier.entry import ChainVerifier
from verifier.plan.errors import RequestError, RequestSignatureError
from verifier.plan.records import DAY, format_time, seconds
from verifier.plan.requests import (
    member_key_message,
    public_key,
    sign_juror_key,
    sign_member_key,
    sign_request,
    verify_member_key,
)
from verifier.plan.roster import MemberTable
from verifier.plan.state import ActionCounts
from verifier.statement.sparse import SparseReplay

NOTICE_DAYS = 2


class KeyPlan(SignedPlan):
    """A signed plan whose members may change keys: each signs with the seed in force."""

    def __init__(self, **rules: Any) -> None:
        super().__init__(**{"notice_days": NOTICE_DAYS, **rules})
        self.seeds: dict[str, bytes] = {}
        self.offset = 0

    @property
    def now(self) -> str:
        time = format_time(seconds(START) + len(self.entries) * HOUR + self.offset)
        assert time is not None
        return time

    def wait(self, secs: int) -> None:
        """Let ``secs`` pass before the next entry."""
        self.offset += secs

    def act(self, type_: str, member: str, body: dict[str, Any], *, signed: bool = True) -> int:
        if not signed:
            return self.add(type_, body)
        return self.signed(type_, member, body, self.seeds.get(member, seed_of(member)))

    def signed(self, type_: str, member: str, body: dict[str, Any], seed: bytes) -> int:
        """``body`` signed by ``seed`` with ``member``'s next request number."""
        number = self.numbers[member] = self.numbers.get(member, -1) + 1
        body = sign_request(seed, ORIGIN, type_, {**body, "request": number})
        return self.add(type_, body, actor=f"member:{member}")

    def leave(self, member: str, seed: bytes | None = None) -> int:
        """A signed leaving, by ``seed`` (the seed in force if ``None``)."""
        if seed is None:
            return self.act("member.left", member, {"member": member})
        return self.signed("member.left", member, {"member": member}, seed)

    def rotate(
        self, member: str, name: str, *, proof: str | None = None, signer: bytes | None = None
    ) -> int:
        """``member`` rotates to the key of seed ``name``; ``proof`` signs it instead."""
        key, key_signature = sign_member_key(seed_of(name), ORIGIN, member)
        if proof is not None:
            key_signature = sign_member_key(seed_of(proof), ORIGIN, member)[1]
            key = key_of(name)
        body = {"member": member, "member_key": key, "key_signature": key_signature}
        old = self.seeds.get(member, seed_of(member))
        seq = self.signed("member.key_rotated", member, body, old if signer is None else signer)
        self.seeds[member] = seed_of(name)
        return seq

    def recover(
        self, member: str, name: str, *, days: int = NOTICE_DAYS, rules_version: int = 1
    ) -> tuple[int, int]:
        """The operator recovers ``member``'s key to that of seed ``name``, effective
        ``days`` later; returns the seq and the effective seconds."""
        key, key_signature = sign_member_key(seed_of(name), ORIGIN, member)
        effective = seconds(self.now) + days * DAY
        body = {
            "member": member,
            "member_key": key,
            "key_signature": key_signature,
            "effective": format_time(effective),
            "rules_version": rules_version,
        }
        return self.add("member.key_recovery", body), effective

    def refuse(self, member: str, recovery: int, seed: bytes | None = None) -> int:
        """``member`` refuses the recovery at seq ``recovery``, signing with ``seed``."""
        body = {"member": member, "recovery": recovery}
        if seed is None:
            return self.act("member.key_recovery_refused", member, body)
        return self.signed("member.key_recovery_refused", member, body, seed)

    def until(self, effective: int) -> None:
        """Let time pass so that the next entry is at ``effective``."""
        self.wait(effective - seconds(self.now))


def key_plan(**rules: Any) -> KeyPlan:
    """M1 and M2 keyed, M3 joined without a key; M2 enrolled as a juror."""
    plan = KeyPlan(**rules)
    plan.join(M1)
    plan.join(M2, request=40)
    plan.join(M3, keyed=False)
    plan.enrol(M2)
    return plan


def key_in_force(plan: KeyPlan, member: str) -> str | None:
    return replay(plan).members[member].member_key


# -- the new key's own message ----------------------------------------------------


def test_the_new_keys_message_and_signature() -> None:
    key, signature = sign_member_key(seed_of("new"), ORIGIN, M1)
    assert key == key_of("new")
    assert member_key_message(ORIGIN, M1, key) == (
        f"tally/member-key/v1\n{ORIGIN}\n{M1}\n{key}\n".encode()
    )
    verify_member_key(ORIGIN, M1, key, signature)
    for origin, member, other in ((ORIGIN, M2, key), ("other.example/log", M1, key)):
        with pytest.raises(RequestSignatureError):
            verify_member_key(origin, member, other, signature)
    with pytest.raises(RequestSignatureError):
        verify_member_key(ORIGIN, M1, key_of("other"), signature)
    with pytest.raises(RequestError):
        verify_member_key(ORIGIN, M1, "AAAA", signature)


# -- rotation ----------------------------------------------------------------------


def test_a_rotated_key_is_in_force_from_the_next_entry() -> None:
    plan = key_plan()
    plan.rotate(M1, "m1-second")
    assert key_in_force(plan, M1) == key_of("m1-second")
    plan.leave(M1)
    replayed = replay(plan)
    record = replayed.members[M1]
    assert (record.member_key, record.request, record.left_seq) == (
        key_of("m1-second"),
        2,
        len(plan.entries) - 1,
    )
    assert replayed.summary().member_actions.signed == 3  # enrolment, rotation, leaving


def test_the_rotated_away_key_no_longer_signs() -> None:
    plan = key_plan()
    plan.rotate(M1, "m1-second")
    seq = plan.leave(M1, seed_of(M1))
    assert refused(plan) == (seq, "request.signature")


def test_a_member_rotates_twice_and_the_latest_key_signs() -> None:
    plan = key_plan()
    plan.rotate(M1, "m1-second")
    plan.rotate(M1, "m1-third")
    plan.leave(M1)
    assert key_in_force(plan, M1) == key_of("m1-third")
    plan.entries.pop()
    seq = plan.leave(M1, seed_of("m1-second"))
    assert refused(plan) == (seq, "request.signature")


def _rotation(**changes: Any) -> Any:
    def edit(plan: KeyPlan) -> int:
        seq = plan.rotate(M1, "m1-second")
        entry = plan.entries[seq]
        entry.update(changes.pop("envelope", {}))
        entry["body"].update(changes)
        for key in [k for k, v in entry["body"].items() if v is None]:
            del entry["body"][key]
        return seq

    return edit


@pytest.mark.parametrize(
    ("edit", "rule"),
    [
        pytest.param(lambda p: p.rotate(M1, M2), "member.key.new", id="another-members-key"),
        pytest.param(lambda p: p.rotate(M1, M1), "member.key.new", id="own-key-in-force"),
        pytest.param(lambda p: p.rotate(M1, f"juror:{M2}"), "member.key.new", id="a-juror-key"),
        pytest.param(
            lambda p: p.rotate(M1, "m1-second", proof="someone-else"),
            "member.key.proof",
            id="no-proof",
        ),
        pytest.param(
            lambda p: p.rotate(M1, "m1-second", signer=seed_of(M2)),
            "request.signature",
            id="signed-by-another-key",
        ),
        pytest.param(
            lambda p: p.rotate(M1, "m1-second", signer=seed_of("m1-second")),
            "request.signature",
            id="signed-by-the-new-key",
        ),
        pytest.param(lambda p: p.rotate(M3, "m3-first"), "request.signature", id="no-key"),
        pytest.param(lambda p: p.rotate(M4, "m4-first"), "member.key.active", id="never-joined"),
        pytest.param(_rotation(envelope={"actor": "operator"}), "entry.actor", id="operator"),
        pytest.param(
            _rotation(envelope={"actor": f"member:{M2}"}), "entry.actor", id="other-actor"
        ),
        pytest.param(_rotation(request=None, signature=None), "entry.keys", id="unsigned"),
        pytest.param(_rotation(effective=START), "entry.keys", id="extra-key"),
        pytest.param(_rotation(member_key="AAAA"), "entry.value", id="short-key"),
        pytest.param(_rotation(key_signature=COMMIT), "entry.value", id="bad-proof-form"),
    ],
)
def test_a_rotation_that_breaks_a_rule(edit: Any, rule: str) -> None:
    plan = key_plan()
    seq = edit(plan)
    assert refused(plan) == (seq, rule)


def test_a_rotation_replayed_or_by_a_member_who_left_is_refused() -> None:
    plan = key_plan()
    plan.rotate(M1, "m1-second")
    plan.numbers[M1] -= 1
    again = plan.rotate(M1, "m1-third")
    assert refused(plan) == (again, "request.replay")
    plan = key_plan()
    plan.leave(M1)
    left = plan.rotate(M1, "m1-second")
    assert refused(plan) == (left, "member.key.active")


def test_the_checks_of_a_rotation_come_in_order() -> None:
    # a member who left, with a bad signature, a held key and no proof: key.active first
    plan = key_plan()
    plan.leave(M1)
    seq = plan.rotate(M1, M2, proof="no one", signer=seed_of("no one"))
    assert refused(plan) == (seq, "member.key.active")
    # active: the signature before the key, the key before its proof
    plan = key_plan()
    seq = plan.rotate(M1, M2, proof="no one", signer=seed_of("no one"))
    assert refused(plan) == (seq, "request.signature")
    plan = key_plan()
    seq = plan.rotate(M1, M2, proof="no one")
    assert refused(plan) == (seq, "member.key.new")


# -- keys held once can never be named again ---------------------------------------------


def test_a_rotated_away_key_is_never_named_again() -> None:
    joined = key_plan()
    joined.rotate(M1, "m1-second")
    seq = joined.add(
        "member.joined",
        sign_request(
            seed_of(M1),
            ORIGIN,
            "member.joined",
            {
                "member": M4,
                "age_band": "0-39",
                "identity_commitment": COMMIT,
                "member_key": key_of(M1),
                "request": 0,
            },
        ),
    )
    # the join's own rule: member.joined.key covers keys rotated away and pending
    assert refused(joined) == (seq, "member.joined.key")
    rotated = key_plan()
    rotated.rotate(M1, "m1-second")
    seq = rotated.rotate(M2, M1)
    assert refused(rotated) == (seq, "member.key.new")
    back = key_plan()
    back.rotate(M1, "m1-second")
    seq = back.rotate(M1, M1)
    assert refused(back) == (seq, "member.key.new")


def test_a_pending_or_refused_recovery_key_is_never_named_again() -> None:
    plan = key_plan()
    recovery, _ = plan.recover(M1, "m1-recovered")
    seq = plan.rotate(M2, "m1-recovered")
    assert refused(plan) == (seq, "member.key.new")
    plan.entries.pop()
    plan.refuse(M1, recovery)
    seq = plan.rotate(M1, "m1-recovered")
    assert refused(plan) == (seq, "member.key.new")


def test_a_juror_key_is_no_key_a_member_held() -> None:
    plan = key_plan()
    plan.rotate(M1, "m1-second")
    juror_key, _ = sign_juror_key(seed_of(M1), ORIGIN, M1)
    body = {
        "member": M1,
        "juror_key": juror_key,
        "juror_signature": sign_juror_key(seed_of(M1), ORIGIN, M1)[1],
    }
    seq = plan.act("juror.enrolled", M1, body)
    assert refused(plan) == (seq, "juror.enrolled.key")


# -- recovery ---------------------------------------------------------------------------


def test_a_recovery_takes_force_at_its_effective_time() -> None:
    plan = key_plan()
    _, effective = plan.recover(M1, "m1-recovered")
    plan.wait(DAY)
    seq = plan.leave(M1, seed_of("m1-recovered"))
    assert refused(plan) == (seq, "request.signature")  # the new key, too early
    plan.entries.pop()
    plan.numbers[M1] -= 1
    plan.leave(M1)  # the old key, while the recovery is pending
    replay(plan)
    plan.entries.pop()
    plan.numbers[M1] -= 1
    plan.until(effective)
    seq = plan.leave(M1, seed_of(M1))
    assert refused(plan) == (seq, "request.signature")  # the old key, from effective on
    plan.entries.pop()
    plan.numbers[M1] -= 1
    plan.leave(M1, seed_of("m1-recovered"))
    replayed = replay(plan)
    assert replayed.members[M1].member_key == key_of("m1-recovered")
    assert replayed.members[M1].left_seq == seq
    counts = replayed.summary().member_actions
    assert (counts.signed, counts.key_recoveries) == (2, 1)


def test_a_recovery_gives_a_member_who_joined_without_a_key_one() -> None:
    plan = key_plan()
    _, effective = plan.recover(M3, "m3-first")
    seq = plan.leave(M3, seed_of("m3-first"))
    assert refused(plan) == (seq, "request.signature")
    plan.entries.pop()
    plan.until(effective)
    plan.numbers[M3] = 6
    plan.leave(M3, seed_of("m3-first"))
    record = replay(plan).members[M3]
    assert (record.member_key, record.request) == (key_of("m3-first"), 7)


def test_a_recovery_with_too_little_notice_is_refused() -> None:
    plan = key_plan()
    plan.wait(1)  # not on the hour
    seq, _ = plan.recover(M1, "m1-recovered", days=NOTICE_DAYS - 1)
    assert refused(plan) == (seq, "member.key_recovery.notice")
    plan.entries[seq]["body"]["effective"] = format_time(
        seconds(plan.entries[seq]["time"]) + NOTICE_DAYS * DAY - 1
    )
    assert refused(plan) == (seq, "member.key_recovery.notice")
    plan.entries[seq]["body"]["effective"] = format_time(
        seconds(plan.entries[seq]["time"]) + NOTICE_DAYS * DAY
    )
    replay(plan)


def test_a_member_has_one_recovery_pending_at_a_time() -> None:
    plan = key_plan()
    first, effective = plan.recover(M1, "m1-recovered")
    seq, _ = plan.recover(M1, "m1-other")
    assert refused(plan) == (seq, "member.key_recovery.pending")
    plan.entries.pop()
    plan.recover(M2, "m2-recovered")  # another member's is no matter
    replay(plan)
    # refused, voided by a rotation, or in force: no longer pending
    refused_plan = key_plan()
    first = refused_plan.recover(M1, "m1-recovered")[0]
    refused_plan.refuse(M1, first)
    refused_plan.recover(M1, "m1-other")
    replay(refused_plan)
    voided = key_plan()
    voided.recover(M1, "m1-recovered")
    voided.rotate(M1, "m1-second")
    voided.recover(M1, "m1-other")
    replay(voided)
    done = key_plan()
    effective = done.recover(M1, "m1-recovered")[1]
    done.until(effective)
    done.recover(M1, "m1-other")
    replay(done)


@pytest.mark.parametrize(
    ("changes", "rule"),
    [
        pytest.param({"envelope": {"actor": f"member:{M1}"}}, "entry.actor", id="member-actor"),
        pytest.param({"rules_version": 2}, "rules.applied", id="rules-version"),
        pytest.param({"member": M4}, "member.key.active", id="never-joined"),
        pytest.param({"member_key": key_of(M2)}, "member.key.new", id="held-key"),
        pytest.param({"key_signature": None}, "entry.keys", id="no-proof"),
        pytest.param({"request": 3}, "entry.keys", id="signed"),
        pytest.param({"effective": "tomorrow"}, "entry.value", id="bad-time"),
    ],
)
def test_a_recovery_that_breaks_a_rule(changes: dict[str, Any], rule: str) -> None:
    plan = key_plan()
    seq, _ = plan.recover(M1, "m1-recovered")
    entry = plan.entries[seq]
    entry.update(changes.pop("envelope", {}))
    entry["body"].update(changes)
    for key in [k for k, v in entry["body"].items() if v is None]:
        del entry["body"][key]
    assert refused(plan) == (seq, rule)


def test_a_recovery_whose_key_did_not_sign_itself_is_refused() -> None:
    plan = key_plan()
    seq, _ = plan.recover(M1, "m1-recovered")
    body = plan.entries[seq]["body"]
    body["key_signature"] = sign_member_key(seed_of("m1-recovered"), ORIGIN, M2)[1]
    assert refused(plan) == (seq, "member.key.proof")


def test_a_recovery_for_a_member_who_left_is_refused_before_its_notice() -> None:
    plan = key_plan()
    plan.leave(M1)
    seq, _ = plan.recover(M1, "m1-recovered", days=0)
    assert refused(plan) == (seq, "member.key.active")


# -- refusal ----------------------------------------------------------------------------


def test_the_old_key_refuses_a_recovery_and_stays_in_force() -> None:
    plan = key_plan()
    recovery, effective = plan.recover(M1, "m1-recovered")
    plan.refuse(M1, recovery)
    plan.until(effective + HOUR)
    seq = plan.leave(M1, seed_of("m1-recovered"))
    assert refused(plan) == (seq, "request.signature")
    plan.entries.pop()
    plan.numbers[M1] -= 1
    plan.leave(M1)
    replayed = replay(plan)
    assert replayed.members[M1].member_key == key_of(M1)
    counts = replayed.summary().member_actions
    assert (counts.signed, counts.key_recoveries) == (3, 1)  # enrolment, refusal, leaving


@pytest.mark.parametrize("late", [0, HOUR], ids=["at-effective", "after-effective"])
def test_a_refusal_from_the_effective_time_on_is_refused(late: int) -> None:
    plan = key_plan()
    recovery, effective = plan.recover(M1, "m1-recovered")
    plan.until(effective + late)
    seq = plan.refuse(M1, recovery, seed_of("m1-recovered"))
    assert refused(plan) == (seq, "member.key_recovery_refused.pending")
    # signed by the old key, it is no longer the key in force
    plan.entries.pop()
    plan.numbers[M1] -= 1
    seq = plan.refuse(M1, recovery, seed_of(M1))
    assert refused(plan) == (seq, "request.signature")


def test_a_refusal_names_the_members_pending_recovery() -> None:
    plan = key_plan()
    recovery, _ = plan.recover(M1, "m1-recovered")
    other, _ = plan.recover(M2, "m2-recovered")
    for named in (other, recovery + 100, 0):
        seq = plan.refuse(M1, named)
        assert refused(plan) == (seq, "member.key_recovery_refused.pending")
        plan.entries.pop()
        plan.numbers[M1] -= 1
    plan.refuse(M1, recovery)
    seq = plan.refuse(M1, recovery)
    assert refused(plan) == (seq, "member.key_recovery_refused.pending")


def test_a_refusal_after_a_rotation_voided_the_recovery_is_refused() -> None:
    plan = key_plan()
    recovery, effective = plan.recover(M1, "m1-recovered")
    plan.rotate(M1, "m1-second")
    seq = plan.refuse(M1, recovery)
    assert refused(plan) == (seq, "member.key_recovery_refused.pending")
    plan.entries.pop()
    plan.numbers[M1] -= 1
    plan.until(effective)
    plan.leave(M1)  # the rotated key, not the voided recovery's
    assert replay(plan).members[M1].member_key == key_of("m1-second")


@pytest.mark.parametrize(
    ("edit", "rule"),
    [
        pytest.param(
            lambda p, r: p.refuse(M1, r, seed_of("m1-recovered")),
            "request.signature",
            id="signed-by-the-pending-key",
        ),
        pytest.param(lambda p, r: p.refuse(M4, r), "member.key.active", id="never-joined"),
        pytest.param(
            lambda p, r: p.add(
                "member.key_recovery_refused", {"member": M1, "recovery": r}, "operator"
            ),
            "entry.keys",
            id="unsigned",
        ),
        pytest.param(
            lambda p, r: p.add(
                "member.key_recovery_refused",
                sign_request(
                    seed_of(M1),
                    ORIGIN,
                    "member.key_recovery_refused",
                    {"member": M1, "recovery": r, "request": 9},
                ),
                "operator",
            ),
            "entry.actor",
            id="operator-actor",
        ),
        pytest.param(
            lambda p, r: p.add(
                "member.key_recovery_refused",
                sign_request(
                    seed_of(M1),
                    ORIGIN,
                    "member.key_recovery_refused",
                    {"member": M1, "recovery": r, "request": 0},
                ),
                f"member:{M1}",
            ),
            "request.replay",
            id="replayed",
        ),
        pytest.param(
            lambda p, r: p.add(
                "member.key_recovery_refused",
                sign_request(
                    seed_of(M1),
                    ORIGIN,
                    "member.key_recovery_refused",
                    {"member": M1, "recovery": f"c-{r}", "request": 9},
                ),
                f"member:{M1}",
            ),
            "entry.value",
            id="recovery-not-a-seq",
        ),
    ],
)
def test_a_refusal_that_breaks_a_rule(edit: Any, rule: str) -> None:
    plan = key_plan()
    recovery, _ = plan.recover(M1, "m1-recovered")
    seq = edit(plan, recovery)
    assert refused(plan) == (seq, rule)


def test_a_member_without_a_key_cannot_refuse() -> None:
    plan = key_plan()
    recovery, _ = plan.recover(M3, "m3-first")
    seq = plan.refuse(M3, recovery, seed_of(M3))
    assert refused(plan) == (seq, "request.signature")


# -- the roster --------------------------------------------------------------------------


def test_many_rotations_keep_every_key_apart() -> None:
    table = MemberTable()
    members = [f"m-{i:020x}" for i in range(1, 700)]
    for i, m in enumerate(members):
        table.add(m, i, 0, "0-39", key=public_key(seed_of(m)), request=0)
    for o, m in enumerate(members):
        table.rotate(o, public_key(seed_of(f"{m}/2")))
    for o, m in enumerate(members[::50]):
        o = table.ordinal(m)
        assert table.member_key(o) == public_key(seed_of(f"{m}/2"))
        for name in (m, f"{m}/2"):
            assert table.key_owner(public_key(seed_of(name))) == ("member", o)
    assert table.key_owner(public_key(seed_of("no one"))) is None
    with pytest.raises(ValueError, match="held by no one"):
        table.rotate(0, public_key(seed_of(members[5])))
    o = table.ordinal(members[7])
    table.recover(o, 99, public_key(seed_of("pending")), 100)
    assert table.key_owner(public_key(seed_of("pending"))) == ("member", o)
    with pytest.raises(ValueError, match="at most one recovery"):
        table.recover(o, 100, public_key(seed_of("again")), 100)
    table.settle(99)
    assert table.member_key(o) == public_key(seed_of(f"{members[7]}/2"))
    table.settle(100)
    assert table.member_key(o) == public_key(seed_of("pending"))
    assert table.pending_recovery(o) is None


# -- audit -------------------------------------------------------------------------------


def test_audit_counts_key_changes(tmp_path: Path) -> None:
    plan = key_plan()
    recovery, _ = plan.recover(M1, "m1-recovered")
    plan.refuse(M1, recovery)
    plan.rotate(M2, "m2-second")
    plan.recover(M3, "m3-first")
    counts = replay(plan).summary().member_actions
    assert counts == ActionCounts(signed=3, keyed_joins=2, unkeyed_joins=1, key_recoveries=2)
    write_dump(tmp_path / "dump", rechain(plan.entries))
    args = ("audit", "--dir", str(tmp_path / "dump"), "--key", KEY_DOC["verifier_key"])
    code, doc = run_json(tmp_path / "state", *args)
    assert code == 0, doc
    assert doc["plan"]["member_actions"] == {
        "signed": 3,
        "assisted": 0,
        "keyed_joins": 2,
        "unkeyed_joins": 1,
        "key_recoveries": 2,
    }
    result = run(tmp_path / "state", *args)
    assert result.exit_code == 0, result.output
    assert (
        "Member actions (specs/plan.md §4.5): 3 signed by the member, 0 assisted (written by "
        "the operator for the member); joins: 2 with the member's own key, 1 without one. "
        "Recoveries of a member's key by the operator (§4.6): 2.\n"
        "  2025-12a: 3 signed, 0 assisted; joins: 2 keyed, 1 without a key; 2 key recoveries\n"
    ) in result.stdout


# -- a statement's partial replay ---------------------------------------------------------


def test_a_statement_replay_does_not_refuse_a_request_signed_with_a_key_it_never_saw() -> None:
    plan = key_plan()
    rotation = plan.rotate(M1, "m1-second")
    claim = plan.file(M1)
    chain = ChainVerifier()
    entries = [chain.add(raw) for raw in rechain(plan.entries)]
    full = replay(plan)
    assert full.claims[claim].member == M1
    sparse = SparseReplay()
    for entry in entries:
        if entry.seq != rotation:  # a bundle carries no key changes (statement.md §2)
            sparse.apply(entry)
    assert sparse.unchecked_requests == [(int(claim[2:]), M1)]
    assert sparse.claims[claim].member == M1
    sparse = SparseReplay()
    for entry in entries:
        sparse.apply(entry)
    assert sparse.unchecked_requests == []


def test_a_member_given_a_first_key_by_recovery_rotates_it() -> None:
    plan = key_plan()
    effective = plan.recover(M3, "m3-first")[1]
    plan.until(effective)
    plan.seeds[M3] = seed_of("m3-first")
    plan.rotate(M3, "m3-second")
    plan.leave(M3)
    replayed = replay(plan)
    record = replayed.members[M3]
    assert (record.member_key, record.request) == (key_of("m3-second"), 1)
    table = replayed.members
    for name in ("m3-first", "m3-second"):
        assert table.key_owner(public_key(seed_of(name))) == ("member", table.ordinal(M3))
    assert table.key_owner(bytes(32)) is None  # the empty record of a join without a key
    counts = replayed.summary().member_actions
    assert counts.words() == "3 signed, 0 assisted; joins: 2 keyed, 1 without a key; 1 key recovery"
