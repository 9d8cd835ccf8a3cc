"""Member-signed requests (specs/requests.md; specs/plan.md §4.1, §4.5).

A member signs their own actions with their own Ed25519 key. The signed message is
built from the log's origin, the entry's type and the *request object* (the entry's
body without the signature, and for a join without the operator's fields), so the
operator, which does not hold the key, can neither forge an action nor alter one.
This module builds and checks those messages; :func:`check_request` applies the
rules of §4.5 to a member action's body, and :func:`note_request` records the
request number it used once the action's own rules have passed.
"""

from __future__ import annotations

import base64
from collections.abc import Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import rfc8785
from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey

from ledger.domain.errors import RuleError
from ledger.domain.fields import MEMBER_RE, Body
from ledger.domain.model import Member
from ledger.domain.rules import Rules
from ledger.errors import LedgerError

if TYPE_CHECKING:
    from ledger.domain.state import PlanState

REQUEST_PREFIX = b"tally/request/v1\n"
JUROR_KEY_PREFIX = b"tally/juror-key/v1\n"
MEMBER_KEY_PREFIX = b"tally/member-key/v1\n"
REQUIRED, OPTIONAL = "required", "optional"

ACTING_FIELD: Mapping[str, str] = {
    "member.left": "member",
    "juror.enrolled": "member",
    "claim.filed": "member",
    "claim.objected": "objector",
    "claim.appealed": "appellant",
}
"""The member actions of §3, each with the body field naming the member who acts."""
ALWAYS_SIGNED: Mapping[str, str] = {
    "member.key_rotated": "member",
    "member.key_recovery_refused": "member",
    "vote.cast": "juror",
}
"""Entries only a member writes, always signed (§4.6; a vote by the juror's key, §7),
with the field naming the member."""
SIGNED_KEYS: Mapping[str, tuple[str, ...]] = {
    **{t: ("request", "signature") for t in ACTING_FIELD},
    "juror.enrolled": ("request", "signature", "juror_signature"),
    "member.joined": ("member_key", "request", "signature"),
}
"""The keys a signed body (a keyed join) has beside those plan.md §3 lists."""
OPERATOR_FIELDS: Mapping[str, tuple[str, ...]] = {
    "member.joined": ("age_band", "identity_commitment"),
}
"""Body fields the operator adds and the member does not sign (requests.md §3)."""


def acting_field(entry_type: str) -> str:
    """The body field naming the member who signs an entry of ``entry_type``."""
    return (
        "member" if entry_type == "member.joined" else {**ACTING_FIELD, **ALWAYS_SIGNED}[entry_type]
    )


def is_signed(body: Mapping[str, Any]) -> bool:
    """Whether a member action's (or join's) body is in the signed form."""
    return "signature" in body


def body_keys(entry_type: str, body: Mapping[str, Any], keys: tuple[str, ...]) -> tuple[str, ...]:
    """The keys ``body`` must have: ``keys`` of plan.md §3, plus the signed ones if signed."""
    return (*keys, *SIGNED_KEYS[entry_type]) if is_signed(body) else keys


def request_object(entry_type: str, body: Mapping[str, Any]) -> dict[str, Any]:
    """The object a member signs for ``body`` (requests.md §3)."""
    left_out = {"signature", *OPERATOR_FIELDS.get(entry_type, ())}
    return {k: v for k, v in body.items() if k not in left_out}


def request_message(origin: str, entry_type: str, body: Mapping[str, Any]) -> bytes:
    """The bytes a member signs for ``body`` of ``entry_type`` (requests.md §2): over its
    request object (§3), so a signed body and the same body unsigned give the same."""
    obj = request_object(entry_type, body)
    return REQUEST_PREFIX + f"{origin}\n{entry_type}\n".encode() + rfc8785.dumps(obj) + b"\n"


def member_key_message(origin: str, member: str, member_key: str) -> bytes:
    """The bytes a new member key signs to show it is held (requests.md §3.2)."""
    return MEMBER_KEY_PREFIX + f"{origin}\n{member}\n{member_key}\n".encode()


def juror_key_message(origin: str, member: str, juror_key: str) -> bytes:
    """The bytes a juror key signs to show it is held (requests.md §3.1)."""
    return JUROR_KEY_PREFIX + f"{origin}\n{member}\n{juror_key}\n".encode()


def public_key(seed: bytes) -> str:
    """The base64 public key of a 32-byte private key seed."""
    raw = Ed25519PrivateKey.from_private_bytes(seed).public_key().public_bytes_raw()
    return base64.b64encode(raw).decode()


def sign(seed: bytes, message: bytes) -> str:
    """Base64 of the Ed25519 signature of ``message`` with the key of ``seed``."""
    return base64.b64encode(Ed25519PrivateKey.from_private_bytes(seed).sign(message)).decode()


def sign_request(
    seed: bytes, origin: str, entry_type: str, body: Mapping[str, Any]
) -> dict[str, Any]:
    """``body`` with its ``signature`` by the member key of ``seed`` (requests.md §2-§3)."""
    unsigned = {k: v for k, v in body.items() if k != "signature"}
    message = request_message(origin, entry_type, unsigned)
    return {**unsigned, "signature": sign(seed, message)}


def verifies(key_b64: str, signature: bytes, message: bytes) -> bool:
    """Whether ``signature`` is ``key_b64``'s Ed25519 signature of ``message``."""
    try:
        Ed25519PublicKey.from_public_bytes(base64.b64decode(key_b64)).verify(signature, message)
    except (InvalidSignature, ValueError):
        return False
    return True


@dataclass(frozen=True)
class SignedRequest:
    """A signed action that passed §4.5, to record once the action's own rules pass."""

    member: Member
    number: int


def check_request(
    state: PlanState, entry: Body, rules: Rules, member_id: str
) -> SignedRequest | None:
    """§4.5 for a member action whose form was read: required, signature, replay.

    ``entry`` is the action's body (read with :func:`body_keys`), ``member_id`` the
    member who acts. Returns the request to :func:`note_request` after the action's
    own rules, or None for an assisted action the rules allow.
    """
    e = entry.entry
    if not is_signed(e.body):
        if rules.member_signatures == REQUIRED:
            raise RuleError(
                "request.required",
                f"expected {e.type} signed by {member_id} (rules version {rules.version} "
                f"requires member signatures), found it written by {e.actor!r}",
            )
        return None
    return check_signed(state, entry, member_id)


def check_signed(state: PlanState, entry: Body, member_id: str) -> SignedRequest:
    """§4.5 for a signed body: the signature of the member's key in force at the entry's
    time (§4.6), and a request number above the member's last."""
    e = entry.entry
    number = entry.integer("request")
    signature = entry.b64("signature", 64)
    member = state.member(member_id)
    key = None if member is None else member.key_at(e.time)
    if member is None or key is None:
        raise RuleError(
            "request.signature",
            f"expected a signature by {member_id}'s own key, found a member who "
            + ("never joined" if member is None else "has no key"),
        )
    message = request_message(state.origin, e.type, e.body)
    if not verifies(key, signature, message):
        raise RuleError(
            "request.signature",
            f"expected {e.type} signed with {member_id}'s key in force, {key}, found a "
            "signature that does not verify",
        )
    if number <= member.last_request:
        raise RuleError(
            "request.replay",
            f"expected a request number above {member_id}'s last, {member.last_request} "
            f"(seq {member.request_seq}), found {number}",
        )
    return SignedRequest(member, number)


def note_request(state: PlanState, request: SignedRequest | None, seq: int) -> None:
    """Record the number a signed action used (its own rules passed)."""
    if request is not None:
        state.note_request(request.member, request.number, seq)


class RequestDocumentError(LedgerError):
    """A request document is not of the form of specs/requests.md §5."""


MAX_DOCUMENT_BYTES = 16_384
"""The largest request document the log takes (specs/requests.md §5)."""


@dataclass(frozen=True)
class RequestDocument:
    """A member's signed request, as handed to the log (specs/requests.md §5)."""

    type: str
    body: dict[str, Any]

    @property
    def member(self) -> str:
        """The member who acts (whose key signed it)."""
        return str(self.body[acting_field(self.type)])

    @property
    def actor(self) -> str:
        """The entry's actor: the member, for a signed action (plan.md §4.5); the juror,
        for a vote (§7)."""
        role = "juror" if self.type == "vote.cast" else "member"
        return f"{role}:{self.member}"


def parse_request_document(value: object) -> RequestDocument:
    """Read a request document: ``{"type", "body"}`` with a signed body.

    Checks the form only (the types, the member id, the signature's presence); the
    signature and every rule are the plan's to check when the entry is applied.
    """
    if not isinstance(value, dict) or set(value) != {"type", "body"}:
        found = sorted(value) if isinstance(value, dict) else type(value).__name__
        raise RequestDocumentError(
            f"expected a request document, an object with the keys body and type, found {found}"
        )
    entry_type, body = value["type"], value["body"]
    if entry_type not in SIGNED_KEYS and entry_type not in ALWAYS_SIGNED:
        types = sorted([*SIGNED_KEYS, *ALWAYS_SIGNED])
        raise RequestDocumentError(f"expected type one of {', '.join(types)}, found {entry_type!r}")
    if not isinstance(body, dict) or not is_signed(body):
        raise RequestDocumentError(
            f"expected body an object with the member's signature, found {body!r:.80}"
        )
    field = acting_field(entry_type)
    member = body.get(field)
    if not isinstance(member, str) or not MEMBER_RE.match(member):
        raise RequestDocumentError(
            f"expected body.{field} a member id (m- and 20 hex digits), found {member!r}"
        )
    if entry_type == "member.joined" and set(body) != {"member", *SIGNED_KEYS[entry_type]}:
        raise RequestDocumentError(
            "expected a join request with exactly the keys member, member_key, request and "
            f"signature (the operator adds the rest), found {sorted(body)}"
        )
    return RequestDocument(str(entry_type), dict(body))
