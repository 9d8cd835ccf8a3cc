"""Plan rules: versioned, announced with notice, never retroactive (specs/plan.md §2)."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

from ledger.domain.errors import RuleError
from ledger.domain.fields import Body
from ledger.errors import EntryError
from ledger.log.entry import format_time, parse_time

DAY = timedelta(days=1)
MAX_DAYS = 36_500  # a century: any window or period of notice longer is a mistake
BP = 10_000
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
_OPTIONAL_KEYS = frozenset({"member_signatures"})
SIGNATURE_POLICIES = ("required", "optional")


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
    member_signature_policy: str | None = None
    """``member_signatures`` as the version states it; None when it leaves the key out."""

    @property
    def member_signatures(self) -> str:
        """``required`` or ``optional`` (§2: a version without the key reads as optional)."""
        return self.member_signature_policy or "optional"

    def benefit_for(self, kind: str, age_band: str) -> int:
        """The most a claim for a condition of ``kind`` by a member of ``age_band`` is paid."""
        if kind == "light":
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
        if self.member_signature_policy is not None:
            body["member_signatures"] = self.member_signature_policy
        return body


def parse_rules(body: Mapping[str, Any]) -> Rules:
    """Validate a ``plan.rules`` body on its own (§2 bounds; order and notice need the state)."""
    keys = set(body)
    if not _KEYS <= keys <= _KEYS | _OPTIONAL_KEYS:
        raise RuleError(
            "entry.keys",
            f"plan.rules has the keys {sorted(_KEYS)} and may have {sorted(_OPTIONAL_KEYS)}; "
            f"missing {sorted(_KEYS - keys)}, unexpected {sorted(keys - _KEYS - _OPTIONAL_KEYS)}",
        )
    for name in _INT_FIELDS:
        value = body[name]
        if type(value) is not int or value < (1 if name == "version" else 0):
            raise RuleError(
                "entry.value",
                f"plan.rules: expected {name} an integer >= {1 if name == 'version' else 0}, "
                f"found {value!r}",
            )
    effective = body["effective"]
    if not isinstance(effective, str):
        raise RuleError(
            "entry.value", f"plan.rules: expected effective a time, found {effective!r}"
        )
    try:
        parse_time(effective)
    except EntryError:
        raise RuleError(
            "entry.value", f"plan.rules: effective {effective!r} is not a time"
        ) from None
    policy = body.get("member_signatures")
    if "member_signatures" in body and policy not in SIGNATURE_POLICIES:
        raise RuleError(
            "entry.value",
            f"plan.rules: expected member_signatures one of {', '.join(SIGNATURE_POLICIES)}, "
            f"found {policy!r}",
        )
    rules = Rules(
        effective=effective,
        benefits=_benefits(body["benefits"]),
        conditions=_conditions(body["conditions"]),
        member_signature_policy=policy,
        **{name: body[name] for name in _INT_FIELDS},
    )
    _check_bounds(rules)
    return rules


def _benefits(value: object) -> dict[str, int]:
    if (
        not isinstance(value, dict)
        or set(value) != set(AGE_BANDS)
        or any(type(v) is not int or v < 1 for v in value.values())
    ):
        raise RuleError(
            "rules.benefits",
            f"expected a benefit of at least 1 fen for each of {AGE_BANDS} and no other band, "
            f"found {value!r}",
        )
    return dict(value)


def _conditions(value: object) -> dict[str, Condition]:
    if not isinstance(value, list) or not value:
        raise RuleError(
            "rules.conditions", f"expected a non-empty list of conditions, found {value!r}"
        )
    conditions: dict[str, Condition] = {}
    for item in value:
        if (
            not isinstance(item, dict)
            or set(item) != {"code", "category", "kind"}
            or not all(isinstance(item[k], str) and item[k] for k in item)
            or item["kind"] not in KINDS
        ):
            raise RuleError(
                "rules.conditions",
                f"expected a condition {{code, category, kind}} with kind one of {KINDS}, "
                f"found {item!r}",
            )
        if item["code"] in conditions:
            raise RuleError("rules.conditions", f"condition {item['code']} is listed twice")
        conditions[item["code"]] = Condition(item["code"], item["category"], item["kind"])
    return conditions


def _check_bounds(rules: Rules) -> None:
    """The bounds of specs/plan.md §2 that one version must keep on its own."""
    for name in _INT_FIELDS:
        value = getattr(rules, name)
        if name.endswith("_days") and value > MAX_DAYS:
            raise RuleError("rules.days", f"expected {name} at most {MAX_DAYS}, found {value}")
    windows = ("objection_days", "appeal_days", "reveal_days", "voting_days")
    short = [name for name in windows if getattr(rules, name) < 1]
    if short:
        raise RuleError("rules.days", f"expected every window to last a day or more, found {short}")
    if rules.fee_bp > BP:
        raise RuleError("rules.fee", f"expected fee_bp at most {BP}, found {rules.fee_bp}")
    if not 1 <= rules.quorum <= rules.panel_size:
        raise RuleError(
            "rules.quorum",
            f"expected 1 <= quorum <= panel_size, found quorum {rules.quorum}, "
            f"panel_size {rules.panel_size}",
        )
    if rules.threshold_bp > BP - 1:
        raise RuleError(
            "rules.threshold", f"expected threshold_bp at most {BP - 1}, found {rules.threshold_bp}"
        )
    if rules.light_benefit_fen < 1:
        raise RuleError("rules.benefits", "expected light_benefit_fen of at least 1 fen, found 0")


def reference_rules(
    effective: str, version: int = 1, *, member_signatures: str | None = "required"
) -> Rules:
    """The reference plan, after 相互宝 (specs/plan.md §2), for a new plan: members sign
    their own actions. ``member_signatures`` ``optional`` lets the operator still act
    for members (a plan moving from an older log); None leaves the key out, as versions
    written before it existed do (it then reads as optional)."""
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
        member_signature_policy=member_signatures,
    )


NEVER = "9999-99-99T99:99:99Z"
"""Sorts after every entry time: what :func:`add_days` gives past year 9999."""


def add_days(time: str, days: int) -> str:
    """``time`` plus whole days, in entry time format (:data:`NEVER` past year 9999)."""
    try:
        return format_time(parse_time(time) + days * DAY)
    except OverflowError:
        return NEVER


def in_force(versions: Sequence[Rules], time: str) -> Rules | None:
    """The version in force at ``time``: the highest whose ``effective`` <= time (§2)."""
    for rules in reversed(versions):
        if rules.effective <= time:
            return rules
    return None


def admit(versions: Sequence[Rules], rules: Rules, time: str) -> None:
    """Check a new version announced at ``time`` against the earlier ``versions`` (§2)."""
    expected = len(versions) + 1
    if rules.version != expected:
        raise RuleError("rules.version", f"expected version {expected}, found {rules.version}")
    if not versions:
        if rules.effective < time:
            raise RuleError(
                "rules.effective",
                f"expected the first version to take effect at or after its own entry "
                f"({time}), found {rules.effective}",
            )
        return
    if rules.effective <= versions[-1].effective:
        raise RuleError(
            "rules.effective",
            f"expected version {rules.version} to take effect after version "
            f"{versions[-1].version} ({versions[-1].effective}), found {rules.effective}",
        )
    current = in_force(versions, time)
    if current is not None:
        earliest = add_days(time, current.notice_days)
        if rules.effective < earliest:
            raise RuleError(
                "rules.notice",
                f"expected version {rules.version} to take effect no earlier than {earliest} "
                f"({current.notice_days} days' notice), found {rules.effective}",
            )
    for earlier in versions:
        for code, condition in rules.conditions.items():
            before = earlier.conditions.get(code)
            if before is not None and before.kind != condition.kind:
                raise RuleError(
                    "rules.condition_kind",
                    f"expected {code} to keep the kind {before.kind} version "
                    f"{earlier.version} gave it, found {condition.kind}",
                )


def check_applied(body: Body, rules: Rules) -> None:
    """A stated ``rules_version`` is the version in force at the entry's time (§2)."""
    named = body.integer("rules_version", minimum=1)
    if named != rules.version:
        raise RuleError(
            "rules.applied",
            f"expected rules_version {rules.version}, in force at {body.entry.time}, found {named}",
        )
