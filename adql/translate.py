"""The public entry points: ``translate``, ``parse`` and ``validate``."""

from __future__ import annotations

from dataclasses import dataclass, field

from sqlglot import exp

from adql.catalog import Catalog, SimpleCatalog
from adql.compiler import Compiler, OutputItem, unique_names
from adql.errors import AdqlError
from adql.spatial import PlainSpatialCompiler, SpatialCompiler
from adql.syntax import decode_query
from adql.syntax import parse as parse_syntax


@dataclass(frozen=True)
class OutputColumn:
    """One result column, with what a VOTable FIELD needs."""

    name: str
    datatype: str
    arraysize: str | None = None
    xtype: str | None = None
    unit: str | None = None
    ucd: str | None = None
    utype: str | None = None
    description: str | None = None


@dataclass(frozen=True)
class Translation:
    """The PostgreSQL text of a query and what the caller needs to run it.

    ``limit`` is the LIMIT placed on the outermost query (None if none);
    when ``max_rows`` is set and the query may return more, ``limit`` is
    ``max_rows + 1`` so that receiving more than ``max_rows`` rows means the
    result overflowed (``overflow_possible``).
    """

    sql: str
    columns: tuple[OutputColumn, ...]
    warnings: tuple[str, ...] = ()
    tables: tuple[str, ...] = ()
    limit: int | None = None
    max_rows: int | None = None
    overflow_possible: bool = False
    extra: dict = field(default_factory=dict, compare=False)


def parse(adql: str | bytes) -> exp.Expr:
    """Syntax check only: the sqlglot tree of a query, or AdqlError."""
    return parse_syntax(adql)


def validate(adql: str | bytes, catalog: Catalog | None = None) -> list[str]:
    """Check a query; with a catalog also its names and types.  Returns the
    warnings; raises AdqlError on the first problem."""
    if catalog is None:
        tree = parse_syntax(adql)
        _check_structure(tree)
        return []
    return list(translate(adql, catalog).warnings)


def _check_structure(tree: exp.Expr) -> None:
    """Catalog-free checks of what the parser tolerates but ADQL forbids."""
    compiler = Compiler("", [], PlainSpatialCompiler())
    for node in tree.walk():
        if isinstance(node, exp.Select):
            if node.args.get("from_") is None:
                raise AdqlError("ADQL requires a FROM clause")
            for key, value in node.args.items():
                if value not in (None, [], False) and key not in (
                    "expressions", "from_", "where", "group", "having", "order", "offset", "limit", "distinct",
                    "joins", "with_", "kind",
                ):
                    raise AdqlError(f"SELECT: '{key}' is not ADQL")
        elif isinstance(node, exp.Identifier):
            compiler.check_identifier(node, "name") if node.parent is not None and not isinstance(
                node.parent, exp.Anonymous) else None


def translate(
    adql: str | bytes,
    catalog: Catalog,
    spatial: SpatialCompiler | None = None,
    max_rows: int | None = None,
) -> Translation:
    """Translate an ADQL 2.1 query to PostgreSQL.

    Pure: reads only ``catalog`` and asks ``spatial`` for index prefilters.
    Every failure is an :class:`AdqlError`.
    """
    if max_rows is not None and max_rows < 0:
        raise AdqlError("max_rows must not be negative")
    text = decode_query(adql)
    tree = parse_syntax(text)
    tables = catalog.tables() if catalog is not None else SimpleCatalog().tables()
    compiler = Compiler(text, tables, spatial or PlainSpatialCompiler())
    compiler.root = tree
    compiler.max_rows = max_rows
    try:
        sql, items = compiler.query(tree, None)
    except RecursionError:
        raise AdqlError("the query is nested too deeply") from None
    names = unique_names([item.name for item in items])
    if names != [item.name for item in items]:
        # only a set operation at the top can still repeat names
        columns_sql = ", ".join(_quote(n) for n in names)
        sql = f"SELECT * FROM ({sql}) AS {_quote('result')} ({columns_sql})"
    columns = tuple(_output_column(name, item) for name, item in zip(names, items, strict=True))
    return Translation(
        sql=sql,
        columns=columns,
        warnings=tuple(dict.fromkeys(compiler.warnings)),
        tables=tuple(dict.fromkeys(compiler.tables_used)),
        limit=compiler.limit,
        max_rows=max_rows,
        overflow_possible=compiler.overflow_possible,
    )


def _quote(name: str) -> str:
    return '"' + name.replace('"', '""') + '"'


def _output_column(name: str, item: OutputItem) -> OutputColumn:
    value = item.value
    info = value.info
    datatype = value.datatype or (info.datatype if info is not None else None)
    if datatype is None:
        datatype = "char"
    arraysize = value.arraysize
    if datatype == "char" and arraysize is None:
        arraysize = "*"
    return OutputColumn(
        name=name,
        datatype=datatype,
        arraysize=arraysize,
        xtype=value.xtype,
        unit=info.unit if info is not None else None,
        ucd=info.ucd if info is not None else None,
        utype=info.utype if info is not None else None,
        description=info.description if info is not None else None,
    )
