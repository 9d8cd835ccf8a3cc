"""Plan rules: versioned, announced with notice, never retroactive (specs/plan.md §2)."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

from ledger.domain.errors import RuleError
from ledger.log.entry import format_time, parse_time

DAY = timedelta(days=1)
MAX_DAYS = 36_500  # a century: any window or period of notice longer is a mistake
AGE_BANDS = ("0-39", "40-59")
KINDS = ("major", "light", "accident")

_INT_FIELDS = (
    "version",
    "notice_days",
    "waiting_days",
    "light_benefit_fen",
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
_KEYS = frozenset({*_INT_FIELDS, "effective", "benefits", "conditions"})


@dataclass(frozen=True)
class Condition:
    """A covered condition: its code, public category and kind."""

    code: str
    category: str
    kind: str


@dataclass(frozen=True)
class Rules:
    """One version of the plan's rules."""

    version: int
    effective: str
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

    def benefit(self, condition: Condition, age_band: str) -> int:
        """The most a claim for ``condition`` by a member of ``age_band`` may be paid."""
        if condition.kind == "light":
            return self.light_benefit_fen
        return self.benefits[age_band]

    def to_body(self) -> dict[str, Any]:
        """The ``plan.rules`` body."""
        body: dict[str, Any] = {name: getattr(self, name) for name in _INT_FIELDS}
        body["effective"] = self.effective
        body["benefits"] = dict(self.benefits)
        body["conditions"] = [
            {"code": c.code, "category": c.category, "kind": c.kind}
            for c in sorted(self.conditions.values(), key=lambda c: c.code)
        ]
        return body


def parse_rules(body: Mapping[str, Any]) -> Rules:
    """Validate a ``plan.rules`` body on its own (order and notice are checked by the state)."""
    keys = set(body)
    if keys != _KEYS:
        raise RuleError(
            "rules_format",
            f"expected the keys {sorted(_KEYS)}; missing {sorted(_KEYS - keys)}, "
            f"extra {sorted(keys - _KEYS)}",
        )
    for name in _INT_FIELDS:
        value = body[name]
        if name.endswith("_days") and type(value) is int and value > MAX_DAYS:
            raise RuleError("rules_format", f"expected {name} at most {MAX_DAYS}, found {value}")
        if type(value) is not int or value < 0:
            raise RuleError(
                "rules_format", f"expected {name} a non-negative integer, found {value!r}"
            )
    effective = body["effective"]
    if not isinstance(effective, str):
        raise RuleError("rules_format", f"expected effective a time, found {effective!r}")
    parse_time(effective)
    benefits = body["benefits"]
    if (
        not isinstance(benefits, dict)
        or set(benefits) != set(AGE_BANDS)
        or any(type(v) is not int or v <= 0 for v in benefits.values())
    ):
        raise RuleError(
            "rules_format",
            f"expected a positive benefit for each of {AGE_BANDS}, found {benefits!r}",
        )
    conditions: dict[str, Condition] = {}
    raw_conditions = body["conditions"]
    if not isinstance(raw_conditions, list) or not raw_conditions:
        raise RuleError("rules_format", "expected a non-empty list of covered conditions")
    for item in raw_conditions:
        if (
            not isinstance(item, dict)
            or set(item) != {"code", "category", "kind"}
            or not all(isinstance(item[k], str) and item[k] for k in item)
            or item["kind"] not in KINDS
        ):
            raise RuleError(
                "rules_format", f"expected a condition {{code, category, kind}}, found {item!r}"
            )
        if item["code"] in conditions:
            raise RuleError("rules_format", f"condition {item['code']} is listed twice")
        conditions[item["code"]] = Condition(item["code"], item["category"], item["kind"])
    rules = Rules(
        effective=effective,
        benefits=dict(benefits),
        conditions=conditions,
        **{name: body[name] for name in _INT_FIELDS},
    )
    if rules.version < 1:
        raise RuleError("rules_format", f"expected version >= 1, found {rules.version}")
    if not 1 <= rules.quorum <= rules.panel_size:
        raise RuleError(
            "rules_format",
            f"expected 1 <= quorum <= panel_size, found quorum {rules.quorum}, "
            f"panel {rules.panel_size}",
        )
    if not 0 < rules.threshold_bp < 10_000 or rules.fee_bp > 10_000:
        raise RuleError("rules_format", "expected 0 < threshold_bp < 10000 and fee_bp <= 10000")
    if min(rules.objection_days, rules.appeal_days, rules.reveal_days, rules.voting_days) < 1:
        raise RuleError("rules_format", "expected every window to last at least one day")
    return rules


def reference_rules(effective: str, version: int = 1) -> Rules:
    """The reference plan, after 相互宝 (specs/plan.md §2)."""
    conditions = [
        ("C50", "cancer", "major"),
        ("C34", "cancer", "major"),
        ("C18", "cancer", "major"),
        ("I21", "heart", "major"),
        ("I63", "stroke", "major"),
        ("N18", "kidney", "major"),
        ("C73", "cancer", "light"),
        ("C61", "cancer", "light"),
        ("ACC", "accident", "accident"),
    ]
    return Rules(
        version=version,
        effective=effective,
        notice_days=30,
        waiting_days=90,
        benefits={"0-39": 30_000_000, "40-59": 10_000_000},
        light_benefit_fen=5_000_000,
        conditions={code: Condition(code, category, kind) for code, category, kind in conditions},
        fee_bp=800,
        annual_cap_fen=18_800,
        objection_days=3,
        appeal_days=3,
        reveal_days=2,
        panel_size=15,
        quorum=11,
        threshold_bp=5_000,
        voting_days=3,
        juror_tenure_days=30,
    )


def add_days(time: str, days: int) -> str:
    """``time`` plus whole days, in entry time format."""
    return format_time(parse_time(time) + days * DAY)
