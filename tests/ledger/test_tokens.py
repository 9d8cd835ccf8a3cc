"""Admin tokens (ledger.tokens) and ``tally token``, on both backends; ``serve``'s key choice."""

from __future__ import annotations

import os
import re
from pathlib import Path

import pytest
from click.testing import CliRunner, Result
from sqlalchemy import select

from ledger.cli import EXIT_REFUSED, EXIT_UNAVAILABLE, main
from ledger.instance import Ledger
from ledger.serve_cli import _signing_ledger
from ledger.tokens import (
    TOKEN_RE,
    TokenError,
    authenticate,
    create_token,
    hash_token,
    list_tokens,
    revoke_token,
    token_table,
)

MEMBER = "m-" + "a" * 20


def test_create_authenticate_revoke(ledger: Ledger) -> None:
    info, token = create_token(ledger.store, "operator", name="alice")
    assert TOKEN_RE.match(token)
    assert info.actor == "operator:alice"
    assert authenticate(ledger.store, token) == info
    juror, juror_token = create_token(ledger.store, "juror", juror=MEMBER)
    assert juror.actor == f"juror:{MEMBER}"
    unnamed, _ = create_token(ledger.store, "operator")
    assert unnamed.actor == f"operator:{unnamed.id}"
    assert juror_token != token

    revoked = revoke_token(ledger.store, info.id)
    assert revoked.revoked is not None
    with pytest.raises(TokenError, match="revoked") as caught:
        authenticate(ledger.store, token)
    assert caught.value.reason == "revoked"
    # Revoking again keeps the first time.
    assert revoke_token(ledger.store, info.id).revoked == revoked.revoked
    assert authenticate(ledger.store, juror_token) == juror
    listed = list_tokens(ledger.store)
    assert {t.id for t in listed} == {info.id, juror.id, unnamed.id}
    assert [(t.created, t.id) for t in listed] == sorted((t.created, t.id) for t in listed)
    assert [t for t in listed if t.id == info.id] == [revoked]


def test_only_the_hash_is_stored(ledger: Ledger) -> None:
    _, token = create_token(ledger.store, "operator", name="alice")
    with ledger.store.reader() as conn:
        rows = conn.execute(select(token_table)).mappings().all()
    assert len(rows) == 1
    assert rows[0]["token_hash"] == hash_token(token)
    assert all(token not in str(value) for value in rows[0].values())


@pytest.mark.parametrize(
    ("token", "reason"),
    [
        ("", "malformed"),
        ("tly_short", "malformed"),
        ("xyz_" + "A" * 43, "malformed"),
        ("tly_" + "A" * 42 + "=", "malformed"),
        ("tly_" + "A" * 43, "unknown"),
    ],
)
def test_bad_tokens(ledger: Ledger, token: str, reason: str) -> None:
    create_token(ledger.store, "operator")
    with pytest.raises(TokenError) as caught:
        authenticate(ledger.store, token)
    assert caught.value.reason == reason
    assert str(caught.value).startswith("expected")


@pytest.mark.parametrize(
    ("role", "juror", "name", "message"),
    [
        ("admin", None, None, "expected a role of operator or juror"),
        ("juror", None, None, "expected a juror token to name its member id"),
        ("juror", "m-1", None, "expected a juror token to name its member id"),
        ("operator", MEMBER, None, "expected no member id"),
        ("operator", None, "has space", "expected a name"),
        ("operator", None, "x" * 65, "expected a name"),
    ],
)
def test_invalid_requests(
    ledger: Ledger, role: str, juror: str | None, name: str | None, message: str
) -> None:
    with pytest.raises(TokenError, match=message):
        create_token(ledger.store, role, juror=juror, name=name)
    assert list_tokens(ledger.store) == []


def test_revoking_an_unknown_token(ledger: Ledger) -> None:
    with pytest.raises(TokenError, match="expected the id of a token"):
        revoke_token(ledger.store, "tok-000000000000")
    with pytest.raises(TokenError, match="expected a token id"):
        revoke_token(ledger.store, "nope")


def tally(ledger: Ledger, *args: str) -> Result:
    return CliRunner().invoke(main, ["--db", ledger.store.url, *args], catch_exceptions=False)


def test_token_commands(ledger: Ledger) -> None:
    made = tally(ledger, "token", "create", "--role", "operator", "--name", "alice")
    assert made.exit_code == 0, made.output
    token = made.stdout.strip()
    assert TOKEN_RE.match(token), "only the token on standard output"
    assert "shown only this once" in made.stderr
    token_id = re.findall(r"tok-[0-9a-f]{12}", made.stderr)[0]
    assert authenticate(ledger.store, token).id == token_id

    juror = tally(ledger, "token", "create", "--role", "juror", "--juror", MEMBER)
    assert juror.exit_code == 0, juror.output
    listed = tally(ledger, "token", "list")
    assert listed.exit_code == 0
    header, *lines = listed.stdout.splitlines()
    assert header == "id\trole\tjuror\tname\tcreated\trevoked"
    rows = {line.split("\t")[0]: line.split("\t") for line in lines}
    assert len(rows) == 2
    assert rows[token_id][1:4] == ["operator", "-", "alice"]
    assert rows[token_id][5] == "-"
    assert [r[1:4] for r in rows.values() if r[0] != token_id] == [["juror", MEMBER, "-"]]
    assert token not in listed.output
    assert juror.stdout.strip() not in listed.output

    revoked = tally(ledger, "token", "revoke", token_id)
    assert revoked.exit_code == 0, revoked.output
    assert f"Revoked {token_id}" in revoked.stdout
    after = [line.split("\t") for line in tally(ledger, "token", "list").stdout.splitlines()]
    assert [r[5] for r in after if r[0] == token_id] != ["-"]
    with pytest.raises(TokenError):
        authenticate(ledger.store, token)


def test_token_command_refusals(ledger: Ledger, tmp_path: Path) -> None:
    refused = tally(ledger, "token", "create", "--role", "juror")
    assert refused.exit_code == EXIT_REFUSED
    assert "expected a juror token to name its member id" in refused.stderr
    assert tally(ledger, "token", "revoke", "tok-000000000000").exit_code == EXIT_REFUSED
    assert tally(ledger, "token", "create", "--role", "king").exit_code == 2
    missing = CliRunner().invoke(
        main, ["--db", f"sqlite:///{tmp_path}/none.db", "token", "list"], catch_exceptions=False
    )
    assert missing.exit_code == EXIT_UNAVAILABLE


def test_serve_uses_the_key_when_it_can(
    ledger: Ledger, key_path: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    signing = _signing_ledger(ledger.store, key_path)
    assert signing is not None
    assert signing.signer.name == ledger.signer.name
    assert "Admin API at /admin/v1" in capsys.readouterr().err

    assert _signing_ledger(ledger.store, tmp_path / "absent.key") is None
    assert "Serving read-only: no key file" in capsys.readouterr().err

    loose = tmp_path / "loose.key"
    loose.write_text(key_path.read_text())
    os.chmod(loose, 0o644)
    assert _signing_ledger(ledger.store, loose) is None
    assert "is refused" in capsys.readouterr().err
