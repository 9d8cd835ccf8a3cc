"""The demo plan: a realistic, reproducible mutual-aid plan on the log.

An event-driven simulation on a half-month calendar: members join (in bulk at the
start, then throughout) and leave; jurors enrol after their tenure; claims of every
kind run through their lifecycle (approved and paid; denied; denied, appealed and
overturned by a drawn panel; approved, objected to and appealed; paid and then
reversed for fraud); one rules change is announced with notice; every period is
closed at its cutoff and a checkpoint signed after it. Everything random comes from
``random.Random(seed)``, so a seed gives the same plan.
"""

from __future__ import annotations

import functools
import hashlib
import heapq
import itertools
import random
from collections.abc import Callable
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime, timedelta

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from ledger.domain.periods import cutoff, next_period, period_open_at
from ledger.domain.plan import Plan
from ledger.domain.rules import reference_rules
from ledger.domain.vote import sign_vote
from ledger.instance import Ledger
from ledger.log.entry import format_time, parse_entry, parse_time

DEMO_START = datetime(2025, 1, 1, tzinfo=UTC)
MAJOR = ("C50", "C34", "C18", "I21", "I63", "N18")
LIGHT = ("C73", "C61")


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
        self, ledger: Ledger, seed: int, members: int, periods: int, paid_claims: int
    ) -> None:
        self.rng = random.Random(seed)  # noqa: S311 - a reproducible simulation, not secrets
        self.seed = seed
        self.plan = Plan(ledger, random_bytes=self.rng.randbytes)
        self.ledger = ledger
        self.target_members = members
        self.periods = periods
        self.paid_claims = paid_claims
        self.queue: list[_Event] = []
        self.counter = itertools.count()
        self.report = DemoReport()
        self.jurors: dict[str, bytes] = {}
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
        self.plan.set_rules(reference_rules(start_text), at=start_text)
        first = period_open_at(start_text)
        initial = self.target_members * 4 // 5
        self.at(start + timedelta(hours=1), functools.partial(self.join, initial, start_text))
        period = first
        for n in range(self.periods):
            self.schedule_period(period, n, first)
            period = next_period(period)
        total = len(self.queue)
        done = 0
        while self.queue:
            event = heapq.heappop(self.queue)
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
            self.at(when, functools.partial(self.join, count, format_time(when)))
            gone = when + timedelta(hours=1)
            self.at(gone, functools.partial(self.leave, format_time(gone)))
        if n == 3:
            enrol = begin + timedelta(days=1)
            self.at(enrol, functools.partial(self.enrol_jurors, enrol))
        if n == 6:
            self.at(begin + timedelta(days=1, hours=5), functools.partial(self.change_rules, begin))
        self.schedule_claims(begin, n)
        self.at(end, functools.partial(self.close, format_time(end)))

    def later_joins(self, slot: int) -> int:
        """Joins in one of the 3 slots a period has, so that the total is exact."""
        later = self.target_members - self.target_members * 4 // 5
        slots = 3 * self.periods
        return later // slots + (1 if slot < later % slots else 0)

    # -- actions ------------------------------------------------------------------

    def join(self, count: int, when: str) -> None:
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
            self.plan.join_many(batch, at=when)
            self.report.members += len(batch)

    def active(self, when: str, tenure_days: int = 0) -> list[str]:
        limit = format_time(parse_time(when) - timedelta(days=tenure_days))
        return sorted(
            m.id
            for m in self.plan.state.members.values()
            if m.active_at(when) and m.joined <= limit
        )

    def leave(self, when: str) -> None:
        candidates = [m for m in self.active(when) if m not in self.jurors]
        for member in self.rng.sample(candidates, min(len(candidates), self.target_members // 400)):
            self.plan.leave(member, at=when)

    def enrol_jurors(self, when: datetime) -> None:
        time = format_time(when)
        for member in self.rng.sample(self.active(time, tenure_days=31), 60):
            seed = hashlib.sha256(b"tally demo juror %d " % self.seed + member.encode()).digest()
            key = Ed25519PrivateKey.from_private_bytes(seed).public_key().public_bytes_raw()
            self.plan.enrol_juror(member, key, at=time)
            self.jurors[member] = seed

    def change_rules(self, begin: datetime) -> None:
        when = begin + timedelta(days=1, hours=5)
        current = self.plan.state.rules_at(format_time(when))
        effective = format_time(when + timedelta(days=current.notice_days + 1))
        newer = replace(current, version=current.version + 1, effective=effective, fee_bp=700)
        self.plan.set_rules(newer, at=format_time(when))

    def close(self, when: str) -> None:
        self.plan.close_period(at=when)
        self.ledger.publisher.publish()
        self.report.periods += 1

    # -- claims -------------------------------------------------------------------

    def schedule_claims(self, begin: datetime, n: int) -> None:
        kinds = ["paid"] * self.paid_claims + ["denied"]
        if n == 2:
            kinds.append("accident")
        if n >= 7:
            kinds += ["paid", "paid"]
        if n == 8:
            kinds.append("overturned")
        if n == 9:
            kinds.append("objected")
        if n == 10:
            kinds.append("fraud")
        for i, kind in enumerate(kinds):
            day = begin + timedelta(days=1 + i % 3, hours=2 + i % 12, minutes=i // 12)
            self.at(day, functools.partial(self.claim, kind, day))

    def claim(self, kind: str, when: datetime) -> None:
        time = format_time(when)
        # Diagnosed up to 20 days before filing, after the 90-day wait (accidents: any time).
        waiting = 21 if kind == "accident" else 112
        eligible = [m for m in self.active(time, tenure_days=waiting) if m not in self.jurors]
        if not eligible:
            return
        member = self.rng.choice(eligible)
        band = self.plan.state.members[member].age_band
        condition = "ACC" if kind == "accident" else self.rng.choice(MAJOR + LIGHT)
        rules = self.plan.state.rules_at(time)
        benefit = rules.benefit_for(rules.conditions[condition].kind, band)
        amount = min(benefit, self.rng.randrange(5_000_000, 30_000_001, 100))
        diagnosed = format_time(when - timedelta(days=self.rng.randint(1, 20)))
        claim = self.plan.file_claim(member, condition, amount, diagnosed, member.encode(), at=time)
        self.report.claims[kind] = self.report.claims.get(kind, 0) + 1
        assessed = when + timedelta(hours=12)
        self.at(assessed, functools.partial(self.assess, claim, kind, amount, assessed))

    def assess(self, claim: str, kind: str, amount: int, when: datetime) -> None:
        deny = kind in ("denied", "overturned")
        self.plan.assess(
            claim,
            "deny" if deny else "approve",
            0 if deny else amount,
            "pre-existing condition" if deny else "covered",
            claim.encode(),
            at=format_time(when),
        )
        disclosed = when + timedelta(hours=12)
        self.at(disclosed, functools.partial(self.disclose, claim, kind, disclosed))

    def disclose(self, claim: str, kind: str, when: datetime) -> None:
        time = format_time(when)
        self.plan.disclose(claim, at=time)
        member = self.plan.state.claims[claim].member
        next_day = when + timedelta(days=1)
        if kind == "objected":
            others = [m for m in self.active(time) if m != member and m not in self.jurors]
            objector = self.rng.choice(others)
            self.at(next_day, functools.partial(self.objection, claim, objector, next_day))
        elif kind == "overturned":
            self.at(next_day, functools.partial(self.appeal, claim, member, next_day, "approve"))
        else:
            decided = when + timedelta(days=6, hours=1)
            self.at(
                decided, functools.partial(self.decide_and_pay, claim, decided, kind == "fraud")
            )

    def objection(self, claim: str, objector: str, when: datetime) -> None:
        reason = "the diagnosis predates joining"
        self.plan.object(claim, objector, reason, at=format_time(when))
        later = when + timedelta(hours=2)
        self.at(later, functools.partial(self.appeal, claim, objector, later, "deny"))

    def appeal(self, claim: str, appellant: str, when: datetime, leaning: str) -> None:
        secret = self.rng.randbytes(32)
        self.plan.appeal(claim, appellant, hashlib.sha256(secret).hexdigest(), at=format_time(when))
        pooled = when + timedelta(hours=3)
        self.at(pooled, functools.partial(self.sign_pool, claim, pooled))
        drawn = when + timedelta(hours=6)
        self.at(drawn, functools.partial(self.draw, claim, secret, drawn, leaning))

    def sign_pool(self, claim: str, when: datetime) -> None:
        # The appellant reveals their secret only once this is on the log.
        self.plan.sign_pool(claim, at=format_time(when))

    def draw(self, claim: str, secret: bytes, when: datetime, leaning: str) -> None:
        jurors = self.plan.draw_panel(claim, secret, at=format_time(when))
        voted = when + timedelta(hours=12)
        self.at(voted, functools.partial(self.votes, claim, jurors, voted, leaning))
        closes = when + timedelta(days=3, seconds=1)
        self.at(closes, functools.partial(self.decide_and_pay, claim, closes, False))

    def votes(self, claim: str, jurors: list[str], when: datetime, leaning: str) -> None:
        origin = self.plan.state.origin
        against = "deny" if leaning == "approve" else "approve"
        for i, juror in enumerate(jurors[:-1]):  # one juror never votes; quorum is still met
            choice = leaning if i % 5 else against
            rationale = hashlib.sha256(f"{juror} read the file".encode()).hexdigest()
            signature = sign_vote(self.jurors[juror], origin, claim, choice, rationale)
            self.plan.cast_vote(claim, juror, choice, rationale, signature, at=format_time(when))

    def decide_and_pay(self, claim: str, when: datetime, fraud: bool) -> None:
        time = format_time(when)
        self.plan.decide(claim, at=time)
        if self.plan.state.claims[claim].outcome != "approved":
            return
        self.plan.pay(claim, at=time)
        if fraud:
            later = when + timedelta(days=5)
            paid = self.plan.state.claims[claim].paid_fen or 0
            self.at(later, functools.partial(self.reverse, claim, paid, later))

    def reverse(self, claim: str, amount: int, when: datetime) -> None:
        self.plan.reverse(claim, amount, "forged hospital records", at=format_time(when))


def build_demo(
    ledger: Ledger,
    *,
    seed: int,
    members: int = 20_000,
    periods: int = 14,
    paid_claims: int = 3,
    progress: Callable[[int, int], None] | None = None,
) -> DemoReport:
    """Build the demo plan into an initialised ledger; returns what was built.

    ``paid_claims`` is the number of ordinary claims filed (and paid) each period,
    besides the denied one and the special cases of some periods.
    """
    return _Simulation(ledger, seed, members, periods, paid_claims).run(progress)
