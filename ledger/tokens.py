"""Admin API tokens: who may write to the log through the server, kept off the log.

A token is ``tly_`` followed by 32 random bytes in unpadded base64url (47
characters in all). It is shown once, when made; the operator-private table
``admin_token`` keeps only its SHA-256 (a 256-bit random secret needs no slow
hash), with its id, role, name and times. Two roles:

- ``operator``: every plan command except a vote; its entries carry the actor
  ``operator:<name>`` (or ``operator:<id>`` when the token has no name);
- ``juror``: bound to one member id, and may only cast that member's own votes
  (actor ``juror:<member>``).

Revoking sets the ``revoked`` time; a revoked token is refused from then on. The
table is not append-only (the operator manages it), and nothing in it is on the log.
"""

from __future__ import annotations

import base64
import hashlib
import re
import secrets
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Literal, cast

from sqlalchemy import Column, RowMapping, Text, insert, select, update
from sqlmodel import Field, SQLModel

from ledger.errors import LedgerError
from ledger.log.entry import format_time
from ledger.log.store import Store

TOKEN_PREFIX = "tly_"  # noqa: S105 - a prefix that makes tokens recognisable, not a secret
TOKEN_BYTES = 32
TOKEN_RE = re.compile(r"\Atly_[A-Za-z0-9_-]{43}\Z")
TOKEN_ID_RE = re.compile(r"\Atok-[0-9a-f]{12}\Z")
# A name becomes part of an entry's actor, operator:<name> (specs/entries.md §1).
NAME_RE = re.compile(r"\A[A-Za-z0-9._@-]{1,64}\Z")
MEMBER_RE = re.compile(r"\Am-[0-9a-f]{20}\Z")

Role = Literal["operator", "juror"]
ROLES: tuple[Role, ...] = ("operator", "juror")


class TokenError(LedgerError):
    """A token is malformed, unknown or revoked, or a token request is invalid.

    ``reason`` is ``malformed``, ``unknown``, ``revoked`` or ``invalid``.
    """

    def __init__(self, reason: str, message: str) -> None:
        super().__init__(message)
        self.reason = reason


class AdminToken(SQLModel, table=True):
    """One admin token: its hash, never the token itself."""

    __tablename__ = "admin_token"
    id: str = Field(sa_column=Column(Text, primary_key=True))
    token_hash: str = Field(sa_column=Column(Text, nullable=False, unique=True))
    role: str = Field(sa_column=Column(Text, nullable=False))
    juror: str | None = Field(default=None, sa_column=Column(Text, nullable=True))
    name: str | None = Field(default=None, sa_column=Column(Text, nullable=True))
    created: str = Field(sa_column=Column(Text, nullable=False))
    revoked: str | None = Field(default=None, sa_column=Column(Text, nullable=True))


token_table = AdminToken.__table__  # type: ignore[attr-defined]


@dataclass(frozen=True)
class TokenInfo:
    """A token as stored: everything but the secret."""

    id: str
    role: Role
    juror: str | None
    name: str | None
    created: str
    revoked: str | None

    @property
    def actor(self) -> str:
        """The actor of the entries this token writes (specs/entries.md §1)."""
        if self.role == "juror":
            return f"juror:{self.juror}"
        return f"operator:{self.name or self.id}"


def _now() -> datetime:
    return datetime.now(UTC)


def create_token_schema(store: Store) -> None:
    """Create the token table if it does not exist (idempotent)."""
    with store.writer() as conn:
        SQLModel.metadata.create_all(conn, tables=[token_table])


def hash_token(token: str) -> str:
    """The stored form of a token: lower-case hex SHA-256 of its text."""
    return hashlib.sha256(token.encode()).hexdigest()


def create_token(
    store: Store,
    role: str,
    *,
    juror: str | None = None,
    name: str | None = None,
    clock: Callable[[], datetime] = _now,
) -> tuple[TokenInfo, str]:
    """Make a token; returns its stored description and the token, which is never kept."""
    chosen: Role
    if role == "operator":
        chosen = "operator"
    elif role == "juror":
        chosen = "juror"
    else:
        raise TokenError("invalid", f"expected a role of {' or '.join(ROLES)}, found {role!r}")
    if chosen == "juror":
        if juror is None or not MEMBER_RE.match(juror):
            raise TokenError(
                "invalid",
                f"expected a juror token to name its member id (m- and 20 hex digits), "
                f"found {juror!r}",
            )
    elif juror is not None:
        raise TokenError("invalid", f"expected no member id for an operator token, found {juror!r}")
    if name is not None and not NAME_RE.match(name):
        raise TokenError(
            "invalid",
            f"expected a name of 1 to 64 letters, digits or . _ @ - (it appears in entries "
            f"as operator:<name>), found {name!r}",
        )
    token = TOKEN_PREFIX + base64.urlsafe_b64encode(secrets.token_bytes(TOKEN_BYTES)).decode()
    token = token.rstrip("=")
    info = TokenInfo(
        id="tok-" + secrets.token_hex(6),
        role=chosen,
        juror=juror,
        name=name,
        created=format_time(clock()),
        revoked=None,
    )
    create_token_schema(store)
    with store.writer() as conn:
        conn.execute(
            insert(token_table),
            {
                "id": info.id,
                "token_hash": hash_token(token),
                "role": info.role,
                "juror": info.juror,
                "name": info.name,
                "created": info.created,
                "revoked": None,
            },
        )
    return info, token


def list_tokens(store: Store) -> list[TokenInfo]:
    """Every token ever made, revoked ones too: by creation time (to the second), then id."""
    create_token_schema(store)
    with store.reader() as conn:
        rows = conn.execute(select(token_table).order_by(token_table.c.created, token_table.c.id))
        return [_info(row) for row in rows.mappings()]


def revoke_token(store: Store, token_id: str, *, clock: Callable[[], datetime] = _now) -> TokenInfo:
    """Revoke a token by id; revoking it again keeps the first revocation time."""
    if not TOKEN_ID_RE.match(token_id):
        raise TokenError(
            "invalid", f"expected a token id like tok- and 12 hex digits, found {token_id!r}"
        )
    create_token_schema(store)
    with store.writer() as conn:
        conn.execute(
            update(token_table)
            .where(token_table.c.id == token_id, token_table.c.revoked.is_(None))
            .values(revoked=format_time(clock()))
        )
        row = conn.execute(select(token_table).where(token_table.c.id == token_id)).mappings()
        found = row.first()
    if found is None:
        raise TokenError("unknown", f"expected the id of a token made here, found {token_id!r}")
    return _info(found)


def authenticate(store: Store, token: str) -> TokenInfo:
    """The live token whose text this is; :class:`TokenError` if malformed, unknown or revoked.

    Looked up by hash (the table holds no token to compare with), every time, so a
    revocation takes effect at once. The token table must exist
    (:func:`create_token_schema`).
    """
    if not TOKEN_RE.match(token):
        raise TokenError(
            "malformed", "expected a token of tly_ and 43 base64url characters, found another"
        )
    with store.reader() as conn:
        found = (
            conn.execute(select(token_table).where(token_table.c.token_hash == hash_token(token)))
            .mappings()
            .first()
        )
    if found is None:
        raise TokenError("unknown", "expected a token made by 'tally token create', found none")
    info = _info(found)
    if info.revoked is not None:
        raise TokenError("revoked", f"token {info.id} was revoked at {info.revoked}")
    return info


def _info(values: RowMapping) -> TokenInfo:
    return TokenInfo(
        id=str(values["id"]),
        role=cast(Role, values["role"]),
        juror=values["juror"],
        name=values["name"],
        created=str(values["created"]),
        revoked=values["revoked"],
    )
