"""The functions an ADQL query may call, with what TAPRegExt publishes.

Every function name the parser sees is looked up here; a name that is not
here is an error (with a suggestion).  ``UDFS`` lists the user-defined
functions as (signature, description) pairs for the TAP capabilities.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class FunctionSpec:
    """``result`` is a VOTable datatype, "arg" (that of the first argument),
    or a geometry kind; ``pg`` the PostgreSQL function for plain mappings."""

    name: str
    min_args: int
    max_args: int | None
    category: str
    signature: str
    description: str
    result: str = "double"
    pg: str | None = None


def _numeric(name: str, pg: str, description: str, nargs: int = 1, result: str = "double") -> FunctionSpec:
    params = ", ".join(("x", "y")[:nargs])
    return FunctionSpec(name, nargs, nargs, "math", f"{name}({params})", description, result, pg)


_SPECS: list[FunctionSpec] = [
    _numeric("ABS", "abs", "absolute value", result="arg"),
    _numeric("CEILING", "ceil", "smallest integer not less than x", result="arg"),
    _numeric("DEGREES", "degrees", "radians to degrees"),
    _numeric("EXP", "exp", "e to the power x"),
    _numeric("FLOOR", "floor", "largest integer not greater than x", result="arg"),
    _numeric("LOG", "ln", "natural logarithm"),
    _numeric("LOG10", "log", "base-10 logarithm"),
    _numeric("MOD", "mod", "remainder of x / y", 2, result="arg"),
    FunctionSpec("PI", 0, 0, "math", "PI()", "the number pi", "double", "pi"),
    _numeric("POWER", "power", "x to the power y", 2),
    _numeric("RADIANS", "radians", "degrees to radians"),
    FunctionSpec("RAND", 0, 1, "math", "RAND([seed])", "random number in [0, 1)", "double", "random"),
    FunctionSpec("ROUND", 1, 2, "math", "ROUND(x [, n])", "x rounded to n decimal places", "arg", "round"),
    _numeric("SQRT", "sqrt", "square root"),
    FunctionSpec("TRUNCATE", 1, 2, "math", "TRUNCATE(x [, n])", "x truncated to n decimal places", "arg", "trunc"),
    _numeric("ACOS", "acos", "arc cosine (radians)"),
    _numeric("ASIN", "asin", "arc sine (radians)"),
    _numeric("ATAN", "atan", "arc tangent (radians)"),
    _numeric("ATAN2", "atan2", "arc tangent of y/x (radians)", 2),
    _numeric("COS", "cos", "cosine of x (radians)"),
    _numeric("COT", "cot", "cotangent of x (radians)"),
    _numeric("SIN", "sin", "sine of x (radians)"),
    _numeric("TAN", "tan", "tangent of x (radians)"),
    FunctionSpec("LOWER", 1, 1, "string", "LOWER(s)", "s in lower case", "char", "lower"),
    FunctionSpec("UPPER", 1, 1, "string", "UPPER(s)", "s in upper case", "char", "upper"),
    FunctionSpec("COALESCE", 1, None, "conditional", "COALESCE(a, b, ...)", "first non-null argument", "arg"),
    FunctionSpec("IN_UNIT", 2, 2, "math", "IN_UNIT(x, 'unit')", "x converted to the given unit"),
    FunctionSpec("COUNT", 1, 1, "aggregate", "COUNT(*|x)", "number of rows / non-null values", "long"),
    FunctionSpec("AVG", 1, 1, "aggregate", "AVG(x)", "mean", "double"),
    FunctionSpec("MIN", 1, 1, "aggregate", "MIN(x)", "minimum", "arg"),
    FunctionSpec("MAX", 1, 1, "aggregate", "MAX(x)", "maximum", "arg"),
    FunctionSpec("SUM", 1, 1, "aggregate", "SUM(x)", "sum", "arg"),
    FunctionSpec("POINT", 2, 3, "geometry", "POINT([cs,] ra, dec)", "a position", "point"),
    FunctionSpec("CIRCLE", 2, 4, "geometry", "CIRCLE([cs,] ra, dec, r)", "a cone", "circle"),
    FunctionSpec("BOX", 3, 5, "geometry", "BOX([cs,] ra, dec, width, height)", "a great-circle box", "polygon"),
    FunctionSpec("POLYGON", 3, None, "geometry", "POLYGON([cs,] ra1, dec1, ...)", "a polygon", "polygon"),
    FunctionSpec("REGION", 1, 1, "geometry", "REGION('STC-S')", "a region from STC-S text", "region"),
    FunctionSpec("CENTROID", 1, 1, "geometry", "CENTROID(g)", "centre of a region", "point"),
    FunctionSpec("CONTAINS", 2, 2, "geometry", "CONTAINS(a, b)", "1 if a lies within b", "int"),
    FunctionSpec("INTERSECTS", 2, 2, "geometry", "INTERSECTS(a, b)", "1 if a and b overlap", "int"),
    FunctionSpec("DISTANCE", 2, 4, "geometry", "DISTANCE(p1, p2)", "great-circle distance (degrees)"),
    FunctionSpec("AREA", 1, 1, "geometry", "AREA(g)", "area in square degrees"),
    FunctionSpec("COORD1", 1, 1, "geometry", "COORD1(p)", "first coordinate of a point"),
    FunctionSpec("COORD2", 1, 1, "geometry", "COORD2(p)", "second coordinate of a point"),
    FunctionSpec("COORDSYS", 1, 1, "geometry", "COORDSYS(g)", "coordinate system of a geometry", "char"),
    FunctionSpec(
        "MOC",
        1,
        2,
        "geometry",
        "MOC('ascii moc') | MOC(order, geometry)",
        "a Multi-Order Coverage map (MOC 2.0 ASCII)",
        "moc",
    ),
    FunctionSpec(
        "IVO_HEALPIX_INDEX",
        3,
        3,
        "udf",
        "ivo_healpix_index(order INTEGER, ra DOUBLE, dec DOUBLE) -> BIGINT",
        "Nested HEALPix index at the given order (0..29) of the position (ra, dec) in degrees.",
        "long",
    ),
    FunctionSpec(
        "IVO_HEALPIX_CENTER",
        2,
        2,
        "udf",
        "ivo_healpix_center(order INTEGER, index BIGINT) -> POINT",
        "Centre of a nested HEALPix cell as a POINT.",
        "point",
    ),
    FunctionSpec(
        "IVO_HASWORD",
        2,
        2,
        "udf",
        "ivo_hasword(haystack TEXT, word TEXT) -> INTEGER",
        "1 if word occurs in haystack as a whole word, ignoring case, else 0.",
        "int",
    ),
    FunctionSpec(
        "IVO_NOCASEMATCH",
        2,
        2,
        "udf",
        "ivo_nocasematch(value TEXT, pattern TEXT) -> INTEGER",
        "1 if value matches the LIKE pattern ignoring case, else 0.",
        "int",
    ),
    FunctionSpec(
        "IVO_STRING_AGG",
        2,
        2,
        "udf",
        "ivo_string_agg(value TEXT, delimiter TEXT) -> TEXT",
        "Aggregate: the non-null values of a group joined with the delimiter.",
        "char",
    ),
    FunctionSpec(
        "IVO_EPOCH_PROP_POS",
        8,
        8,
        "udf",
        "ivo_epoch_prop_pos(ra DOUBLE, dec DOUBLE, parallax DOUBLE, pmra DOUBLE, pmdec DOUBLE, "
        "radial_velocity DOUBLE, ref_epoch DOUBLE, out_epoch DOUBLE) -> POINT",
        "Position propagated from ref_epoch to out_epoch (Julian years) with proper motion "
        "(mas/yr, pmra includes cos dec), parallax (mas) and radial velocity (km/s), rigorous "
        "linear space motion; NULL motion terms count as 0.",
        "point",
    ),
]

FUNCTIONS: dict[str, FunctionSpec] = {spec.name: spec for spec in _SPECS}

AGGREGATES = frozenset(name for name, spec in FUNCTIONS.items() if spec.category == "aggregate") | {
    "IVO_STRING_AGG"
}

UDFS: list[tuple[str, str]] = [(spec.signature, spec.description) for spec in _SPECS if spec.category == "udf"]


def lookup(name: str) -> FunctionSpec | None:
    return FUNCTIONS.get(name.upper())
