"""Retiring a log for good, naming its successor (specs/log.md §7).

A log is retired by one last entry, ``log.retired``, whose body names the log that
takes over, by its origin and its verifier key::

    {"successor_origin": "<origin>", "successor_verifier_key": "<verifier key string>"}

and then a final checkpoint covering that entry. Afterwards the sequencer appends
nothing (ledger.log.log) and the publisher signs nothing larger
(ledger.publish.publisher), so the final checkpoint, signed by the old key, is
what hands members over to the new log's key.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from ledger.clock import Clock
from ledger.errors import EntryTimeError, LedgerError
from ledger.instance import Ledger
from ledger.log.entry import RETIRED_TYPE, format_time, parse_entry, parse_time
from ledger.log.log import Appended, NewEntry
from ledger.publish.checkpoint import check_origin
from ledger.publish.note import parse_verifier_key
from ledger.publish.publisher import SignedCheckpoint

BODY_KEYS = frozenset({"successor_origin", "successor_verifier_key"})


class RetirementError(LedgerError):
    """A retirement is malformed: its body, or its successor, is not one a log may name."""


def check_retirement(body: Mapping[str, Any], origin: str, verifier_key: str) -> None:
    """Check a ``log.retired`` body against the log it retires (specs/log.md §7)."""
    if set(body) != BODY_KEYS:
        raise RetirementError(
            f"expected a log.retired body with exactly {sorted(BODY_KEYS)}, found {sorted(body)}"
        )
    successor, key_text = body["successor_origin"], body["successor_verifier_key"]
    if not isinstance(successor, str) or not isinstance(key_text, str):
        raise RetirementError("expected the successor's origin and verifier key as strings")
    try:
        check_origin(successor)
        key = parse_verifier_key(key_text)
    except LedgerError as exc:
        raise RetirementError(f"the successor is malformed: {exc}") from None
    if key.name != successor:
        raise RetirementError(
            f"expected the successor's key to be named after its origin {successor!r}, "
            f"found a key named {key.name!r}"
        )
    if successor == origin:
        raise RetirementError(
            f"expected a successor with an origin of its own, found this log's {origin!r}"
        )
    if key_text == verifier_key:
        raise RetirementError("expected a successor with a key of its own, found this log's key")


def retire(
    ledger: Ledger,
    successor_origin: str,
    successor_key: str,
    *,
    clock: Clock,
    at: str | None = None,
    actor: str = "operator",
) -> tuple[Appended, SignedCheckpoint]:
    """Append ``log.retired`` and sign the final checkpoint covering it.

    ``at`` (importing history) must be no earlier than the last entry and no later
    than the clock's now. If the process stops between the two steps, ``tally
    publish`` signs the final checkpoint later; nothing else can be appended.
    """
    meta = ledger.store.require_meta()
    body = {"successor_origin": successor_origin, "successor_verifier_key": successor_key}
    check_retirement(body, meta.origin, meta.verifier_key)
    size = ledger.log.size()
    last = parse_entry(ledger.log.entries(size - 1, size)[0][1]).time
    now = format_time(clock())
    if at is not None:
        parse_time(at)
        if at > max(now, last):
            raise EntryTimeError("future", f"expected --at no later than now ({now}), found {at}")
        if at < last:
            raise EntryTimeError(
                "backwards",
                f"expected --at no earlier than the log's last entry ({last}), found {at}",
            )
    when = at if at is not None else max(now, last)
    appended = ledger.log.append(NewEntry(RETIRED_TYPE, actor, body, time=when))
    return appended, ledger.publisher.publish()
