"""A plan on each backend, on a simulated calendar that starts on 2025-01-01."""

from __future__ import annotations

import hashlib
from collections.abc import Iterator
from pathlib import Path

import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from ledger.domain.plan import Plan
from ledger.domain.rules import reference_rules
from ledger.instance import init_ledger

START = "2025-01-01T00:00:00Z"


def juror_seed(n: int) -> bytes:
    """A test juror's private key seed."""
    return hashlib.sha256(b"juror %d" % n).digest()


def juror_public(n: int) -> bytes:
    return Ed25519PrivateKey.from_private_bytes(juror_seed(n)).public_key().public_bytes_raw()


@pytest.fixture
def plan(db_url: str, tmp_path: Path) -> Iterator[Plan]:
    ledger, _ = init_ledger(
        db_url, tmp_path / "plan.key", "plan.test.example/log", genesis_time=START
    )
    made = Plan(ledger)
    made.set_rules(reference_rules(START, member_signatures=None), at=START)
    yield made
    ledger.close()
