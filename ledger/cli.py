"""``tally``: the operator's command line.

Exit codes (also in the README):

  0  success
  1  ``tally check`` found a mismatch
  2  usage error (a bad option or argument)
  3  refused: bad input, a malformed key, or a rule of the log
  4  the database is unavailable or holds no log
"""

from __future__ import annotations

import logging
import sys
from collections.abc import Callable
from pathlib import Path
from typing import NoReturn, ParamSpec, TypeVar

import click
from rich.console import Console
from rich.progress import Progress

from ledger.check import check_log
from ledger.demo import DEMO_START, build_demo
from ledger.domain.replay import replay_plan
from ledger.errors import LedgerError, StoreError
from ledger.instance import DEFAULT_ORIGIN, Ledger, init_ledger, open_ledger
from ledger.log.entry import format_time, parse_entry
from ledger.log.log import Log
from ledger.log.store import Store
from ledger.publish.keyfile import load_key_file
from ledger.publish.loop import DEFAULT_INTERVAL as DEFAULT_PUBLISH_INTERVAL
from ledger.publish.publisher import Publisher

EXIT_OK = 0
EXIT_MISMATCH = 1
EXIT_USAGE = 2
EXIT_REFUSED = 3
EXIT_UNAVAILABLE = 4

P = ParamSpec("P")
R = TypeVar("R")

DEFAULT_DB = "sqlite:///tally.db"
DEFAULT_KEY = "tally.key"

err = Console(stderr=True, highlight=False, soft_wrap=True)


def say(text: str) -> None:
    """Print a line to standard output exactly as given (no markup, no wrapping)."""
    click.echo(text)


class Settings:
    """The global options every command sees."""

    def __init__(self, db: str, key: Path) -> None:
        self.db = db
        self.key = key


def _override_db(ctx: click.Context, _: click.Parameter, value: str | None) -> None:
    if value is not None:
        ctx.find_object(Settings).db = value  # type: ignore[union-attr]


def _override_key(ctx: click.Context, _: click.Parameter, value: Path | None) -> None:
    if value is not None:
        ctx.find_object(Settings).key = value  # type: ignore[union-attr]


def store_options(command: Callable[P, R]) -> Callable[P, R]:
    """Accept --db and --key after the command name too (``tally serve --db URL``)."""
    command = click.option(
        "--key",
        type=click.Path(dir_okay=False, path_type=Path),
        expose_value=False,
        callback=_override_key,
        help="The operator's signing key file (as the global --key).",
    )(command)
    return click.option(
        "--db",
        expose_value=False,
        callback=_override_db,
        help="Database URL (as the global --db).",
    )(command)


def fail(exc: LedgerError) -> NoReturn:
    """Print a ledger error as a sentence and exit with its documented code."""
    code = EXIT_UNAVAILABLE if isinstance(exc, StoreError) else EXIT_REFUSED
    err.print("error:", str(exc), style="bold red", markup=False)
    sys.exit(code)


@click.group(
    context_settings={"help_option_names": ["-h", "--help"]},
    epilog="Exit codes: 0 success, 1 check found a mismatch, 2 usage error, "
    "3 refused (bad input or key), 4 database unavailable or not initialised.",
)
@click.option(
    "--db",
    envvar="TALLY_DATABASE_URL",
    default=DEFAULT_DB,
    show_default=True,
    help="Database URL: sqlite:///PATH or postgresql://USER@HOST/DB (env TALLY_DATABASE_URL).",
)
@click.option(
    "--key",
    envvar="TALLY_KEY_FILE",
    default=DEFAULT_KEY,
    show_default=True,
    type=click.Path(dir_okay=False, path_type=Path),
    help="The operator's signing key file (env TALLY_KEY_FILE).",
)
@click.pass_context
def main(ctx: click.Context, db: str, key: Path) -> None:
    """Run a Tally ledger: an append-only, signed log of a mutual-aid plan."""
    ctx.obj = Settings(db, key)


@main.command()
@store_options
@click.option("--origin", help=f"The log's name, also its key's name [default: {DEFAULT_ORIGIN}].")
@click.pass_obj
def init(settings: Settings, origin: str | None) -> None:
    """Create the database, the signing key and the genesis entry."""
    try:
        ledger, created = init_ledger(settings.db, settings.key, origin)
    except LedgerError as exc:
        fail(exc)
    try:
        meta = ledger.store.require_meta()
        if created:
            say(f"Created the signing key {settings.key} (mode 0600; keep it secret).")
        say(f"Log {meta.origin} is ready with {ledger.log.size()} entries.")
        say(f"Its verifier key (give this to members): {meta.verifier_key}")
    finally:
        ledger.close()


@main.command()
@store_options
@click.pass_obj
def publish(settings: Settings) -> None:
    """Sign a checkpoint of the log as it is now."""
    try:
        ledger = open_ledger(settings.db, settings.key)
        try:
            signed = ledger.publisher.publish()
        finally:
            ledger.close()
    except LedgerError as exc:
        fail(exc)
    click.echo(signed.note, nl=False)


@main.command()
@store_options
@click.option("--full", is_flag=True, help="Also re-validate every entry against specs/entries.md.")
@click.pass_obj
def check(settings: Settings, full: bool) -> None:
    """Re-derive every hash, the chain and the plan from the entries; compare with the store."""
    try:
        store = Store(settings.db)
        try:
            with Progress(console=err, transient=True) as bar:
                task = bar.add_task("checking the log", total=None)
                report = check_log(
                    store,
                    full=full,
                    progress=lambda done, total: bar.update(task, completed=done, total=total),
                )
                plan = None
                if report.ok:
                    bar.update(task, description="replaying the plan's rules", completed=0)
                    plan, _ = replay_plan(
                        store,
                        progress=lambda done, total: bar.update(task, completed=done, total=total),
                    )
        finally:
            store.dispose()
    except LedgerError as exc:
        fail(exc)
    mismatches = report.mismatches + (plan.mismatches if plan is not None else [])
    if not mismatches:
        say(
            f"OK: {report.entries} entries, {report.hashes} stored hashes and "
            f"{report.checkpoints} signed checkpoints agree."
        )
        if plan is not None and (plan.members or plan.claims):
            say(
                f"OK: the plan's rules hold for every entry: {plan.members} members, "
                f"{plan.claims} claims, {plan.periods} closed periods and their "
                "contribution trees re-derived."
            )
        return
    err.print(f"MISMATCH, first at {mismatches[0]}", markup=False)
    for mismatch in mismatches[1:]:
        err.print(f"  also: {mismatch}", markup=False)
    sys.exit(EXIT_MISMATCH)


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
@click.pass_obj
def serve(
    settings: Settings, host: str, port: int, publish_interval: float, rate_limit: float
) -> None:
    """Serve the public log API over HTTP, and the admin API when the key is readable.

    With the signing key (--key, TALLY_KEY_FILE) the server also serves /admin/v1 to
    holders of tokens from 'tally token create', and signs checkpoints itself every
    --publish-interval seconds and after each admin write. Without it, it serves the
    public API only, read-only.
    """
    try:
        store = Store(settings.db)
        store.require_meta()
    except LedgerError as exc:
        fail(exc)
    ledger = _signing_ledger(store, settings.key)
    _serve(store, host, port, ledger=ledger, publish_interval=publish_interval, rate=rate_limit)


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
@click.option("--periods", default=14, show_default=True, type=click.IntRange(1, 48))
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
    """Build a demo ledger (creating the database and key if needed), then serve it."""
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
    except LedgerError as exc:
        ledger.close()
        fail(exc)
    if no_serve:
        ledger.close()
        say(f"Demo ledger {meta.origin}: {size} entries in {settings.db}")
        return
    base = f"http://{host}:{port}"
    sample = _sample_member(ledger)
    say(f"\nServing the demo log {meta.origin} ({size} entries) at {base}")
    say(f"The members' page: {base}/  (the plan, 公示, a statement checked in the browser)")
    say("Try:")
    say(f"  curl {base}/v1/log")
    say(f"  curl {base}/v1/checkpoint")
    say(f"  curl '{base}/v1/entries?start=0&end=3'          # genesis, the rules, a member")
    say(f"  curl '{base}/v1/proof/inclusion?seq=42&tree_size={size}'")
    say(f"  curl '{base}/v1/proof/consistency?first=1000&second={size}'")
    say(f"  curl {base}/v1/stats                       # each period: members, aid, fee, share")
    say(f"  curl '{base}/v1/claims?status=paid'")
    if sample is not None:
        say(f"  {base}/#/statement?member={sample}   # their statement, checked in the browser")
        say(f"  curl '{base}/v1/members/{sample}/statement'   # how this member's share was used")
        say(f"  .venv/bin/tally-verify init {base}   # then, checking every number:")
        say(f"  .venv/bin/tally-verify statement --member {sample}")
    say(f"  open {base}/docs for the API's own documentation")
    say(f"  tally --db {settings.db} plan status     # in another terminal")
    say(f"  tally --db {settings.db} check           # re-derive the log and the plan")
    say(f"  tally --db {settings.db} token create --role operator --name demo")
    say("      # a token for the admin API at /admin/v1 (see the docs page)")
    say("Press Ctrl+C to stop.\n")
    _serve(ledger.store, host, port, ledger=ledger, publish_interval=publish_interval)


def _sample_member(ledger: Ledger) -> str | None:
    """A claimant paid in the last closed period, to show a statement with claims in it."""
    size = ledger.log.size()
    for _, raw in reversed(ledger.log.entries(max(0, size - 500), size)):
        entry = parse_entry(raw)
        if entry.type == "period.closed" and entry.body["claims"]:
            claim_seq = int(str(entry.body["claims"][0]).removeprefix("c-"))
            filed = parse_entry(ledger.log.entries(claim_seq, claim_seq + 1)[0][1])
            return str(filed.body["member"])
        if entry.type == "period.closed":
            return None
    return None


def _fill_demo(ledger: Ledger, seed: int, members: int, periods: int) -> None:
    if ledger.log.size() > 1:
        say(f"The database already holds a log of {ledger.log.size()} entries; serving it as is.")
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
    kinds = ", ".join(f"{count} {kind}" for kind, count in sorted(report.claims.items()))
    say(
        f"Built a plan of {report.members} members over {report.periods} half-month periods "
        f"({report.entries} entries); claims: {kinds}."
    )


def _serve(
    store: Store,
    host: str,
    port: int,
    *,
    ledger: Ledger | None = None,
    publish_interval: float = DEFAULT_PUBLISH_INTERVAL,
    rate: float = 50.0,
) -> None:
    import uvicorn

    from api.app import create_app

    try:
        app = create_app(
            store,
            ledger=ledger,
            publish_interval=publish_interval,
            rate=rate,
            burst=max(1, int(rate * 4)),
        )
    except LedgerError as exc:
        fail(exc)
    logging.basicConfig(level=logging.INFO, format="%(message)s")
    app.state.plan_view.warm_in_background()
    uvicorn.run(app, host=host, port=port, log_level="info", access_log=False)


# The plan's commands and the admin API's token commands register themselves on `main`.
from ledger import plan_cli, site_cli, token_cli  # noqa: E402, F401

if __name__ == "__main__":
    main()
