"""What an operator with direct database access could do: bypass the triggers and edit."""

from __future__ import annotations

from typing import Any

from ledger.log.store import APPEND_ONLY_TABLES, Store


def tamper(store: Store, sql: str, params: dict[str, Any] | None = None) -> None:
    """Run ``sql`` with the append-only triggers out of the way, as an attacker would."""
    from sqlalchemy import text

    with store.engine.begin() as conn:
        if store.dialect == "postgresql":
            tables = [
                name
                for (name,) in conn.execute(
                    text(
                        "SELECT table_name FROM information_schema.tables "
                        "WHERE table_schema = current_schema()"
                    )
                )
            ]
            assert set(APPEND_ONLY_TABLES) <= set(tables)
            for table in tables:
                conn.execute(text(f"ALTER TABLE {table} DISABLE TRIGGER USER"))
            conn.execute(text(sql), params or {})
            for table in tables:
                conn.execute(text(f"ALTER TABLE {table} ENABLE TRIGGER USER"))
        else:
            triggers = conn.exec_driver_sql(
                "SELECT name, sql FROM sqlite_master WHERE type = 'trigger'"
            ).all()
            for name, _ in triggers:
                conn.exec_driver_sql(f"DROP TRIGGER {name}")
            conn.execute(text(sql), params or {})
            for _, ddl in triggers:
                conn.exec_driver_sql(ddl)
