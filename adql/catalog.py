"""What the translator needs to know about published tables.

The server builds these objects from TAP_SCHEMA (plus the positional index
facts it keeps internally); tests build them by hand.  The translator only
reads them.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from typing import Protocol


@dataclass(frozen=True)
class ColumnInfo:
    """One column as TAP_SCHEMA.columns describes it.

    ``name`` is the name as stored in the database: lower case for names that
    were regular identifiers, exact case for delimited ones.  ``datatype`` is a
    VOTable datatype (boolean, short, int, long, float, double, char,
    unicodeChar, ...), ``arraysize``/``xtype`` as in TAP_SCHEMA 1.1
    (e.g. xtype "timestamp", "point", "circle", "polygon", "moc").
    """

    name: str
    datatype: str
    arraysize: str | None = None
    xtype: str | None = None
    unit: str | None = None
    ucd: str | None = None
    utype: str | None = None
    description: str | None = None


@dataclass(frozen=True)
class RegionColumn:
    """A column of regions published as STC-S text (xtype ``adql:REGION``,
    e.g. ObsCore ``s_region``) whose geometry for computation is stored in
    ``geometry_column``: a DALI array, [ra, dec, r] for a circle or
    [ra1, dec1, ra2, dec2, ...] counter-clockwise for a polygon (told apart
    by length; degrees, ICRS).  ``footprint_index`` names an index of the
    regions known to the spatial compiler, keyed by ``key_column``."""

    column: str
    geometry_column: str
    footprint_index: str | None = None
    key_column: str | None = None


@dataclass(frozen=True)
class TableInfo:
    """A published table.

    ``position`` names the (ra, dec) columns, in degrees ICRS, whose nested
    depth-29 HEALPix index is stored in ``hpx_column``; both are None for
    tables without an indexed position.  ``region_columns``: the columns of
    STC-S regions usable in geometry (see ``RegionColumn``).  ``sql_schema``:
    the schema the generated SQL names when it differs from the one queries
    use (e.g. uploads: ``TAP_UPLOAD.t`` in ADQL, a per-job schema in SQL).
    """

    schema: str | None
    name: str
    columns: tuple[ColumnInfo, ...]
    position: tuple[str, str] | None = None
    hpx_column: str | None = None
    description: str | None = None
    region_columns: tuple[RegionColumn, ...] = ()
    sql_schema: str | None = None

    def region_column(self, name: str) -> RegionColumn | None:
        return next((r for r in self.region_columns if r.column == name), None)

    @property
    def qualified_name(self) -> str:
        return f"{self.schema}.{self.name}" if self.schema else self.name


class Catalog(Protocol):
    """The set of tables a query may read."""

    def tables(self) -> Sequence[TableInfo]: ...


@dataclass(frozen=True)
class SimpleCatalog:
    """A catalog from a fixed list of tables."""

    table_list: tuple[TableInfo, ...] = field(default_factory=tuple)

    @classmethod
    def of(cls, tables: Iterable[TableInfo]) -> SimpleCatalog:
        return cls(tuple(tables))

    def tables(self) -> Sequence[TableInfo]:
        return self.table_list
