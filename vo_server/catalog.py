"""The ADQL catalog of the running server: TAP_SCHEMA (names, types, units,
UCDs) plus ``vo_internal.published_tables`` (which columns hold the indexed
position).  One source of truth, read back from the database.

Ingest while serving must show up without a restart, so ``PublishedCatalog``
checks a cheap version stamp (row counts and the latest update time of the
metadata tables) before a query (at most every ``CHECK_INTERVAL`` seconds)
and reloads only when it changed.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

import psycopg

from adql.catalog import ColumnInfo, SimpleCatalog, TableInfo
from vo_server.db.pools import Database
from vo_server.metadata.model import TableMeta
from vo_server.metadata.tap_schema import read_tables, stored_column_name
from vo_server.sky.footprint_index import REGION_COLUMNS

VERSION_SQL = (
    "SELECT (SELECT count(*) FROM tap_schema.columns), (SELECT count(*) FROM tap_schema.tables), "
    "(SELECT count(*) FROM vo_internal.published_tables), "
    "(SELECT max(updated_at) FROM vo_internal.published_tables)")


@dataclass(frozen=True)
class Positions:
    """Indexed position of a table: (ra, dec) columns and the hpx column."""

    ra: str | None
    dec: str | None
    hpx: str | None


def table_info(table: TableMeta, positions: Positions | None) -> TableInfo:
    columns = tuple(ColumnInfo(name=stored_column_name(c.name), datatype=c.datatype, arraysize=c.arraysize, xtype=c.xtype,
                               unit=c.unit, ucd=c.ucd, utype=c.utype, description=c.description)
                    for c in table.columns)
    position = None
    hpx = None
    if positions and positions.ra and positions.dec and positions.hpx:
        position, hpx = (positions.ra, positions.dec), positions.hpx
    names = {c.name for c in columns}
    regions = tuple(r for r in REGION_COLUMNS.get((table.schema, table.name), ()) if r.column in names)
    return TableInfo(schema=table.schema, name=table.name, columns=columns, position=position,
                     hpx_column=hpx, description=table.description, region_columns=regions)


def load_catalog(owner_dsn: str) -> tuple[list[TableMeta], SimpleCatalog]:
    """Published tables and the catalog the translator reads (blocking)."""
    with psycopg.connect(owner_dsn) as conn:
        tables = read_tables(conn)
        positions = {(s, t): Positions(ra, dec, hpx) for s, t, ra, dec, hpx in conn.execute(
            "SELECT schema_name, table_name, ra_column, dec_column, hpx_column FROM vo_internal.published_tables")}
    return tables, SimpleCatalog.of(table_info(t, positions.get((t.schema, t.name))) for t in tables)


class PublishedCatalog:
    """The current catalog, reloaded when the metadata changed."""

    # A version check at most this often (seconds): new tables show up within it.
    CHECK_INTERVAL = 0.25

    def __init__(self, db: Database):
        self.db = db
        self._checked_at = float("-inf")
        self._version: tuple | None = None
        self._tables: list[TableMeta] = []
        self._catalog = SimpleCatalog()
        self._lock = asyncio.Lock()

    async def _current_version(self) -> tuple:
        async with self.db.owner.connection() as conn:
            cur = await conn.execute(VERSION_SQL)
            return tuple(await cur.fetchone() or ())

    async def refresh(self, force: bool = False) -> bool:
        """Reload if the metadata changed; True if it did.  ``force`` skips the
        interval (used when a query names a table the cached catalog lacks)."""
        seen = self._version  # what the caller's catalog was built from
        now = time.monotonic()
        if not force and seen is not None and now - self._checked_at < self.CHECK_INTERVAL:
            return False
        self._checked_at = now
        version = await self._current_version()
        if version == seen:
            return False
        async with self._lock:  # a concurrent request may be loading it: wait, then report the change
            if version != self._version:
                tables, catalog = await asyncio.to_thread(load_catalog, self.db.target.owner_dsn)
                self._tables, self._catalog, self._version = tables, catalog, version
            return self._version != seen

    async def catalog(self) -> SimpleCatalog:
        await self.refresh()
        return self._catalog

    @property
    def version(self) -> tuple | None:
        """The metadata version the current catalog was built from (changes with
        every ingest, append and drop)."""
        return self._version

    async def tables(self) -> list[TableMeta]:
        await self.refresh()
        return self._tables


def with_tables(catalog: SimpleCatalog, extra: Iterable[TableInfo]) -> SimpleCatalog:
    """The catalog plus per-query tables (TAP_UPLOAD)."""
    return SimpleCatalog.of([*catalog.tables(), *extra])


def find_table(tables: Sequence[TableMeta], qualified_name: str) -> TableMeta | None:
    lowered = qualified_name.lower()
    return next((t for t in tables if t.qualified_name.lower() == lowered), None)
