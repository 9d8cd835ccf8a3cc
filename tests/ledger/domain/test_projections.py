"""The plan's state tables (ADR 0018): kept with the entries, rebuilt, compared, migrated."""

from __future__ import annotations

import gzip
import shutil
import uuid
from collections.abc import Iterator
from dataclasses import replace
from pathlib import Path
from typing import Any

import psycopg
import pytest
from click.testing import CliRunner
from sqlalchemy import delete, select, text, update

from api.plan_view import PlanView
from ledger.cli import EXIT_MISMATCH, main
from ledger.demo import build_demo, demo_member_seed
from ledger.domain.model import Claim, Member
from ledger.domain.plan import Plan
from ledger.domain.projection_rows import (
    PROJECTION_TABLES,
    charge_table,
    core_table,
    encode_claim,
    member_row,
    member_table,
    money_table,
    movement_table,
    parse_claim,
    parse_member_row,
)
from ledger.domain.projections import (
    SCHEMA,
    behind,
    migrate,
    rebuild,
    schema_table,
    schema_version,
)
from ledger.domain.replay import replay_plan
from ledger.domain.requests import RequestDocument, sign_request
from ledger.domain.stored_state import Core
from ledger.errors import StoreError
from ledger.instance import Ledger, init_ledger, open_ledger
from ledger.log.log import NewEntry
from ledger.log.store import Store

DATA = Path(__file__).parents[2] / "data"
OLD_LEDGER = DATA / "ledger-before-projections.db.gz"
OLD_KEY = DATA / "ledger-before-projections.key"
ORIGIN = "projections.test/log"


@pytest.fixture
def demo(db_url: str, tmp_path: Path) -> Iterator[Ledger]:
    """A plan with claims paid, denied, appealed, reversed, members who left, and
    periods closed (the demo's simulation, small)."""
    ledger, _ = init_ledger(
        db_url, tmp_path / "demo.key", ORIGIN, genesis_time="2024-10-01T00:00:00Z"
    )
    build_demo(ledger, seed=5, members=150, periods=10)
    yield ledger
    ledger.close()


@pytest.fixture(scope="module")
def shared(
    module_db_url: str, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[tuple[Ledger, str]]:
    """One such plan per backend for the tests that leave it as they found it (a row
    they spoil is repaired by a rebuild before they end); and its URL."""
    folder = tmp_path_factory.mktemp("shared-demo")
    ledger, _ = init_ledger(
        module_db_url, folder / "demo.key", ORIGIN, genesis_time="2024-10-01T00:00:00Z"
    )
    build_demo(ledger, seed=5, members=150, periods=10)
    yield ledger, module_db_url
    ledger.close()


def dump(store: Store) -> dict[str, list[tuple[Any, ...]]]:
    """Every projection table's rows, in key order (the core's without its generation,
    which counts the rebuilds)."""
    with store.reader() as conn:
        tables = {
            table.name: [
                tuple(row)
                for row in conn.execute(select(table).order_by(*table.primary_key.columns)).all()
            ]
            for table in PROJECTION_TABLES
        }
    tables["plan_core"] = [
        (i, size, replace(Core.parse(size, data), generation=0).encode())
        for i, size, data in tables["plan_core"]
    ]
    return tables


def run(*args: str) -> Any:
    return CliRunner().invoke(main, list(args), catch_exceptions=False)


def test_member_and_claim_rows_round_trip() -> None:
    member = Member("m-1", "18-39", "2025-01-02T00:00:00Z", "2025-03-01T00:00:00Z", "a2V5", 4, 9, 6)
    assert parse_member_row(member_row(member)) == member
    claim = Claim(
        "c-7",
        "m-1",
        "cancer",
        "illness",
        "serious illness",
        30_000_000,
        "2025-01-09",
        "2025-02-01T00:00:00Z",
        decision="approve",
        pool=["m-2", "m-3"],
        pool_signature=b"\x00\xff signed",
        jurors=["m-3"],
        votes={"m-3": "approve"},
        objectors=["m-4"],
        history=[(7, "claim.filed", "2025-02-01T00:00:00Z")],
    )
    assert parse_claim(encode_claim(claim)) == claim
    assert encode_claim(parse_claim(encode_claim(claim))) == encode_claim(claim)


def test_the_tables_follow_every_command_and_check_compares_them(
    shared: tuple[Ledger, str],
) -> None:
    demo, db_url = shared
    report, state = replay_plan(demo.store)
    assert report.ok, report.mismatches
    assert report.projections_compared == demo.log.size()
    assert behind(demo.store) == (demo.log.size(), demo.log.size())
    stored = Plan(demo).state
    assert stored.closed
    assert [c.body for c in stored.closed] == [c.body for c in state.closed]
    assert len(stored.members) == len(state.members) > 0
    result = run("--db", db_url, "check")
    assert result.exit_code == 0, result.output
    assert f"state tables hold what the first {demo.log.size():,} entries give" in result.output


def test_a_rebuild_gives_identical_tables(shared: tuple[Ledger, str]) -> None:
    demo, db_url = shared
    before = dump(demo.store)
    assert all(before[t.name] for t in PROJECTION_TABLES), "every table has rows"
    with demo.store.writer() as conn:
        for table in reversed(PROJECTION_TABLES):
            conn.execute(delete(table))
    assert behind(demo.store)[0] == 0
    result = run("--db", db_url, "projections", "rebuild")
    assert result.exit_code == 0, result.output
    assert "Rebuilt the plan's state tables from" in result.output
    assert dump(demo.store) == before
    status = run("--db", db_url, "projections", "status")
    assert f"applied {demo.log.size():,} entries of {demo.log.size():,}" in status.output


@pytest.mark.parametrize(
    ("table", "change", "named"),
    [
        (member_table, {"age_band": "60-65"}, "projection plan_member, row m-"),
        (charge_table, {"amount_fen": 1}, "projection plan_charge, row 20"),
        (movement_table, {"joins": 1_000_000}, "projection plan_movement, row 20"),
    ],
)
def test_check_names_the_first_row_that_differs(
    shared: tuple[Ledger, str], table: Any, change: dict[str, Any], named: str
) -> None:
    demo, db_url = shared
    with demo.store.reader() as conn:
        key = conn.execute(select(*table.primary_key.columns).limit(1)).first()
    assert key is not None
    where = [c == v for c, v in zip(table.primary_key.columns, key, strict=True)]
    with demo.store.writer() as conn:
        conn.execute(update(table).where(*where).values(change))
    try:
        result = run("--db", db_url, "check")
        assert result.exit_code == EXIT_MISMATCH
        assert named in result.output
    finally:
        rebuild(demo.store)


def signed_leaving(member: str) -> dict[str, Any]:
    """A demo member's signed leaving (the demo's rules require member signatures)."""
    body = {"member": member, "request": 1_000}
    return sign_request(demo_member_seed(5, member), ORIGIN, "member.left", body)


def left_entry(member: str, when: str) -> NewEntry:
    return NewEntry("member.left", f"member:{member}", signed_leaving(member), time=when)


def test_commands_read_rows_not_the_log_from_its_first_entry(
    demo: Ledger, monkeypatch: pytest.MonkeyPatch
) -> None:
    reads: list[tuple[int, int]] = []
    real = Store.entry_bytes

    def counted(self: Store, conn: Any, start: int, end: int) -> list[tuple[int, bytes]]:
        reads.append((start, end))
        return real(self, conn, start, end)

    monkeypatch.setattr(Store, "entry_bytes", counted)
    plan = Plan(demo)
    member = next(m.id for m in plan.state.all_members() if m.left is None)
    plan.submit_request(RequestDocument("member.left", signed_leaving(member)))
    state = plan.state
    found = state.member(member)
    assert found is not None
    assert found.left is not None
    assert reads == [], "no entries replayed on the way to a write or a read"


def test_entries_appended_without_the_tables_are_applied_by_the_next_command(
    demo: Ledger,
) -> None:
    plan = Plan(demo)
    member = next(m.id for m in plan.state.all_members() if m.left is None)
    when = plan.time()
    demo.log.append(left_entry(member, when))
    assert behind(demo.store)[0] == demo.log.size() - 1
    fresh = Plan(demo)  # opening the plan catches the tables up
    assert behind(demo.store) == (demo.log.size(), demo.log.size())
    assert fresh.state.member(member).left == when  # type: ignore[union-attr]
    report, _ = replay_plan(demo.store)
    assert report.ok, report.mismatches


def test_a_ledger_made_before_the_tables_is_upgraded_in_place(tmp_path: Path) -> None:
    db = tmp_path / "old.db"
    with gzip.open(OLD_LEDGER) as packed, db.open("wb") as out:
        shutil.copyfileobj(packed, out)
    key = tmp_path / "old.key"
    shutil.copy(OLD_KEY, key)
    key.chmod(0o600)
    url = f"sqlite:///{db}"
    store = Store(url)
    with store.reader() as conn:
        assert not conn.dialect.has_table(conn, "plan_core")
        assert schema_version(conn) == 0
    store.dispose()
    ledger = open_ledger(url, key)
    try:
        plan = Plan(ledger)
        with ledger.store.reader() as conn:
            assert schema_version(conn) == SCHEMA
        assert behind(ledger.store) == (351, 351)
        report, _ = replay_plan(ledger.store)
        assert report.ok, report.mismatches
        assert report.projections_compared == 351
        member = next(m.id for m in plan.state.all_members() if m.left is None)
        plan.leave(member)
        assert plan.state.member(member).left is not None  # type: ignore[union-attr]
    finally:
        ledger.close()
    assert run("--db", url, "check").exit_code == 0


def test_a_ledger_without_the_tables_is_upgraded_on_both_backends(
    shared: tuple[Ledger, str],
) -> None:
    demo, _ = shared
    before = dump(demo.store)
    with demo.store.writer() as conn:
        for table in PROJECTION_TABLES:
            conn.execute(text(f"DROP TABLE {table.name}"))
        conn.execute(text("DROP TABLE plan_schema"))
    Plan(demo)
    assert dump(demo.store) == before


def test_rows_read_before_a_rebuild_are_not_reused_after_it(shared: tuple[Ledger, str]) -> None:
    demo, _ = shared
    member = next(m for m in Plan(demo).state.all_members())
    with demo.store.writer() as conn:  # a row gone wrong, which the rebuild repairs
        conn.execute(
            update(member_table).where(member_table.c.member == member.id).values(age_band="x")
        )
    plan = Plan(demo)
    before = plan.state
    try:
        assert before.members[member.id].age_band == "x"
    finally:
        rebuild(demo.store)
    after = plan.state
    assert after is not before, "same size, but another generation: read again"
    assert after.members[member.id].age_band == member.age_band


def test_a_view_of_lagging_tables_counts_each_entry_once(demo: Ledger) -> None:
    plan = Plan(demo)
    state = plan.state
    leaving = [m.id for m in state.all_members() if m.left is None][:3]
    when = plan.time()
    demo.log.append_batch([left_entry(m, when) for m in leaving])
    view = PlanView(demo.log)
    _, replayed = replay_plan(demo.store)
    for _ in range(2):
        lagging = view.state()
        assert lagging.size == demo.log.size()
        assert lagging.member_counts(when) == replayed.member_counts(when)
        assert lagging.movements() == replayed.movements()
        assert sorted(m.id for m in lagging.all_members()) == sorted(replayed.members)


def test_check_names_a_payment_moved_to_another_seq_and_tables_ahead_of_the_log(
    demo: Ledger, db_url: str
) -> None:
    with demo.store.writer() as conn:
        seq = conn.execute(select(money_table.c.seq).limit(1)).scalar_one()
        conn.execute(
            update(money_table).where(money_table.c.seq == seq).values(seq=seq + 1_000_000)
        )
    result = run("--db", db_url, "check")
    assert result.exit_code == EXIT_MISMATCH
    assert "projection plan_money, row" in result.output
    rebuild(demo.store)
    with demo.store.writer() as conn:
        conn.execute(update(core_table).values(size=demo.log.size() + 5))
    result = run("--db", db_url, "check")
    assert result.exit_code == EXIT_MISMATCH
    assert "projection plan_core: expected at most the log's" in result.output


def test_a_ledger_of_schema_2_gets_its_movement_counted_from_the_member_rows(
    shared: tuple[Ledger, str],
) -> None:
    demo, _ = shared
    before = dump(demo.store)
    assert before["plan_movement"]
    with demo.store.writer() as conn:
        conn.execute(text("DROP TABLE plan_movement"))
        conn.execute(update(schema_table).values(version=2))
    Plan(demo)
    with demo.store.reader() as conn:
        assert schema_version(conn) == SCHEMA
    assert dump(demo.store) == before


def test_counts_come_from_the_movement_rows_and_agree_with_the_members(
    shared: tuple[Ledger, str],
) -> None:
    demo, _ = shared
    _, replayed = replay_plan(demo.store)
    view = PlanView(demo.log)
    state = view.state()
    members = list(replayed.members.values())
    times = sorted({m.joined for m in members} | {m.left for m in members if m.left})
    # after the last entry (the rows' sums), and at earlier times (counted in SQL)
    for when in ("9999-01-01T00:00:00Z", times[-1], times[len(times) // 2], times[0]):
        assert state.member_counts(when) == replayed.member_counts(when), when
    active, ever, jurors = state.member_counts("9999-01-01T00:00:00Z")
    assert ever == len(members) > 0
    assert active == ever - sum(1 for m in members if m.left is not None)
    assert jurors == sum(1 for m in members if m.juror_key is not None) > 0


def test_a_ledger_of_a_newer_schema_is_refused_not_written(shared: tuple[Ledger, str]) -> None:
    demo, _ = shared
    with demo.store.writer() as conn:
        conn.execute(update(schema_table).values(version=SCHEMA + 1))
    try:
        with pytest.raises(StoreError, match=f"schema step {SCHEMA} or older, found step"):
            migrate(demo.store)
    finally:
        with demo.store.writer() as conn:
            conn.execute(update(schema_table).values(version=SCHEMA))


def test_check_agrees_with_the_tables_under_a_natural_language_collation(
    postgres_url: str, tmp_path: Path
) -> None:
    """PostgreSQL sorts text by the database's collation; the comparison walks keys in
    Python's order, so base64 keys (both cases) must be ordered by their bytes."""
    name = "tally_icu_" + uuid.uuid4().hex[:10]
    with psycopg.connect(postgres_url, autocommit=True) as admin:
        admin.execute(
            f"CREATE DATABASE {name} TEMPLATE template0 LOCALE_PROVIDER icu "
            "ICU_LOCALE 'en-US' LOCALE 'C.UTF-8'"
        )
    url = postgres_url.rsplit("/", 1)[0] + "/" + name
    try:
        ledger, _ = init_ledger(
            url, tmp_path / "demo.key", ORIGIN, genesis_time="2024-10-01T00:00:00Z"
        )
        try:
            build_demo(ledger, seed=5, members=40, periods=3)
            report, _ = replay_plan(ledger.store)
            assert report.ok, report.mismatches
        finally:
            ledger.close()
    finally:
        with psycopg.connect(postgres_url, autocommit=True) as admin:
            admin.execute(f"DROP DATABASE IF EXISTS {name} WITH (FORCE)")
