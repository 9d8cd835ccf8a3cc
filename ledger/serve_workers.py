"""``tally serve --workers N``: N server processes over one store, one of them signing.

The supervising process binds the socket, makes the rate limiter's shared table
(api.shared_buckets), and forks N workers before it opens anything else (no
database connection or thread crosses a fork). Each worker opens its own store and
serves the whole API on the shared socket; the kernel hands each new connection to
one of them. The workers are stateless towards each other: every write goes through
the database's one sequencer (ADR 0004), which each worker's plan catches up with
inside the append's transaction. Exactly one process signs checkpoints: the
supervisor, with its own publishing loop, woken by a worker's admin write through
``SIGUSR1`` (ledger.publish.loop.RemoteWake). A worker that dies is started again;
``SIGTERM`` or ``SIGINT`` stops them all.
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
from dataclasses import dataclass
from pathlib import Path
from types import FrameType

from ledger.instance import Ledger
from ledger.log.log import Log
from ledger.log.store import Store
from ledger.publish.keyfile import load_key_file
from ledger.publish.loop import PublishLoop
from ledger.publish.publisher import Publisher

log = logging.getLogger("tally.serve")
PR_SET_PDEATHSIG = 1


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


def run_workers(sock: socket.socket, workers: int, config: WorkerConfig) -> None:
    """Serve on ``sock`` with ``workers`` processes until told to stop."""
    supervisor = os.getpid()
    children: dict[int, int] = {}
    for n in range(workers):
        children[_fork_worker(sock, config, supervisor)] = n
    loop = _publishing_loop(config)
    stopping = False

    def stop(signum: int, frame: FrameType | None) -> None:
        nonlocal stopping
        del frame
        stopping = True
        for pid in children:
            with contextlib.suppress(ProcessLookupError):
                os.kill(pid, signal.SIGTERM)

    signal.signal(signal.SIGTERM, stop)
    signal.signal(signal.SIGINT, stop)
    if loop is not None:
        signal.signal(signal.SIGUSR1, lambda signum, frame: loop.wake())
        loop.start()
    try:
        while children:
            try:
                pid, status = os.wait()
            except ChildProcessError:
                break
            except InterruptedError:  # pragma: no cover - PEP 475 retries wait() itself
                continue
            n = children.pop(pid, -1)
            if n >= 0 and not stopping:
                log.warning(
                    "worker %d (pid %d) exited with status %d: starting it again", n, pid, status
                )
                time.sleep(0.5)
                children[_fork_worker(sock, config, supervisor)] = n
    finally:
        if loop is not None:
            loop.stop()
        sock.close()
        shutil.rmtree(config.buckets.parent, ignore_errors=True)


def worker_config(
    db: str, key: Path | None, interval: float, rate: float, *, read_only: bool = False
) -> WorkerConfig:
    """The workers' configuration, with a fresh shared rate-limit table in a private
    directory (removed when the server stops)."""
    from api.shared_buckets import SharedTokenBuckets

    path, secret = SharedTokenBuckets.create(Path(tempfile.mkdtemp(prefix="tally-serve-")))
    return WorkerConfig(db, key, interval, rate, path, secret, read_only)


def _publishing_loop(config: WorkerConfig) -> PublishLoop | None:
    if config.key is None:
        return None
    store = Store(config.db)
    signer = load_key_file(config.key)
    return PublishLoop(Publisher(store, signer), config.publish_interval)


def _fork_worker(sock: socket.socket, config: WorkerConfig, supervisor: int) -> int:
    pid = os.fork()
    if pid:
        return pid
    code = 1
    try:
        _die_with(supervisor)
        signal.signal(signal.SIGTERM, signal.SIG_DFL)
        signal.signal(signal.SIGINT, signal.SIG_DFL)
        _worker(sock, config, supervisor)
        code = 0
    except BaseException:  # a worker reports and exits; it never returns into the CLI
        log.exception("worker %d failed", os.getpid())
    finally:
        os._exit(code)


def _die_with(supervisor: int) -> None:
    """Ask Linux to stop this worker if the supervisor dies (prctl PR_SET_PDEATHSIG)."""
    with contextlib.suppress(OSError, AttributeError):
        ctypes.CDLL(None, use_errno=True).prctl(PR_SET_PDEATHSIG, signal.SIGTERM)
    if os.getppid() != supervisor:  # it died before the request took effect
        os._exit(0)


def _worker(sock: socket.socket, config: WorkerConfig, supervisor: int) -> None:
    import uvicorn

    from api.app import create_app
    from api.shared_buckets import SharedTokenBuckets

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
    app.state.plan_view.warm_in_background()
    server = uvicorn.Server(uvicorn.Config(app, log_level="info", access_log=False))
    server.run(sockets=[sock])
