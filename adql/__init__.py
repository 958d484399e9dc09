"""ADQL 2.1 → PostgreSQL translator.

``translate(adql, catalog, spatial=..., max_rows=None)`` returns a
:class:`Translation`; ``parse``/``validate`` check syntax without a catalog.
Every user error is an :class:`AdqlError` with a line and column.
"""

from adql.catalog import Catalog, ColumnInfo, SimpleCatalog, TableInfo
from adql.errors import AdqlError
from adql.functions import UDFS
from adql.spatial import PlainSpatialCompiler, SpatialCompiler
from adql.translate import OutputColumn, Translation, parse, translate, validate

__all__ = [
    "AdqlError",
    "Catalog",
    "ColumnInfo",
    "OutputColumn",
    "PlainSpatialCompiler",
    "SimpleCatalog",
    "SpatialCompiler",
    "TableInfo",
    "Translation",
    "UDFS",
    "parse",
    "translate",
    "validate",
]
