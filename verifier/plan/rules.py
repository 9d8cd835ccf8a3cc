"""The plan's versioned rules (specs/plan.md §2): their body, their versions, which is in force.

A ``plan.rules`` body has exactly the keys of :data:`RULES_KEYS`, and MAY have
``member_signatures`` too (``required`` or ``optional``; a version without it reads
as ``optional``, as every version written before the key existed does). At time t:

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

from verifier.entry import Entry
from verifier.plan.ids import show
from verifier.plan.records import DAY, Body, fail

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
MEMBER_SIGNATURES = ("required", "optional")
"""The values of ``member_signatures`` (§2, §4.5)."""
OPTIONAL_KEYS = ("member_signatures",)
"""Rules keys a version MAY leave out (§2)."""
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
    member_signatures: str = "optional"
    """``required``: every member action is signed and every join keyed (§4.5)."""

    def benefit(self, kind: str, age_band: str) -> int:
        """The most a claim may be paid (§5.2): the light benefit, else the age band's.

        Every version has a benefit for both bands of §2 (``rules.benefits``), and a
        member's band is one of them (``member.joined.age_band``).
        """
        if kind == "light":
            return self.light_benefit_fen
        return self.benefits[age_band]


AGE_BANDS = ("0-39", "40-59")
"""The age bands of §2, fixed by the spec: members over 59 cannot join."""
MAX_DAYS = 36_500
"""The longest any ``*_days`` may be (a century, §2)."""
WINDOWS = ("objection_days", "appeal_days", "reveal_days", "voting_days")
INTEGER_KEYS = tuple(k for k in RULES_KEYS if k not in ("effective", "benefits", "conditions"))


def parse_rules(entry: Entry) -> Rules:
    """Read a ``plan.rules`` body strictly and check its bounds (§2)."""
    body = Body(entry, RULES_KEYS + tuple(k for k in OPTIONAL_KEYS if k in entry.body))
    ints = {key: body.integer(key, 1 if key == "version" else 0) for key in INTEGER_KEYS}
    signatures = (
        body.choice("member_signatures", MEMBER_SIGNATURES)
        if "member_signatures" in entry.body
        else "optional"
    )
    effective, effective_s = body.time("effective")
    benefits = _benefits(body)
    conditions = _conditions(body)
    _check_bounds(body, ints)
    return Rules(
        effective=effective,
        effective_s=effective_s,
        seq=entry.seq,
        benefits=benefits,
        conditions=conditions,
        member_signatures=signatures,
        **ints,
    )


def _check_bounds(body: Body, ints: Mapping[str, int]) -> None:
    """The bounds a single version keeps (§2): days, fee, quorum, threshold."""
    for key, value in ints.items():
        if key.endswith("_days") and value > MAX_DAYS:
            body.fail("rules.days", f"expected {key} at most {MAX_DAYS}, found {value}")
    for key in WINDOWS:
        if ints[key] < 1:
            body.fail("rules.days", f"expected {key} of at least 1 day, found {ints[key]}")
    if ints["fee_bp"] > 10_000:
        body.fail("rules.fee", f"expected fee_bp at most 10000, found {ints['fee_bp']}")
    if not 1 <= ints["quorum"] <= ints["panel_size"]:
        body.fail(
            "rules.quorum",
            f"expected 1 <= quorum <= panel_size, found quorum {ints['quorum']} and "
            f"panel_size {ints['panel_size']}",
        )
    if ints["threshold_bp"] > 9_999:
        body.fail(
            "rules.threshold", f"expected threshold_bp at most 9999, found {ints['threshold_bp']}"
        )
    if ints["light_benefit_fen"] < 1:
        body.fail("rules.benefits", "expected light_benefit_fen of at least 1 fen, found 0")


def _benefits(body: Body) -> dict[str, int]:
    value = body.value("benefits")
    if not isinstance(value, dict) or sorted(value) != sorted(AGE_BANDS):
        body.fail(
            "rules.benefits",
            f"expected benefits for exactly the age bands {', '.join(AGE_BANDS)}, "
            f"found {show(value)}",
        )
    out: dict[str, int] = {}
    for band, fen in value.items():
        if isinstance(fen, bool) or not isinstance(fen, int) or fen < 1:
            body.fail(
                "rules.benefits",
                f"expected each benefit to be an integer >= 1 (fen), found {band!r}: {show(fen)}",
            )
        out[band] = fen
    return out


def _conditions(body: Body) -> dict[str, Condition]:
    value = body.value("conditions")
    if not isinstance(value, list) or not value:
        body.fail(
            "rules.conditions", f"expected conditions to be a non-empty list, found {show(value)}"
        )
    out: dict[str, Condition] = {}
    for i, item in enumerate(value):
        if (
            not isinstance(item, dict)
            or set(item) != CONDITION_KEYS
            or not all(isinstance(item[k], str) and item[k] for k in CONDITION_KEYS)
            or item["kind"] not in KINDS
        ):
            body.fail(
                "rules.conditions",
                f'expected conditions[{i}] to be {{"code", "category", "kind"}} with non-empty '
                f"strings and kind major, light or accident, found {show(item)}",
            )
        code, category, kind = str(item["code"]), str(item["category"]), str(item["kind"])
        if code in out:
            body.fail("rules.conditions", f"expected each code once, found {code!r} twice")
        out[code] = Condition(code, category, kind)
    return out


class RulesBook:
    """Every version of the rules seen so far, and which is in force when (§2)."""

    def __init__(self) -> None:
        self.versions: list[Rules] = []
        self.kinds: dict[str, tuple[str, int]] = {}
        """Code -> (kind, version) from the first version that listed it."""

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
            fail(entry, "rules.version", f"expected version {expected}, found {rules.version}")
        if not self.versions:
            if rules.effective_s < t:
                fail(
                    entry,
                    "rules.effective",
                    f"expected the first version's effective >= its entry's time {entry.time}, "
                    f"found {rules.effective}",
                )
        else:
            self._check_later(entry, rules, t)
        for code, condition in rules.conditions.items():
            kind, version = self.kinds.setdefault(code, (condition.kind, rules.version))
            if kind != condition.kind:
                fail(
                    entry,
                    "rules.condition_kind",
                    f"expected {code} to keep the kind {kind} that version {version} gave it, "
                    f"found {condition.kind}",
                )
        self.versions.append(rules)
        return rules

    def _check_later(self, entry: Entry, rules: Rules, t: int) -> None:
        previous = self.versions[-1]
        if rules.effective_s <= previous.effective_s:
            fail(
                entry,
                "rules.effective",
                f"expected effective later than version {previous.version}'s "
                f"{previous.effective}, found {rules.effective}",
            )
        current = self.in_force(t)
        if current is not None and rules.effective_s < t + current.notice_days * DAY:
            fail(
                entry,
                "rules.notice",
                f"expected effective >= {entry.time} + {current.notice_days} days "
                f"(notice_days of version {current.version}, in force), found {rules.effective}",
            )


def check_rules_version(body: Body, rules: Rules) -> None:
    """The body's ``rules_version`` MUST be the version in force at its entry's time (§2)."""
    named = body.integer("rules_version", 1)
    if named != rules.version:
        body.fail(
            "rules.applied",
            f"expected rules_version {rules.version} (in force at {body.entry.time}: nothing is "
            f"judged by a rule not yet in force), found {named}",
        )
