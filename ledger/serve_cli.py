"""``tally serve`` and ``tally demo``: the log over HTTP, and a demo plan to serve.

Both bind their address before anything else runs, so that a port in use is a
sentence and exit code 4. ``demo`` prints every address to try and a member id
each time it runs, whether it built the ledger now or finds it already built.
"""

from __future__ import annotations

import logging
import socket
from pathlib import Path

import click
from rich.progress import Progress

from ledger.cli import Settings, err, fail, main, say, store_options, usage
from ledger.cli_serve import bind_socket, demo_addresses, sample_member
from ledger.clock import Clock
from ledger.demo import DEMO_START, build_demo
from ledger.errors import LedgerError, StoreError
from ledger.instance import Ledger, init_ledger
from ledger.log.entry import format_time
from ledger.log.log import Log
from ledger.log.store import Store
from ledger.publish.keyfile import load_key_file
from ledger.publish.loop import DEFAULT_INTERVAL as DEFAULT_PUBLISH_INTERVAL
from ledger.publish.publisher import Publisher
from ledger.serve_workers import run_workers, worker_config
from ledger.wording import count

publish_interval_option = click.option(
    "--publish-interval",
    default=DEFAULT_PUBLISH_INTERVAL,
    show_default=True,
    type=click.FloatRange(0.05, 3600),
    help="Seconds between the server's own checkpoint signings (with the key).",
)


@main.command()
@store_options
@click.option("--host", default="127.0.0.1", show_default=True)
@click.option("--port", default=8000, show_default=True, type=click.IntRange(0, 65535))
@publish_interval_option
@click.option(
    "--rate-limit",
    default=50.0,
    show_default=True,
    type=click.FloatRange(min=0.1),
    help="Public requests a second per client (bursts of four times that).",
)
@click.option(
    "--workers",
    default=1,
    show_default=True,
    type=click.IntRange(1, 64),
    help="Server processes over the same store (one per core), beside one that signs.",
)
@click.option(
    "--read-only",
    is_flag=True,
    help="Serve the public API only, writing nothing (no admin API, no signing, even with "
    "a key): for a PostgreSQL hot standby, or any replica of the database.",
)
@click.pass_obj
def serve(
    settings: Settings,
    host: str,
    port: int,
    publish_interval: float,
    rate_limit: float,
    workers: int,
    read_only: bool,
) -> None:
    """Serve the public log API over HTTP, and the admin API when the key is readable.

    With the signing key (--key, TALLY_KEY_FILE) the server also serves /admin/v1 to
    holders of tokens from 'tally token create', and signs checkpoints itself every
    --publish-interval seconds and after each admin write. Without it, it serves the
    public API only, read-only. With --clock (TALLY_CLOCK) admin writes that name no
    time are dated by that simulated time, for a rehearsal. With --workers N, N
    processes serve on the one address, share each client's rate limit, and one
    process beside them signs checkpoints. With --read-only it opens the database
    read-only and serves the public API alone, key or not: run any number of these
    on read replicas, beside the one server that signs.
    """
    if workers > 1 and settings.clock is not None:
        usage("--clock is for a rehearsal in one process: drop it, or --workers")
    try:
        store = Store(settings.db, read_only=read_only)
        store.require_meta()
    except LedgerError as exc:
        fail(exc)
    try:
        sock = bind_socket(host, port)
    except LedgerError as exc:
        store.dispose()
        fail(exc)
    if read_only:
        err.print(
            "Serving read-only (--read-only): the public API only; nothing is written, "
            "no checkpoint is signed.",
            markup=False,
        )
    if workers > 1:
        key = None if read_only else settings.key
        _serve_workers(settings.db, store, sock, key, workers, publish_interval, rate_limit)
        return
    clock = settings.clock_for(Log(store))
    ledger = None if read_only else _signing_ledger(store, settings.key)
    _serve(
        store,
        sock,
        ledger=ledger,
        publish_interval=publish_interval,
        rate=rate_limit,
        clock=None if settings.clock is None else clock,
    )


def _serve_workers(
    db: str,
    store: Store,
    sock: socket.socket,
    key: Path | None,
    workers: int,
    interval: float,
    rate: float,
) -> None:
    """Serve with ``workers`` processes (ledger.serve_workers); this one signs (with
    ``key``; None: read-only, the store opened so by every worker)."""
    read_only = key is None
    signing = None if key is None else _signing_ledger(store, key)
    store.dispose()  # no connection crosses the fork
    signer = key if signing is not None else None
    config = worker_config(db, signer, interval, rate, read_only=read_only)
    logging.basicConfig(level=logging.INFO, format="%(message)s")
    err.print(f"Serving with {count(workers, 'worker')}.", markup=False)
    if run_workers(sock, workers, config) != 0:
        fail(
            StoreError(
                "the server stopped: a process kept failing as it started (is the database "
                "reachable?); its error is logged above"
            )
        )


def _signing_ledger(store: Store, key: Path) -> Ledger | None:
    """The ledger with its key for the admin API, or None (read-only) saying why."""
    if not key.exists():
        err.print(
            f"Serving read-only: no key file at {key}, so no admin API and no checkpoint "
            "signing (pass --key or set TALLY_KEY_FILE to enable them).",
            markup=False,
        )
        return None
    try:
        signer = load_key_file(key)
        ledger = Ledger(store, Log(store), signer, Publisher(store, signer))
    except LedgerError as exc:
        err.print(f"Serving read-only: the key at {key} is refused: {exc}", markup=False)
        return None
    err.print(
        f"Admin API at /admin/v1 (tokens: 'tally token create'); signing checkpoints with "
        f"the key at {key}.",
        markup=False,
    )
    return ledger


@main.command()
@store_options
@click.option("--seed", default=1, show_default=True, type=int, help="Makes the demo reproducible.")
@click.option("--members", default=20_000, show_default=True, type=click.IntRange(100, 1_000_000))
@click.option("--periods", default=30, show_default=True, type=click.IntRange(1, 48))
@click.option("--no-serve", is_flag=True, help="Build the demo ledger and exit.")
@click.option("--host", default="127.0.0.1", show_default=True)
@click.option("--port", default=8000, show_default=True, type=click.IntRange(0, 65535))
@publish_interval_option
@click.pass_obj
def demo(
    settings: Settings,
    seed: int,
    members: int,
    periods: int,
    no_serve: bool,
    host: str,
    port: int,
    publish_interval: float,
) -> None:
    """Build a demo ledger (creating the database and key if needed), then serve it.

    The demo's history is dated from October 2024 by a simulated clock; run again, it
    serves the ledger it built before.
    """
    if not no_serve:
        # Say now, not after the build, if the port is taken; bind it for good only once
        # the ledger is built, so that nobody's request hangs in the queue meanwhile.
        try:
            bind_socket(host, port).close()
        except LedgerError as exc:
            fail(exc)
    try:
        ledger, created = init_ledger(
            settings.db, settings.key, genesis_time=format_time(DEMO_START)
        )
    except LedgerError as exc:
        fail(exc)
    try:
        if created:
            say(f"Created the signing key {settings.key} (mode 0600).")
        _fill_demo(ledger, seed, members, periods)
        size = ledger.log.size()
        meta = ledger.store.require_meta()
        member = sample_member(ledger.log)
    except LedgerError as exc:
        ledger.close()
        fail(exc)
    sock = None
    if not no_serve:
        try:
            sock = bind_socket(host, port)
        except LedgerError as exc:
            ledger.close()
            fail(exc)
    if sock is None:
        ledger.close()
        say(f"Demo ledger {meta.origin}: {count(size, 'entry')} in {settings.db}")
        if member is not None:
            say(f"A member to try: {member}")
        return
    shown_host = f"[{host}]" if sock.family == socket.AF_INET6 else host
    base = f"http://{shown_host}:{sock.getsockname()[1]}"
    say(f"\nServing the demo log {meta.origin} ({count(size, 'entry')}) at {base}")
    if member is not None:
        say(f"A member to try: {member}")
    say("Try:")
    for line in demo_addresses(base, settings.db, size, member):
        say(line)
    say("Press Ctrl+C to stop.\n")
    _serve(ledger.store, sock, ledger=ledger, publish_interval=publish_interval)


def _fill_demo(ledger: Ledger, seed: int, members: int, periods: int) -> None:
    if ledger.log.size() > 1:
        say(
            f"The database already holds a log of {count(ledger.log.size(), 'entry')}; "
            "serving it as is."
        )
        return
    with Progress(console=err, transient=True) as bar:
        task = bar.add_task("building the demo plan", total=None)
        report = build_demo(
            ledger,
            seed=seed,
            members=members,
            periods=periods,
            progress=lambda done, total: bar.update(task, completed=done, total=total),
        )
    kinds = ", ".join(f"{number} {kind}" for kind, number in sorted(report.claims.items()))
    say(
        f"Built a plan of {count(report.members, 'member')} over "
        f"{count(report.periods, 'half-month period')} ({count(report.entries, 'entry')}); "
        f"claims: {kinds}."
    )


def _serve(
    store: Store,
    sock: socket.socket,
    *,
    ledger: Ledger | None = None,
    publish_interval: float = DEFAULT_PUBLISH_INTERVAL,
    rate: float = 50.0,
    clock: Clock | None = None,
) -> None:
    """Run the app on the bound socket until interrupted."""
    import uvicorn

    from api.app import create_app

    try:
        app = create_app(
            store,
            ledger=ledger,
            publish_interval=publish_interval,
            rate=rate,
            burst=max(1, int(rate * 4)),
            clock=clock,
        )
    except LedgerError as exc:
        sock.close()
        fail(exc)
    logging.basicConfig(level=logging.INFO, format="%(message)s")
    config = uvicorn.Config(app, log_level="info", access_log=False)
    server = uvicorn.Server(config)
    try:
        server.run(sockets=[sock])
    finally:
        sock.close()
