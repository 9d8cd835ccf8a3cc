"""``tally`` commands for running the plan (specs/plan.md): one command per step.

Every command is checked against the plan's rules before anything is appended; a
refusal names the rule and exits 3. ``--at`` sets the entry time (default: now),
for importing history in time order: never before the log's last entry, never
ahead of the clock. ``--clock`` (TALLY_CLOCK) sets the clock, for a rehearsal.
Every write says what it did in one sentence; amounts are printed in yuan with
fen in brackets. The claims' commands are in ledger.claim_cli, the bulk import in
ledger.import_cli.
"""

from __future__ import annotations

import base64
import hashlib
import json
import os
from pathlib import Path

import click
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from ledger.cli import Settings, fail, main, say, store_options, usage
from ledger.domain.rules import parse_rules, reference_rules
from ledger.domain.vote import sign_vote
from ledger.errors import KeyFormatError, LedgerError
from ledger.log.entry import parse_entry
from ledger.money import money
from ledger.plan_cli_support import at_option, check_time, opened, read_file, reading, seq
from ledger.publish.checkpoint import Checkpoint
from ledger.wording import count

# -- rules ------------------------------------------------------------------------


@main.group()
def rules() -> None:
    """The plan's rules: versioned, announced with notice."""


@rules.command("reference")
@click.option("--effective", required=True, help="When the version takes force.")
@click.option("--version", "version", default=1, show_default=True, type=click.IntRange(1))
@click.option(
    "--member-signatures",
    type=click.Choice(["required", "optional"]),
    default="required",
    show_default=True,
    help="optional: the operator may still act for members (a plan moving from an older "
    "log, or members imported from a file), each such action marked on the log.",
)
def rules_reference(effective: str, version: int, member_signatures: str) -> None:
    """Print the reference rules (after 相互宝) as JSON, to edit and announce."""
    check_time(effective, "--effective")
    rules = reference_rules(effective, version, member_signatures=member_signatures)
    click.echo(json.dumps(rules.to_body(), indent=2, ensure_ascii=False))


@rules.command("announce")
@store_options
@click.argument("path", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@at_option
@click.pass_obj
def rules_announce(settings: Settings, path: Path, at: str | None) -> None:
    """Announce a rules version from a JSON file (see `tally rules reference`)."""
    try:
        body = json.loads(read_file(path))
    except (json.JSONDecodeError, UnicodeDecodeError) as exc:
        raise click.BadParameter(f"{path} is not JSON: {exc}") from None
    with opened(settings) as plan:
        try:
            parsed = parse_rules(body)
        except LedgerError as exc:
            fail(exc)
        appended = plan.set_rules(parsed, at=check_time(at))
    say(
        f"Announced rules version {parsed.version}, in force from {parsed.effective} "
        f"({seq(appended)})."
    )


@rules.command("show")
@store_options
@click.pass_obj
def rules_show(settings: Settings) -> None:
    """Print every rules version as JSON (needs no key)."""
    with reading(settings) as plan:
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
@click.option(
    "--request",
    "request_path",
    type=click.Path(exists=True, dir_okay=False, path_type=Path),
    help="The person's signed join request (their member id and own key, specs/requests.md).",
)
@at_option
@click.pass_obj
def member_join(
    settings: Settings, age_band: str, identity: Path, request_path: Path | None, at: str | None
) -> None:
    """A member joins; prints their pseudonym. A person who is already a member is refused.

    With --request, the join is keyed: the member id and key are the person's own."""
    from ledger.request_cli import read_request

    request = None if request_path is None else read_request(request_path)
    if request is not None and request.type != "member.joined":
        raise click.BadParameter(f"expected a member.joined request, found {request.type}")
    try:
        record = json.loads(read_file(identity))
    except (json.JSONDecodeError, UnicodeDecodeError) as exc:
        raise click.BadParameter(f"{identity} is not JSON: {exc}") from None
    if not isinstance(record, dict) or not record:
        raise click.BadParameter(f"expected {identity} to hold a JSON object with the record")
    with opened(settings) as plan:
        ((member_id, appended),) = plan.join_many(
            [(age_band, record)], at=check_time(at), requests=[request]
        )
    say(f"Joined {member_id} (age band {age_band}) at {seq(appended)}.")


@member.command("leave")
@store_options
@click.argument("member_id")
@at_option
@click.pass_obj
def member_leave(settings: Settings, member_id: str, at: str | None) -> None:
    """A member leaves the plan."""
    with opened(settings) as plan:
        appended = plan.leave(member_id, at=check_time(at))
    say(f"{member_id} left the plan at {seq(appended)}.")


@member.command("recover-key")
@store_options
@click.argument("member_id")
@click.option("--new-key", required=True, help="The member's new public key (base64).")
@click.option(
    "--key-signature",
    required=True,
    help="The new key's own signature over its recovery message (specs/requests.md §3.2).",
)
@click.option("--effective", help="When the key takes force (default: the earliest notice allows).")
@at_option
@click.pass_obj
def member_recover_key(
    settings: Settings,
    member_id: str,
    new_key: str,
    key_signature: str,
    effective: str | None,
    at: str | None,
) -> None:
    """Give a member who lost their key a new one, in force after the rules' notice.

    Until then the old key may refuse it on the log (specs/plan.md §4.6)."""
    with opened(settings) as plan:
        appended = plan.recover_key(
            member_id, new_key, key_signature, effective=effective, at=check_time(at)
        )
    body = parse_entry(appended.raw).body
    say(
        f"Recovery of {member_id}'s key written at {seq(appended)}: the new key takes force "
        f"at {body['effective']} unless the old key refuses it before then."
    )


@member.command("erase")
@store_options
@click.argument("member_id")
@click.pass_obj
def member_erase(settings: Settings, member_id: str) -> None:
    """Erase a member's identity record and salt; the log stays verifiable."""
    with opened(settings) as plan:
        erased = plan.erase(member_id)
    say(
        f"Erased the private record of {member_id}; its entries stay on the log."
        if erased
        else f"Erased nothing: there is no private record of {member_id}."
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
    except OSError as exc:
        fail(KeyFormatError(f"cannot write a key file at {out}: {exc.strerror}"))
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
        appended = plan.enrol_juror(member_id, key, at=check_time(at))
    say(f"Enrolled {member_id} as a juror at {seq(appended)}.")


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
    except (ValueError, OSError):
        seed = b""
    if len(seed) != 32:
        fail(KeyFormatError(f"{key_file} is not a juror key made by `tally juror keygen`"))
    rationale_hash = hashlib.sha256(read_file(rationale)).hexdigest()
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


# -- periods and the plan ------------------------------------------------------------


@main.group()
def period() -> None:
    """Periods: close the next one, by name."""


@period.command("close")
@store_options
@click.option(
    "--period",
    "name",
    default=None,
    help="The period to close, for example 2025-07b: it must be the next one.",
)
@at_option
@click.pass_obj
def period_close(settings: Settings, name: str | None, at: str | None) -> None:
    """Close the next period: apportion it, store its contribution tree, sign a checkpoint.

    The period must be named, so that a command given twice cannot close two periods.
    """
    with opened(settings) as plan:
        following = plan.next_close()
        if name is None:
            hint = (
                f"the next is {following[0]} (cutoff {following[1]})"
                if following is not None
                else "there is none before the first rules version"
            )
            usage(f"expected --period naming the period to close: {hint}")
        body = plan.close_period(period=name, at=check_time(at))
        closed_at = plan.appended[0]
        signed = plan.ledger.publisher.publish()
        after = plan.next_close()
    say(_closed_sentence(body, closed_at.seq, signed.checkpoint))
    if after is not None:
        say(f"The next period to close is {after[0]}, from its cutoff {after[1]}.")


def _closed_sentence(body: dict[str, object], at_seq: int, signed: Checkpoint) -> str:
    def fen(key: str) -> str:
        value = body[key]
        assert isinstance(value, int)
        return money(value)

    members = body["members"]
    assert isinstance(members, int)
    return (
        f"Closed {body['period']} at seq {at_seq:,}: {count(members, 'member')}; aid "
        f"{fen('aid_fen')}, fee {fen('fee_fen')}, share {fen('share_fen')} each, carried "
        f"{fen('carry_out_fen')}, subsidy {fen('subsidy_fen')}; signed a checkpoint of "
        f"{count(signed.size, 'entry')}."
    )


@main.group("plan")
def plan_group() -> None:
    """The plan as a whole."""


@plan_group.command("wind-down")
@store_options
@click.option("--claims-until", required=True, help="Last time claims may be filed.")
@at_option
@click.pass_obj
def plan_wind_down(settings: Settings, claims_until: str, at: str | None) -> None:
    """Wind the plan down: no more joins; claims may be filed until the given time."""
    check_time(claims_until, "--claims-until")
    with opened(settings) as plan:
        appended = plan.wind_down(claims_until, at=check_time(at))
    say(
        f"Wound the plan down at {seq(appended)}: no one may join from now on, and claims "
        f"may be filed until {claims_until}."
    )


# The claims' commands, the bulk import and the lookups register themselves on the
# groups above.
from ledger import claim_cli, import_cli, lookup_cli  # noqa: E402, F401
