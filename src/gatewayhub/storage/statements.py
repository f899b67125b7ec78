"""The statements on a payment's hot path, compiled once per dialect and sent through the driver.

SQLAlchemy builds and compiles these statements (for SQLite and PostgreSQL alike); what is
skipped is its per-execution machinery - cache-key generation, execution context, result
setup - which cost ~30 us per statement on the CI machine kind, against ~10 us for the
statement itself (measured: 64 us per payment-row insert through `Connection.execute`,
39 us as compiled SQL through `exec_driver_sql`). A payment writes ten statements, so this
is a quarter of gatewayhub's CPU per authorization. On SQLite the compiled SQL goes straight
to the sqlite3 connection, inside the transaction `SQLiteDatabase.run` opened on it, which
also skips `exec_driver_sql`'s execution context and result wrapping; PostgreSQL keeps
`exec_driver_sql` (asyncpg runs behind SQLAlchemy's adaptation layer). Reads and rare writes
stay on the ordinary Core API.

Bind values are converted here the way the column types would: JSON columns are encoded
with `json.dumps` (unless given as `EncodedJSON`), and on SQLite UTC datetimes are written in
SQLAlchemy's own storage format ("YYYY-MM-DD HH:MM:SS.ffffff"), so rows written either way
read back and compare alike.
"""

from __future__ import annotations

import json
import operator
import sqlite3
from collections.abc import Callable, Iterable, Mapping, Sequence
from datetime import UTC, datetime
from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import Connection, Dialect

from gatewayhub.storage.schema import UTCDateTime

Convert = Callable[[Any], Any]
# One encoder for every call: `json.dumps` with non-default separators builds a new one each time.
_ENCODER = json.JSONEncoder(separators=(",", ":"))


def _sqlite_time(value: datetime | None) -> str | None:
    if value is None:
        return None
    if value.tzinfo is not UTC:
        value = value.astimezone(UTC)
    return value.replace(tzinfo=None).isoformat(" ", "microseconds")


class EncodedJSON(str):
    """A value already encoded as JSON (by a pydantic model's `model_dump_json`, which is
    several times faster than dumping to Python objects and encoding those): a JSON column
    stores it as it is."""

    __slots__ = ()


def _json(value: Any) -> str:
    return value if type(value) is EncodedJSON else _ENCODER.encode(value)


def _sqlite3(conn: Connection) -> sqlite3.Connection:
    """The sqlite3 connection under `conn`, whose transaction `SQLiteDatabase.run` opened."""
    return conn.connection.driver_connection  # type: ignore[return-value]


class _Plan:
    """Compiled SQL, and how to turn a parameter mapping into its positional row."""

    __slots__ = ("converts", "direct", "pick", "sql")

    def __init__(
        self,
        sql: str,
        names: Sequence[str],
        converts: Sequence[tuple[int, Convert]],
        *,
        direct: bool,
    ) -> None:
        self.sql = sql
        self.direct = direct
        self.pick = operator.itemgetter(*names)
        self.converts = tuple(converts)

    def row(self, params: Mapping[str, Any]) -> tuple[Any, ...]:
        values = self.pick(params)
        if not self.converts:
            return values  # type: ignore[no-any-return]
        out = list(values)
        for index, convert in self.converts:
            out[index] = convert(out[index])
        return tuple(out)


class HotStatement:
    """One INSERT/UPDATE with a fixed set of parameter names, ready for any dialect."""

    __slots__ = ("_keys", "_plans", "_statements")

    def __init__(
        self, statement: sa.Executable | Mapping[str, sa.Executable], keys: Sequence[str]
    ) -> None:
        self._statements = statement
        self._keys = list(keys)
        self._plans: dict[str, _Plan] = {}

    def _plan(self, dialect: Dialect) -> _Plan:
        plan = self._plans.get(dialect.name)
        if plan is None:
            statement = (
                self._statements[dialect.name]
                if isinstance(self._statements, Mapping)
                else self._statements
            )
            compiled = statement.compile(dialect=dialect, column_keys=self._keys)  # type: ignore[attr-defined]
            names = compiled.positiontup
            if not names or len(names) < 2:
                raise TypeError(f"{dialect.name}: expected two or more positional parameters")
            converts: list[tuple[int, Convert]] = []
            for index, name in enumerate(names):
                kind = compiled.binds[name].type
                if isinstance(kind, sa.JSON):
                    converts.append((index, _json))
                elif isinstance(kind, UTCDateTime) and dialect.name == "sqlite":
                    converts.append((index, _sqlite_time))
            plan = self._plans[dialect.name] = _Plan(
                str(compiled), names, converts, direct=dialect.name == "sqlite"
            )
        return plan

    def execute(self, conn: Connection, params: Mapping[str, Any]) -> int:
        """Run once; return how many rows it touched."""
        plan = self._plan(conn.dialect)
        if plan.direct:
            return int(_sqlite3(conn).execute(plan.sql, plan.row(params)).rowcount)
        return conn.exec_driver_sql(plan.sql, plan.row(params)).rowcount

    def executemany(self, conn: Connection, rows: Iterable[Mapping[str, Any]]) -> None:
        """Run once per row, as one driver call."""
        plan = self._plan(conn.dialect)
        if plan.direct:
            _sqlite3(conn).executemany(plan.sql, [plan.row(row) for row in rows])
        else:
            conn.exec_driver_sql(plan.sql, [plan.row(row) for row in rows])


class HotQuery:
    """One SELECT of at most one row, compiled once per dialect and sent through the driver.

    Values come back as the driver gives them (on SQLite: datetimes and JSON as text) and
    bind values go in as they are: it is meant for lookups by key columns."""

    __slots__ = ("_plans", "_query")

    def __init__(self, query: sa.Select[Any]) -> None:
        self._query = query
        self._plans: dict[str, tuple[str, Callable[[Mapping[str, Any]], tuple[Any, ...]]]] = {}

    def first(self, conn: Connection, params: Mapping[str, Any]) -> tuple[Any, ...] | None:
        """The row, or None."""
        plan = self._plans.get(conn.dialect.name)
        if plan is None:
            compiled = self._query.compile(dialect=conn.dialect)
            names = compiled.positiontup or []
            if len(names) < 2:
                raise TypeError(f"{conn.dialect.name}: expected two or more positional parameters")
            plan = self._plans[conn.dialect.name] = (str(compiled), operator.itemgetter(*names))
        sql, pick = plan
        if conn.dialect.name == "sqlite":
            row = _sqlite3(conn).execute(sql, pick(params)).fetchone()
            return None if row is None else tuple(row)
        found = conn.exec_driver_sql(sql, pick(params)).first()
        return None if found is None else tuple(found)
