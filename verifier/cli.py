"""``tally-verify``: a member's own check of a Tally log (the log level).

It trusts only the log's public key (given, or pinned on first use), the specs,
and its own saved state (:mod:`verifier.state`); the server is asked for data and
never believed about anything the verifier can recompute.

Commands:

``init URL [--key KEY]``
    Pin the log's key and save its latest checkpoint, verified (checkpoint.md).
``checkpoint``
    Fetch the latest checkpoint, verify it with the pinned key, and check with a
    consistency proof that it extends the saved one (tree.md §5); save it.
``audit [URL | --dir DUMP]``
    Replay the log from genesis (log.md §2-3, entries.md), resumably, up to a
    freshly verified checkpoint, and compare the recomputed root (tree.md §1);
    and replay the mutual-aid plan's rules over the same entries (plan.md §2-§9,
    :mod:`verifier.plan.state`). The plan part always starts at genesis: a resumed
    audit re-reads the entries it skips for the plan only.
``dump DIR``
    Save the log, verified as it is fetched, as a dump that ``audit --dir`` replays.
``evidence FILE``
    Re-check a fork or receipt evidence file offline (:mod:`verifier.fork`,
    :mod:`verifier.receipt_evidence`).
``statement --member ID [--period P] [--bundle FILE]``
    Fetch (or read) the member's statement and verify it completely
    (specs/statement.md §3, :mod:`verifier.statement`).
``bundle FILE [--key KEY]``
    The same checks on a saved statement bundle, offline.
``receipt FILE``
    Check a write receipt (specs/receipt.md) with the pinned key, then that the
    log kept its promise: entry found with the promised hash (exit 0), not yet
    covered before covered-by (exit 0, status ``not_yet_covered``), or censorship
    or equivocation after it (exit 3, evidence file).
``member keygen | join-request | object | appeal | leave | enrol-juror | check``
    The member's own key and signed requests (specs/requests.md): make the key,
    write the join request, sign and post an action and keep its receipt, and check
    that every action in the member's name is one they signed
    (:mod:`verifier.commands.member`). A request the log refuses exits 1.

Each command is a module of :mod:`verifier.commands`; the judgement is the
library's. Exit codes:

====  =====================================================================
0     success
1     verification failure: a check failed (bad signature, bad proof, bad
      entry, chain break, wrong key), or an evidence file proves nothing
2     usage error: bad arguments or options that cannot go together, no
      state yet (run ``init``), unusable state folder or dump folder, a
      member or period the log does not know, a file that is the server's
      error answer
3     fork: the log's key signed two inconsistent histories (evidence saved)
4     network or server error: unreachable, timeout, HTTP error status,
      malformed, oversized or truncated answer; nothing is concluded
130   interrupted; progress saved so far is kept
====  =====================================================================
"""

from __future__ import annotations

from pathlib import Path

import click

from verifier.client import DEFAULT_TIMEOUT
from verifier.commands.app import EXIT_CODES_HELP, App, Group
from verifier.commands.audit import audit
from verifier.commands.bundle import bundle
from verifier.commands.checkpoint import checkpoint
from verifier.commands.dump import dump
from verifier.commands.evidence import evidence
from verifier.commands.init import init
from verifier.commands.member import member
from verifier.commands.receipt import receipt
from verifier.commands.statement import statement
from verifier.state import StateDir, default_state_dir


@click.group(cls=Group, epilog=EXIT_CODES_HELP, context_settings={"max_content_width": 100})
@click.option(
    "--state",
    "state_path",
    type=click.Path(file_okay=False, path_type=Path),
    envvar="TALLY_VERIFY_STATE",
    help="The state folder [default: $XDG_STATE_HOME/tally-verify or "
    "~/.local/state/tally-verify; env TALLY_VERIFY_STATE].",
)
@click.option("--json", "as_json", is_flag=True, help="Print one JSON object instead of sentences.")
@click.option(
    "--timeout",
    type=click.FloatRange(min=0, min_open=True),
    default=DEFAULT_TIMEOUT,
    show_default=True,
    help="Seconds to wait to connect and for each read.",
)
@click.pass_context
def cli(ctx: click.Context, state_path: Path | None, as_json: bool, timeout: float) -> None:
    """Check a Tally log yourself: its signed checkpoints, its entries, its history.

    Start with `tally-verify init URL --key KEY`, using the key your plan
    publishes; then run `tally-verify checkpoint` now and then to check that the
    log only ever grows, and `tally-verify audit` to replay all of it.
    """
    ctx.obj = App(StateDir(state_path or default_state_dir()), as_json, timeout)


for _command in (init, checkpoint, audit, dump, evidence, statement, bundle, receipt, member):
    cli.add_command(_command)


def main() -> None:
    """The ``tally-verify`` entry point."""
    cli.main(prog_name="tally-verify")


if __name__ == "__main__":  # pragma: no cover
    main()
