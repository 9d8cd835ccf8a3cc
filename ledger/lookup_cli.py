"""The operator's lookups: `tally member show`, `member find`, `claim queue`, `plan status`.

All read-only: they read the plan's state tables without the signing key and write
nothing. Each prints plain sentences, or the same facts as JSON with ``--json``.
"""

from __future__ import annotations

import json
from typing import Any

import click

from ledger.claim_cli import claim
from ledger.cli import Settings, say, store_options, usage
from ledger.domain.lookup import (
    LookupQueryError,
    MemberView,
    find_members,
    member_view,
    parse_fields,
)
from ledger.domain.queue import Deadlines, Waiting, claim_queue, deadlines, overview
from ledger.errors import LedgerError
from ledger.money import money
from ledger.plan_cli import member, plan_group
from ledger.plan_cli_support import reading
from ledger.wording import count

json_option = click.option("--json", "as_json", is_flag=True, help="Print the facts as JSON.")


def show_json(data: Any) -> None:
    """Print ``data`` as indented JSON (non-ASCII text as it is)."""
    say(json.dumps(data, indent=2, ensure_ascii=False))


@member.command("show")
@store_options
@click.argument("member_id")
@json_option
@click.pass_obj
def member_show(settings: Settings, member_id: str, as_json: bool) -> None:
    """A member: status, join and leaving, juror key, claims, charges (needs no key)."""
    with reading(settings) as plan, plan.store.reader() as conn:
        try:
            view = member_view(conn, plan.state, member_id, plan.now)
        except LedgerError as exc:
            usage(str(exc))
    if as_json:
        show_json(view.json())
        return
    for line in member_lines(view):
        say(line)


def member_lines(view: MemberView) -> list[str]:
    """A member's facts as sentences."""
    m = view.member
    lines = [
        f"{m.id}: {view.status}, age band {m.age_band}; joined {m.joined} (seq {m.joined_seq:,})"
        + ("" if m.left is None else f", left {m.left} (seq {m.left_seq:,})")
        + "."
    ]
    if m.juror_key is not None:
        lines.append(f"Juror since seq {m.juror_seq:,}, key {m.juror_key}.")
    if not view.identity_kept:
        lines.append("Their identity record was erased.")
    for c in view.claims:
        paid = (
            "" if c["paid_fen"] is None else f", paid {money(c['paid_fen'])} in {c['paid_period']}"
        )
        lines.append(
            f"Claim {c['claim']} ({c['condition']}, filed {c['filed']}): {c['status']}, "
            f"claimed {money(c['amount_fen'])}{paid}."
        )
    if not view.claims:
        lines.append("No claims.")
    total = sum(a for _, a in view.charges)
    lines.append(
        f"Charged {money(total)} over {count(len(view.charges), 'closed period')}"
        + (":" if view.charges else ".")
    )
    lines.extend(f"  {period}: {money(amount)}" for period, amount in view.charges)
    return lines


@member.command("find")
@store_options
@click.option("--name", help="The name in the identity record.")
@click.option("--phone", help="The phone number in the identity record.")
@click.option(
    "--field",
    "fields",
    multiple=True,
    metavar="FIELD=VALUE",
    help="Any other field of the identity record (repeatable).",
)
@click.option("--record-hash", help="The SHA-256 (hex) of the identity record's canonical JSON.")
@json_option
@click.pass_obj
def member_find(
    settings: Settings,
    name: str | None,
    phone: str | None,
    fields: tuple[str, ...],
    record_hash: str | None,
    as_json: bool,
) -> None:
    """Find members by their identity record; print each one's status (needs no key)."""
    try:
        wanted = parse_fields(fields)
    except LookupQueryError as exc:
        raise click.BadParameter(str(exc), param_hint="--field") from None
    wanted.update({k: v for k, v in (("name", name), ("phone", phone)) if v is not None})
    with reading(settings) as plan, plan.store.reader() as conn:
        try:
            found = find_members(conn, fields=wanted, record_hash=record_hash)
        except LookupQueryError as exc:
            usage(str(exc))
        views = [member_view(conn, plan.state, m, plan.now) for m in found if plan.state.member(m)]
    if as_json:
        show_json({"members": [v.json() for v in views]})
        return
    if not views:
        say("No member has that identity record.")
    for view in views:
        say(member_lines(view)[0])


@claim.command("queue")
@store_options
@json_option
@click.pass_obj
def claim_queue_command(settings: Settings, as_json: bool) -> None:
    """Claims waiting for a step, who must act, and by when (needs no key)."""
    with reading(settings) as plan:
        queue = claim_queue(plan.state, plan.now)
        now = plan.now
    if as_json:
        show_json({"now": now, "claims": [w.json() for w in queue]})
        return
    say(f"{count(len(queue), 'claim')} waiting at {now}" + (":" if queue else "."))
    for w in queue:
        say("  " + waiting_line(w))


def waiting_line(w: Waiting) -> str:
    """One claim of the queue as a sentence."""
    by = f", until {w.until}" if w.until else ", now"
    return f"{w.claim} ({w.member}) waits for {w.stage} by the {w.waits_on}{by}: {w.detail}."


@plan_group.command("status")
@store_options
@json_option
@click.pass_obj
def plan_status(settings: Settings, as_json: bool) -> None:
    """The plan now: rules, members, claims, the next cutoff, open windows (needs no key)."""
    with reading(settings) as plan:
        calendar = deadlines(plan.state, plan.now)
        facts = overview(plan.state, plan.now, calendar)
    if as_json:
        show_json(facts)
        return
    say(
        f"Rules version {facts['rules_version'] or 'none'}; "
        f"{count(facts['active_members'], 'active member')} ({facts['members_ever']:,} ever), "
        f"{count(facts['jurors'], 'juror')}; {count(facts['claims'], 'claim')}; "
        f"last closed period {facts['last_closed_period'] or 'none'}."
    )
    for line in calendar_lines(calendar):
        say(line)


def calendar_lines(calendar: Deadlines) -> list[str]:
    """The next cutoff, rules announced, open windows and the operator's pending work."""
    lines = []
    if calendar.next_period is not None:
        period, cutoff = calendar.next_period, calendar.next_cutoff
        lines.append(
            f"Next period {period}: its cutoff {cutoff} has passed; close it with "
            f"`tally period close --period {period}`."
            if calendar.closable
            else f"Next period {period}: its cutoff is {cutoff}."
        )
    for version, effective in calendar.announced:
        lines.append(f"Rules version {version} is announced, in force from {effective}.")
    windows, work = calendar.open_windows(), calendar.operator_work()
    lines.append(
        f"{count(len(windows), 'claim')} in a window members act in" + (":" if windows else ".")
    )
    lines.extend("  " + waiting_line(w) for w in windows)
    colon = ":" if work else "."
    lines.append(f"{count(len(work), 'claim')} waiting on the operator{colon}")
    lines.extend("  " + waiting_line(w) for w in work)
    return lines
