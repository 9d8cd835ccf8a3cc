"""``tally`` commands for running the plan (specs/plan.md): one command per step.

Every command is checked against the plan's rules before anything is appended; a
refusal names the rule and exits 3. ``--at`` sets the entry time (default: now),
for importing history or running a simulation.
"""

from __future__ import annotations

import base64
import csv
import hashlib
import json
import os
import secrets
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import click
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from rich.progress import Progress

from ledger.cli import Settings, err, fail, main, say, store_options
from ledger.domain.plan import Plan
from ledger.domain.rules import parse_rules, reference_rules
from ledger.domain.vote import sign_vote
from ledger.errors import KeyFormatError, LedgerError
from ledger.instance import open_ledger
from ledger.log.entry import parse_time

at_option = click.option(
    "--at", "at", default=None, help="Entry time, YYYY-MM-DDTHH:MM:SSZ (default: now)."
)


@contextmanager
def opened(settings: Settings) -> Iterator[Plan]:
    """The plan in the configured ledger; ledger errors become sentences and exit codes."""
    try:
        ledger = open_ledger(settings.db, settings.key)
    except LedgerError as exc:
        fail(exc)
    try:
        yield Plan(ledger)
    except LedgerError as exc:
        fail(exc)
    finally:
        ledger.close()


def _check_time(at: str | None) -> str | None:
    if at is not None:
        try:
            parse_time(at)
        except LedgerError as exc:
            fail(exc)
    return at


def _read(path: Path) -> bytes:
    try:
        return path.read_bytes()
    except OSError as exc:
        raise click.BadParameter(f"cannot read {path}: {exc.strerror}") from None


# -- rules ------------------------------------------------------------------------


@main.group()
def rules() -> None:
    """The plan's rules: versioned, announced with notice."""


@rules.command("reference")
@click.option("--effective", required=True, help="When the version takes force.")
@click.option("--version", "version", default=1, show_default=True, type=click.IntRange(1))
def rules_reference(effective: str, version: int) -> None:
    """Print the reference rules (after 相互宝) as JSON, to edit and announce."""
    _check_time(effective)
    click.echo(
        json.dumps(reference_rules(effective, version).to_body(), indent=2, ensure_ascii=False)
    )


@rules.command("announce")
@store_options
@click.argument("path", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@at_option
@click.pass_obj
def rules_announce(settings: Settings, path: Path, at: str | None) -> None:
    """Announce a rules version from a JSON file (see `tally rules reference`)."""
    try:
        body = json.loads(_read(path))
    except json.JSONDecodeError as exc:
        raise click.BadParameter(f"{path} is not JSON: {exc}") from None
    with opened(settings) as plan:
        try:
            parsed = parse_rules(body)
        except LedgerError as exc:
            fail(exc)
        appended = plan.set_rules(parsed, at=_check_time(at))
    say(
        f"Rules version {parsed.version} announced at seq {appended.seq}; "
        f"in force from {parsed.effective}."
    )


@rules.command("show")
@store_options
@click.pass_obj
def rules_show(settings: Settings) -> None:
    """Print every rules version as JSON."""
    with opened(settings) as plan:
        versions = [r.to_body() for r in plan.state.rules]
    click.echo(json.dumps(versions, indent=2, ensure_ascii=False))


# -- members ----------------------------------------------------------------------


@main.group()
def member() -> None:
    """Members: join, leave, bulk import, erase private records."""


@member.command("join")
@store_options
@click.option("--age-band", type=click.Choice(["0-39", "40-59"]), required=True)
@click.option(
    "--identity",
    type=click.Path(exists=True, dir_okay=False, path_type=Path),
    required=True,
    help="A JSON file with the person's identity record (kept off the log).",
)
@at_option
@click.pass_obj
def member_join(settings: Settings, age_band: str, identity: Path, at: str | None) -> None:
    """A member joins; prints their pseudonym."""
    try:
        record = json.loads(_read(identity))
    except json.JSONDecodeError as exc:
        raise click.BadParameter(f"{identity} is not JSON: {exc}") from None
    with opened(settings) as plan:
        member_id, appended = plan.join(age_band, record, at=_check_time(at))
    say(f"{member_id} joined at seq {appended.seq}.")


@member.command("import")
@store_options
@click.argument("path", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.option("--batch", default=2_000, show_default=True, type=click.IntRange(1, 10_000))
@at_option
@click.pass_obj
def member_import(settings: Settings, path: Path, batch: int, at: str | None) -> None:
    """Bulk join from a CSV with a header; column age_band, the others are the identity record.

    Prints one line per member: the row number and the new pseudonym.
    """
    try:
        with path.open(newline="", encoding="utf-8") as handle:
            rows = list(csv.DictReader(handle))
    except (OSError, UnicodeDecodeError, csv.Error) as exc:
        raise click.BadParameter(f"cannot read {path} as UTF-8 CSV: {exc}") from None
    people = []
    for number, row in enumerate(rows, start=2):
        band = row.pop("age_band", None)
        if band not in ("0-39", "40-59"):
            raise click.BadParameter(
                f"line {number}: expected age_band 0-39 or 40-59, found {band!r}"
            )
        people.append((band, {k: v for k, v in row.items() if k is not None}))
    joined: list[str] = []
    with opened(settings) as plan, Progress(console=err, transient=True) as bar:
        task = bar.add_task("importing members", total=len(people))
        for start in range(0, len(people), batch):
            chunk = plan.join_many(people[start : start + batch], at=_check_time(at))
            joined.extend(m for m, _ in chunk)
            bar.update(task, completed=len(joined))
    for number, member_id in enumerate(joined, start=2):
        say(f"{number}\t{member_id}")
    err.print(f"Imported {len(joined)} members.", markup=False)


@member.command("leave")
@store_options
@click.argument("member_id")
@at_option
@click.pass_obj
def member_leave(settings: Settings, member_id: str, at: str | None) -> None:
    """A member leaves the plan."""
    with opened(settings) as plan:
        appended = plan.leave(member_id, at=_check_time(at))
    say(f"{member_id} left at seq {appended.seq}.")


@member.command("erase")
@store_options
@click.argument("member_id")
@click.pass_obj
def member_erase(settings: Settings, member_id: str) -> None:
    """Erase a member's identity record and salt; the log stays verifiable."""
    with opened(settings) as plan:
        erased = plan.erase(member_id)
    say(
        f"Erased the private record of {member_id}."
        if erased
        else f"No private record of {member_id}."
    )


# -- jurors -----------------------------------------------------------------------


@main.group()
def juror() -> None:
    """Jurors: make a key, enrol, sign a vote offline."""


@juror.command("keygen")
@click.option("--out", type=click.Path(dir_okay=False, path_type=Path), required=True)
def juror_keygen(out: Path) -> None:
    """Make a juror's Ed25519 key (file mode 0600); prints the public key to enrol."""
    seed = Ed25519PrivateKey.generate().private_bytes_raw()
    try:
        fd = os.open(out, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    except FileExistsError:
        fail(KeyFormatError(f"a key file already exists at {out}; refusing to overwrite it"))
    with os.fdopen(fd, "w") as handle:
        handle.write(base64.b64encode(seed).decode() + "\n")
    public = Ed25519PrivateKey.from_private_bytes(seed).public_key().public_bytes_raw()
    say(base64.b64encode(public).decode())


@juror.command("enrol")
@store_options
@click.argument("member_id")
@click.argument("public_key")
@at_option
@click.pass_obj
def juror_enrol(settings: Settings, member_id: str, public_key: str, at: str | None) -> None:
    """Enrol a member as a juror with their public key (base64, from `tally juror keygen`)."""
    try:
        key = base64.b64decode(public_key, validate=True)
    except ValueError:
        raise click.BadParameter("expected the public key in base64") from None
    with opened(settings) as plan:
        appended = plan.enrol_juror(member_id, key, at=_check_time(at))
    say(f"{member_id} is a juror from seq {appended.seq}.")


@juror.command("sign")
@click.option(
    "--key", "key_file", type=click.Path(exists=True, dir_okay=False, path_type=Path), required=True
)
@click.option("--origin", required=True, help="The log's origin (from GET /v1/log).")
@click.option("--juror", "juror_id", required=True, help="Your member id.")
@click.option("--claim", required=True)
@click.option("--choice", type=click.Choice(["approve", "deny"]), required=True)
@click.option(
    "--rationale", type=click.Path(exists=True, dir_okay=False, path_type=Path), required=True
)
def juror_sign(
    key_file: Path, origin: str, juror_id: str, claim: str, choice: str, rationale: Path
) -> None:
    """Sign a vote offline with your own key; prints the vote as JSON for `tally claim vote`."""
    if key_file.stat().st_mode & 0o077:
        fail(KeyFormatError(f"expected {key_file} to be readable by its owner only (mode 0600)"))
    try:
        seed = base64.b64decode(key_file.read_text().strip(), validate=True)
    except ValueError:
        seed = b""
    if len(seed) != 32:
        fail(KeyFormatError(f"{key_file} is not a juror key made by `tally juror keygen`"))
    rationale_hash = hashlib.sha256(_read(rationale)).hexdigest()
    try:
        signature = sign_vote(seed, origin, claim, choice, rationale_hash)
    except LedgerError as exc:
        fail(exc)
    vote = {
        "claim": claim,
        "juror": juror_id,
        "choice": choice,
        "rationale_hash": rationale_hash,
        "signature": signature,
    }
    click.echo(json.dumps(vote, indent=2))


# -- claims -----------------------------------------------------------------------


@main.group()
def claim() -> None:
    """Claims, from filing to payment (and reversal)."""


@claim.command("file")
@store_options
@click.argument("member_id")
@click.argument("condition")
@click.argument("amount_fen", type=click.IntRange(1))
@click.option("--diagnosed", required=True, help="Diagnosis time, YYYY-MM-DDTHH:MM:SSZ.")
@click.option(
    "--evidence", type=click.Path(exists=True, dir_okay=False, path_type=Path), required=True
)
@at_option
@click.pass_obj
def claim_file(
    settings: Settings,
    member_id: str,
    condition: str,
    amount_fen: int,
    diagnosed: str,
    evidence: Path,
    at: str | None,
) -> None:
    """File a claim; the evidence stays off the log, only its hash goes on."""
    _check_time(diagnosed)
    with opened(settings) as plan:
        claim_id = plan.file_claim(
            member_id, condition, amount_fen, diagnosed, _read(evidence), at=_check_time(at)
        )
    say(f"Filed {claim_id}.")


@claim.command("assess")
@store_options
@click.argument("claim_id")
@click.argument("decision", type=click.Choice(["approve", "deny"]))
@click.argument("amount_fen", type=click.IntRange(0))
@click.option("--reason", required=True)
@click.option(
    "--report", type=click.Path(exists=True, dir_okay=False, path_type=Path), required=True
)
@at_option
@click.pass_obj
def claim_assess(
    settings: Settings,
    claim_id: str,
    decision: str,
    amount_fen: int,
    reason: str,
    report: Path,
    at: str | None,
) -> None:
    """The operator's assessment (the investigation report stays off the log)."""
    with opened(settings) as plan:
        appended = plan.assess(
            claim_id, decision, amount_fen, reason, _read(report), at=_check_time(at)
        )
    say(f"Assessed {claim_id} ({decision}) at seq {appended.seq}.")


def _simple(name: str, help_text: str, method: str) -> None:
    @claim.command(name, help=help_text)
    @store_options
    @click.argument("claim_id")
    @at_option
    @click.pass_obj
    def command(settings: Settings, claim_id: str, at: str | None) -> None:
        with opened(settings) as plan:
            appended = getattr(plan, method)(claim_id, at=_check_time(at))
        say(f"{name.capitalize()}: {claim_id} at seq {appended.seq}.")


_simple("disclose", "Disclose a claim's anonymised fields; objections open.", "disclose")
_simple(
    "pool", "Sign the juror pool fixed at the appeal; the appellant reveals after it.", "sign_pool"
)
_simple("decide", "Record the decision the assessment, votes and rules give.", "decide")
_simple("pay", "Pay a claim decided approved.", "pay")


@claim.command("object")
@store_options
@click.argument("claim_id")
@click.argument("objector")
@click.option("--reason", required=True)
@at_option
@click.pass_obj
def claim_object(
    settings: Settings, claim_id: str, objector: str, reason: str, at: str | None
) -> None:
    """A member objects to a disclosed claim."""
    with opened(settings) as plan:
        appended = plan.object(claim_id, objector, reason, at=_check_time(at))
    say(f"Objection to {claim_id} by {objector} at seq {appended.seq}.")


@claim.command("secret")
def claim_secret() -> None:
    """For an appellant: make a secret and its commitment (keep the secret until the draw)."""
    secret = secrets.token_bytes(32)
    say(json.dumps({"secret": secret.hex(), "commitment": hashlib.sha256(secret).hexdigest()}))


@claim.command("appeal")
@store_options
@click.argument("claim_id")
@click.argument("appellant")
@click.option("--commitment", required=True, help="SHA-256 of the appellant's secret, hex.")
@at_option
@click.pass_obj
def claim_appeal(
    settings: Settings, claim_id: str, appellant: str, commitment: str, at: str | None
) -> None:
    """An appeal; the juror pool is fixed now."""
    with opened(settings) as plan:
        appended = plan.appeal(claim_id, appellant, commitment, at=_check_time(at))
    say(f"Appeal of {claim_id} by {appellant} at seq {appended.seq}.")


@claim.command("draw")
@store_options
@click.argument("claim_id")
@click.option("--secret", required=True, help="The appellant's revealed secret, hex.")
@at_option
@click.pass_obj
def claim_draw(settings: Settings, claim_id: str, secret: str, at: str | None) -> None:
    """Draw the panel from the fixed pool with the revealed secret; prints the jurors."""
    try:
        secret_bytes = bytes.fromhex(secret)
    except ValueError:
        raise click.BadParameter("expected the secret in hex") from None
    with opened(settings) as plan:
        jurors = plan.draw_panel(claim_id, secret_bytes, at=_check_time(at))
    say(f"Panel for {claim_id}: {' '.join(jurors)}")


@claim.command("vote")
@store_options
@click.argument("path", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@at_option
@click.pass_obj
def claim_vote(settings: Settings, path: Path, at: str | None) -> None:
    """Record a vote a juror signed with `tally juror sign`."""
    try:
        vote: dict[str, Any] = json.loads(_read(path))
        fields = [str(vote[k]) for k in ("claim", "juror", "choice", "rationale_hash", "signature")]
    except (json.JSONDecodeError, KeyError, TypeError) as exc:
        raise click.BadParameter(
            f"{path} is not a vote made by `tally juror sign`: {exc}"
        ) from None
    with opened(settings) as plan:
        appended = plan.cast_vote(*fields, at=_check_time(at))
    say(f"Vote by {fields[1]} on {fields[0]} recorded at seq {appended.seq}.")


@claim.command("reverse")
@store_options
@click.argument("claim_id")
@click.argument("recovered_fen", type=click.IntRange(1))
@click.option("--reason", required=True)
@at_option
@click.pass_obj
def claim_reverse(
    settings: Settings, claim_id: str, recovered_fen: int, reason: str, at: str | None
) -> None:
    """Fraud found after payment: a compensating entry, never an edit."""
    with opened(settings) as plan:
        appended = plan.reverse(claim_id, recovered_fen, reason, at=_check_time(at))
    say(f"Reversed {claim_id} ({recovered_fen} fen recovered) at seq {appended.seq}.")


# -- periods and the plan ------------------------------------------------------------


@main.group()
def period() -> None:
    """Periods: close the next one."""


@period.command("close")
@store_options
@at_option
@click.pass_obj
def period_close(settings: Settings, at: str | None) -> None:
    """Close the next period: apportion it, store its contribution tree, sign a checkpoint."""
    with opened(settings) as plan:
        body = plan.close_period(at=_check_time(at))
        plan.ledger.publisher.publish()
    say(
        f"Closed {body['period']}: {body['members']} members, aid {body['aid_fen']} fen, "
        f"fee {body['fee_fen']} fen, share {body['share_fen']} fen, "
        f"carried {body['carry_out_fen']} fen, subsidy {body['subsidy_fen']} fen."
    )


@main.group("plan")
def plan_group() -> None:
    """The plan as a whole."""


@plan_group.command("status")
@store_options
@click.pass_obj
def plan_status(settings: Settings) -> None:
    """Summarise the plan as its entries describe it."""
    with opened(settings) as plan:
        state = plan.state
        now = plan.time()
        active = sum(1 for m in state.members.values() if m.active_at(now))
        jurors = sum(1 for m in state.members.values() if m.juror_key is not None)
        closed = state.closed[-1].period if state.closed else "none"
        version = state.rules[-1].version if state.rules else "none"
    say(
        f"Rules version {version}; {active} active members ({len(state.members)} ever), "
        f"{jurors} jurors; {len(state.claims)} claims; last closed period {closed}."
    )


@plan_group.command("wind-down")
@store_options
@click.option("--claims-until", required=True, help="Last time claims may be filed.")
@at_option
@click.pass_obj
def plan_wind_down(settings: Settings, claims_until: str, at: str | None) -> None:
    """Wind the plan down: no more joins; claims may be filed until the given time."""
    _check_time(claims_until)
    with opened(settings) as plan:
        appended = plan.wind_down(claims_until, at=_check_time(at))
    say(f"The plan is wound down from seq {appended.seq}; claims until {claims_until}.")
