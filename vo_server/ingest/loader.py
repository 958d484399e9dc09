"""Loading a catalogue file into a published table, atomically.

The whole load is one transaction: a staging table is filled with COPY
(rows pre-sorted by HEALPix index so the table is born clustered), indexed,
analysed, then swapped for the old table together with its TAP_SCHEMA rows
and coverage MOC.  Any failure, or an interrupt, rolls everything back and
leaves the previous table and metadata as they were.
"""

from __future__ import annotations

import contextlib
import json
import logging
import time
import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import psycopg
import pyarrow as pa
import pyarrow.compute as pc
from mocpy import MOC
from psycopg import sql
from psycopg.copy import QueuedLibpqWriter

from vo_server.db import roles
from vo_server.db.target import DatabaseTarget
from vo_server.ingest import pgcopy
from vo_server.ingest.columns import copy_ready, published_columns, table_identifier
from vo_server.ingest.errors import IngestError
from vo_server.ingest.sources import SourceTable, read_source
from vo_server.metadata.ddl import create_table_sql
from vo_server.metadata.model import ColumnMeta, TableMeta
from vo_server.metadata.tap_schema import TapSchemaWriter, table_exists
from vo_server.metadata.yaml_files import MetadataError, apply_table_overrides, load_table_overrides
from vo_server.sky.hpx import coverage_moc, empty_moc, hpx_index
from vo_server.sky.time_coverage import table_tmoc

log = logging.getLogger(__name__)

MODES = ("create", "append", "replace")
RESERVED_SCHEMAS = frozenset({"tap_schema", "vo_internal", "ivoa", "public", "information_schema"})
HPX_COLUMN = "hpx"
COPY_BATCH_ROWS = 100_000
RA_NAMES = ("ra", "raj2000", "ra_icrs", "radeg", "ra_deg")
DEC_NAMES = ("dec", "dej2000", "de_icrs", "decdeg", "dec_deg", "de")

Progress = Callable[[int], None]


@dataclass
class IngestReport:
    table: str
    rows: int
    mode: str
    ra_column: str | None = None
    dec_column: str | None = None
    bad_positions: int = 0
    sky_fraction: float | None = None
    warnings: list[str] = field(default_factory=list)
    timings: dict[str, float] = field(default_factory=dict)

    @contextlib.contextmanager
    def stage(self, name: str) -> Iterator[None]:
        """Time one stage of the load (reported to the operator, used by the benchmark)."""
        start = time.perf_counter()
        try:
            yield
        finally:
            self.timings[name] = self.timings.get(name, 0.0) + time.perf_counter() - start


@dataclass
class IngestRequest:
    path: Path
    table: str
    ra: str | None = None
    dec: str | None = None
    mode: str | None = None
    metadata: Path | None = None
    format: str | None = None
    coverage_order: int = 8


def split_table_name(value: str) -> tuple[str, str]:
    if value.count(".") != 1:
        raise IngestError(f"table name {value!r} must be SCHEMA.NAME, e.g. mycat.sources")
    schema, name = value.split(".")
    table_identifier(schema, "schema")
    table_identifier(name, "table")
    if schema in RESERVED_SCHEMAS or schema.startswith("pg_"):
        raise IngestError(f"schema {schema!r} is reserved for the server; choose another schema name")
    return schema, name


def _find_position(columns: list[ColumnMeta], originals: list[str], ra: str | None, dec: str | None
                   ) -> tuple[str | None, str | None]:
    """Published names of the ra/dec columns: as given, else by UCD, else by usual names."""
    by_original = {o.lower(): c.name for o, c in zip(originals, columns, strict=True)}
    names = {c.name for c in columns}

    def given(value: str, what: str) -> str:
        found = by_original.get(value.lower()) or (value.lower() if value.lower() in names else None)
        if found is None:
            raise IngestError(f"--{what} {value!r} is not a column of the file; columns are: {', '.join(originals)}")
        return found

    if ra or dec:
        if not (ra and dec):
            raise IngestError("give both --ra and --dec (or neither, to detect them)")
        return given(ra, "ra"), given(dec, "dec")
    by_ucd = {(c.ucd or "").lower(): c.name for c in columns}
    ra_col = by_ucd.get("pos.eq.ra;meta.main") or next((n for n in RA_NAMES if n in names), None)
    dec_col = by_ucd.get("pos.eq.dec;meta.main") or next((n for n in DEC_NAMES if n in names), None)
    if ra_col and dec_col:
        return ra_col, dec_col
    return None, None


def _numeric(column: pa.ChunkedArray, name: str) -> np.ndarray:
    if not (pa.types.is_floating(column.type) or pa.types.is_integer(column.type)):
        raise IngestError(f"position column {name} has type {column.type}; ra/dec must be numbers in degrees")
    return pc.fill_null(column.cast(pa.float64()), float("nan")).to_numpy()


def prepare(request: IngestRequest) -> tuple[TableMeta, pa.Table, SourceTable, IngestReport]:
    """Read and check everything that does not need the database."""
    if request.mode is not None and request.mode not in MODES:
        raise IngestError(f"--mode must be one of {', '.join(MODES)}")
    schema, name = split_table_name(request.table)
    source = read_source(request.path, request.format)
    columns = published_columns(source.data, source.columns)
    if any(c.name == HPX_COLUMN for c in columns):
        raise IngestError(f"the file already has a column named {HPX_COLUMN!r}, which the server computes; "
                          "rename or drop it")
    originals = [c.name for c in source.columns]
    ra_col, dec_col = _find_position(columns, originals, request.ra, request.dec)
    table = TableMeta(schema=schema, name=name, columns=columns,
                      description=source.description, extra=dict(source.extra))
    data = source.data.rename_columns([c.name for c in columns])
    report = IngestReport(table=f"{schema}.{name}", rows=data.num_rows, mode=request.mode or "create",
                          ra_column=ra_col, dec_column=dec_col)
    if ra_col and dec_col:
        index, valid = hpx_index(_numeric(data.column(ra_col), ra_col), _numeric(data.column(dec_col), dec_col))
        report.bad_positions = int((~valid).sum())
        data = data.append_column(HPX_COLUMN, pa.array(index, mask=~valid))
        data = data.take(pc.sort_indices(data, sort_keys=[(HPX_COLUMN, "ascending")]))  # nulls last
        table.columns.append(ColumnMeta(
            name=HPX_COLUMN, datatype="long", ucd="pos.healpix", indexed=True,
            description=f"Nested HEALPix index at depth 29 of ({ra_col}, {dec_col}); NULL for invalid positions"))
        for col_name, ucd in ((ra_col, "pos.eq.ra;meta.main"), (dec_col, "pos.eq.dec;meta.main")):
            col = table.column(col_name)
            assert col is not None
            col.ucd = col.ucd or ucd
            col.unit = col.unit or "deg"
            col.indexed = col.principal = True
        if report.bad_positions:
            report.warnings.append(f"{report.bad_positions} rows have a missing or invalid position "
                                   f"({ra_col}, {dec_col}); they are kept with {HPX_COLUMN} NULL")
    if table.columns:
        table.columns[0].principal = True
    if request.metadata:
        try:
            overrides = load_table_overrides(request.metadata)
            table = apply_table_overrides(table, overrides, str(request.metadata))
        except MetadataError as exc:
            raise IngestError(str(exc)) from exc
        table.extra["schema_description"] = (overrides.get("schema") or {}).get("description")
    table.extra["source"] = request.path.name
    return table, copy_ready(data), source, report


def ingest(target: DatabaseTarget, request: IngestRequest, progress: Progress | None = None) -> IngestReport:
    """Load ``request.path`` into ``request.table``; all or nothing."""
    started = time.perf_counter()
    table, data, _source, report = prepare(request)
    report.timings["read and index"] = time.perf_counter() - started
    with psycopg.connect(target.owner_dsn) as conn:
        exists = table_exists(conn, table.schema, table.name)
        ours = conn.execute("SELECT 1 FROM vo_internal.published_tables WHERE schema_name = %s AND table_name = %s",
                            (table.schema, table.name)).fetchone() is not None
        mode = request.mode or "create"
        if exists and not ours:
            raise IngestError(f"{table.qualified_name} exists but was not created by vo-server ingest; "
                              "choose another name")
        if exists and request.mode is None:
            raise IngestError(f"table {table.qualified_name} already exists: use --mode replace to reload it "
                              "or --mode append to add rows")
        if exists and mode == "create":
            raise IngestError(f"table {table.qualified_name} already exists (--mode create); "
                              "use --mode replace or --mode append")
        if not exists and mode == "append":
            mode = "create"
        report.mode = mode
        if mode == "append":
            _append(conn, table, data, report, request.coverage_order, progress)
        else:
            _create_or_replace(conn, table, data, report, request.coverage_order, progress, replace=exists)
        with report.stage("time coverage"):
            table_tmoc(conn, table.schema, table.name)
        roles.grant_select(conn, table.schema, target.query_role)
        with report.stage("commit"):
            conn.commit()
    return report


def copy_rows(conn: psycopg.Connection, schema: str, name: str, data: pa.Table, progress: Progress | None,
               freeze: bool) -> None:
    """Binary COPY of ``data`` in batches (see pgcopy)."""
    target_sql = sql.SQL("COPY {} ({}) FROM STDIN (FORMAT binary{})").format(
        sql.Identifier(schema, name), sql.SQL(", ").join(map(sql.Identifier, data.column_names)),
        sql.SQL(", FREEZE" if freeze else ""))
    # A queued writer sends in a worker thread while the next batch is encoded.
    with conn.cursor() as cur, cur.copy(target_sql, writer=QueuedLibpqWriter(cur)) as copy:
        copy.write(pgcopy.SIGNATURE)
        for start in range(0, data.num_rows, COPY_BATCH_ROWS):
            batch = data.slice(start, COPY_BATCH_ROWS)
            copy.write(pgcopy.encode_batch(batch))
            if progress:
                progress(batch.num_rows)
        copy.write(pgcopy.TRAILER)


def _hpx_moc(data: pa.Table, order: int) -> MOC | None:
    if HPX_COLUMN not in data.column_names:
        return None
    index = data.column(HPX_COLUMN).drop_null().to_numpy()
    return coverage_moc(index, order) if len(index) else empty_moc(order)


def _create_or_replace(conn: psycopg.Connection, table: TableMeta, data: pa.Table, report: IngestReport,
                       order: int, progress: Progress | None, replace: bool) -> None:
    staging = f"{table.name[:40]}_load_{uuid.uuid4().hex[:8]}"
    conn.execute(sql.SQL("CREATE SCHEMA IF NOT EXISTS {}").format(sql.Identifier(table.schema)))
    conn.execute("INSERT INTO vo_internal.data_schemas (schema_name) VALUES (%s) ON CONFLICT DO NOTHING",
                 (table.schema,))
    conn.execute(create_table_sql(table, staging))
    with report.stage("copy"):
        copy_rows(conn, table.schema, staging, data, progress, freeze=True)
    has_hpx = HPX_COLUMN in data.column_names
    index_name = f"{table.name[:50]}_hpx_idx"
    if has_hpx:
        with report.stage("btree"):
            conn.execute(sql.SQL("CREATE INDEX {} ON {} ({})").format(
                sql.Identifier(f"{staging}_hpx"), sql.Identifier(table.schema, staging),
                sql.Identifier(HPX_COLUMN)))
    if replace:
        conn.execute(sql.SQL("DROP TABLE {}").format(sql.Identifier(table.schema, table.name)))
    conn.execute(sql.SQL("ALTER TABLE {} RENAME TO {}").format(
        sql.Identifier(table.schema, staging), sql.Identifier(table.name)))
    if has_hpx:
        conn.execute(sql.SQL("ALTER INDEX {} RENAME TO {}").format(
            sql.Identifier(table.schema, f"{staging}_hpx"), sql.Identifier(index_name)))
        # Rows were written in hpx order, so the heap is already clustered: record the
        # clustering index (a later CLUSTER reuses it) without rewriting the table.
        conn.execute(sql.SQL("ALTER TABLE {} CLUSTER ON {}").format(
            sql.Identifier(table.schema, table.name), sql.Identifier(index_name)))
    with report.stage("analyze"):
        conn.execute(sql.SQL("ANALYZE {}").format(sql.Identifier(table.schema, table.name)))
    with report.stage("metadata and MOC"):
        _publish(conn, table, report, _hpx_moc(data, order), order, replace)


def _append(conn: psycopg.Connection, table: TableMeta, data: pa.Table, report: IngestReport,
            order: int, progress: Progress | None) -> None:
    existing = {r[0]: r[1] for r in conn.execute(
        "SELECT column_name, datatype FROM tap_schema.columns WHERE table_name = %s", (table.qualified_name,))}
    incoming = {c.name: c.datatype for c in table.columns}
    if existing != incoming:
        missing = sorted(set(existing) - set(incoming))
        extra = sorted(set(incoming) - set(existing))
        changed = sorted(n for n in set(existing) & set(incoming) if existing[n] != incoming[n])
        raise IngestError(f"cannot append to {table.qualified_name}: the file's columns differ "
                          f"(missing {missing}, new {extra}, other type {changed}); use --mode replace")
    copy_rows(conn, table.schema, table.name, data, progress, freeze=False)
    if HPX_COLUMN in data.column_names:
        conn.execute(sql.SQL("CLUSTER {}").format(sql.Identifier(table.schema, table.name)))
    conn.execute(sql.SQL("ANALYZE {}").format(sql.Identifier(table.schema, table.name)))
    row = conn.execute("SELECT row_count, bad_position_count, coverage_moc FROM vo_internal.published_tables "
                       "WHERE schema_name = %s AND table_name = %s", (table.schema, table.name)).fetchone()
    assert row is not None
    report.rows += row[0]
    report.bad_positions += row[1]
    moc = _hpx_moc(data, order)
    if moc is not None and row[2]:
        moc = moc.union(MOC.from_string(row[2], format="ascii"))
    _record(conn, table, report, moc, order)


def _publish(conn: psycopg.Connection, table: TableMeta, report: IngestReport, moc: MOC | None, order: int,
             replace: bool) -> None:
    writer = TapSchemaWriter(conn)
    index = conn.execute("SELECT count(*) FROM tap_schema.tables WHERE schema_name = %s",
                         (table.schema,)).fetchone()[0]
    if replace:
        index = conn.execute("SELECT table_index FROM tap_schema.tables WHERE table_name = %s",
                             (table.qualified_name,)).fetchone()
        index = index[0] if index else 0
    writer.publish_schema(table.schema, table.extra.pop("schema_description", None))
    writer.publish_table(table, index)
    _record(conn, table, report, moc, order)


def _record(conn: psycopg.Connection, table: TableMeta, report: IngestReport, moc: MOC | None, order: int) -> None:
    report.sky_fraction = float(moc.sky_fraction) if moc is not None else None
    conn.execute(
        "INSERT INTO vo_internal.published_tables (schema_name, table_name, ra_column, dec_column, hpx_column, "
        "row_count, bad_position_count, coverage_order, coverage_moc, sky_fraction, source, extra) "
        "VALUES (%(s)s, %(t)s, %(ra)s, %(dec)s, %(hpx)s, %(rows)s, %(bad)s, %(order)s, %(moc)s, %(frac)s, %(src)s, %(extra)s) "
        "ON CONFLICT (schema_name, table_name) DO UPDATE SET ra_column = EXCLUDED.ra_column, "
        "dec_column = EXCLUDED.dec_column, hpx_column = EXCLUDED.hpx_column, row_count = EXCLUDED.row_count, "
        "bad_position_count = EXCLUDED.bad_position_count, coverage_order = EXCLUDED.coverage_order, "
        "coverage_moc = EXCLUDED.coverage_moc, sky_fraction = EXCLUDED.sky_fraction, "
        "source = EXCLUDED.source, extra = EXCLUDED.extra, updated_at = now()",
        {"s": table.schema, "t": table.name, "ra": report.ra_column, "dec": report.dec_column,
         "hpx": HPX_COLUMN if report.ra_column else None, "rows": report.rows, "bad": report.bad_positions,
         "order": order if moc is not None else None,
         "moc": moc.to_string(format="ascii") if moc is not None else None,
         "frac": report.sky_fraction, "src": table.extra.get("source"),
         "extra": json.dumps({k: v for k, v in table.extra.items() if v is not None})})


def drop_table(target: DatabaseTarget, qualified: str) -> None:
    """Remove a published table, its metadata and, if it was the last one, its schema."""
    schema, name = split_table_name(qualified)
    with psycopg.connect(target.owner_dsn) as conn:
        found = conn.execute("DELETE FROM vo_internal.published_tables WHERE schema_name = %s AND table_name = %s",
                             (schema, name)).rowcount
        if not found:
            raise IngestError(f"{qualified} is not a published table; `vo-server tables` lists them")
        conn.execute("DELETE FROM vo_sky.time_coverage WHERE schema_name = %s AND table_name = %s", (schema, name))
        conn.execute(sql.SQL("DROP TABLE IF EXISTS {}").format(sql.Identifier(schema, name)))
        writer = TapSchemaWriter(conn)
        writer.unpublish_table(qualified)
        if writer.unpublish_schema_if_empty(schema):
            left = conn.execute("SELECT count(*) FROM vo_internal.published_tables WHERE schema_name = %s",
                                (schema,)).fetchone()[0]
            if not left:
                conn.execute(sql.SQL("DROP SCHEMA IF EXISTS {}").format(sql.Identifier(schema)))
                conn.execute("DELETE FROM vo_internal.data_schemas WHERE schema_name = %s", (schema,))
        conn.commit()


def list_tables(target: DatabaseTarget) -> list[dict]:
    with psycopg.connect(target.owner_dsn) as conn:
        rows = conn.execute(
            "SELECT p.schema_name || '.' || p.table_name, p.row_count, p.ra_column, p.dec_column, "
            "p.sky_fraction, p.updated_at, t.description FROM vo_internal.published_tables p "
            "LEFT JOIN tap_schema.tables t ON t.table_name = p.schema_name || '.' || p.table_name "
            "ORDER BY 1").fetchall()
    keys = ("table", "rows", "ra_column", "dec_column", "sky_fraction", "updated_at", "description")
    return [dict(zip(keys, r, strict=True)) for r in rows]
