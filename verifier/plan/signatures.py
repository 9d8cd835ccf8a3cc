"""The Ed25519 checks of a replay: at once, or in batches on the machine's other cores.

A plan whose members sign their own actions has a signature in nearly every entry
(specs/requests.md), and checking one costs more than the rest of the entry's
rules. A full audit therefore hands them, in seq order and in batches, to worker
processes while the replay goes on, as if each had verified: the replay's state
does not depend on a signature being good, only on the audit stopping at the first
entry that breaks a rule. :meth:`SignatureChecks.first_failure` waits for the
checks of the entries up to a seq and gives the earliest that failed, which an
audit reports instead of any later violation (and instead of a violation of the
same entry, whose signature was checked first). A replay that is not deferred
checks each signature where it stands.
"""

from __future__ import annotations

import json
import multiprocessing
import os
from collections.abc import Callable
from concurrent.futures import Future, ProcessPoolExecutor
from concurrent.futures.process import BrokenProcessPool
from dataclasses import dataclass

from verifier.plan.errors import RequestError
from verifier.plan.records import Body, PlanRuleError
from verifier.plan.requests import signature_verifies, signed_parts

BATCH = 256
"""Signatures a worker checks at a time."""
WORTH_IT = 4 * BATCH
"""Signatures checked at once before workers are started: a small log is done before
a worker could have started."""
IN_FLIGHT = 64
"""Batches handed out and not yet known to pass, at most (then the replay waits)."""


@dataclass(frozen=True)
class _Pending:
    seq: int
    entry_type: str
    rule: str
    detail: Callable[[], str]


Item = tuple[bytes, str, str, bytes]
"""A request to check: the key, the log's origin, the entry's type and exact bytes."""


def _verifies(item: Item) -> bool:
    key, origin, entry_type, raw = item
    try:  # the bytes passed the entry rules already: plain JSON reads them alike
        signature, message = signed_parts(origin, entry_type, json.loads(raw)["body"])
    except RequestError:
        return False
    return signature_verifies(key, signature, message)


def _first_bad(items: list[Item]) -> int:
    """The index of the first request whose signature does not verify, or -1."""
    for index, item in enumerate(items):
        if not _verifies(item):
            return index
    return -1


@dataclass
class _Batch:
    """Up to :data:`BATCH` requests in seq order, checked by a worker or in place."""

    items: list[Item]
    pending: list[_Pending]
    future: Future[int] | None = None
    bad: int | None = None
    """The index of the first request that failed, -1 if none did; None until known."""

    def done(self) -> bool:
        if self.bad is None and self.future is not None and self.future.done():
            self.result()
        return self.bad is not None

    def result(self) -> int:
        """The index of the batch's first failure (-1: none), waiting for its worker."""
        if self.bad is None:
            if self.future is not None and not self.future.cancel():
                try:
                    self.bad = self.future.result()
                except (BrokenProcessPool, OSError):  # a worker killed, say: check them here
                    self.bad = _first_bad(self.items)
            else:  # never handed out, or taken back before a worker began it
                self.bad = _first_bad(self.items)
            self.future = None
            self.items = []  # checked: only the first failure's details are needed
        return self.bad

    def take_back(self) -> bool:
        """Check the batch in this process if no worker has begun it; whether it was."""
        if self.bad is None and (self.future is None or self.future.cancel()):
            self.future = None
            self.result()
            return True
        return False


class SignatureChecks:
    """Ed25519 checks of one replay, in its entries' order (see the module doc)."""

    def __init__(self) -> None:
        self._workers = 0
        self._after = WORTH_IT
        self._met = 0
        self._pool: ProcessPoolExecutor | None = None
        self._items: list[Item] = []
        self._pending: list[_Pending] = []
        self._batches: list[_Batch] = []

    def defer(self, workers: int | None = None, after: int = WORTH_IT) -> None:
        """Check in ``workers`` processes (default: every core but one) once the replay
        has met more than ``after`` signatures; until then they wait in batches, and a
        replay that meets no more checks them in place at :meth:`first_failure`. On a
        single core nothing is gained, and signatures stay checked at once."""
        self._workers = workers if workers is not None else (os.cpu_count() or 1) - 1
        self._after = after

    def _start(self) -> None:
        # Not forked from this process: a worker must hold none of its open files (the
        # lock on the verifier's state folder among them).
        methods = multiprocessing.get_all_start_methods()
        method = "forkserver" if "forkserver" in methods else "spawn"
        try:
            self._pool = ProcessPoolExecutor(
                max_workers=self._workers, mp_context=multiprocessing.get_context(method)
            )
        except (OSError, ValueError):  # no processes to be had here: check in place
            self._workers = 0

    def expect(
        self, body: Body, key: bytes, origin: str, rule: str, detail: Callable[[], str]
    ) -> None:
        """The signed body's ``signature`` must be ``key``'s over its request message on
        the log ``origin`` (specs/requests.md §2); else ``body`` breaks ``rule``, with
        the detail ``detail()`` (made only for a failure)."""
        entry = body.entry
        item = (key, origin, entry.type, entry.raw)
        if self._workers < 1:
            if not _verifies(item):
                body.fail(rule, detail())
            return
        self._met += 1
        self._items.append(item)
        self._pending.append(_Pending(entry.seq, entry.type, rule, detail))
        if len(self._items) >= BATCH:
            self._seal()

    def first_failure(self, upto: int | None = None) -> PlanRuleError | None:
        """Wait for the checks of the entries up to seq ``upto`` (every one: None) and
        return the earliest that failed, or None.

        What no worker has begun yet is checked here, from the last batch back, while
        the workers go on from the first: the two meet in the middle.
        """
        self._seal()
        wanted = [b for b in self._batches if upto is None or b.pending[0].seq <= upto]
        for batch in reversed(wanted):
            if not batch.take_back():
                break
        for batch in wanted:
            bad = batch.result()
            if bad >= 0 and (upto is None or batch.pending[bad].seq <= upto):
                p = batch.pending[bad]
                return PlanRuleError(p.seq, p.entry_type, p.rule, p.detail())
        self._forget_passed()
        return None

    def close(self) -> None:
        """Stop the workers (checks not yet made are dropped)."""
        if self._pool is not None:
            self._pool.shutdown(wait=True, cancel_futures=True)
            self._pool = None

    def _seal(self) -> None:
        """Make the requests met since the last batch a batch, and hand out what waits."""
        if self._items:
            self._batches.append(_Batch(self._items, self._pending))
            self._items, self._pending = [], []
        if self._pool is None and self._workers >= 1 and self._met > self._after:
            self._start()
        if self._pool is None:
            return
        for batch in self._batches:
            if batch.future is None and batch.bad is None:
                try:
                    batch.future = self._pool.submit(_first_bad, batch.items)
                except BrokenProcessPool:  # the workers are gone: the rest is checked here
                    batch.result()
        self._forget_passed()
        # Bounded memory: the replay waits when the workers fall behind.
        while len(self._batches) > IN_FLIGHT and self._batches[0].result() < 0:
            self._batches.pop(0)

    def _forget_passed(self) -> None:
        """Drop the oldest batches that are checked and passed (a failed one is kept)."""
        while self._batches and self._batches[0].done() and self._batches[0].bad == -1:
            self._batches.pop(0)
