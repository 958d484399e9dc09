"""VOTable datatype (+ arraysize, xtype) -> PostgreSQL column type."""

from __future__ import annotations

from vo_server.metadata.model import ColumnMeta

SCALAR_PG_TYPES = {
    "boolean": "boolean",
    "bit": "boolean",
    "unsignedByte": "smallint",
    "short": "smallint",
    "int": "integer",
    "long": "bigint",
    "float": "real",
    "double": "double precision",
}

GEOMETRY_XTYPES = frozenset({"point", "circle", "polygon", "shape"})


def pg_type(col: ColumnMeta) -> str:
    """The PostgreSQL type that stores ``col``.

    Strings are ``text`` whatever their declared length (PostgreSQL stores
    both the same way); timestamps are ``timestamp``; DALI geometries are
    ``double precision[]``; other arrays become PostgreSQL arrays.
    """
    if col.xtype == "timestamp":
        return "timestamp"
    if col.xtype in GEOMETRY_XTYPES:
        return "double precision[]"
    if col.xtype == "moc":
        return "text"
    if col.datatype in ("char", "unicodeChar"):
        return "text"
    try:
        base = SCALAR_PG_TYPES[col.datatype]
    except KeyError:
        raise ValueError(f"column {col.name}: datatype {col.datatype} has no PostgreSQL type") from None
    if col.arraysize and col.arraysize != "1":
        return base + "[]"
    return base
