"""Token buckets shared by every worker of one server: a table in shared memory.

``tally serve --workers N`` runs N processes that accept from one socket, so one
client's requests land on any of them; a limit kept per process would let a client
have N times its budget. The buckets live instead in a file-backed shared memory
table made by the supervising process before it starts the workers: ``SLOTS`` slots
of (client tag, tokens, last time), a client's slot chosen by a keyed BLAKE2b of its
address (the key is random per server, so nobody can choose addresses that collide).
A slot is updated under an ``fcntl`` record lock on its own bytes, so workers never
wait on each other except for the same slot. ``time.monotonic()`` is one clock for
every process of the machine, so the refill is the same whichever worker computes
it. Two clients whose addresses fall in one slot take it from each other (the newer
starts a fresh bucket); with 65,536 slots that is rare, and it can only loosen a
limit, never refuse a client who kept to theirs.
"""

from __future__ import annotations

import fcntl
import hashlib
import mmap
import os
import secrets
import struct
from pathlib import Path

SLOTS = 65_536
SLOT = struct.Struct("<Qdd")
"""A slot: the client's 64-bit tag (0: free), its tokens, and when they were counted."""


class SharedTokenBuckets:
    """The rate limiter's buckets (as :class:`api.middleware.TokenBuckets`), shared by
    the processes that open the same file."""

    def __init__(self, path: Path, rate: float, burst: int, key: bytes) -> None:
        """Open the table at ``path`` (made by :meth:`create`)."""
        self.rate = rate
        self.burst = burst
        self.key = key
        self._fd = os.open(path, os.O_RDWR)
        self._map = mmap.mmap(self._fd, SLOTS * SLOT.size)

    @staticmethod
    def create(directory: Path) -> tuple[Path, bytes]:
        """A fresh, empty table in ``directory`` and a new random key for it."""
        path = directory / "rate-limit.buckets"
        with path.open("wb") as f:
            # Allocated now, not on first write: a full disk is an error here, at
            # start, never a SIGBUS in a worker later.
            os.posix_fallocate(f.fileno(), 0, SLOTS * SLOT.size)
        return path, secrets.token_bytes(16)

    def _tag(self, client: str) -> int:
        digest = hashlib.blake2b(client.encode(), digest_size=8, key=self.key).digest()
        return int.from_bytes(digest, "big") | 1  # never 0, the free slot's tag

    def take(self, client: str, now: float) -> float:
        """Take a token; return 0 if allowed, else the seconds until one is available."""
        tag = self._tag(client)
        at = ((tag >> 1) % SLOTS) * SLOT.size  # the low bit is always 1
        fcntl.lockf(self._fd, fcntl.LOCK_EX, SLOT.size, at)
        try:
            owner, tokens, last = SLOT.unpack_from(self._map, at)
            if owner != tag:
                tokens, last = float(self.burst), now
            tokens = min(float(self.burst), tokens + max(0.0, now - last) * self.rate)
            wait = 0.0
            if tokens >= 1:
                tokens -= 1
            else:
                wait = (1 - tokens) / self.rate
            SLOT.pack_into(self._map, at, tag, tokens, now)
            return wait
        finally:
            fcntl.lockf(self._fd, fcntl.LOCK_UN, SLOT.size, at)

    def close(self) -> None:
        """Unmap and close the table (the file stays for the other processes)."""
        self._map.close()
        os.close(self._fd)
