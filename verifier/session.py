"""The member's saved state of one log, with a client of its server: a log that only grows.

A :class:`Session` holds the state folder's lock, the saved :class:`~verifier.state.State`
and a :class:`~verifier.client.LogClient`. :meth:`Session.refresh` fetches the log's
latest checkpoint, verifies it with the pinned key, checks with a consistency proof
that it extends the saved one (checkpoint.md §4, tree.md §5), and saves it; when it
does not, it raises :class:`~verifier.fork.ForkError` and leaves the state as it was.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any

from verifier.b64 import encode
from verifier.checkpoint import Checkpoint, verify_checkpoint
from verifier.client import LogClient, TileClient
from verifier.entry import TimeBounds
from verifier.errors import VerificationError
from verifier.fork import ForkError, Seen, check_extends
from verifier.merkle import EMPTY_ROOT
from verifier.note import Verifier
from verifier.state import State, StateDir, utc_now


def accept_checkpoint(note: str, key: Verifier) -> Checkpoint:
    """Verify a checkpoint with ``key``; one of size 0 must have the empty root (tree.md §1)."""
    checkpoint = verify_checkpoint(note, key)
    if checkpoint.size == 0 and checkpoint.root != EMPTY_ROOT:
        raise VerificationError(
            f"a checkpoint of size 0 must have the empty root {encode(EMPTY_ROOT)}, "
            f"found {encode(checkpoint.root)}"
        )
    return checkpoint


@dataclass(frozen=True)
class Growth:
    """The saved checkpoint before a refresh, and the latest one, which extends it."""

    old: Checkpoint
    new: Checkpoint
    old_received: str | None = None
    """When this verifier first received the old checkpoint (its clock, UTC)."""
    new_received: str | None = None
    """When it received the new one."""

    def time_bounds(self) -> TimeBounds:
        """How late the entries the two checkpoints cover may be dated (log.md §3)."""
        received = []
        if self.old_received is not None and self.old.size:
            received.append((self.old.size, self.old_received))
        if self.new_received is not None and self.new.size > self.old.size:
            received.append((self.new.size, self.new_received))
        return TimeBounds(tuple(received))

    def sentence(self) -> str:
        """What happened, in one sentence."""
        if self.new.size == self.old.size:
            return (
                f"The log still holds {self.new.size:,} entries, with the same signed root "
                "as before."
            )
        return (
            f"The log grew from {self.old.size:,} to {self.new.size:,} entries without "
            "rewriting any of them."
        )

    def json(self) -> dict[str, Any]:
        """What happened, as JSON members."""
        return {
            "old_size": self.old.size,
            "new_size": self.new.size,
            "grew": self.new.size > self.old.size,
            "root": encode(self.new.root),
        }


class Session:
    """The saved state of one log and a client of its server, under the state's lock."""

    def __init__(self, state_dir: StateDir, state: State, client: LogClient) -> None:
        self.state_dir = state_dir
        self.state = state
        self.client = client

    @property
    def key(self) -> Verifier:
        """The pinned key."""
        return self.state.verifier

    def save(self) -> None:
        """Save the state (atomically)."""
        self.state_dir.save(self.state)

    def refresh(self) -> Growth:
        """Fetch the latest checkpoint, check it extends the saved one, and save it.

        The signature is checked with the pinned key only. Raises
        :class:`~verifier.fork.ForkError` (with the key) if the two conflict.
        """
        state, client, key = self.state, self.client, self.key
        old = state.verified_checkpoint
        note = client.checkpoint()
        fetched = utc_now()
        new = accept_checkpoint(note, key)
        first = Seen(state.checkpoint, old, state.checkpoint_url, state.checkpoint_fetched_at)
        second = Seen(note, new, client.base_url, fetched)
        try:
            check_extends(first, second, client.consistency_proof)
        except ForkError as exc:
            raise ForkError(exc.fork, key.to_string()) from None
        first_received = state.checkpoint_fetched_at
        if new.size > old.size:
            state.adopt(note, client.base_url, fetched)
        self.save()
        return Growth(old, new, first_received, fetched)


@contextmanager
def open_session(
    state_dir: StateDir, timeout: float, url: str | None = None, *, tiles: bool = False
) -> Iterator[Session]:
    """Lock ``state_dir``, load its state (it must exist), and open a client.

    ``url`` is another server of the same log; by default the saved one. With
    ``tiles`` the client reads the tiles' paths only (:class:`TileClient`).
    """
    kind = TileClient if tiles else LogClient
    with state_dir.lock():
        state = state_dir.require()
        with kind(url or state.url, timeout=timeout) as client:
            yield Session(state_dir, state, client)
