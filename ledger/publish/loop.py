"""Self-publishing: a background thread that signs a checkpoint whenever the log has grown.

The server runs one :class:`PublishLoop` beside the API. It wakes every
``interval`` seconds, and at once when :meth:`PublishLoop.wake` is called (after
each admin write), and signs a checkpoint if the log holds entries that no signed
checkpoint covers yet. So an accepted entry is covered by a signed checkpoint within
about one interval, which is what a write receipt promises (specs/receipt.md).

A failure (the database is down, the store no longer matches a checkpoint) is
logged and retried with a growing delay, capped at ``max_delay``; the loop never
stops on its own, and never takes the server down with it.
"""

from __future__ import annotations

import logging
import os
import signal
import threading
from typing import Protocol

DEFAULT_INTERVAL = 1.0
MAX_RETRY_DELAY = 30.0

log = logging.getLogger("tally.publish")


class Signs(Protocol):
    """What the loop needs of a publisher (:class:`ledger.publish.publisher.Publisher`)."""

    def pending(self) -> bool:
        """True when there are entries to cover."""
        ...

    def publish(self) -> object:
        """Sign a checkpoint of the log as it is now."""
        ...


class PublishLoop:
    """Signs checkpoints in a daemon thread, every ``interval`` seconds and on :meth:`wake`."""

    def __init__(
        self,
        publisher: Signs,
        interval: float = DEFAULT_INTERVAL,
        *,
        max_delay: float = MAX_RETRY_DELAY,
    ) -> None:
        """Prepare the loop; nothing runs before :meth:`start`."""
        if not 0 < interval <= 3600:
            raise ValueError(f"expected a publish interval of 0 to 3600 seconds, found {interval}")
        self.publisher = publisher
        self.interval = interval
        self.max_delay = max(max_delay, interval)
        self.failures = 0
        self.published = 0
        self._wake = threading.Event()
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None

    @property
    def running(self) -> bool:
        """Whether the thread is alive."""
        return self._thread is not None and self._thread.is_alive()

    def start(self) -> None:
        """Start the thread (once; a second call does nothing while it runs)."""
        if self.running:
            return
        self._stop.clear()
        self._thread = threading.Thread(target=self._run, name="tally-publish", daemon=True)
        self._thread.start()

    def wake(self) -> None:
        """Ask for a checkpoint now, without waiting for the interval."""
        self._wake.set()

    def stop(self, timeout: float = 10.0) -> None:
        """Stop the thread, letting a signing in progress finish (waits up to ``timeout``)."""
        self._stop.set()
        self._wake.set()
        if self._thread is not None:
            self._thread.join(timeout)
            if self._thread.is_alive():
                log.warning("the publishing thread did not stop within %.1f s", timeout)
            self._thread = None

    def run_once(self) -> bool:
        """Sign a checkpoint if any entry is uncovered; True on success (or nothing to do).

        Never raises: a failure is logged and counted, and the next attempt waits longer.
        """
        try:
            if self.publisher.pending():
                self.publisher.publish()
                self.published += 1
        except Exception as exc:  # a server thread must survive any failure
            self.failures += 1
            if self.failures == 1 or self.failures % 30 == 0:
                log.error(
                    "signing a checkpoint failed (attempt %d, retrying): %s: %s",
                    self.failures,
                    type(exc).__name__,
                    exc,
                )
            return False
        if self.failures:
            log.info("signing checkpoints again after %d failed attempts", self.failures)
            self.failures = 0
        return True

    def _delay(self) -> float:
        if not self.failures:
            return self.interval
        return float(min(self.interval * 2 ** min(self.failures, 16), self.max_delay))

    def _run(self) -> None:
        while not self._stop.is_set():
            self.run_once()
            self._wake.wait(self._delay())
            self._wake.clear()


class RemoteWake:
    """The publishing loop as a worker process sees it: another process runs it.

    ``tally serve --workers N`` signs checkpoints in one process only (its signer). A
    worker's admin write still asks for a checkpoint at once: :meth:`wake` sends
    ``SIGUSR1`` to process ``pid`` (the supervisor, which passes it on to the signer).
    Starting and stopping are the supervisor's business.
    """

    def __init__(self, pid: int, interval: float = DEFAULT_INTERVAL) -> None:
        """Wake the signing loop through process ``pid``; it signs every ``interval`` s."""
        self.pid = pid
        self.interval = interval

    @property
    def running(self) -> bool:
        """Whether the supervising process is alive."""
        try:
            os.kill(self.pid, 0)
        except ProcessLookupError:
            return False
        return True

    def start(self) -> None:
        """Nothing to start: the loop runs in the supervisor."""

    def stop(self, timeout: float = 10.0) -> None:
        """Nothing to stop: the loop runs in the supervisor."""
        del timeout

    def wake(self) -> None:
        """Ask the signing loop for a checkpoint now."""
        try:
            os.kill(self.pid, signal.SIGUSR1)
        except OSError as exc:  # gone, or no longer ours: the interval still signs
            log.warning("could not ask process %d for a checkpoint: %s", self.pid, exc)
