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
from concurrent.futures import Future, ProcessPoolExecutor
from concurrent.futures.process import BrokenProcessPool
from dataclasses import dataclass

from verifier.plan.errors import RequestError
from verifier.plan.records import Body, PlanRuleError
from verifier.plan.requests import signature_verifies, signed_parts

BATCH = 512
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
    detail: str


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
    future: Future[int]
    pending: list[_Pending]
    items: list[Item]
    """Kept to check in this process should the worker be lost."""

    def first_bad(self) -> int:
        try:
            return self.future.result()
        except (BrokenProcessPool, OSError):  # a worker killed, say: check them here
            return _first_bad(self.items)

    def passed(self) -> bool:
        return self.future.done() and self.first_bad() < 0


class SignatureChecks:
    """Ed25519 checks of one replay, in its entries' order (see the module doc)."""

    def __init__(self) -> None:
        self._workers = 0
        self._after = WORTH_IT
        self._checked = 0
        self._pool: ProcessPoolExecutor | None = None
        self._items: list[Item] = []
        self._pending: list[_Pending] = []
        self._batches: list[_Batch] = []

    def defer(self, workers: int | None = None, after: int = WORTH_IT) -> None:
        """Check in ``workers`` processes (default: every core but one) once the replay
        has met more than ``after`` signatures. On a single core nothing is gained, and
        signatures stay checked at once."""
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

    def expect(self, body: Body, key: bytes, origin: str, rule: str, detail: str) -> None:
        """The signed body's ``signature`` must be ``key``'s over its request message on
        the log ``origin`` (specs/requests.md §2); else ``body`` breaks ``rule``."""
        entry = body.entry
        item = (key, origin, entry.type, entry.raw)
        if self._pool is None:
            self._checked += 1
            if self._workers >= 1 and self._checked > self._after:
                self._start()
        if self._pool is None:
            if not _verifies(item):
                body.fail(rule, detail)
            return
        self._items.append(item)
        self._pending.append(_Pending(body.entry.seq, body.entry.type, rule, detail))
        if len(self._items) >= BATCH:
            self._submit()

    def first_failure(self, upto: int | None = None) -> PlanRuleError | None:
        """Wait for the checks of the entries up to seq ``upto`` (every one: None) and
        return the earliest that failed, or None."""
        self._submit()
        for batch in self._batches:
            if upto is not None and batch.pending[0].seq > upto:
                break
            bad = batch.first_bad()
            if bad >= 0 and (upto is None or batch.pending[bad].seq <= upto):
                p = batch.pending[bad]
                return PlanRuleError(p.seq, p.entry_type, p.rule, p.detail)
        self._forget_passed()
        return None

    def close(self) -> None:
        """Stop the workers (checks not yet made are dropped)."""
        if self._pool is not None:
            self._pool.shutdown(wait=True, cancel_futures=True)
            self._pool = None

    def _submit(self) -> None:
        if self._items and self._pool is not None:
            try:
                future = self._pool.submit(_first_bad, self._items)
            except BrokenProcessPool:  # the workers are gone: the rest is checked here
                future = Future()
                future.set_result(_first_bad(self._items))
            self._batches.append(_Batch(future, self._pending, self._items))
            self._items, self._pending = [], []
            self._forget_passed()
            # Bounded memory: the replay waits when the workers fall behind.
            while len(self._batches) > IN_FLIGHT and self._batches[0].first_bad() < 0:
                self._batches.pop(0)

    def _forget_passed(self) -> None:
        """Drop the oldest batches that are checked and passed (a failed one is kept)."""
        while self._batches and self._batches[0].passed():
            self._batches.pop(0)
