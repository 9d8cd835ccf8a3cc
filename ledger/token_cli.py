"""``tally token``: make, list and revoke the admin API's bearer tokens (ledger.tokens).

A token is printed once, when made, alone on standard output (so that it can be
piped into a secret store); what it is for goes to standard error. Only its hash is
kept, in the operator-private ``admin_token`` table, never on the log.
"""

from __future__ import annotations

import click

from ledger.cli import Settings, err, fail, main, say, store_options
from ledger.errors import LedgerError
from ledger.log.store import Store
from ledger.tokens import ROLES, create_token, list_tokens, revoke_token


def _store(settings: Settings) -> Store:
    try:
        store = Store(settings.db)
    except LedgerError as exc:
        fail(exc)
    try:
        store.require_meta()
    except LedgerError as exc:
        store.dispose()
        fail(exc)
    return store


@main.group()
def token() -> None:
    """Bearer tokens for the admin API: operators, and jurors casting their own votes."""


@token.command("create")
@store_options
@click.option("--role", type=click.Choice(ROLES), required=True)
@click.option("--juror", "juror", default=None, help="The member id a juror token is bound to.")
@click.option(
    "--name",
    default=None,
    help="Who holds it (letters, digits, . _ @ -); operator entries carry operator:NAME.",
)
@click.pass_obj
def token_create(settings: Settings, role: str, juror: str | None, name: str | None) -> None:
    """Make a token and print it, once: only its hash is kept."""
    store = _store(settings)
    try:
        info, secret = create_token(store, role, juror=juror, name=name)
    except LedgerError as exc:
        fail(exc)
    finally:
        store.dispose()
    bound = f" for juror {info.juror}" if info.juror else ""
    err.print(
        f"Created {info.role} token {info.id}{bound} (entries as {info.actor}). "
        "It is shown only this once; keep it secret:",
        markup=False,
    )
    say(secret)


@token.command("list")
@store_options
@click.pass_obj
def token_list(settings: Settings) -> None:
    """List tokens (id, role, juror, name, created, revoked); never the tokens themselves."""
    store = _store(settings)
    try:
        tokens = list_tokens(store)
    except LedgerError as exc:
        fail(exc)
    finally:
        store.dispose()
    say("id\trole\tjuror\tname\tcreated\trevoked")
    for info in tokens:
        say(
            "\t".join(
                [
                    info.id,
                    info.role,
                    info.juror or "-",
                    info.name or "-",
                    info.created,
                    info.revoked or "-",
                ]
            )
        )


@token.command("revoke")
@store_options
@click.argument("token_id")
@click.pass_obj
def token_revoke(settings: Settings, token_id: str) -> None:
    """Revoke a token by id: it is refused from the next request on."""
    store = _store(settings)
    try:
        info = revoke_token(store, token_id)
    except LedgerError as exc:
        fail(exc)
    finally:
        store.dispose()
    say(f"Revoked {info.id} ({info.role}) at {info.revoked}.")
