"""The plan's versioned rules (specs/plan.md §2): their body, their versions, which is in force.

A ``plan.rules`` body has exactly the keys of :data:`RULES_KEYS`. At time t:

- the first version MAY take effect at its own entry's time (``effective`` >= t);
- every later version MUST have ``effective`` >= t + ``notice_days`` days of the
  version in force at t, and be later than the previous version's ``effective``;
- the version in force at t is the highest whose ``effective`` <= t; every
  assessment, draw, decision, period close and wind-down names the version it applied
  (``rules_version``), which MUST be the version in force at its entry's time;
- no command other than ``plan.rules`` is accepted before a version is in force.

When a later version is announced while no version is in force yet (the first one
takes effect in the future), no version's ``notice_days`` applies: only "later than
the previous version's ``effective``" is checked (specs/plan.md does not say more).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import NoReturn

from verifier.entry import Entry
from verifier.plan.ids import show
from verifier.plan.records import DAY, Body, PlanRuleError

RULES_KEYS = (
    "version",
    "effective",
    "notice_days",
    "waiting_days",
    "benefits",
    "light_benefit_fen",
    "conditions",
    "fee_bp",
    "annual_cap_fen",
    "objection_days",
    "appeal_days",
    "reveal_days",
    "panel_size",
    "quorum",
    "threshold_bp",
    "voting_days",
    "juror_tenure_days",
)
KINDS = ("major", "light", "accident")
CONDITION_KEYS = frozenset({"code", "category", "kind"})


@dataclass(frozen=True)
class Condition:
    """A covered condition: ``code``, ``category`` and ``kind`` (major, light or accident)."""

    code: str
    category: str
    kind: str


@dataclass(frozen=True)
class Rules:
    """One version of the rules (§2); money in fen, rates in basis points, spans in days."""

    version: int
    effective: str
    effective_s: int
    seq: int
    notice_days: int
    waiting_days: int
    benefits: Mapping[str, int]
    light_benefit_fen: int
    conditions: Mapping[str, Condition]
    fee_bp: int
    annual_cap_fen: int
    objection_days: int
    appeal_days: int
    reveal_days: int
    panel_size: int
    quorum: int
    threshold_bp: int
    voting_days: int
    juror_tenure_days: int

    def benefit(self, kind: str, age_band: str) -> int | None:
        """The most a claim may be paid (§5.2): the light benefit, else the band's; ``None``
        if these rules have no benefit for the band."""
        if kind == "light":
            return self.light_benefit_fen
        return self.benefits.get(age_band)


def parse_rules(entry: Entry) -> Rules:
    """Read a ``plan.rules`` body strictly (§2); raise :class:`PlanRuleError` if malformed."""
    body = Body(entry, RULES_KEYS)
    effective, effective_s = body.time("effective")
    ints = {
        key: body.integer(key, minimum, section="§2")
        for key, minimum in (
            ("version", 1),
            ("notice_days", 0),
            ("waiting_days", 0),
            ("light_benefit_fen", 0),
            ("fee_bp", 0),
            ("annual_cap_fen", 0),
            ("objection_days", 1),
            ("appeal_days", 1),
            ("reveal_days", 1),
            ("panel_size", 0),
            ("quorum", 0),
            ("threshold_bp", 0),
            ("voting_days", 1),
            ("juror_tenure_days", 0),
        )
    }
    return Rules(
        version=ints["version"],
        effective=effective,
        effective_s=effective_s,
        seq=entry.seq,
        notice_days=ints["notice_days"],
        waiting_days=ints["waiting_days"],
        benefits=_benefits(body),
        light_benefit_fen=ints["light_benefit_fen"],
        conditions=_conditions(body),
        fee_bp=ints["fee_bp"],
        annual_cap_fen=ints["annual_cap_fen"],
        objection_days=ints["objection_days"],
        appeal_days=ints["appeal_days"],
        reveal_days=ints["reveal_days"],
        panel_size=ints["panel_size"],
        quorum=ints["quorum"],
        threshold_bp=ints["threshold_bp"],
        voting_days=ints["voting_days"],
        juror_tenure_days=ints["juror_tenure_days"],
    )


def _benefits(body: Body) -> dict[str, int]:
    value = body.value("benefits")
    if not isinstance(value, dict) or not value:
        body.fail(
            "§2",
            "benefits.type",
            f"expected benefits to be a non-empty object of age band -> fen, found {show(value)}",
        )
    out: dict[str, int] = {}
    for band, fen in value.items():
        if isinstance(fen, bool) or not isinstance(fen, int) or fen < 0 or not band:
            body.fail(
                "§2",
                "benefits.value",
                f"expected each benefit to be a non-empty band and an integer >= 0 (fen), "
                f"found {band!r}: {show(fen)}",
            )
        out[band] = fen
    return out


def _conditions(body: Body) -> dict[str, Condition]:
    value = body.value("conditions")
    if not isinstance(value, list):
        body.fail("§2", "conditions.type", f"expected conditions to be a list, found {show(value)}")
    out: dict[str, Condition] = {}
    for i, item in enumerate(value):
        if (
            not isinstance(item, dict)
            or set(item) != CONDITION_KEYS
            or not all(isinstance(item[k], str) and item[k] for k in CONDITION_KEYS)
            or item["kind"] not in KINDS
        ):
            body.fail(
                "§2",
                "conditions.item",
                f'expected conditions[{i}] to be {{"code", "category", "kind"}} with non-empty '
                f"strings and kind major, light or accident, found {show(item)}",
            )
        code, category, kind = str(item["code"]), str(item["category"]), str(item["kind"])
        if code in out:
            body.fail("§2", "conditions.unique", f"expected each code once, found {code!r} twice")
        out[code] = Condition(code, category, kind)
    return out


class RulesBook:
    """Every version of the rules seen so far, and which is in force when (§2)."""

    def __init__(self) -> None:
        self.versions: list[Rules] = []

    @property
    def latest(self) -> Rules | None:
        """The last version announced, in force or not."""
        return self.versions[-1] if self.versions else None

    @property
    def first(self) -> Rules | None:
        """Version 1, if announced."""
        return self.versions[0] if self.versions else None

    def in_force(self, t: int) -> Rules | None:
        """The highest version whose ``effective`` <= t (seconds), or ``None``."""
        for rules in reversed(self.versions):
            if rules.effective_s <= t:
                return rules
        return None

    def add(self, entry: Entry, t: int) -> Rules:
        """Check a ``plan.rules`` entry at time t (seconds) against §2 and record it."""
        rules = parse_rules(entry)
        expected = len(self.versions) + 1
        if rules.version != expected:
            _fail(entry, "rules.version", f"expected version {expected}, found {rules.version}")
        if not self.versions:
            if rules.effective_s < t:
                _fail(
                    entry,
                    "rules.effective",
                    f"expected the first version's effective >= its entry's time {entry.time}, "
                    f"found {rules.effective}",
                )
        else:
            previous = self.versions[-1]
            if rules.effective_s <= previous.effective_s:
                _fail(
                    entry,
                    "rules.effective",
                    f"expected effective later than version {previous.version}'s "
                    f"{previous.effective}, found {rules.effective}",
                )
            current = self.in_force(t)
            if current is not None and rules.effective_s < t + current.notice_days * DAY:
                _fail(
                    entry,
                    "rules.notice",
                    f"expected effective >= {entry.time} + {current.notice_days} days "
                    f"(notice_days of version {current.version}, in force), "
                    f"found {rules.effective}",
                )
        self.versions.append(rules)
        return rules


def check_rules_version(body: Body, rules: Rules) -> None:
    """The body's ``rules_version`` MUST be the version in force at its entry's time (§2)."""
    named = body.integer("rules_version")
    if named != rules.version:
        body.fail(
            "§2",
            "rules_version",
            f"expected rules_version {rules.version} (in force at {body.entry.time}: nothing is "
            f"judged by a rule not yet in force), found {named}",
        )


def _fail(entry: Entry, rule: str, detail: str) -> NoReturn:
    raise PlanRuleError(entry.seq, entry.type, "§2", rule, detail)
