"""``tally serve --workers N``: N server processes over one store, one signer beside them.

The supervising process binds the socket, makes the rate limiter's shared table
(api.shared_buckets), blocks the signals it handles, and forks: a signer (with the
key) and N workers. It never opens a database connection or starts a thread, so it
can fork again at any time: a process that dies is started again, after a delay
that grows while it keeps dying young, and the server gives up (exit 1) when one
dies young five times in a row. The supervisor waits for signals synchronously
(``sigwaitinfo``), so no handler ever runs in the middle of its work.

Each worker opens its own store and serves the whole API on the shared socket; the
kernel hands each new connection to one of them. The workers are stateless towards
each other: every write goes through the database's one sequencer (ADR 0004), which
each worker's plan catches up with inside the append's transaction. Exactly one
process signs checkpoints, the signer: a worker's admin write sends the supervisor
``SIGUSR1`` (ledger.publish.loop.RemoteWake), which passes it on to the signer,
whose loop then signs at once. ``SIGTERM`` or ``SIGINT`` stops them all (ADR 0017).
"""

from __future__ import annotations

import contextlib
import ctypes
import logging
import os
import shutil
import signal
import socket
import tempfile
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

from ledger.instance import Ledger
from ledger.log.log import Log
from ledger.log.store import Store
from ledger.publish.keyfile import load_key_file
from ledger.publish.loop import PublishLoop
from ledger.publish.publisher import Publisher

log = logging.getLogger("tally.serve")
PR_SET_PDEATHSIG = 1
HANDLED = {signal.SIGCHLD, signal.SIGTERM, signal.SIGINT, signal.SIGHUP, signal.SIGUSR1}
STOPS = (signal.SIGTERM, signal.SIGINT, signal.SIGHUP)
YOUNG = 10.0
"""A process that dies within this many seconds of its start died young."""
GIVE_UP = 5
"""Deaths young in a row after which the server stops."""
FIRST_DELAY = 0.5
"""Seconds before the first restart; each death young doubles it (up to 30 s)."""
GRACE = 30.0
"""Seconds the children have to finish their requests once told to stop; then killed."""


@dataclass(frozen=True)
class WorkerConfig:
    """What every worker needs to build its app."""

    db: str
    key: Path | None
    """The signing key file, if the server has the admin API."""
    publish_interval: float
    rate: float
    buckets: Path
    buckets_key: bytes
    read_only: bool = False
    """Open the store read-only (``tally serve --read-only``, a replica)."""


@dataclass
class Child:
    """One process the supervisor keeps running: a worker, or the signer."""

    name: str
    run: Callable[[], None]
    pid: int = 0
    started: float = 0.0
    young_deaths: int = 0
    restart_at: float | None = None


@dataclass
class Supervisor:
    """The supervising process's state: its children, and whether it is stopping."""

    children: list[Child] = field(default_factory=list)
    stopping: bool = False
    stop_at: float = 0.0
    failed: str | None = None

    def start(self, child: Child) -> None:
        """Fork ``child`` (signals stay blocked in the supervisor); if the system cannot
        fork now, try again a little later."""
        child.restart_at = None
        child.started = time.monotonic()
        try:
            child.pid = _fork(child.run, os.getpid())
        except OSError as exc:
            log.warning("could not start the %s (%s): trying again in 1 s", child.name, exc)
            child.restart_at = time.monotonic() + 1.0

    def running(self) -> bool:
        """Whether any child runs, or (unless stopping) is due to start again."""
        waiting = not self.stopping and any(c.restart_at is not None for c in self.children)
        return waiting or any(c.pid for c in self.children)

    def by_pid(self, pid: int) -> Child | None:
        """The child with this pid, if it is one of ours."""
        return next((c for c in self.children if c.pid == pid), None)

    def signer(self) -> Child | None:
        """The signer, if the server has one."""
        return next((c for c in self.children if c.name == "signer"), None)

    def stop(self) -> None:
        """Ask every running child to stop (a second time: again); none restarts."""
        if not self.stopping:
            self.stopping, self.stop_at = True, time.monotonic()
        for child in self.children:
            child.restart_at = None
            if child.pid:
                with contextlib.suppress(ProcessLookupError):
                    os.kill(child.pid, signal.SIGTERM)

    def kill_stragglers(self) -> None:
        """Kill the children still running :data:`GRACE` seconds after the stop."""
        for child in self.children:
            if child.pid:
                log.warning("the %s did not stop within %g s: killing it", child.name, GRACE)
                with contextlib.suppress(ProcessLookupError):
                    os.kill(child.pid, signal.SIGKILL)


def run_workers(sock: socket.socket, workers: int, config: WorkerConfig) -> int:
    """Serve on ``sock`` with ``workers`` processes until told to stop; the exit code."""
    sup = Supervisor()
    if config.key is not None:
        sup.children.append(Child("signer", lambda: _signer(config)))
    sup.children += [
        Child(f"worker {n}", lambda: _worker(sock, config, os.getppid())) for n in range(workers)
    ]
    old = signal.pthread_sigmask(signal.SIG_BLOCK, HANDLED)
    try:
        for child in sup.children:
            sup.start(child)
        while sup.running():
            _step(sup)
    finally:
        sock.close()
        shutil.rmtree(config.buckets.parent, ignore_errors=True)
        while signal.sigtimedwait(HANDLED, 0) is not None:
            pass  # taken here, so that none acts when the mask is restored
        signal.pthread_sigmask(signal.SIG_SETMASK, old)
    if sup.failed is not None:
        log.error("stopping: %s", sup.failed)
        return 1
    return 0


def _step(sup: Supervisor) -> None:
    """Wait for the next signal (or a restart that is due) and act on it."""
    due = [c.restart_at for c in sup.children if c.restart_at is not None]
    if sup.stopping:
        due = [sup.stop_at + GRACE]
    timeout = max(0.0, min(due) - time.monotonic()) if due else None
    info = signal.sigwaitinfo(HANDLED) if timeout is None else signal.sigtimedwait(HANDLED, timeout)
    if info is None and sup.stopping:
        sup.kill_stragglers()
    if info is not None:
        if info.si_signo in STOPS:
            sup.stop()
        elif info.si_signo == signal.SIGUSR1:
            signer = sup.signer()
            if signer is not None and signer.pid:
                with contextlib.suppress(ProcessLookupError):
                    os.kill(signer.pid, signal.SIGUSR1)
        _reap(sup)
    now = time.monotonic()
    for child in sup.children:
        if child.restart_at is not None and child.restart_at <= now and not sup.stopping:
            sup.start(child)


def _reap(sup: Supervisor) -> None:
    """Collect every child that ended; schedule its restart, or give up."""
    while True:
        try:
            pid, status = os.waitpid(-1, os.WNOHANG)
        except ChildProcessError:
            return
        if pid == 0:
            return
        child = sup.by_pid(pid)
        if child is None:
            continue
        child.pid = 0
        if sup.stopping:
            continue
        lived = time.monotonic() - child.started
        child.young_deaths = child.young_deaths + 1 if lived < YOUNG else 0
        code = os.waitstatus_to_exitcode(status)
        if child.young_deaths >= GIVE_UP:
            sup.failed = f"the {child.name} died {GIVE_UP} times within {YOUNG:g} s of starting"
            sup.stop()
            continue
        delay = min(30.0, FIRST_DELAY * 2 ** max(0, child.young_deaths - 1))
        log.warning(
            "the %s (pid %d) exited (%d): starting it again in %.1f s", child.name, pid, code, delay
        )
        child.restart_at = time.monotonic() + delay


def worker_config(
    db: str, key: Path | None, interval: float, rate: float, *, read_only: bool = False
) -> WorkerConfig:
    """The workers' configuration, with a fresh shared rate-limit table in a private
    directory (removed when the server stops)."""
    from api.shared_buckets import SharedTokenBuckets

    path, secret = SharedTokenBuckets.create(Path(tempfile.mkdtemp(prefix="tally-serve-")))
    return WorkerConfig(db, key, interval, rate, path, secret, read_only)


def _fork(run: Callable[[], None], supervisor: int) -> int:
    pid = os.fork()
    if pid:
        return pid
    code = 1
    try:
        _die_with(supervisor)
        for signum in HANDLED:
            signal.signal(signum, signal.SIG_DFL)
        run()  # with the supervisor's signals still blocked: each child unblocks its own
        code = 0
    except BaseException:  # a child reports and exits; it never returns into the CLI
        log.exception("server process %d failed", os.getpid())
    finally:
        os._exit(code)


def _die_with(supervisor: int) -> None:
    """Ask Linux to stop this child if the supervisor dies (prctl PR_SET_PDEATHSIG)."""
    with contextlib.suppress(OSError, AttributeError):
        ctypes.CDLL(None, use_errno=True).prctl(PR_SET_PDEATHSIG, signal.SIGTERM)
    if os.getppid() != supervisor:  # it died before the request took effect
        os._exit(0)


def _signer(config: WorkerConfig) -> None:
    """The one process that signs: its loop, woken by SIGUSR1, stopped by SIGTERM."""
    assert config.key is not None
    loop = PublishLoop(
        Publisher(Store(config.db), load_key_file(config.key)), config.publish_interval
    )
    signals = {signal.SIGUSR1, signal.SIGTERM, signal.SIGINT}
    signal.pthread_sigmask(signal.SIG_SETMASK, signals)  # taken by sigwait, never a handler
    loop.start()
    try:
        while signal.sigwait(signals) == signal.SIGUSR1:
            loop.wake()
    finally:
        loop.stop()


def _worker(sock: socket.socket, config: WorkerConfig, supervisor: int) -> None:
    import uvicorn

    from api.app import create_app
    from api.shared_buckets import SharedTokenBuckets

    signal.pthread_sigmask(signal.SIG_UNBLOCK, HANDLED)  # uvicorn handles TERM and INT
    store = Store(config.db, read_only=config.read_only)
    ledger = None
    if config.key is not None:
        signer = load_key_file(config.key)
        ledger = Ledger(store, Log(store), signer, Publisher(store, signer))
    buckets = SharedTokenBuckets(
        config.buckets, config.rate, max(1, int(config.rate * 4)), config.buckets_key
    )
    app = create_app(
        store,
        ledger=ledger,
        publish_interval=config.publish_interval,
        rate=config.rate,
        burst=buckets.burst,
        buckets=buckets,
        publisher_pid=supervisor if ledger is not None else None,
    )
    settings = uvicorn.Config(
        app, log_level="info", access_log=False, timeout_graceful_shutdown=int(GRACE) - 5
    )
    server = uvicorn.Server(settings)
    server.run(sockets=[sock])
