"""Pinning the log's key and its first checkpoint (checkpoint.md §2): ``tally-verify init``.

The member gives the key the plan publishes (trust ``pinned``), or none, and the
key the server states is trusted on first use (``tofu``). Either way the server
must state a key (and name its log) that agrees; a state that already pins another
key is kept unless the member forces a new start. A state that pins the same key
keeps its history: the log is refreshed as :meth:`~verifier.session.Session.refresh`
does, and the server given becomes the saved one.
"""

from __future__ import annotations

from dataclasses import dataclass

from verifier.checkpoint import Checkpoint
from verifier.client import LogClient
from verifier.errors import StateError, VerificationError
from verifier.note import Verifier, parse_verifier_key
from verifier.session import Growth, Session, accept_checkpoint
from verifier.state import TRUST_PINNED, TRUST_TOFU, State, StateDir, utc_now


@dataclass(frozen=True)
class Pinned:
    """The outcome of ``init``: the state saved, and what was pinned or kept."""

    state: State
    key: Verifier
    checkpoint: Checkpoint
    growth: Growth | None = None
    """Set when the state already pinned this key: how the log grew since."""


def pin_log(
    state_dir: StateDir, base: str, given: Verifier | None, *, force: bool, timeout: float
) -> Pinned:
    """Pin the key of the log at ``base`` (``given``, else the one it states) and its checkpoint.

    Raises :class:`VerificationError` if the server states another key than
    ``given`` or names its log otherwise, or if the state pins another key (unless
    ``force``); :class:`StateError` if the state is unusable (unless ``force``).
    """
    with state_dir.lock():
        try:
            existing = state_dir.load()
        except StateError:
            if not force:
                raise
            existing = None
        with LogClient(base, timeout=timeout) as client:
            key = _agreed_key(client, given)
            if existing is not None and existing.verifier != key and not force:
                source = "you gave" if given is not None else "the server now states"
                raise VerificationError(
                    f"the state in {state_dir.path} pins the key {existing.verifier_key}, "
                    f"but the key {source} is {key.to_string()}. If the log really changed "
                    "its key (confirm it out of band), run init again with --force"
                )
            trust = TRUST_PINNED if given is not None else TRUST_TOFU
            if existing is not None and existing.verifier == key and not force:
                existing.url = base
                if trust == TRUST_PINNED:
                    existing.trust = TRUST_PINNED
                growth = Session(state_dir, existing, client).refresh()
                return Pinned(existing, key, growth.new, growth)
            note = client.checkpoint()
            fetched = utc_now()
        checkpoint = accept_checkpoint(note, key)
        state = State(base, key.to_string(), trust, fetched, note, base, fetched)
        state_dir.save(state)
        return Pinned(state, key, checkpoint)


def _agreed_key(client: LogClient, given: Verifier | None) -> Verifier:
    """The key the server states, which must be ``given`` (if any) and name the log."""
    info = client.log_info()
    stated = parse_verifier_key(info.verifier_key)
    if given is not None and stated != given:
        raise VerificationError(
            f"the key you gave is {given.to_string()}, but the server states "
            f"{stated.to_string()}: this is not the log you expect (or not its server)"
        )
    key = given or stated
    if info.origin != key.name:
        raise VerificationError(
            f"the server names its log {info.origin!r}, but the key is named {key.name!r}"
        )
    return key
