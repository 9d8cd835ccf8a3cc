"""Member-signed requests (specs/requests.md): the signed bytes, their check, and signing.

A member signs their own actions with an Ed25519 key (RFC 8032) named in their
``member.joined`` entry (requests.md §1). The signed message (§2) is the lines::

    tally/request/v1
    <log origin>
    <entry type>
    <request object, RFC 8785 canonical JSON>

joined by ``\\n`` with a final ``\\n``. The request object (§3) is the entry's body
without ``signature``, and for a ``member.joined`` also without ``age_band`` and
``identity_commitment``, which the operator adds and answers for. A signed
``juror.enrolled`` also carries ``juror_signature``, the juror key's own signature
over (§3.1)::

    tally/juror-key/v1
    <log origin>
    <member>
    <juror key, base64>

A rotation or recovery of a member's key (plan.md §4.6) carries ``key_signature``,
the new key's own signature over (§3.2)::

    tally/member-key/v1
    <log origin>
    <member>
    <new member key, base64>

The canonical JSON is the verifier's own (:mod:`verifier.jcs`). :func:`verify_request`,
:func:`verify_juror_key` and :func:`verify_member_key` check signatures;
:func:`sign_request`, :func:`sign_juror_key`, :func:`sign_member_key` and
:func:`request_document` make them from a 32-byte seed,
for a member's own tool. The plan rules that use these (which key must sign, request
numbers, ``member_signatures``) are replayed in :mod:`verifier.plan.actions`.
"""

from __future__ import annotations

from collections.abc import Mapping

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey
from cryptography.hazmat.primitives.serialization import Encoding, PublicFormat

from verifier.b64 import encode
from verifier.jcs import JSONValue, canonicalize
from verifier.note import ED25519_KEY_SIZE, ED25519_SIG_SIZE, decode_base64
from verifier.plan.errors import PlanError, RequestError, RequestSignatureError
from verifier.plan.ids import check_member, check_origin, show

REQUEST_DOMAIN = "tally/request/v1"
"""The first line of a request message (requests.md §2)."""
JUROR_KEY_DOMAIN = "tally/juror-key/v1"
"""The first line of a juror key's own message (requests.md §3.1)."""
MEMBER_KEY_DOMAIN = "tally/member-key/v1"
"""The first line of a new member key's own message (requests.md §3.2)."""

ACTING_MEMBER: Mapping[str, str] = {
    "member.joined": "member",
    "member.left": "member",
    "juror.enrolled": "member",
    "claim.filed": "member",
    "claim.objected": "objector",
    "claim.appealed": "appellant",
}
"""Entry type -> the body key naming the member who acts (requests.md §3): the join
and the member actions, which the operator may also write for the member."""
MEMBER_ACTIONS = frozenset(ACTING_MEMBER) - {"member.joined"}
"""The member actions of specs/plan.md §3 and §4.5: signed by the member, or assisted."""
SIGNED_ONLY: Mapping[str, str] = {
    "member.key_rotated": "member",
    "member.key_recovery_refused": "member",
}
"""The changes of a member's own key that have the signed form only (plan.md §3, §4.6),
with the body key naming the member who signs them (requests.md §3)."""
SIGNER: Mapping[str, str] = {**ACTING_MEMBER, **SIGNED_ONLY}
"""Every entry type a member signs -> the body key naming that member (requests.md §3)."""
NOT_SIGNED: Mapping[str, frozenset[str]] = {
    t: frozenset({"signature", "age_band", "identity_commitment"})
    if t == "member.joined"
    else frozenset({"signature"})
    for t in SIGNER
}
"""Entry type -> the body keys left out of its request object (requests.md §3)."""
JOIN_ONLY = ("age_band", "identity_commitment")
"""What the operator adds to a join request when it admits the member (requests.md §5)."""


def request_object(entry_type: str, body: Mapping[str, JSONValue]) -> dict[str, JSONValue]:
    """The request object of a body of ``entry_type`` (requests.md §3).

    The body without ``signature`` (and, for a join, without ``age_band`` and
    ``identity_commitment``). A request object given as ``body`` comes back as it is.
    """
    left_out = NOT_SIGNED.get(entry_type)
    if left_out is None:
        raise RequestError(
            f"expected an entry type a member signs ({', '.join(SIGNER)}), found {show(entry_type)}"
        )
    if not isinstance(body, Mapping):
        raise RequestError(f"expected a body that is a JSON object, found {show(body)}")
    return {k: v for k, v in body.items() if k not in left_out}


def request_message(origin: str, entry_type: str, body: Mapping[str, JSONValue]) -> bytes:
    """The bytes a member signs for ``body`` of ``entry_type`` on the log ``origin`` (§2).

    ``body`` is the entry's body (or its request object); raises :class:`RequestError`
    for an origin that is no key name, a type no member signs, or a body outside the
    JSON of entries.
    """
    try:
        check_origin(origin)
    except PlanError as exc:
        raise RequestError(f"request: {exc}") from None
    obj = request_object(entry_type, body)
    try:
        canonical = canonicalize(obj).decode("utf-8")
    except ValueError as exc:
        raise RequestError(f"request object is not canonical JSON of entries: {exc}") from None
    return f"{REQUEST_DOMAIN}\n{origin}\n{entry_type}\n{canonical}\n".encode()


def juror_key_message(origin: str, member: str, juror_key: str) -> bytes:
    """The bytes a juror key signs to be enrolled for ``member`` (requests.md §3.1).

    ``juror_key`` is the base64 of the 32-byte key, as the body states it.
    """
    return _own_key_message(JUROR_KEY_DOMAIN, "juror key", origin, member, juror_key)


def member_key_message(origin: str, member: str, member_key: str) -> bytes:
    """The bytes a new member key signs to be put in force for ``member`` (§3.2).

    ``member_key`` is the base64 of the 32-byte key, as the body states it.
    """
    return _own_key_message(MEMBER_KEY_DOMAIN, "member key", origin, member, member_key)


def _own_key_message(domain: str, what: str, origin: str, member: str, key: str) -> bytes:
    # A key's signature of itself for a member on a log (§3.1, §3.2).
    try:
        check_origin(origin)
        check_member(member)
    except PlanError as exc:
        raise RequestError(f"{what} message: {exc}") from None
    decode_key(key, what)
    return f"{domain}\n{origin}\n{member}\n{key}\n".encode()


def decode_key(text: object, what: str = "member key") -> bytes:
    """Canonical standard base64 of a 32-byte Ed25519 public key (requests.md §1)."""
    return _decode(text, ED25519_KEY_SIZE, what)


def decode_signature(text: object, what: str = "signature") -> bytes:
    """Canonical standard base64 of a 64-byte Ed25519 signature (requests.md §1)."""
    return _decode(text, ED25519_SIG_SIZE, what)


def signature_verifies(public_key: bytes, signature: bytes, message: bytes) -> bool:
    """Whether ``signature`` is a pure Ed25519 signature of ``message`` by ``public_key``."""
    if len(public_key) != ED25519_KEY_SIZE or len(signature) != ED25519_SIG_SIZE:
        return False
    try:
        Ed25519PublicKey.from_public_bytes(public_key).verify(signature, message)
    except (InvalidSignature, ValueError):
        return False
    return True


def signed_parts(
    origin: str, entry_type: str, body: Mapping[str, JSONValue]
) -> tuple[bytes, bytes]:
    """A signed body's signature and the message it must sign (§2-§3); raises
    :class:`RequestError` for a malformed request."""
    message = request_message(origin, entry_type, body)
    return decode_signature(body.get("signature"), "request signature"), message


def verify_request(
    origin: str, entry_type: str, body: Mapping[str, JSONValue], member_key: bytes
) -> None:
    """Check the ``signature`` of a signed body with the member's 32-byte key (§2-§3).

    For a join, the key is the body's own ``member_key`` (proof of possession); for
    every other action, the member's key in force at the entry's time (the key they
    joined with, or the one a rotation or recovery put in its place, plan.md §4.6).
    Raises :class:`RequestError` for a malformed request and
    :class:`RequestSignatureError` if it does not verify.
    """
    signature, message = signed_parts(origin, entry_type, body)
    if not signature_verifies(member_key, signature, message):
        member = body.get(SIGNER[entry_type])
        raise RequestSignatureError(
            f"the {entry_type} request of {show(member)} does not verify with the key "
            f"{encode(member_key)} on the log {origin}"
        )


def verify_juror_key(origin: str, member: str, juror_key: str, juror_signature: str) -> None:
    """Check a signed enrolment's ``juror_signature`` with its own juror key (§3.1).

    Raises :class:`RequestError` if a field is malformed, :class:`RequestSignatureError`
    if the signature does not verify.
    """
    if not _own_key_verifies(
        juror_key_message(origin, member, juror_key), juror_key, juror_signature, "juror"
    ):
        raise RequestSignatureError(
            f"the juror key {juror_key} did not sign its enrolment for {member} on the log "
            f"{origin} (juror_signature does not verify)"
        )


def verify_member_key(origin: str, member: str, member_key: str, key_signature: str) -> None:
    """Check a rotation's or recovery's ``key_signature`` with its own new key (§3.2).

    Raises :class:`RequestError` if a field is malformed, :class:`RequestSignatureError`
    if the signature does not verify.
    """
    if not _own_key_verifies(
        member_key_message(origin, member, member_key), member_key, key_signature, "key"
    ):
        raise RequestSignatureError(
            f"the new member key {member_key} of {member} did not sign itself on the log "
            f"{origin} (key_signature does not verify)"
        )


def _own_key_verifies(message: bytes, key: str, signature: str, field: str) -> bool:
    # Whether ``signature`` (the body's ``<field>_signature``) is ``key``'s over ``message``.
    raw = decode_signature(signature, f"{field}_signature")
    return signature_verifies(decode_key(key, f"{field} key"), raw, message)


# -- signing, for a member's own tool ------------------------------------------------


def public_key(seed: bytes) -> bytes:
    """The 32-byte Ed25519 public key of a 32-byte seed (RFC 8032 private key)."""
    return _private(seed).public_key().public_bytes(Encoding.Raw, PublicFormat.Raw)


def sign_request(
    seed: bytes, origin: str, entry_type: str, body: Mapping[str, JSONValue]
) -> dict[str, JSONValue]:
    """``body`` with its ``signature`` by the key of ``seed`` (requests.md §2-§3).

    ``body`` holds every key of the signed body but ``signature``: its ``request``
    number and, for a join, the ``member_key`` (that of ``seed``); for an enrolment,
    ``juror_key`` and ``juror_signature`` (:func:`sign_juror_key`). A join's
    ``age_band`` and ``identity_commitment`` may be present or not: they are not signed.
    """
    unsigned = {k: v for k, v in body.items() if k != "signature"}
    signature = _private(seed).sign(request_message(origin, entry_type, unsigned))
    return {**unsigned, "signature": encode(signature)}


def sign_juror_key(juror_seed: bytes, origin: str, member: str) -> tuple[str, str]:
    """The juror key of ``juror_seed`` and its own signature enrolling it for ``member``.

    Both in base64, for the body's ``juror_key`` and ``juror_signature`` (§3.1).
    """
    key = encode(public_key(juror_seed))
    signature = _private(juror_seed).sign(juror_key_message(origin, member, key))
    return key, encode(signature)


def sign_member_key(seed: bytes, origin: str, member: str) -> tuple[str, str]:
    """The member key of ``seed`` and its own signature naming it for ``member``.

    Both in base64, for the body's ``member_key`` and ``key_signature`` of a rotation
    or a recovery (§3.2).
    """
    key = encode(public_key(seed))
    signature = _private(seed).sign(member_key_message(origin, member, key))
    return key, encode(signature)


def request_document(entry_type: str, body: Mapping[str, JSONValue]) -> dict[str, JSONValue]:
    """The request document ``{"type", "body"}`` a member hands to the log (§5).

    A join's ``age_band`` and ``identity_commitment`` are left out: the operator adds
    them when it admits the member.
    """
    request_object(entry_type, body)  # refuses a type no member signs
    kept = {k: v for k, v in body.items() if entry_type != "member.joined" or k not in JOIN_ONLY}
    return {"type": entry_type, "body": kept}


def _private(seed: bytes) -> Ed25519PrivateKey:
    if not isinstance(seed, bytes) or len(seed) != 32:
        raise TypeError("an Ed25519 seed is 32 bytes")
    return Ed25519PrivateKey.from_private_bytes(seed)


def _decode(text: object, size: int, what: str) -> bytes:
    if not isinstance(text, str):
        raise RequestError(f"{what} must be a base64 string, found {show(text)}")
    try:
        raw = decode_base64(text)
    except ValueError as exc:
        raise RequestError(f"{what}: {exc}") from None
    if len(raw) != size:
        raise RequestError(f"{what} must decode to {size} bytes, found {len(raw)}")
    return raw
