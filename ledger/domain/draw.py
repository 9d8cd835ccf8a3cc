"""The verifiable panel draw (specs/plan.md §6).

The pool is fixed by the log at the appeal; the seed combines the operator's
deterministic signature over the pool with a secret the appellant committed to in
the appeal; the draw is a partial Fisher-Yates shuffle driven by SHA-256 blocks.
Anyone re-runs it from the log alone.
"""

from __future__ import annotations

import base64
import hashlib
import itertools
from collections.abc import Sequence

from ledger.errors import LedgerError


class DrawError(LedgerError):
    """A pool, seed or draw does not follow §6."""


def pool_root(claim: str, pool: Sequence[str]) -> bytes:
    """``H("tally/pool/v1\\n" ‖ claim ‖ "\\n" ‖ id₁ ‖ "\\n" ‖ …)`` over strictly sorted ids."""
    if any(a >= b for a, b in itertools.pairwise(pool)):
        raise DrawError("expected the pool's member ids strictly sorted")
    text = "tally/pool/v1\n" + claim + "\n" + "".join(member + "\n" for member in pool)
    return hashlib.sha256(text.encode()).digest()


def pool_signature_message(origin: str, claim: str, root: bytes) -> bytes:
    """What the log key signs over a pool."""
    return f"tally/pool-signature/v1\n{origin}\n{claim}\n{root.hex()}\n".encode()


def seed(root: bytes, pool_signature: bytes, secret: bytes) -> bytes:
    """``H("tally/seed/v1\\n" ‖ pool_root ‖ pool_signature ‖ secret)``."""
    return hashlib.sha256(b"tally/seed/v1\n" + root + pool_signature + secret).digest()


def secret_commitment(secret: bytes) -> str:
    """The appeal's commitment to the appellant's secret: hex ``H(secret)``."""
    return hashlib.sha256(secret).hexdigest()


def draw(pool: Sequence[str], seed_bytes: bytes, panel_size: int) -> list[str]:
    """The first ``panel_size`` ids of a partial Fisher-Yates shuffle of the sorted pool."""
    if panel_size > len(pool):
        raise DrawError(f"expected a pool of at least {panel_size} jurors, found {len(pool)}")
    order = list(pool)
    stream = _Uniform(seed_bytes)
    for i in range(panel_size):
        j = i + stream.below(len(order) - i)
        order[i], order[j] = order[j], order[i]
    return order[:panel_size]


class _Uniform:
    """Unbiased integers from the blocks ``H(seed ‖ u64be(k))``, k = 0, 1, …"""

    def __init__(self, seed_bytes: bytes) -> None:
        self._seed = seed_bytes
        self._counter = 0

    def below(self, m: int) -> int:
        limit = (2**64 // m) * m
        while True:
            block = hashlib.sha256(self._seed + self._counter.to_bytes(8, "big")).digest()
            self._counter += 1
            value = int.from_bytes(block[:8], "big")
            if value < limit:
                return value % m


def b64(data: bytes) -> str:
    """Standard base64."""
    return base64.b64encode(data).decode()
