"""Shared by the admin API tests: an app with the key, tokens, and a simulated clock."""

from __future__ import annotations

import base64
import hashlib
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from fastapi.testclient import TestClient

from api.app import create_app
from ledger.instance import Ledger, init_ledger
from ledger.log.entry import parse_entry, parse_time
from ledger.publish.note import Verifier, parse_verifier_key
from ledger.tokens import TokenInfo, create_token

START = "2025-01-01T00:00:00Z"
ORIGIN = "admin.test.example/log"
PROBLEM = "application/problem+json"


class SimClock:
    """A clock the test moves by hand; by default the wall clock."""

    def __init__(self) -> None:
        self.fixed: datetime | None = None

    def __call__(self) -> datetime:
        return self.fixed if self.fixed is not None else datetime.now(UTC)

    def set(self, time: str | None) -> None:
        """Stop the clock at ``time`` (an entry time), or let it run again (None)."""
        self.fixed = None if time is None else parse_time(time)


@dataclass
class Admin:
    """A running admin app over a fresh ledger, with an operator token."""

    client: TestClient
    ledger: Ledger
    clock: SimClock
    operator: str
    operator_info: TokenInfo
    jurors: dict[str, str] = field(default_factory=dict)

    @property
    def verifier(self) -> Verifier:
        """The log's verifier key."""
        return parse_verifier_key(self.ledger.store.require_meta().verifier_key)

    def headers(self, token: str | None = None) -> dict[str, str]:
        """Authorization headers for ``token`` (default: the operator's)."""
        return {"Authorization": f"Bearer {token or self.operator}"}

    def post(self, path: str, body: Any = None, token: str | None = None) -> Any:
        """POST as the operator (or ``token``) and return the response."""
        return self.client.post(f"/admin/v1{path}", json=body, headers=self.headers(token))

    def ok(self, path: str, body: Any = None, token: str | None = None) -> dict[str, Any]:
        """POST, expect 201, return the JSON answer."""
        response = self.post(path, body, token)
        assert response.status_code == 201, response.text
        value: dict[str, Any] = response.json()
        return value

    def juror_token(self, member: str) -> str:
        """A juror token bound to ``member`` (made once)."""
        if member not in self.jurors:
            _, self.jurors[member] = create_token(self.ledger.store, "juror", juror=member)
        return self.jurors[member]

    def entry(self, seq: int) -> tuple[bytes, dict[str, Any]]:
        """Entry ``seq``'s exact bytes and its parsed envelope fields."""
        raw = self.ledger.log.entries(seq, seq + 1)[0][1]
        parsed = parse_entry(raw)
        return raw, {"actor": parsed.actor, "type": parsed.type, "time": parsed.time}


@contextmanager
def running_admin(db_url: str, tmp_path: Path, *, publish_interval: float = 1.0) -> Iterator[Admin]:
    """A fresh ledger served with its key; the operator token is named ``ops``."""
    ledger, _ = init_ledger(db_url, tmp_path / "admin.key", ORIGIN, genesis_time=START)
    try:
        info, token = create_token(ledger.store, "operator", name="ops")
        clock = SimClock()
        app = create_app(
            ledger.store,
            ledger=ledger,
            publish_interval=publish_interval,
            clock=clock,
            rate=1e9,
            burst=10**9,
        )
        with TestClient(app) as client:
            yield Admin(client, ledger, clock, token, info)
    finally:
        ledger.close()


def juror_seed(n: int) -> bytes:
    """A test juror's private key seed."""
    return hashlib.sha256(b"admin juror %d" % n).digest()


def juror_public_b64(n: int) -> str:
    """A test juror's public key, base64."""
    key = Ed25519PrivateKey.from_private_bytes(juror_seed(n)).public_key().public_bytes_raw()
    return base64.b64encode(key).decode()


def b64(data: bytes) -> str:
    """Standard base64."""
    return base64.b64encode(data).decode()
