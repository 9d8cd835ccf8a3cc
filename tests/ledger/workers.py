"""Writer processes for the concurrency and crash tests: ``python -m tests.ledger.workers``.

``append URL TAG BATCHES SIZE``: append BATCHES batches of SIZE entries tagged TAG.
``forever URL SIZE``: append batches of SIZE entries whose body ``n`` equals their
seq, printing each committed size, until killed.
"""

from __future__ import annotations

import sys

from ledger.log.log import Log, NewEntry
from ledger.log.store import Store


def append(url: str, tag: str, batches: int, size: int) -> None:
    """Append tagged batches as fast as the sequencer lets us."""
    log = Log(Store(url))
    for b in range(batches):
        log.append_batch(
            [
                NewEntry("test.concurrent", "operator", {"tag": tag, "b": b, "i": i})
                for i in range(size)
            ]
        )


def forever(url: str, size: int) -> None:
    """Append numbered batches until killed; each body's n is the entry's own seq."""
    log = Log(Store(url))
    while True:
        start = log.size()
        log.append_batch(
            [
                NewEntry("test.crash", "operator", {"n": start + i, "pad": "x" * 100})
                for i in range(size)
            ]
        )
        print(start + size, flush=True)


if __name__ == "__main__":
    command, url, *args = sys.argv[1:]
    if command == "append":
        append(url, args[0], int(args[1]), int(args[2]))
    elif command == "forever":
        forever(url, int(args[0]))
    else:
        raise SystemExit(f"unknown command {command}")
