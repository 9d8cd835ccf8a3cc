"""``tally-verify audit [URL | --dir DUMP]``: replay the whole log from genesis."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import click

from verifier.audit_dump import DumpAudit, audit_dump, audit_dump_links, missing_dump_file
from verifier.audit_online import AuditOutcome, audit_links, audit_log
from verifier.b64 import encode
from verifier.checkpoint import Checkpoint
from verifier.commands.app import App, evidence_option, parse_url
from verifier.errors import VerificationError
from verifier.note import Verifier, parse_verifier_key
from verifier.session import open_session

TILES_SENTENCE = (
    "The entries were read from the server's C2SP tiles (entry bundles), and its hash "
    "tiles give the same signed root."
)


@click.command(short_help="Replay the log from genesis: entries, chain, root, the plan's rules.")
@click.argument("url", required=False)
@click.option(
    "--dir",
    "dump_dir",
    type=click.Path(exists=True, file_okay=False, path_type=Path),
    help="Audit an offline dump (see `dump`) instead of a server.",
)
@click.option("--from-start", is_flag=True, help="Replay from genesis, ignoring saved progress.")
@click.option(
    "--key", "key_text", help="With --dir: the log's verifier key [default: the pinned one]."
)
@evidence_option
@click.option(
    "--log-only",
    is_flag=True,
    help="Check only the hash chain and the tree, as a log monitor does: quicker, but "
    "neither the entries' own rules nor the plan's rules are checked.",
)
@click.option(
    "--tiles",
    is_flag=True,
    help="Read the log from its C2SP tiles alone (/checkpoint, entry bundles, hash tiles) "
    "instead of /v1/, and check that its hash tiles give the signed root too: audits a "
    "static copy of the log (tally tiles export) as well as a server.",
)
@click.pass_obj
def audit(
    app: App,
    url: str | None,
    dump_dir: Path | None,
    from_start: bool,
    key_text: str | None,
    log_only: bool,
    tiles: bool,
) -> None:
    """Replay the whole log from genesis: every entry, the chain, the root, the plan's rules.

    Fetches and checks a fresh checkpoint first (as `checkpoint` does), then pages
    through the entries up to its size, saving progress as it goes; a later run
    resumes there unless --from-start. The mutual-aid plan's rules (specs/plan.md)
    are replayed over the same entries, always from genesis: a resumed run re-reads
    the entries before its resume point for that part only, and checks they are the
    ones the earlier run saw. URL defaults to the saved one (another server of the
    same log may be given). With --dir, audits an offline dump, always from genesis;
    with --dir --log-only, it is not compared with your saved checkpoint. With
    --log-only, checks the chain and the tree of all the entries and nothing else
    (specs/log.md §3); it neither resumes nor saves progress. With --tiles, the
    checkpoint, the entries and the consistency with the saved checkpoint come from
    the C2SP tiles alone (a static copy of the log will do), and the tiles' own root
    must be the signed one.
    """
    _refuse_combinations(app, url, dump_dir, from_start, key_text, log_only, tiles)
    if dump_dir is not None:
        if log_only:
            _dump_links(app, dump_dir, key_text)
        else:
            _dump(app, dump_dir, key_text)
        return
    base = None if url is None else parse_url(url)
    with open_session(app.state_dir, app.timeout, base, tiles=tiles) as session:
        if log_only:
            outcome = audit_links(session, tiles=tiles, progress=app.progress)
        else:
            outcome = audit_log(session, from_start=from_start, tiles=tiles, progress=app.progress)
    if log_only:
        _finish_links(app, outcome, tiles)
    else:
        _finish(app, outcome, tiles)


def _refuse_combinations(
    app: App,
    url: str | None,
    dump_dir: Path | None,
    from_start: bool,
    key_text: str | None,
    log_only: bool,
    tiles: bool,
) -> None:
    """Options that would be ignored together are refused, each saying why."""
    refusals = [
        (url is not None and dump_dir is not None, "give a URL or --dir DUMP, not both"),
        (log_only and from_start, "--log-only always replays from genesis; drop --from-start"),
        (tiles and dump_dir is not None, "--tiles reads a server's tiles; a dump has none"),
        (
            from_start and dump_dir is not None,
            "--dir always replays the dump from genesis; drop --from-start",
        ),
        (
            log_only and dump_dir is not None and app.evidence_path is not None,
            "--dir --log-only does not compare the dump with your saved checkpoint, so it "
            "writes no fork evidence; drop --evidence",
        ),
        (
            key_text is not None and dump_dir is None,
            "--key is for --dir; online, the key pinned by init is used",
        ),
    ]
    for refused, why in refusals:
        if refused:
            raise click.UsageError(why)


def _finish(app: App, outcome: AuditOutcome, tiles: bool) -> None:
    checkpoint, grown, plan = outcome.growth.new, outcome.growth, outcome.plan
    assert plan is not None
    n = checkpoint.size
    lines = [
        grown.sentence(),
        audit_sentence(outcome.start, n),
        plan.sentence(),
        *plan.action_lines(),
        *plan.finding_lines(),
    ]
    if tiles:
        lines.append(TILES_SENTENCE)
    app.finish(
        {
            "command": "audit",
            "source": outcome.source,
            "read_from": "tiles" if tiles else "entries",
            "tree_size": n,
            "root": encode(checkpoint.root),
            "start_seq": outcome.start,
            "entries_checked": n - outcome.start,
            "violations": [],
            "plan": plan.json(),
            **{f"checkpoint_{k}": v for k, v in grown.json().items()},
        },
        lines,
    )


def _finish_links(app: App, outcome: AuditOutcome, tiles: bool) -> None:
    checkpoint = outcome.growth.new
    app.finish(
        {
            **_links_result(outcome.source, checkpoint, outcome.growth.json()),
            "read_from": "tiles" if tiles else "entries",
        },
        [
            outcome.growth.sentence(),
            _links_sentence(checkpoint.size),
            *([TILES_SENTENCE] if tiles else []),
        ],
    )


def audit_sentence(start: int, n: int) -> str:
    """What a passed replay of entries ``start`` to ``n - 1`` showed."""
    if start == 0:
        return (
            f"Replayed all {n:,} entries from genesis: each is well-formed, the hash chain is "
            "unbroken, the genesis entry names the pinned key, and together they hash to the "
            "signed root."
        )
    if start < n:
        return (
            f"Replayed entries {start:,} to {n - 1:,} (the {start:,} before them were replayed "
            "by an earlier audit; --from-start replays them again): each is well-formed, the "
            f"chain is unbroken, and all {n:,} entries hash to the signed root."
        )
    return f"All {n:,} entries were replayed by an earlier audit, and they hash to the signed root."


def _links_sentence(n: int) -> str:
    return (
        f"Checked the chain and the tree of all {n:,} entries: the hash chain is unbroken "
        "from genesis and the entries hash to the signed root. Their contents were not "
        "checked (--log-only): the entry rules and the plan's rules need a full audit."
    )


def _links_result(source: str, checkpoint: Checkpoint, grown: dict[str, Any]) -> dict[str, Any]:
    return {
        "command": "audit",
        "mode": "log-only",
        "source": source,
        "tree_size": checkpoint.size,
        "root": encode(checkpoint.root),
        "start_seq": 0,
        "entries_checked": checkpoint.size,
        "violations": [],
        **{f"checkpoint_{k}": v for k, v in grown.items()},
    }


def _dump_key(app: App, folder: Path, key_text: str | None) -> Verifier:
    """The key to check a dump with: --key, else the pinned one. Checks it is a dump."""
    missing = missing_dump_file(folder)
    if missing is not None:
        raise click.BadParameter(
            f"{folder} is not a dump: it has no {missing} file", param_hint="--dir"
        )
    if key_text is not None:
        try:
            return parse_verifier_key(key_text.strip())
        except VerificationError as exc:
            raise click.BadParameter(str(exc), param_hint="--key") from None
    state = app.state_dir.load()
    if state is not None:
        return state.verifier
    raise click.UsageError(
        "no state is set up to give the log's key: pass --key or run `tally-verify init`"
    )


def _dump(app: App, folder: Path, key_text: str | None) -> None:
    """Audit an offline dump, and compare it with the saved checkpoint if of the pinned key."""
    state = app.state_dir.load()
    key = _dump_key(app, folder, key_text)
    done = audit_dump(folder, key, state, progress=app.progress)
    checkpoint, plan = done.checkpoint, done.plan
    lines = [
        f"Audited the dump in {folder} of the log {key.name}.",
        audit_sentence(0, checkpoint.size),
        plan.sentence(),
        *plan.action_lines(),
        *plan.finding_lines(),
        *_saved_lines(done),
    ]
    app.finish(
        {
            "command": "audit",
            "source": f"dump:{folder}",
            "tree_size": checkpoint.size,
            "root": encode(checkpoint.root),
            "start_seq": 0,
            "entries_checked": checkpoint.size,
            "violations": [],
            "plan": plan.json(),
            "saved_checkpoint": "extends" if done.compared else "not compared",
        },
        lines,
    )


def _saved_lines(done: DumpAudit) -> list[str]:
    saved, size = done.saved, done.checkpoint.size
    if saved is None:
        return []
    if done.compared:
        return [
            "It is exactly the tree of your saved checkpoint."
            if saved.size == size
            else f"Its first {saved.size:,} entries are exactly the tree of your saved checkpoint."
        ]
    return [
        f"The dump ({size:,} entries) is older than your saved checkpoint "
        f"({saved.size:,}), so it was not compared with it."
    ]


def _dump_links(app: App, folder: Path, key_text: str | None) -> None:
    """``audit --dir --log-only``: the chain and the tree of a dump, one process per core."""
    key = _dump_key(app, folder, key_text)
    checkpoint = audit_dump_links(folder, key, progress=app.progress)
    app.finish(
        _links_result(f"dump:{folder}", checkpoint, {}),
        [
            f"Checked the dump in {folder} of the log {key.name}.",
            _links_sentence(checkpoint.size),
            "It was not compared with your saved checkpoint; an audit without --log-only "
            "does that.",
        ],
    )
