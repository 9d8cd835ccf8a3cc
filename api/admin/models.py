"""Request and response bodies of the admin API.

Requests are strict: unknown fields, integers given as strings and malformed ids
are refused (400) before any command runs. Every string must be valid Unicode
(no lone surrogates), and the private identity record may hold no NUL, so that
what is accepted can always be stored. The plan's own rules are checked by the
domain (409 with the rule's name).
"""

from __future__ import annotations

import base64
import binascii
from collections.abc import Mapping
from typing import Annotated, Any, Literal

from pydantic import (
    AfterValidator,
    BaseModel,
    ConfigDict,
    Field,
    StrictInt,
    StringConstraints,
    model_validator,
)

from ledger.domain.requests import RequestDocumentError, parse_request_document
from ledger.errors import EntryError
from ledger.log.entry import MAX_SAFE_INTEGER, parse_time
from ledger.money import MoneyError, parse_yuan

MAX_BULK_JOIN = 2_000
MAX_TEXT = 4_096
MAX_DOCUMENT = 512 * 1024
# A rule's day counts must keep every derived date within the calendar.
MAX_RULE_DAYS = 36_500


def _unicode(value: str) -> str:
    try:
        value.encode("utf-8")
    except UnicodeEncodeError:
        raise ValueError("expected valid Unicode text, found a lone surrogate") from None
    return value


def _entry_time(value: str) -> str:
    try:
        parse_time(value)
    except EntryError as exc:
        raise ValueError(str(exc)) from None
    return value


def _base64(value: str) -> str:
    try:
        data = base64.b64decode(value, validate=True)
    except (binascii.Error, ValueError):
        raise ValueError("expected standard base64 with padding") from None
    if base64.b64encode(data).decode() != value:
        raise ValueError("expected canonical standard base64")
    return value


def _key32(value: str) -> str:
    if len(base64.b64decode(_base64(value))) != 32:
        raise ValueError("expected the base64 of a 32-byte Ed25519 public key")
    return value


def _signature64(value: str) -> str:
    if len(base64.b64decode(_base64(value))) != 64:
        raise ValueError("expected the base64 of a 64-byte Ed25519 signature")
    return value


def _record(value: dict[str, Any]) -> dict[str, Any]:
    _check_record(value)
    return value


def _check_record(value: object) -> None:
    if isinstance(value, str):
        _unicode(value)
        if "\x00" in value:
            raise ValueError("expected no NUL character in the identity record")
    elif isinstance(value, Mapping):
        for key, item in value.items():
            _check_record(key)
            _check_record(item)
    elif isinstance(value, list):
        for item in value:
            _check_record(item)


def _yuan(value: str) -> str:
    try:
        parse_yuan(value)
    except MoneyError as exc:
        raise ValueError(str(exc)) from None
    return value


def _one_amount(fen: int | None, yuan: str | None, name: str, *, optional: bool = False) -> int:
    """The amount given as ``<name>_fen`` or ``<name>_yuan`` (exactly one), in fen."""
    if fen is not None and yuan is not None:
        raise ValueError(f"expected {name}_fen or {name}_yuan, not both")
    if yuan is not None:
        return parse_yuan(yuan)
    if fen is None and not optional:
        raise ValueError(
            f"expected {name}_fen (integer fen) or {name}_yuan (yuan as a string with at most "
            'two decimals, like "3000.50")'
        )
    return fen or 0


def _rules(value: dict[str, Any]) -> dict[str, Any]:
    for name, item in value.items():
        if name.endswith("_days") and type(item) is int and item > MAX_RULE_DAYS:
            raise ValueError(f"expected {name} at most {MAX_RULE_DAYS} days, found {item}")
    return value


TIME_PATTERN = (
    r"^[0-9]{4}-(0[1-9]|1[0-2])-(0[1-9]|[12][0-9]|3[01])T([01][0-9]|2[0-3]):[0-5][0-9]:[0-5][0-9]Z$"
)
BASE64_PATTERN = r"^(?:[A-Za-z0-9+/]{4})*(?:[A-Za-z0-9+/]{2}==|[A-Za-z0-9+/]{3}=)?$"

EntryTime = Annotated[
    str,
    StringConstraints(pattern=TIME_PATTERN),
    AfterValidator(_entry_time),
    Field(examples=["2025-01-02T00:00:00Z"]),
]
MemberId = Annotated[str, StringConstraints(pattern=r"^m-[0-9a-f]{20}$")]
Hex64 = Annotated[str, StringConstraints(pattern=r"^[0-9a-f]{64}$")]
Text = Annotated[str, StringConstraints(max_length=MAX_TEXT), AfterValidator(_unicode)]
Code = Annotated[str, StringConstraints(min_length=1, max_length=64), AfterValidator(_unicode)]
Document = Annotated[
    str,
    StringConstraints(max_length=MAX_DOCUMENT, pattern=BASE64_PATTERN),
    AfterValidator(_base64),
    Field(description="The document, base64; only its SHA-256 goes on the log"),
]
Yuan = Annotated[
    str,
    StringConstraints(pattern=r"^(0|[1-9][0-9]{0,13})(\.[0-9]{1,2})?$"),
    AfterValidator(_yuan),
    Field(
        description="Yuan as a string, at most two decimals (never a JSON number): the "
        "same amount as the matching *_fen field, which it replaces",
        examples=["3000.50"],
    ),
]
Fen = Annotated[StrictInt, Field(ge=1, le=MAX_SAFE_INTEGER)]
FenOrZero = Annotated[StrictInt, Field(ge=0, le=MAX_SAFE_INTEGER)]
AgeBand = Annotated[str, StringConstraints(max_length=16), AfterValidator(_unicode)]


class Command(BaseModel):
    """Any command: ``at`` sets the entry time (importing history), default now."""

    model_config = ConfigDict(extra="forbid")

    at: EntryTime | None = Field(
        default=None,
        description="Entry time YYYY-MM-DDTHH:MM:SSZ, not before the log's last entry "
        "nor in the future; default now",
    )


class RulesIn(Command):
    """Announce a rules version: the ``plan.rules`` body (specs/plan.md §2)."""

    rules: Annotated[dict[str, Any], AfterValidator(_rules)]


def _join_request(value: dict[str, Any] | None) -> dict[str, Any] | None:
    if value is not None:
        try:
            document = parse_request_document(value)
        except RequestDocumentError as exc:
            raise ValueError(str(exc)) from None
        if document.type != "member.joined":
            raise ValueError(f"expected a member.joined request, found {document.type}")
    return value


class Person(BaseModel):
    """One person joining: age band, and the identity record kept off the log."""

    model_config = ConfigDict(extra="forbid")

    age_band: AgeBand
    identity: Annotated[dict[str, Any], AfterValidator(_record)] = Field(
        description="The identity record, kept in the operator's private table, never served"
    )
    request: Annotated[dict[str, Any] | None, AfterValidator(_join_request)] = Field(
        default=None,
        description="The person's signed join request (specs/requests.md): their own member "
        "id and key. Required where the rules require member signatures",
    )


class JoinIn(Command, Person):
    """A member joins."""


class BulkJoinIn(Command):
    """Many members join in one batch (all or none)."""

    members: list[Person] = Field(min_length=1, max_length=MAX_BULK_JOIN)


class EnrolIn(Command):
    """A member enrols as a juror with their own Ed25519 public key."""

    member: MemberId
    juror_key: Annotated[
        str, StringConstraints(pattern=BASE64_PATTERN, max_length=44), AfterValidator(_key32)
    ] = Field(description="base64, 32 bytes")


class FileIn(Command):
    """A claim is filed; the amount claimed in ``amount_fen`` or ``amount_yuan``."""

    member: MemberId
    condition: Code
    amount_fen: Fen | None = None
    amount_yuan: Yuan | None = None
    diagnosed: EntryTime
    evidence: Document

    @model_validator(mode="after")
    def _amount(self) -> FileIn:
        self.amount_fen = _one_amount(self.amount_fen, self.amount_yuan, "amount")
        if self.amount_fen < 1:
            raise ValueError("expected an amount claimed of at least 1 fen")
        return self

    @property
    def amount(self) -> int:
        """The amount claimed, in fen."""
        assert self.amount_fen is not None
        return self.amount_fen


class AssessIn(Command):
    """The operator's assessment; the amount approved in ``amount_fen`` or ``amount_yuan``
    (none for a denial)."""

    decision: Literal["approve", "deny"]
    amount_fen: FenOrZero | None = None
    amount_yuan: Yuan | None = None
    reason: Text
    report: Document

    @model_validator(mode="after")
    def _amount(self) -> AssessIn:
        deny = self.decision == "deny"
        self.amount_fen = _one_amount(self.amount_fen, self.amount_yuan, "amount", optional=deny)
        return self

    @property
    def amount(self) -> int:
        """The amount approved, in fen (0 for a denial given none)."""
        return self.amount_fen or 0


class ObjectIn(Command):
    """A member objects to a disclosed claim."""

    objector: MemberId
    reason: Text = Field(description="Kept off the log; only its SHA-256 goes on")


class AppealIn(Command):
    """An appeal, committing to the appellant's secret."""

    appellant: MemberId
    secret_commitment: Hex64


class DrawIn(Command):
    """The appellant's revealed secret; the panel is drawn with it."""

    secret: Hex64


class ReverseIn(Command):
    """Fraud found after payment; what is recovered in ``recovered_fen`` or ``recovered_yuan``."""

    recovered_fen: Fen | None = None
    recovered_yuan: Yuan | None = None
    reason: Code

    @model_validator(mode="after")
    def _amount(self) -> ReverseIn:
        self.recovered_fen = _one_amount(self.recovered_fen, self.recovered_yuan, "recovered")
        if self.recovered_fen < 1:
            raise ValueError("expected an amount recovered of at least 1 fen")
        return self

    @property
    def recovered(self) -> int:
        """The amount recovered, in fen."""
        assert self.recovered_fen is not None
        return self.recovered_fen


class CloseIn(Command):
    """Close a period: it must be named, and be the next one."""

    period: (
        Annotated[
            str,
            StringConstraints(pattern=r"^[0-9]{4}-(0[1-9]|1[0-2])[ab]$"),
            Field(examples=["2025-07b"]),
        ]
        | None
    ) = Field(
        default=None,
        description="Required: the period to close, which must be the next one (a request "
        "without it is answered 400 naming the next period and its cutoff)",
    )


class WindDownIn(Command):
    """Close the plan to new members."""

    claims_until: EntryTime


class VoteIn(BaseModel):
    """A vote the juror signed with their own key (specs/plan.md §7), timed by the server."""

    model_config = ConfigDict(extra="forbid")

    juror: MemberId
    choice: Literal["approve", "deny"]
    rationale_hash: Hex64
    signature: Annotated[
        str, StringConstraints(pattern=BASE64_PATTERN, max_length=88), AfterValidator(_signature64)
    ] = Field(description="base64 of the 64-byte Ed25519 signature")


class WrittenOut(BaseModel):
    """An entry appended, and the log's signed receipt for it (specs/receipt.md)."""

    seq: int
    entry_hash: str = Field(description="SHA-256 of the entry's exact bytes, hex")
    covered_by: str = Field(description="A signed checkpoint will include the entry by then")
    receipt: str = Field(description="The receipt: a signed note by the log's key")


class RulesOut(WrittenOut):
    """A rules version announced."""

    version: int
    effective: str


class MemberOut(WrittenOut):
    """A member who joined."""

    member: str


class MembersOut(BaseModel):
    """Members who joined, in the order given."""

    members: list[MemberOut]


class ClaimOut(WrittenOut):
    """A claim filed."""

    claim: str


class DrawOut(WrittenOut):
    """A panel drawn."""

    jurors: list[str]


class PeriodOut(WrittenOut):
    """A period closed: the ``period.closed`` body."""

    period: str
    body: dict[str, Any]
