"""Temporal coverage (T-MOC) of a published table with a time column.

The time column is found from the published metadata: xtype ``timestamp``,
or a number in days (MJD) whose UCD is ``time.epoch``/``time.start``/
``time.end``.  The T-MOC is computed at order 29 (cells of 2^32 µs,
~1.2 h) from the distinct cells in SQL by the ingest, in its transaction,
and kept in ``vo_sky.time_coverage`` until the table is reloaded (computed
again on request if a table somehow lacks it).  Times are taken as
TCB (the T-MOC time scale) without conversion: UTC/TT/TDB differ from it by
about a minute, well inside one cell.
"""

from __future__ import annotations

import numpy as np
import psycopg
from mocpy import TimeMOC
from psycopg import sql

TMOC_ORDER = 29
CELL_US = 2 ** (61 - TMOC_ORDER)
US_PER_DAY = 86_400_000_000
MJD_TO_JD = 2_400_000.5
UNIX_EPOCH_JD = 2_440_587.5
TIME_UCDS = ("time.epoch", "time.start", "time.end")


def find_time_column(columns: list[tuple[str, str, str | None, str | None, str | None]]) -> tuple[str, str] | None:
    """(name, kind) of the first time column; ``columns`` are (name, datatype,
    xtype, unit, ucd) rows; kind is "timestamp" or "mjd"."""
    for name, _datatype, xtype, _unit, _ucd in columns:
        if (xtype or "").lower() == "timestamp":
            return name, "timestamp"
    for name, datatype, _xtype, unit, ucd in columns:
        primary = (ucd or "").lower().split(";")[0]
        if primary in TIME_UCDS and datatype in ("double", "float", "long", "int") and (unit or "d") == "d":
            return name, "mjd"
    return None


def _jd_sql(column: str, kind: str) -> sql.Composable:
    ident = sql.Identifier(column)
    if kind == "timestamp":
        return sql.SQL("(extract(epoch FROM {}) / 86400.0 + {})").format(ident, sql.Literal(UNIX_EPOCH_JD))
    return sql.SQL("({} + {})").format(ident, sql.Literal(MJD_TO_JD))


def compute_tmoc(conn: psycopg.Connection, schema: str, table: str, column: str, kind: str) -> TimeMOC:
    cell = sql.SQL("floor({} * {} / {})::bigint").format(
        _jd_sql(column, kind), sql.Literal(float(US_PER_DAY)), sql.Literal(float(CELL_US)))
    rows = conn.execute(sql.SQL("SELECT DISTINCT {} FROM {} WHERE {} IS NOT NULL").format(
        cell, sql.Identifier(schema, table), sql.Identifier(column))).fetchall()
    cells = np.array(sorted(r[0] for r in rows if r[0] is not None and r[0] >= 0), dtype=np.uint64)
    ranges = np.stack([cells << np.uint64(61 - TMOC_ORDER), (cells + np.uint64(1)) << np.uint64(61 - TMOC_ORDER)],
                      axis=1) if len(cells) else np.zeros((0, 2), dtype=np.uint64)
    return TimeMOC.from_depth61_ranges(TMOC_ORDER, ranges)


def table_tmoc(conn: psycopg.Connection, schema: str, table: str) -> TimeMOC | None:
    """The cached T-MOC of a published table (computed if missing or stale); None without a time column."""
    published = conn.execute("SELECT updated_at FROM vo_internal.published_tables "
                             "WHERE schema_name = %s AND table_name = %s", (schema, table)).fetchone()
    if published is None:
        return None
    columns = conn.execute(
        "SELECT column_name, datatype, xtype, unit, ucd FROM tap_schema.columns WHERE table_name = %s "
        "ORDER BY column_index NULLS LAST, column_name", (f"{schema}.{table}",)).fetchall()
    found = find_time_column(columns)
    if found is None:
        return None
    column, kind = found
    cached = conn.execute("SELECT moc FROM vo_sky.time_coverage WHERE schema_name = %s AND table_name = %s "
                          "AND column_name = %s AND computed_for = %s",
                          (schema, table, column, published[0])).fetchone()
    if cached:
        return TimeMOC.from_string(cached[0], format="ascii")
    moc = compute_tmoc(conn, schema, table, column, kind)
    conn.execute(
        "INSERT INTO vo_sky.time_coverage (schema_name, table_name, column_name, computed_for, moc) "
        "VALUES (%s, %s, %s, %s, %s) ON CONFLICT (schema_name, table_name) DO UPDATE SET "
        "column_name = EXCLUDED.column_name, computed_for = EXCLUDED.computed_for, moc = EXCLUDED.moc",
        (schema, table, column, published[0], moc.to_string(format="ascii")))
    return moc
