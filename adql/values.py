"""What the translator knows about a compiled expression.

Each sub-expression compiles to a :class:`Value`: its PostgreSQL text plus the
static facts the next step needs (kind, VOTable type, constant value,
geometry shape, whether it is an indexed position).  ADQL has no boolean
values, so search conditions are a kind of their own (``PREDICATE``).
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace

from adql.catalog import ColumnInfo
from adql.spatial import IndexedFootprint, IndexedPosition, Region

NUMBER = "number"
STRING = "string"
BOOLEAN = "boolean"  # a boolean column (not an ADQL type, but TAP_SCHEMA has them)
PREDICATE = "predicate"
GEOMETRY = "geometry"
TIMESTAMP = "timestamp"
NULL = "null"
ARRAY = "array"
UNKNOWN = "unknown"  # a column of a table the catalog does not know (syntax-only validation)
LOOSE = frozenset({NULL, UNKNOWN})  # kinds that satisfy every type check

INTEGER_TYPES = frozenset({"short", "int", "long", "unsignedByte"})
FLOAT_TYPES = frozenset({"float", "double"})


class _NotConstant:
    def __repr__(self) -> str:
        return "NOT_CONSTANT"


NOT_CONSTANT = _NotConstant()


@dataclass(frozen=True)
class Geometry:
    """A geometry value: its shape and SQL pieces.

    point: parts = (ra_sql, dec_sql); circle: (ra_sql, dec_sql, radius_sql);
    polygon: (array_sql,) with ra/dec pairs; moc: (ranges_sql,) bigint[] of
    half-open depth-29 [lo, hi) pairs; region: (dali_sql,) the stored
    geometry of a region column, a circle or a polygon (``catalog.RegionColumn``).
    ``region`` is set when all arguments are constants, ``position`` when a
    point is a table's indexed position, ``footprint`` when a region column
    has a footprint index.
    """

    shape: str
    parts: tuple[str, ...]
    region: Region | None = None
    point: tuple[float, float] | None = None
    position: IndexedPosition | None = None
    moc_ascii: str | None = None
    radius: float | None = None
    footprint: IndexedFootprint | None = None


@dataclass(frozen=True)
class SpatialTest:
    """A CONTAINS/INTERSECTS call: exact SQL and the optional index prefilter."""

    exact: str
    prefilter: str | None = None


@dataclass(frozen=True)
class DistanceCall:
    """DISTANCE between two points, kept so that ``DISTANCE(...) < r`` can use
    the index."""

    first: Geometry
    second: Geometry


@dataclass(frozen=True)
class Value:
    sql: str
    kind: str
    datatype: str | None = None
    arraysize: str | None = None
    xtype: str | None = None
    info: ColumnInfo | None = None
    const: object = NOT_CONSTANT
    aggregate: bool = False
    geometry: Geometry | None = None
    spatial: SpatialTest | None = None
    distance: DistanceCall | None = None
    name: str | None = None
    extras: dict = field(default_factory=dict, compare=False)

    @property
    def is_constant(self) -> bool:
        return self.const is not NOT_CONSTANT

    @property
    def is_integer(self) -> bool:
        return self.kind == NUMBER and self.datatype in INTEGER_TYPES

    def with_sql(self, sql: str, **changes: object) -> Value:
        return replace(self, sql=sql, **changes)


_SQL_TYPES = {"boolean": "boolean", "short": "smallint", "int": "integer", "long": "bigint", "float": "real",
              "double": "double precision"}


def sql_type(value: Value) -> str | None:
    """The PostgreSQL type of a value of known kind (None for NULL, unknown and conditions)."""
    if value.kind == NUMBER:
        return _SQL_TYPES.get(value.datatype or "", "double precision")
    if value.kind == STRING:
        return "text"
    if value.kind == TIMESTAMP:
        return "timestamp"
    if value.kind == BOOLEAN:
        return "boolean"
    if value.kind == GEOMETRY and value.xtype in ("point", "circle", "polygon"):
        return "double precision[]"
    return None


def retyped_query(sql: str, names: list[str], types: dict[int, str], alias: str) -> str:
    """``sql`` (a parenthesised query) with columns ``types`` cast: an output column that is a bare
    NULL is text in a PostgreSQL subquery, which cannot be compared with or combined with a number."""
    columns = [f"c{i + 1}" for i in range(len(names))]
    parts = []
    for i, (column, name) in enumerate(zip(columns, names, strict=True)):
        ref = f'"{alias}"."{column}"'
        parts.append((f"CAST({ref} AS {types[i]})" if i in types else ref) + ' AS "' + name.replace('"', '""') + '"')
    column_list = ", ".join(f'"{c}"' for c in columns)
    return f'(SELECT {", ".join(parts)} FROM {sql} AS "{alias}" ({column_list}))'
