"""The ``tally`` command: each command, its output, and its exit codes on bad input."""

from __future__ import annotations

import os
from pathlib import Path

import pytest
from click.testing import CliRunner, Result

from ledger.cli import EXIT_MISMATCH, EXIT_REFUSED, EXIT_UNAVAILABLE, EXIT_USAGE, main
from ledger.log.store import Store
from ledger.publish.keyfile import load_key_file
from tests.ledger.tamper import tamper


def run(*args: str, env: dict[str, str] | None = None) -> Result:
    return CliRunner().invoke(main, list(args), env=env, catch_exceptions=False)


@pytest.fixture
def paths(db_url: str, tmp_path: Path) -> tuple[str, str]:
    return db_url, str(tmp_path / "op.key")


def test_init_publish_check(paths: tuple[str, str]) -> None:
    db, key = paths
    result = run("--db", db, "--key", key, "init", "--origin", "cli.example/log")
    assert result.exit_code == 0, result.output
    assert "cli.example/log+" in result.output  # the verifier key is shown
    signer = load_key_file(Path(key))
    assert signer.seed.hex() not in result.output
    assert "PRIVATE" not in result.output
    assert Path(key).stat().st_mode & 0o777 == 0o600

    result = run("--db", db, "--key", key, "publish")
    assert result.exit_code == 0
    assert result.stdout.startswith("cli.example/log\n1\n")
    assert "\n\n\u2014 cli.example/log " in result.stdout
    assert "Signed checkpoint of 1 entry" in result.stderr

    result = run("--db", db, "check")
    assert result.exit_code == 0, result.output
    assert "OK: 1 entry, 1 stored hash and 1 signed checkpoint agree." in result.output


def test_environment_variables_name_the_database_and_key(paths: tuple[str, str]) -> None:
    db, key = paths
    env = {"TALLY_DATABASE_URL": db, "TALLY_KEY_FILE": key}
    assert run("init", env=env).exit_code == 0
    assert run("publish", env=env).exit_code == 0
    assert run("check", env=env).exit_code == 0


def test_options_may_follow_the_command(paths: tuple[str, str]) -> None:
    db, key = paths
    assert run("init", "--db", db, "--key", key).exit_code == 0
    assert run("publish", "--db", db, "--key", key).exit_code == 0
    result = run("--db", "sqlite:///elsewhere.db", "check", "--db", db)
    assert result.exit_code == 0, result.output


def test_check_names_the_first_mismatch(paths: tuple[str, str]) -> None:
    db, key = paths
    built = run(
        "--db", db, "--key", key, "demo", "--no-serve", "--members", "200", "--periods", "2"
    )
    assert built.exit_code == 0, built.output
    store = Store(db)
    with store.engine.connect() as conn:
        raw = bytes(conn.exec_driver_sql("SELECT data FROM entry WHERE seq = 123").scalar_one())
    tamper(
        store,
        "UPDATE entry SET data = :d WHERE seq = 123",
        {"d": raw.replace(b'"member.joined"', b'"member.joinee"')},
    )
    store.dispose()
    result = CliRunner().invoke(main, ["--db", db, "check"])
    assert result.exit_code == EXIT_MISMATCH
    assert "seq 123" in result.output


def test_demo_is_reproducible_and_not_doubled(paths: tuple[str, str], tmp_path: Path) -> None:
    db, key = paths
    demo = ("demo", "--no-serve", "--seed", "7", "--members", "150", "--periods", "3")
    first = run("--db", db, "--key", key, *demo)
    assert first.exit_code == 0, first.output
    assert "Built a plan of 150 members over 3 half-month periods" in first.output
    again = run("--db", db, "--key", key, *demo)
    assert again.exit_code == 0
    assert "already holds a log" in again.output
    other_db = f"sqlite:///{tmp_path}/other.db"
    assert run("--db", other_db, "--key", key, *demo).exit_code == 0
    first_store, second_store = Store(db), Store(other_db)
    with first_store.reader() as a, second_store.reader() as b:
        size = first_store.size(a)
        assert second_store.size(b) == size
        # The same seed and key give the same log, byte for byte.
        assert first_store.entry_bytes(a, 0, size) == second_store.entry_bytes(b, 0, size)
    first_store.dispose()
    second_store.dispose()


@pytest.mark.parametrize(
    ("args", "code", "says"),
    [
        (["--db", "mysql://x/y", "check"], EXIT_UNAVAILABLE, "sqlite:// or postgresql://"),
        (["--db", "sqlite:////nonexistent/dir/t.db", "check"], EXIT_UNAVAILABLE, "no database"),
        (
            ["--db", "postgresql://postgres@127.0.0.1:1/x", "check"],
            EXIT_UNAVAILABLE,
            "Connection refused",
        ),
        (["init", "--origin", "has space"], EXIT_REFUSED, "origin"),
        (["init", "--origin", "a+b"], EXIT_REFUSED, "origin"),
        (["serve", "--port", "99999"], EXIT_USAGE, "99999"),
        (["demo", "--members", "0"], EXIT_USAGE, "0"),
        (["no-such-command"], EXIT_USAGE, "No such command"),
    ],
)
def test_bad_input_gets_a_sentence_and_an_exit_code(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, args: list[str], code: int, says: str
) -> None:
    monkeypatch.chdir(tmp_path)
    result = CliRunner().invoke(main, args)
    assert result.exit_code == code, result.output
    assert says in result.output
    assert "Traceback" not in result.output


def test_key_problems_are_refused(paths: tuple[str, str], tmp_path: Path) -> None:
    db, key = paths
    assert run("--db", db, "--key", key, "init").exit_code == 0
    result = CliRunner().invoke(
        main, ["--db", db, "--key", str(tmp_path / "missing.key"), "publish"]
    )
    assert result.exit_code == EXIT_REFUSED
    assert "no key file" in result.output
    os.chmod(key, 0o644)
    result = CliRunner().invoke(main, ["--db", db, "--key", key, "publish"])
    assert result.exit_code == EXIT_REFUSED
    assert "0600" in result.output
    garbage = tmp_path / "garbage.key"
    garbage.write_text("PRIVATE+KEY+x+00000000+AAAA\n")
    garbage.chmod(0o600)
    result = CliRunner().invoke(main, ["--db", db, "--key", str(garbage), "publish"])
    assert result.exit_code == EXIT_REFUSED
    assert "AAAA" not in result.output


def test_publish_before_init_is_unavailable(tmp_path: Path) -> None:
    result = CliRunner().invoke(
        main, ["--db", f"sqlite:///{tmp_path}/none.db", "--key", str(tmp_path / "k"), "publish"]
    )
    assert result.exit_code == EXIT_UNAVAILABLE
    assert not (tmp_path / "none.db").exists()
