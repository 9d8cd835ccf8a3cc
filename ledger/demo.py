"""The demo plan: a realistic, reproducible mutual-aid plan on the log.

An event-driven simulation on a half-month calendar: members join (in bulk at the
start, then throughout) and leave; jurors enrol after their tenure; claims of every
kind run through their lifecycle (approved and paid; denied; denied, appealed and
overturned by a drawn panel; approved, objected to and appealed; paid and then
reversed for fraud); one rules change is announced with notice; every period is
closed at its cutoff and a checkpoint signed after it. Everything random comes from
``random.Random(seed)``, so a seed gives the same plan.

The rules require member signatures (specs/plan.md §4.5): every demo member has an
Ed25519 key of their own, derived from the seed and their member id
(:func:`demo_member_seed`, published so that anyone can act as a demo member), joins
with it and signs their own filings, objections, appeals, leavings and juror
enrolments; the operator writes only its own steps.

Time is a simulated clock (ledger.clock), as in an operator's rehearsal: it is set
to each event's time before the event runs, and the commands take their entries'
time from it, as they would take "now" from the wall clock.
"""

from __future__ import annotations

import functools
import hashlib
import heapq
import itertools
import random
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime, timedelta

from ledger.clock import SimulatedClock
from ledger.domain.periods import cutoff, next_period, period_open_at
from ledger.domain.plan import Plan
from ledger.domain.requests import (
    RequestDocument,
    juror_key_message,
    public_key,
    sign,
    sign_request,
)
from ledger.domain.rules import reference_rules
from ledger.domain.vote import sign_vote
from ledger.instance import Ledger
from ledger.log.entry import format_time, parse_entry, parse_time

DEMO_START = datetime(2024, 10, 1, tzinfo=UTC)
MAJOR = ("C50", "C34", "C18", "I21", "I63", "N18")
LIGHT = ("C73", "C61")


def demo_member_seed(seed: int, member: str) -> bytes:
    """The private key seed of a demo member (a published key: the demo's members are
    anyone's to act as)."""
    return hashlib.sha256(b"tally demo member %d " % seed + member.encode()).digest()


@dataclass(order=True)
class _Event:
    time: str
    order: int
    action: Callable[[], None] = field(compare=False)


@dataclass
class DemoReport:
    """What the demo built."""

    members: int = 0
    periods: int = 0
    claims: dict[str, int] = field(default_factory=dict)
    entries: int = 0


class _Simulation:
    def __init__(
        self, ledger: Ledger, seed: int, members: int, periods: int, paid_claims: int | None
    ) -> None:
        self.rng = random.Random(seed)  # noqa: S311 - a reproducible simulation, not secrets
        self.seed = seed
        self.clock = SimulatedClock(DEMO_START)
        self.plan = Plan(ledger, clock=self.clock, random_bytes=self.rng.randbytes)
        self.ledger = ledger
        self.target_members = members
        self.periods = periods
        self.paid_claims = paid_claims
        self.queue: list[_Event] = []
        self.counter = itertools.count()
        self.report = DemoReport()
        self.jurors: dict[str, bytes] = {}
        self.requests: dict[str, int] = {}
        """Each member's last request number (specs/requests.md §4)."""
        self.origin = ledger.publisher.origin
        self.joined: list[tuple[str, str]] = []
        self.left: set[str] = set()
        self.start = format_time(DEMO_START)

    # -- scheduling ---------------------------------------------------------------

    def at(self, when: datetime | str, action: Callable[[], None]) -> None:
        time = max(when if isinstance(when, str) else format_time(when), self.start)
        heapq.heappush(self.queue, _Event(time, next(self.counter), action))

    def run(self, progress: Callable[[int, int], None] | None) -> DemoReport:
        size = self.ledger.log.size()
        last = self.ledger.log.entries(size - 1, size)[0][1]
        start = max(DEMO_START, parse_time(parse_entry(last).time))
        start_text = format_time(start)
        self.start = start_text
        self.clock.set(start)
        self.plan.set_rules(reference_rules(start_text))
        first = period_open_at(start_text)
        initial = self.target_members * 4 // 5
        self.at(start, functools.partial(self.join, initial))
        period = first
        for n in range(self.periods):
            self.schedule_period(period, n, first)
            period = next_period(period)
        total = len(self.queue)
        done = 0
        while self.queue:
            event = heapq.heappop(self.queue)
            self.clock.set(event.time)
            event.action()
            done += 1
            if progress is not None and done % 50 == 0:
                progress(done, done + len(self.queue))
        if progress is not None:
            progress(total, total)
        self.report.entries = self.ledger.log.size()
        return self.report

    def schedule_period(self, period: str, n: int, first: str) -> None:
        end = parse_time(cutoff(period))
        begin = end - timedelta(days=14)
        # Joins and leaves throughout.
        for i, day in enumerate((2, 6, 10)):
            when = begin + timedelta(days=day, hours=3)
            count = self.later_joins(3 * n + i)
            self.at(when, functools.partial(self.join, count))
            self.at(when + timedelta(hours=1), self.leave)
        if n == 3:
            self.at(begin + timedelta(days=1), self.enrol_jurors)
        if n == 6:
            self.at(begin + timedelta(days=1, hours=5), self.change_rules)
        self.schedule_claims(begin, n)
        self.at(end, functools.partial(self.close, period))

    def later_joins(self, slot: int) -> int:
        """Joins in one of the 3 slots a period has, so that the total is exact."""
        later = self.target_members - self.target_members * 4 // 5
        slots = 3 * self.periods
        return later // slots + (1 if slot < later % slots else 0)

    # -- actions: each runs at the clock's time, its event's ---------------------------

    def join(self, count: int) -> None:
        for start in range(0, count, 2_000):
            batch = [
                (
                    "0-39" if self.rng.random() < 0.7 else "40-59",
                    {
                        "name": f"demo member {self.report.members + i}",
                        "phone": f"1{self.rng.randrange(10**10):010d}",
                    },
                )
                for i in range(min(2_000, count - start))
            ]
            ids = ["m-" + self.rng.randbytes(10).hex() for _ in batch]
            requests = [self.join_request(member) for member in ids]
            for member, appended in self.plan.join_many(batch, requests=requests):
                self.joined.append((parse_entry(appended.raw).time, member))
            self.report.members += len(batch)

    def join_request(self, member: str) -> RequestDocument:
        """``member``'s signed join request, naming their own key (request 0)."""
        key = demo_member_seed(self.seed, member)
        body = {"member": member, "member_key": public_key(key), "request": 0}
        self.requests[member] = 0
        return RequestDocument(
            "member.joined", sign_request(key, self.origin, "member.joined", body)
        )

    def signed(self, member: str, entry_type: str, body: Mapping[str, object]) -> RequestDocument:
        """A request ``member`` signs, with their next request number."""
        number = self.requests[member] + 1
        self.requests[member] = number
        key = demo_member_seed(self.seed, member)
        signed = sign_request(key, self.origin, entry_type, {**body, "request": number})
        return RequestDocument(entry_type, signed)

    def active(self, tenure_days: int = 0) -> list[str]:
        """Members active now who joined ``tenure_days`` ago or earlier, in id order (the
        simulation keeps its own list: every join and leaving is its own)."""
        limit = format_time(self.clock() - timedelta(days=tenure_days))
        return sorted(m for joined, m in self.joined if joined <= limit and m not in self.left)

    def leave(self) -> None:
        candidates = [m for m in self.active() if m not in self.jurors]
        leaving = self.rng.sample(candidates, min(len(candidates), self.target_members // 400))
        if leaving:
            self.plan.submit_requests(
                [self.signed(m, "member.left", {"member": m}) for m in leaving]
            )
            self.left.update(leaving)

    def enrol_jurors(self) -> None:
        for member in self.rng.sample(self.active(tenure_days=31), 60):
            seed = hashlib.sha256(b"tally demo juror %d " % self.seed + member.encode()).digest()
            key = public_key(seed)
            proof = sign(seed, juror_key_message(self.origin, member, key))
            body = {"member": member, "juror_key": key, "juror_signature": proof}
            self.plan.submit_request(self.signed(member, "juror.enrolled", body))
            self.jurors[member] = seed

    def change_rules(self) -> None:
        current = self.plan.state.rules_at(self.clock.text)
        effective = format_time(self.clock() + timedelta(days=current.notice_days + 1))
        newer = replace(current, version=current.version + 1, effective=effective, fee_bp=700)
        self.plan.set_rules(newer)

    def close(self, period: str) -> None:
        self.plan.close_period(period=period)
        self.ledger.publisher.publish()
        self.report.periods += 1

    # -- claims -------------------------------------------------------------------

    def target_share_fen(self, n: int) -> int:
        """The half-month share the demo aims at in its n-th period, in fen.

        After 相互宝's: a few yuan, rising over time, from 3 yuan at first to 13 yuan in
        the last period. With the default 30 periods (October 2024 to December 2025), a
        member counted through all of 2025 reaches the annual cap of 188 yuan only at
        its end; members who joined later in the year never do.
        """
        return 300 + 1000 * n // max(1, self.periods - 1)

    def ordinary_claims(self, n: int) -> int:
        """How many ordinary claims are filed (and paid) in the n-th period."""
        return self.paid_claims if self.paid_claims is not None else 1 + n % 2

    def schedule_claims(self, begin: datetime, n: int) -> None:
        kinds = ["paid"] * self.ordinary_claims(n) + ["denied"]
        if n == 2:
            kinds.append("accident")
        if n == 8:
            kinds.append("overturned")
        if n == 9:
            kinds.append("objected")
        if n == 10:
            kinds.append("fraud")
        for i, kind in enumerate(kinds):
            day = begin + timedelta(days=1 + i % 3, hours=2 + i % 12, minutes=i // 12)
            self.at(day, functools.partial(self.claim, kind, n))

    def after(self, delta: timedelta, action: Callable[[], None]) -> None:
        self.at(self.clock() + delta, action)

    def claim_amount(self, n: int, benefit: int) -> int:
        """A claim's amount: the period's target aid over its claims, give or take a quarter.

        The members share what is paid, plus the 8% fee: a claim of amount A adds about
        A x 1.08 / N to the share of N members.
        """
        aid = self.target_share_fen(n) * len(self.active()) * 100 // 108
        amount = aid // self.ordinary_claims(n) * self.rng.randint(75, 125) // 100
        return min(benefit, max(100_000, amount // 100 * 100))

    def claim(self, kind: str, n: int) -> None:
        now = self.clock()
        # Diagnosed up to 20 days before filing, after the 90-day wait (accidents: any time).
        waiting = 21 if kind == "accident" else 112
        eligible = [m for m in self.active(tenure_days=waiting) if m not in self.jurors]
        if not eligible:
            return
        member = self.rng.choice(eligible)
        band = self.plan.state.members[member].age_band
        # Light conditions (capped at 50,000 yuan) are the rarer claims.
        kinds = MAJOR * 3 + LIGHT
        condition = "ACC" if kind == "accident" else self.rng.choice(kinds)
        rules = self.plan.state.rules_at(self.clock.text)
        benefit = rules.benefit_for(rules.conditions[condition].kind, band)
        amount = self.claim_amount(n, benefit)
        diagnosed = format_time(now - timedelta(days=self.rng.randint(1, 20)))
        body = {
            "member": member,
            "condition": condition,
            "amount_fen": amount,
            "diagnosed": diagnosed,
            "evidence_commitment": hashlib.sha256(member.encode()).hexdigest(),
        }
        filed = self.plan.submit_request(self.signed(member, "claim.filed", body))
        claim = f"c-{filed.seq}"
        self.report.claims[kind] = self.report.claims.get(kind, 0) + 1
        self.after(timedelta(hours=12), functools.partial(self.assess, claim, kind, amount))

    def assess(self, claim: str, kind: str, amount: int) -> None:
        deny = kind in ("denied", "overturned")
        self.plan.assess(
            claim,
            "deny" if deny else "approve",
            0 if deny else amount,
            "pre-existing condition" if deny else "covered",
            claim.encode(),
        )
        self.after(timedelta(hours=12), functools.partial(self.disclose, claim, kind))

    def disclose(self, claim: str, kind: str) -> None:
        self.plan.disclose(claim)
        member = self.plan.state.claims[claim].member
        next_day = timedelta(days=1)
        if kind == "objected":
            others = [m for m in self.active() if m != member and m not in self.jurors]
            objector = self.rng.choice(others)
            self.after(next_day, functools.partial(self.objection, claim, objector))
        elif kind == "overturned":
            self.after(next_day, functools.partial(self.appeal, claim, member, "approve"))
        else:
            decided = timedelta(days=6, hours=1)
            self.after(decided, functools.partial(self.decide_and_pay, claim, kind == "fraud"))

    def objection(self, claim: str, objector: str) -> None:
        reason = hashlib.sha256(b"the diagnosis predates joining").hexdigest()
        body = {"claim": claim, "objector": objector, "reason_hash": reason}
        self.plan.submit_request(self.signed(objector, "claim.objected", body))
        self.after(timedelta(hours=2), functools.partial(self.appeal, claim, objector, "deny"))

    def appeal(self, claim: str, appellant: str, leaning: str) -> None:
        secret = self.rng.randbytes(32)
        commitment = hashlib.sha256(secret).hexdigest()
        body = {"claim": claim, "appellant": appellant, "secret_commitment": commitment}
        self.plan.submit_request(self.signed(appellant, "claim.appealed", body))
        self.after(timedelta(hours=3), functools.partial(self.sign_pool, claim))
        # The appellant reveals their secret only once the pool's signature is on the log.
        self.after(timedelta(hours=6), functools.partial(self.draw, claim, secret, leaning))

    def draw(self, claim: str, secret: bytes, leaning: str) -> None:
        jurors = self.plan.draw_panel(claim, secret)
        self.after(timedelta(hours=12), functools.partial(self.votes, claim, jurors, leaning))
        closes = timedelta(days=3, seconds=1)
        self.after(closes, functools.partial(self.decide_and_pay, claim, False))

    def votes(self, claim: str, jurors: list[str], leaning: str) -> None:
        origin = self.plan.state.origin
        against = "deny" if leaning == "approve" else "approve"
        for i, juror in enumerate(jurors[:-1]):  # one juror never votes; quorum is still met
            choice = leaning if i % 5 else against
            rationale = hashlib.sha256(f"{juror} read the file".encode()).hexdigest()
            signature = sign_vote(self.jurors[juror], origin, claim, choice, rationale)
            self.plan.cast_vote(claim, juror, choice, rationale, signature)

    def decide_and_pay(self, claim: str, fraud: bool) -> None:
        self.plan.decide(claim)
        if self.plan.state.claims[claim].outcome != "approved":
            return
        self.plan.pay(claim)
        if fraud:
            paid = self.plan.state.claims[claim].paid_fen or 0
            self.after(timedelta(days=5), functools.partial(self.reverse, claim, paid))

    def sign_pool(self, claim: str) -> None:
        self.plan.sign_pool(claim)

    def reverse(self, claim: str, amount: int) -> None:
        self.plan.reverse(claim, amount, "forged hospital records")


def build_demo(
    ledger: Ledger,
    *,
    seed: int,
    members: int = 20_000,
    periods: int = 30,
    paid_claims: int | None = None,
    progress: Callable[[int, int], None] | None = None,
) -> DemoReport:
    """Build the demo plan into an initialised ledger; returns what was built.

    ``paid_claims`` is the number of ordinary claims filed (and paid) each period,
    besides the denied one and the special cases of some periods; by default one or
    two, sized so that the share is a few yuan (:meth:`_Simulation.target_share_fen`).
    """
    return _Simulation(ledger, seed, members, periods, paid_claims).run(progress)
