"""`tally member import` on both backends: CSVs as real exports come, a report per row,
all or nothing unless --partial, and no one enrolled twice."""

from __future__ import annotations

import re
from collections.abc import Callable
from pathlib import Path

import pytest
from click.testing import CliRunner, Result

from ledger.cli import EXIT_REFUSED, main
from ledger.log.store import Store

CLOCK = "2025-01-01T00:00:00Z"
HEADER = "age_band,name,phone\n"
Tally = Callable[..., Result]
PEOPLE = "0-39,Wu Fang,13800000001\n40-59,Li Na,13800000002\n"


def plan_with_rules(db_url: str, folder: Path) -> Tally:
    """``tally`` on a new plan at ``db_url`` whose reference rules are in force."""
    key = folder / "op.key"

    def run(*args: str) -> Result:
        return CliRunner().invoke(
            main, ["--db", db_url, "--key", str(key), *args], env={"TALLY_CLOCK": CLOCK}
        )

    assert run("init", "--origin", "import.example/plan").exit_code == 0
    rules = folder / "rules.json"
    rules.write_text(
        run("rules", "reference", "--effective", CLOCK, "--member-signatures", "optional").stdout
    )
    assert run("rules", "announce", str(rules)).exit_code == 0
    return run


@pytest.fixture
def tally(db_url: str, tmp_path: Path) -> Tally:
    return plan_with_rules(db_url, tmp_path)


@pytest.fixture(scope="module")
def refusing(module_db_url: str, tmp_path_factory: pytest.TempPathFactory) -> tuple[Tally, str]:
    """One plan per backend for the whole module, for the imports that are refused whole
    (each checks that nothing was appended); with its database URL."""
    return plan_with_rules(module_db_url, tmp_path_factory.mktemp("import")), module_db_url


def size(db_url: str) -> int:
    store = Store(db_url)
    try:
        with store.reader() as conn:
            return store.size(conn)
    finally:
        store.dispose()


def write(tmp_path: Path, name: str, data: bytes) -> str:
    path = tmp_path / name
    path.write_bytes(data)
    return str(path)


def test_a_spreadsheet_export_with_a_byte_order_mark(tally: Tally, tmp_path: Path) -> None:
    path = write(tmp_path, "people.csv", b"\xef\xbb\xbf" + (HEADER + PEOPLE).encode())
    result = tally("member", "import", path)
    assert result.exit_code == 0, result.output
    lines = result.stdout.splitlines()
    assert re.fullmatch(r"line 2: joined as m-[0-9a-f]{20} \(seq 2\)", lines[0])
    assert re.fullmatch(r"line 3: joined as m-[0-9a-f]{20} \(seq 3\)", lines[1])
    assert lines[2] == f"Imported 2 members from {path} (seq 2 to 3)."


def test_importing_the_same_file_twice_enrols_no_one_twice(
    tally,
    tmp_path: Path,
    db_url: str,
) -> None:
    path = write(tmp_path, "people.csv", (HEADER + PEOPLE).encode())
    first = tally("member", "import", path)
    members = re.findall(r"m-[0-9a-f]{20}", first.stdout)
    before = size(db_url)
    again = tally("member", "import", path)
    assert again.exit_code == EXIT_REFUSED
    assert f"line 2: already a member, {members[0]} (joined {CLOCK})" in again.stdout
    assert f"line 3: already a member, {members[1]}" in again.stdout
    assert f"Imported no one from {path}: 2 rows of 2 cannot join (above)." in again.stdout
    assert size(db_url) == before
    # --partial skips them and says so; nothing to join is not an error.
    partial = tally("member", "import", path, "--partial")
    assert partial.exit_code == 0, partial.output
    assert "Imported 0 members" in partial.stdout
    assert "skipped 2 rows already a member" in partial.stdout
    assert size(db_url) == before


def test_all_or_nothing_unless_partial(tally: Tally, tmp_path: Path, db_url: str) -> None:
    rows = (
        HEADER
        + "0-39,Sun Yi,13800000004\n"
        + "99-120,Old Man,13800000005\n"
        + "0-39,Zhou Li\n"
        + "40-59,Sun Yi,13800000004\n"
        + "0-39,,\n"
    )
    path = write(tmp_path, "mixed.csv", rows.encode())
    before = size(db_url)
    refused = tally("member", "import", path)
    assert refused.exit_code == EXIT_REFUSED
    out = refused.stdout
    assert "line 3: refused: expected age_band 0-39 or 40-59, found '99-120'" in out
    assert "line 4: refused: expected 3 fields (age_band, name, phone), found 2" in out
    assert "line 5: the same person as line 2" in out
    assert "line 6: refused: every identity column is empty" in out
    assert "or pass --partial to import the other 1 row." in out
    assert size(db_url) == before
    partial = tally("member", "import", path, "--partial")
    assert partial.exit_code == EXIT_REFUSED  # some rows were refused: said by the exit code
    assert re.search(r"line 2: joined as m-[0-9a-f]{20}", partial.stdout)
    assert "skipped 1 row already a member and 3 rows refused." in partial.stdout
    assert size(db_url) == before + 1


def test_gbk_where_declared(tally: Tally, tmp_path: Path) -> None:
    path = write(tmp_path, "gbk.csv", ("age_band,姓名,电话\n0-39,王芳,13800000006\n").encode("gbk"))
    plain = tally("member", "import", path)
    assert plain.exit_code == EXIT_REFUSED
    assert "is not UTF-8 text" in plain.output
    assert "on line 1" in plain.output
    assert "pass --encoding gbk" in plain.output
    assert "Traceback" not in plain.output
    declared = tally("member", "import", path, "--encoding", "gbk")
    assert declared.exit_code == 0, declared.output
    assert "Imported 1 member from" in declared.stdout


@pytest.mark.parametrize(
    ("data", "says"),
    [
        (b"name,phone\nWu,1\n", "has no age_band column; its header names 'name', 'phone'"),
        (b"", "is empty"),
        (b"age_band\n0-39\n", "only the age_band column"),
        (b"age_band,name,name\n0-39,a,b\n", "names column 'name' twice"),
        (b"age_band,,phone\n0-39,a,b\n", "column 2 of the header has no name"),
        (b'age_band,name\n0-39,"unclosed\n', "not valid CSV"),
        (b"age_band,name\n0-39,a\x00b\n", "NUL"),
    ],
)
def test_a_file_that_cannot_be_read_says_why(
    refusing: tuple[Tally, str], tmp_path: Path, data: bytes, says: str
) -> None:
    tally, db_url = refusing
    before = size(db_url)
    result = tally("member", "import", write(tmp_path, "bad.csv", data))
    assert result.exit_code == EXIT_REFUSED, result.output
    assert says in result.output
    assert "Traceback" not in result.output
    assert size(db_url) == before


def test_a_file_with_only_a_header(tally: Tally, tmp_path: Path) -> None:
    result = tally("member", "import", write(tmp_path, "empty.csv", HEADER.encode()))
    assert result.exit_code == 0
    assert "has a header but no rows" in result.stdout
