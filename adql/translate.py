"""The public entry points: ``translate``, ``parse`` and ``validate``."""

from __future__ import annotations

import logging
from dataclasses import dataclass

from sqlglot import exp

from adql.catalog import Catalog, ColumnInfo, SimpleCatalog
from adql.compiler import Compiler, OutputItem, unique_names
from adql.errors import AdqlError
from adql.spatial import PlainSpatialCompiler, SpatialCompiler
from adql.syntax import decode_query
from adql.syntax import parse as parse_syntax

# One result column, with what a VOTable FIELD needs: the same shape as a catalog column.
OutputColumn = ColumnInfo


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


log = logging.getLogger(__name__)


def parse(adql: str | bytes) -> exp.Expr:
    """Syntax check only: the sqlglot tree of a query, or AdqlError."""
    return parse_syntax(adql)


def validate(adql: str | bytes, catalog: Catalog | None = None) -> list[str]:
    """Check a query and return its warnings; raise AdqlError on the first
    problem.  Without a catalog every table and column name is accepted (and
    any non-reserved function name, as a user-defined function), so this is
    the full ADQL 2.1 syntax and structure check; with a catalog it is a
    complete translation."""
    if catalog is not None:
        return list(translate(adql, catalog).warnings)
    text = decode_query(adql)
    tree = parse_syntax(text)
    compiler = Compiler(text, [], PlainSpatialCompiler(), permissive=True)
    compiler.root = tree
    try:
        compiler.query(tree, None)
    except RecursionError:
        raise AdqlError("the query is nested too deeply") from None
    except AdqlError:
        raise
    except Exception as err:
        log.exception("internal error validating ADQL")
        raise AdqlError(f"internal error: this query cannot be checked ({type(err).__name__})") from err
    return list(dict.fromkeys(compiler.warnings))


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
    except AdqlError:
        raise
    except Exception as err:  # a bug must not surface as anything but an ADQL error
        log.exception("internal error translating ADQL")
        raise AdqlError(f"internal error: this query cannot be translated ({type(err).__name__})") from err
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
