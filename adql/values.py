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
