"""A member's own files: their key, juror key, appeal secrets and write receipts.

``tally-verify member`` keeps what a member needs to sign their own requests
(specs/requests.md) in files the member holds; none of them is ever sent anywhere
but the public parts named below. Every file is written atomically, with mode 0600.

The **member key file** (``member keygen --out FILE``, created once: never
overwritten)::

    {
      "format": "tally-member-key/1",
      "member": "m-0123456789abcdef0123",     the member id, chosen at random (plan.md §1)
      "seed": "<base64 of 32 bytes>",          the Ed25519 private key (RFC 8032): secret
      "member_key": "<base64 of 32 bytes>",    its public key, as the join names it
      "last_request": 0,                       the last request number used (requests.md §4)
      "origin": null | "<log origin>",         the log the join request was made for
      "history": [                             the member's earlier keys, oldest first
        {"member_key": "<base64>", "replaced_at": <seq of the rotation>}
      ],
      "pending_seed": null | "<base64>"        a new key sent in a rotation not yet answered
    }

``history`` and ``pending_seed`` may be absent (a key never rotated). ``member
rotate`` writes the new key to ``pending_seed`` before it posts the rotation, and
makes it the key (the old one going to ``history``) once the log took it; if the
answer was lost, ``member check`` adopts the pending key when the log shows it in
force. Only public keys are kept in ``history``: they check the member's old
signatures; a key replaced signs nothing more.

The join request uses number ``last_request`` (0 in a new file); every later
request takes ``last_request + 1``, and the file is updated only once the log has
accepted the request. Beside ``FILE`` the member's tool keeps:

- ``FILE.receipts/<seq>.json``: the log's answer to each accepted request
  (``{"seq", "entry_hash", "covered_by", "receipt", "type", "body"}``, and for an
  objection the ``reason`` text whose SHA-256 is on the log), which
  ``tally-verify receipt`` also reads;
- ``FILE.appeal-<claim>.json``: the secret of an appeal (plan.md §6),
  ``{"format": "tally-appeal-secret/1", "member", "claim", "secret",
  "secret_commitment"}`` with the secret in hex; only its SHA-256 is ever sent.

A **juror key file** (``member enrol-juror --juror-key-out FILE``) is
``{"format": "tally-juror-key/1", "member", "seed", "juror_key"}``, the key a juror
signs votes with (plan.md §7).

The signed messages a member's tool makes beyond those of
:mod:`verifier.plan.requests` are here too: a rotation's or a refusal's request
(requests.md §2-§3, the same message for these two types), a new member key's own
signature (requests.md §3.2) and a vote (plan.md §7).
"""

from __future__ import annotations

import hashlib
import json
import re
import secrets
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from verifier.b64 import Base64Error, decode_sized, encode
from verifier.errors import StateError
from verifier.jcs import JSONValue
from verifier.plan.errors import RequestError, RequestSignatureError
from verifier.plan.ids import MEMBER_PATTERN
from verifier.plan.requests import (
    decode_signature,
    public_key,
    request_message,
    signature_verifies,
    verify_member_key,
)
from verifier.plan.vote import vote_message
from verifier.state import write_atomic
from verifier.strict_json import StrictJSONError, loads

KEY_FORMAT = "tally-member-key/1"
JUROR_KEY_FORMAT = "tally-juror-key/1"
APPEAL_FILE_FORMAT = "tally-appeal-secret/1"
PRIVATE = 0o600
_SEQ_FILE = re.compile(r"(0|[1-9][0-9]*)\.json")


"""The first line of a new member key's own message (requests.md §3.2)."""
KEY_REQUESTS = ("member.key_rotated", "member.key_recovery_refused")
"""The member's signed requests about their key (plan.md §4.6): always signed."""


def new_member_id() -> str:
    """A fresh member id: ``m-`` and 20 random hex digits (80 bits, plan.md §1)."""
    return "m-" + secrets.token_hex(10)


@dataclass(frozen=True)
class OldKey:
    """A key the member held before: its public key and the seq of the rotation that
    replaced it (``None`` when not known)."""

    member_key: str
    replaced_at: int | None

    def json(self) -> dict[str, Any]:
        """As the key file holds it."""
        return {"member_key": self.member_key, "replaced_at": self.replaced_at}


@dataclass(frozen=True)
class MemberKey:
    """A member key file's contents (see the module doc) and where it lives."""

    path: Path
    member: str
    seed: bytes
    last_request: int
    origin: str | None
    history: tuple[OldKey, ...] = ()
    pending_seed: bytes | None = None

    @property
    def known_keys(self) -> tuple[str, ...]:
        """Every public key this file has held, oldest first, the current one last."""
        return (*(old.member_key for old in self.history), self.member_key)

    @property
    def pending_key(self) -> str | None:
        """The public key of a rotation sent and not yet answered, if any."""
        return None if self.pending_seed is None else encode(public_key(self.pending_seed))

    @property
    def member_key(self) -> str:
        """The public key, base64, as the join names it."""
        return encode(public_key(self.seed))

    @property
    def receipts_dir(self) -> Path:
        """The folder of the log's answers to this member's accepted requests."""
        return self.path.with_name(self.path.name + ".receipts")

    def secret_path(self, claim: str) -> Path:
        """The file of the member's appeal secret for ``claim``."""
        return self.path.with_name(f"{self.path.name}.appeal-{claim}.json")

    def to_json(self) -> dict[str, Any]:
        """The file's JSON object."""
        return {
            "format": KEY_FORMAT,
            "member": self.member,
            "seed": encode(self.seed),
            "member_key": self.member_key,
            "last_request": self.last_request,
            "origin": self.origin,
            "history": [old.json() for old in self.history],
            "pending_seed": None if self.pending_seed is None else encode(self.pending_seed),
        }

    def with_request(self, number: int) -> MemberKey:
        """This key with ``number`` as the last request used."""
        return replace(self, last_request=max(self.last_request, number))

    def with_pending(self, seed: bytes | None) -> MemberKey:
        """This key with ``seed`` as the new key of a rotation being sent (or none)."""
        return replace(self, pending_seed=seed)

    def rotated(self, seed: bytes, replaced_at: int | None) -> MemberKey:
        """This key file after a rotation to ``seed`` (at seq ``replaced_at``): the
        current key goes to the history, and nothing is pending."""
        old = OldKey(self.member_key, replaced_at)
        return replace(self, seed=seed, history=(*self.history, old), pending_seed=None)


def create_member_key(
    path: Path, member: str | None = None, origin: str | None = None
) -> MemberKey:
    """Make a new key, and a member id unless ``member`` (a member who lost their key
    and asks for a new one, for the log ``origin``), and write them to ``path``, which
    must not exist."""
    key = MemberKey(path, member or new_member_id(), secrets.token_bytes(32), 0, origin)
    _write_new(path, key.to_json(), "key file")
    return key


def save_member_key(key: MemberKey) -> None:
    """Write ``key`` over its file (atomically, mode 0600)."""
    try:
        write_atomic(key.path, _dump(key.to_json()), mode=PRIVATE)
    except OSError as exc:
        raise StateError(f"cannot write the key file {key.path}: {exc}") from None


def load_member_key(path: Path) -> MemberKey:
    """Read a member key file; :class:`StateError` saying what is wrong with it."""
    doc = _read(path, KEY_FORMAT, "member key file")
    member = doc.get("member")
    if not isinstance(member, str) or not MEMBER_PATTERN.fullmatch(member):
        raise StateError(f"{path}: expected a member id 'm-' + 20 hex digits, found {member!r:.60}")
    seed = _bytes32(doc, "seed", path)
    stated = doc.get("member_key")
    if stated != encode(public_key(seed)):
        raise StateError(f"{path}: member_key is not the public key of the seed")
    last = doc.get("last_request")
    if type(last) is not int or last < 0:
        raise StateError(f"{path}: expected last_request to be an integer >= 0, found {last!r}")
    origin = doc.get("origin")
    if origin is not None and not isinstance(origin, str):
        raise StateError(f"{path}: expected origin to be a string or null, found {origin!r:.60}")
    pending = None if doc.get("pending_seed") is None else _bytes32(doc, "pending_seed", path)
    return MemberKey(path, member, seed, last, origin, _history(doc, path), pending)


def _history(doc: dict[str, Any], path: Path) -> tuple[OldKey, ...]:
    items = doc.get("history", [])
    if not isinstance(items, list):
        raise StateError(f"{path}: expected history to be a list, found {items!r:.60}")
    found = []
    for i, item in enumerate(items):
        where = f"{path}: history[{i}]"
        if not isinstance(item, dict):
            raise StateError(f"{where}: expected an object, found {item!r:.60}")
        try:
            decode_sized(item.get("member_key"), 32, "member_key")
        except Base64Error as exc:
            raise StateError(f"{where}: {exc}") from None
        seq = item.get("replaced_at")
        if seq is not None and (type(seq) is not int or seq < 0):
            raise StateError(f"{where}: expected replaced_at a seq or null, found {seq!r:.60}")
        found.append(OldKey(str(item["member_key"]), seq))
    return tuple(found)


@dataclass(frozen=True)
class JurorKey:
    """A juror key file: the member it serves and the key (see the module doc)."""

    member: str
    seed: bytes

    @property
    def juror_key(self) -> str:
        """The public juror key, base64, as the enrolment names it."""
        return encode(public_key(self.seed))


def create_juror_key(path: Path, member: str) -> JurorKey:
    """Make a new juror key for ``member`` and write it to ``path``, which must not exist."""
    key = JurorKey(member, secrets.token_bytes(32))
    doc = {
        "format": JUROR_KEY_FORMAT,
        "member": member,
        "seed": encode(key.seed),
        "juror_key": key.juror_key,
    }
    _write_new(path, doc, "juror key file")
    return key


def load_juror_key(path: Path) -> JurorKey:
    """Read a juror key file; :class:`StateError` saying what is wrong with it."""
    doc = _read(path, JUROR_KEY_FORMAT, "juror key file")
    member = doc.get("member")
    if not isinstance(member, str) or not MEMBER_PATTERN.fullmatch(member):
        raise StateError(f"{path}: expected a member id, found {member!r:.60}")
    key = JurorKey(member, _bytes32(doc, "seed", path))
    if doc.get("juror_key") != key.juror_key:
        raise StateError(f"{path}: juror_key is not the public key of the seed")
    return key


def appeal_secret(key: MemberKey, claim: str) -> tuple[bytes, bool]:
    """The member's secret for an appeal of ``claim``: the saved one, or a new one saved now.

    Returns the 32 bytes and whether they were made now. A secret saved by an earlier
    attempt is used again, so an appeal the log took while the answer was lost still
    matches the file.
    """
    saved = load_appeal_secret(key, claim)
    if saved is not None:
        return saved, False
    path = key.secret_path(claim)
    secret = secrets.token_bytes(32)
    doc = {
        "format": APPEAL_FILE_FORMAT,
        "member": key.member,
        "claim": claim,
        "secret": secret.hex(),
        "secret_commitment": hashlib.sha256(secret).hexdigest(),
    }
    _write_new(path, doc, "appeal secret file")
    return secret, True


def load_appeal_secret(key: MemberKey, claim: str) -> bytes | None:
    """The secret saved for an appeal of ``claim``, or ``None`` if there is no file."""
    path = key.secret_path(claim)
    if not path.exists():
        return None
    doc = _read(path, APPEAL_FILE_FORMAT, "appeal secret file")
    if doc.get("claim") != claim or doc.get("member") != key.member:
        raise StateError(f"{path}: the secret is for another claim or member")
    try:
        secret = bytes.fromhex(str(doc.get("secret")))
    except ValueError:
        secret = b""
    if len(secret) != 32:
        raise StateError(f"{path}: expected a secret of 64 hex digits")
    return secret


def save_receipt(
    key: MemberKey,
    answer: dict[str, Any],
    document: dict[str, Any],
    kept: dict[str, Any] | None = None,
) -> Path:
    """Keep the log's answer to an accepted request in ``receipts_dir/<seq>.json``.

    ``kept`` is what the member keeps beside it and the log holds only a hash of (an
    objection's reason text).
    """
    folder = key.receipts_dir
    path = folder / f"{answer['seq']}.json"
    doc = {**answer, "type": document["type"], "body": document["body"], **(kept or {})}
    try:
        folder.mkdir(mode=0o700, exist_ok=True)
        write_atomic(path, _dump(doc), mode=PRIVATE)
    except OSError as exc:
        raise StateError(f"cannot save the receipt in {path}: {exc}") from None
    return path


def saved_receipts(key: MemberKey) -> list[tuple[int, Path]]:
    """The receipt files kept beside the key, as (seq, path), in seq order."""
    folder = key.receipts_dir
    if not folder.is_dir():
        return []
    found = [
        (int(m.group(1)), p)
        for p in folder.iterdir()
        if (m := _SEQ_FILE.fullmatch(p.name)) is not None
    ]
    return sorted(found)


def _write_new(path: Path, doc: dict[str, Any], what: str) -> None:
    try:
        write_atomic(path, _dump(doc), mode=PRIVATE, replace=False)
    except FileExistsError:
        raise StateError(f"{path} already exists: a {what} is never overwritten") from None
    except OSError as exc:
        raise StateError(f"cannot write the {what} {path}: {exc}") from None


def _read(path: Path, form: str, what: str) -> dict[str, Any]:
    try:
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise StateError(f"cannot read the {what} {path}: {exc}") from None
    try:
        doc = loads(text)
    except StrictJSONError as exc:
        raise StateError(f"the {what} {path} is not JSON: {exc}") from None
    if not isinstance(doc, dict) or doc.get("format") != form:
        raise StateError(f"{path} is not a {what} (expected format {form!r})")
    return doc


def _bytes32(doc: dict[str, Any], name: str, path: Path) -> bytes:
    try:
        return decode_sized(doc.get(name), 32, name)
    except Base64Error as exc:
        raise StateError(f"{path}: {exc}") from None


def _dump(doc: dict[str, Any]) -> bytes:
    return (json.dumps(doc, indent=2) + "\n").encode()


# -- signed messages beyond verifier.plan.requests --------------------------------------


def key_request_verifies(
    origin: str, entry_type: str, body: dict[str, JSONValue], member_key: bytes
) -> bool:
    """Whether a rotation's or refusal's ``signature`` verifies with ``member_key``.

    Raises :class:`RequestError` for a malformed body or signature.
    """
    if entry_type not in KEY_REQUESTS:
        raise RequestError(f"expected one of {', '.join(KEY_REQUESTS)}, found {entry_type!r}")
    message = request_message(origin, entry_type, body)
    signature = decode_signature(body.get("signature"), "request signature")
    return signature_verifies(member_key, signature, message)


def member_key_verifies(origin: str, member: str, member_key: object, signature: object) -> bool:
    """Whether ``signature`` is ``member_key``'s own (requests.md §3.2); raises
    :class:`RequestError` for a malformed key or signature."""
    if not isinstance(member_key, str) or not isinstance(signature, str):
        raise RequestError("expected the new member key and its signature as base64 text")
    try:
        verify_member_key(origin, member, member_key, signature)
    except RequestSignatureError:
        return False
    return True


def sign_vote(juror_seed: bytes, origin: str, claim: str, choice: str, rationale_hash: str) -> str:
    """A juror's vote signature (plan.md §7), base64."""
    return _sign(juror_seed, vote_message(origin, claim, choice, rationale_hash))


def _sign(seed: bytes, message: bytes) -> str:
    return encode(Ed25519PrivateKey.from_private_bytes(seed).sign(message))
