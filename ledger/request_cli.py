"""``tally request append FILE``: the operator appends a member's signed request.

A member who cannot reach ``POST /v1/requests`` hands the operator the request
document their tool wrote (specs/requests.md §5); the operator appends it as the
member's own entry, checked against every rule like any command. A join request is
appended with the person's identity instead: ``tally member join --request FILE``.
"""

from __future__ import annotations

import json
from pathlib import Path

import click

from ledger.cli import Settings, main, say, store_options
from ledger.domain.requests import RequestDocument, RequestDocumentError, parse_request_document
from ledger.plan_cli_support import at_option, check_time, opened, read_file, seq


def read_request(path: Path) -> RequestDocument:
    """The request document in ``path``, or a usage error saying what is wrong with it."""
    try:
        value = json.loads(read_file(path))
    except (json.JSONDecodeError, UnicodeDecodeError) as exc:
        raise click.BadParameter(f"{path} is not JSON: {exc}") from None
    try:
        return parse_request_document(value)
    except RequestDocumentError as exc:
        raise click.BadParameter(f"{path}: {exc}") from None


@main.group()
def request() -> None:
    """Members' signed requests handed to the operator (specs/requests.md)."""


@request.command("append")
@store_options
@click.argument("path", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@at_option
@click.pass_obj
def request_append(settings: Settings, path: Path, at: str | None) -> None:
    """Append the member-signed request in PATH as the member's own entry."""
    document = read_request(path)
    if document.type == "member.joined":
        raise click.BadParameter(
            f"{path} is a join request: append it with the person's identity, "
            "tally member join --request FILE --identity FILE"
        )
    with opened(settings) as plan:
        appended = plan.submit_request(document, at=check_time(at))
    say(f"Appended {document.member}'s signed {document.type} at {seq(appended)}.")
