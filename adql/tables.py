"""Compilation of FROM clauses: tables, derived tables, CTE references and
joins (a mixin of :class:`adql.compiler.Compiler`).

Every table reference gets an internal alias; USING/NATURAL columns are
recorded in the scope so that unqualified references and ``*`` treat them as
one column, as SQL does.
"""

from __future__ import annotations

from dataclasses import replace
from typing import TYPE_CHECKING

from sqlglot import exp

from adql.catalog import ColumnInfo, TableInfo
from adql.errors import AdqlError
from adql.scope import Scope, Source, SourceColumn, ident_matches, pick, quote, table_columns

if TYPE_CHECKING:
    from adql.compiler import Compiler, OutputItem

_JOIN_ARGS = frozenset({"this", "on", "using", "side", "kind", "method"})
_TABLE_ARGS = frozenset({"this", "db", "alias", "joins", "catalog"})


class TableCompiler:
    """FROM clauses; see the module docstring."""

    def from_clause(self: Compiler, from_: exp.From, joins: list[exp.Join], scope: Scope) -> str:
        # a parenthesised join is compiled in the scope of the whole FROM clause: its left tables
        # start with its own first table
        segment_start = len(scope.sources)
        sql = self.table_reference(from_.this, scope)
        for join in joins:
            self._check_args(join, _JOIN_ARGS, "JOIN")
            if _is_comma_join(join):
                segment_start = len(scope.sources)
                sql += ", " + self.table_reference(join.this, scope)
            else:
                sql = self.join(sql, join, scope, segment_start)
        return sql

    def join(self: Compiler, left_sql: str, join: exp.Join, scope: Scope, segment_start: int) -> str:
        left_sources = scope.sources[segment_start:]
        right_start = len(scope.sources)
        right_sql = self.table_reference(join.this, scope)
        right_sources = scope.sources[right_start:]
        side = (join.args.get("side") or "").upper()
        kind = (join.args.get("kind") or "").upper()
        method = (join.args.get("method") or "").upper()
        if kind not in ("", "INNER", "OUTER") or method not in ("", "NATURAL"):
            raise self.fail(f"{kind or method} JOIN is not ADQL", join)
        if kind == "INNER" and side:
            raise self.fail("INNER cannot be combined with LEFT/RIGHT/FULL", join)
        if kind == "OUTER" and not side:
            raise self.fail("OUTER JOIN needs LEFT, RIGHT or FULL", join)
        keyword = (f"{side} OUTER JOIN" if side else "INNER JOIN")
        on = join.args.get("on")
        using = join.args.get("using")
        if method == "NATURAL":
            if on is not None or using:
                raise self.fail("NATURAL JOIN takes no ON or USING", join)
            names = self._common_columns(left_sources, right_sources)
            # PostgreSQL: "common column name appears more than once" (without a catalog the tables'
            # columns are not known)
            for name in names if not self.permissive else ():
                for which, sources in (("left", left_sources), ("right", right_sources)):
                    if _distinct_columns(name, sources, scope) > 1:
                        raise self.fail(f"NATURAL JOIN column {name!r} is ambiguous in the {which} tables", join)
            self._merge(scope, names, left_sources, right_sources, side)
            return f"{left_sql} NATURAL {keyword} {right_sql}"
        if using:
            names = []
            for identifier in using:
                if not isinstance(identifier, exp.Identifier):
                    raise self.fail("USING takes a parenthesised list of column names", join)
                self.check_identifier(identifier, "column name")
                name_left = self._join_column(identifier, left_sources, join, "left", scope)
                self._join_column(identifier, right_sources, join, "right", scope)
                names.append(name_left)
            self._merge(scope, names, left_sources, right_sources, side)
            return f"{left_sql} {keyword} {right_sql} USING ({', '.join(quote(n) for n in names)})"
        if on is not None:
            # <join_condition> sees the tables of this join only (and enclosing queries), not the other
            # items of the FROM clause: PostgreSQL's "invalid reference to FROM-clause entry"
            on_scope = replace(scope, sources=left_sources + right_sources)
            condition = self.condition(on, on_scope)
            if side == "FULL":
                self._check_full_join(on, scope, left_sources, right_sources)
            return f"{left_sql} {keyword} {right_sql} ON {condition}"
        if side:
            raise self.fail(f"{side} OUTER JOIN needs ON or USING", join)
        return f"{left_sql} CROSS JOIN {right_sql}"

    def _check_full_join(self: Compiler, on: exp.Expr, scope: Scope, left: list[Source], right: list[Source]) -> None:
        """PostgreSQL runs FULL joins only on equalities between a column of each side."""
        conjuncts = list(on.flatten()) if isinstance(on, exp.And) else [on]
        for conjunct in conjuncts:
            while isinstance(conjunct, exp.Paren):
                conjunct = conjunct.this
            sides = []
            if isinstance(conjunct, exp.EQ):
                for operand in (conjunct.this, conjunct.expression):
                    owners = set()
                    for column in operand.find_all(exp.Column):
                        try:
                            found = scope.lookup(column)
                        except AdqlError as error:  # an ambiguous name: point at the reference
                            raise self.fail(error.message, column) from None
                        owners.add("L" if found and found[0] in left else "R" if found and found[0] in right else "?")
                    sides.append(owners.pop() if len(owners) == 1 else None)
            if sides not in (["L", "R"], ["R", "L"]):
                raise self.fail("FULL OUTER JOIN needs ON conditions of the form left.column = right.column "
                                "(joined with AND), or USING", conjunct)

    def _join_column(self: Compiler, identifier: exp.Identifier, sources: list[Source], join: exp.Join, side: str,
                     scope: Scope) -> str:
        hits = [(s, c) for s in sources for c in s.named(identifier)]
        if not hits and any(s.open for s in sources):
            source = next(s for s in sources if s.open)
            column = source.unlisted_column(identifier)
            source.columns.append(column)
            return column.name
        if not hits:
            raise self.fail(f"USING column {identifier.this!r} is not in the {side} table", identifier)
        if len(hits) > 1 and _distinct_columns(hits[0][1].name, sources, scope) > 1:
            raise self.fail(f"USING column {identifier.this!r} is ambiguous in the {side} tables", identifier)
        return hits[0][1].name

    def _common_columns(self: Compiler, left: list[Source], right: list[Source]) -> list[str]:
        left_names: dict[str, int] = {}
        for source in left:
            for col in source.columns:
                left_names[col.name] = left_names.get(col.name, 0) + 1
        names = []
        for source in right:
            for col in source.columns:
                if col.name in left_names:
                    names.append(col.name)
        return names

    def _merge(self: Compiler, scope: Scope, names: list[str], left: list[Source], right: list[Source],
               side: str) -> None:
        for name in names:
            left_sql, right_sql = _side_sql(name, left, scope), _side_sql(name, right, scope)
            owners = [s for s in left + right if any(c.name == name for c in s.columns)]
            scope.merged[name.lower()] = owners
            scope.merged_sql[name.lower()] = {"": left_sql, "LEFT": left_sql, "RIGHT": right_sql}.get(
                side, f"COALESCE({left_sql}, {right_sql})")

    def table_reference(self: Compiler, node: exp.Expr, scope: Scope) -> str:
        if isinstance(node, exp.Table):
            self._check_args(node, _TABLE_ARGS, "table reference")
            if node.args.get("joins"):
                # "a LEFT JOIN b JOIN c ON x ON y": the right <table_reference> of a <qualified_join> is
                # itself a <joined_table> written without parentheses
                comma = next((join for join in node.args["joins"] if _is_comma_join(join)), None)
                if comma is not None:  # "a JOIN b, c ON x": the comma ends no <qualified_join>
                    raise self.fail("a joined table cannot contain ',' before its join condition", comma)
                base = exp.Table(**{k: v for k, v in node.args.items() if k != "joins"})
                return "(" + self.from_clause(exp.From(this=base), node.args["joins"], scope) + ")"
            return self.named_table(node, scope)
        if isinstance(node, exp.Subquery):
            alias = node.args.get("alias")
            inner = node.this
            if isinstance(inner, exp.Table | exp.Subquery) and inner.args.get("joins") and alias is None:
                # a parenthesised joined table (its first table may be a derived table)
                comma = next((join for join in inner.args["joins"] if _is_comma_join(join)), None)
                if comma is not None:  # <joined_table> ::= ( <joined_table> ): "(a, b JOIN c)" is none
                    raise self.fail("a parenthesised joined table cannot contain ','", comma)
                table_args = {k: v for k, v in inner.args.items() if k != "joins"}
                base = type(inner)(**table_args)
                return "(" + self.from_clause(exp.From(this=base), inner.args["joins"], scope) + ")"
            if alias is None and _is_parenthesised_join(inner):
                # <joined_table> ::= <left_paren> <joined_table> <right_paren>, nested
                return "(" + self.table_reference(inner, scope) + ")"
            if alias is None or not isinstance(alias.this, exp.Identifier):
                raise self.fail("a subquery in FROM needs a correlation name (AS name)", node)
            if alias.columns:
                raise self.fail("column aliases on derived tables are not ADQL", node)
            self.check_identifier(alias.this, "table alias")
            for key in ("order", "offset", "limit"):
                if node.args.get(key) is not None and key == "limit":
                    raise self.fail("LIMIT is not ADQL; use SELECT TOP n", node)
            sql, items = self.query(inner, Scope(parent=scope.parent, ctes=scope.ctes))
            if node.args.get("order") is not None or node.args.get("offset") is not None:
                sql, items = self._query_modifiers(node, sql, items, scope)
            internal = self.new_alias("q")
            columns, column_list = distinct_output_columns(items)
            source = Source(internal, alias.this.this, columns,
                            ref_name=alias.this.this, ref_quoted=alias.this.quoted, aliased=True)
            self._add_source(scope, source, node)
            return f"({sql}) AS {quote(internal)}{column_list}"
        raise self.fail("expected a table, a joined table or a subquery", node)

    def named_table(self: Compiler, node: exp.Table, scope: Scope) -> str:
        name: exp.Identifier = node.this
        if not isinstance(name, exp.Identifier):
            raise self.fail("expected a table name", node)
        schema = node.args.get("db")
        if node.args.get("catalog") is not None and not self.permissive:
            raise self.fail("catalog-qualified table names are not supported (no catalogs are published)", node)
        for identifier in (name, schema):
            if isinstance(identifier, exp.Identifier):
                self.check_identifier(identifier, "table or schema name")
        alias_node = node.args.get("alias")
        alias = None
        if alias_node is not None:
            if alias_node.columns:
                raise self.fail("column aliases on tables are not ADQL", node)
            alias = alias_node.this
            self.check_identifier(alias, "table alias")
        internal = self.new_alias("t")
        if schema is None:
            cte = scope.find_cte(name)
            if cte is not None:
                sql_name, columns = cte
                source = Source(internal, (alias or name).this, list(columns),
                                ref_name=(alias or name).this, ref_quoted=(alias or name).quoted,
                                aliased=True)
                self._add_source(scope, source, node)
                return f"{quote(sql_name)} AS {quote(internal)}"
        table = self.find_table(name, schema, node, scope)
        self.tables_used.append(table.qualified_name)
        columns, index = table_columns(table)
        source = Source(internal, alias.this if alias is not None else table.qualified_name, columns, table=table,
                        ref_name=alias.this if alias is not None else table.name,
                        ref_quoted=bool(alias is not None and alias.quoted), schema=table.schema,
                        aliased=alias is not None, index=index, indexed=len(columns))
        self._add_source(scope, source, node)
        schema_sql = table.sql_schema or table.schema
        table_sql = quote(table.name) if not schema_sql else f"{quote(schema_sql)}.{quote(table.name)}"
        return f"{table_sql} AS {quote(internal)}"

    def _add_source(self: Compiler, scope: Scope, source: Source, node: exp.Expr) -> None:
        source.open = self.permissive
        for other in scope.sources:
            if source.aliased and other.aliased and source.ref_name.lower() == other.ref_name.lower() and (
                source.ref_name == other.ref_name or not (source.ref_quoted or other.ref_quoted)
            ):
                raise self.fail(f"table alias {source.ref_name!r} is used twice", node)
            if (
                not source.aliased
                and not other.aliased
                and source.table is not None
                and source.table is other.table
            ):
                raise self.fail(f"table {source.label!r} appears twice; give it an alias", node)
        scope.sources.append(source)

    def find_table(self: Compiler, name: exp.Identifier, schema: exp.Identifier | None, node: exp.Expr,
                   scope: Scope) -> TableInfo:
        candidates = [t for t in self.table_index.get(name.this.lower(), ()) if ident_matches(name, t.name)]
        if schema is not None:
            candidates = [t for t in candidates if t.schema is not None and ident_matches(schema, t.schema)]
        if len(candidates) > 1:
            narrowed = pick(name, candidates, lambda t: t.name)
            if schema is not None and len(narrowed) > 1:
                narrowed = pick(schema, narrowed, lambda t: t.schema or "")
            candidates = narrowed
        if not candidates and self.permissive:
            return TableInfo(schema.this if schema is not None else None, name.this, ())
        if not candidates:
            written = f"{schema.this}.{name.this}" if schema is not None else name.this
            raise self.fail(f"unknown table {written!r}", node, self.suggest_table(written, scope))
        if len(candidates) > 1:
            options = ", ".join(sorted(t.qualified_name for t in candidates))
            raise self.fail(f"table name {name.this!r} is ambiguous; qualify it with its schema ({options})", node)
        return candidates[0]


def _is_comma_join(join: exp.Join) -> bool:
    return not any(join.args.get(k) for k in ("on", "using", "side", "kind", "method"))


def output_info(item: OutputItem) -> ColumnInfo:
    value = item.value
    info = value.info
    return ColumnInfo(
        name=item.name,
        datatype=value.datatype or (info.datatype if info else "char"),
        arraysize=value.arraysize,
        xtype=value.xtype,
        unit=info.unit if info else None,
        ucd=info.ucd if info else None,
        utype=info.utype if info else None,
        description=info.description if info else None,
    )


def _is_parenthesised_join(node: exp.Expr) -> bool:
    """A joined table in one or more pairs of parentheses (no alias, no ORDER BY/OFFSET)."""
    if not isinstance(node, exp.Subquery) or any(node.args.get(key) is not None
                                                 for key in ("alias", "order", "offset", "limit")):
        return False
    inner = node.this
    return (isinstance(inner, exp.Table | exp.Subquery) and bool(inner.args.get("joins"))) or \
        _is_parenthesised_join(inner)


def _distinct_columns(name: str, sources: list[Source], scope: Scope) -> int:
    """How many columns ``name`` denotes in ``sources``: the columns an earlier USING or NATURAL
    join merged count once."""
    owners = [s for s in sources if any(c.name == name for c in s.columns)]
    merged = scope.merged.get(name.lower(), [])
    outside = [s for s in owners if s not in merged]
    return len(outside) + (1 if len(outside) < len(owners) else 0)


def _side_sql(name: str, sources: list[Source], scope: Scope) -> str:
    """The SQL of column ``name`` on one side of a USING/NATURAL join (merged by an earlier join, or
    the one table's column)."""
    merged = scope.merged.get(name.lower(), [])
    if any(s in merged for s in sources) and name.lower() in scope.merged_sql:
        return scope.merged_sql[name.lower()]
    for source in sources:
        for column in source.columns:
            if column.name == name:
                return source.sql_of(column)
    return quote(name)


def distinct_output_columns(items: list[OutputItem]) -> tuple[list[SourceColumn], str]:
    """The columns of a derived table or WITH query, and the SQL column list that gives repeated
    output names (SELECT a, a or SELECT * of a join) distinct SQL names, so that the outer query can
    select each (SELECT *); a reference by the repeated name stays ambiguous."""
    names = [item.name for item in items]
    sql_names = unique_names(names)
    if sql_names == names:
        return [SourceColumn(item.name, output_info(item)) for item in items], ""
    columns = [SourceColumn(item.name, output_info(item), sql_name=sql_name)
               for item, sql_name in zip(items, sql_names, strict=True)]
    return columns, " (" + ", ".join(quote(n) for n in sql_names) + ")"


def unique_names(names: list[str]) -> list[str]:
    """Output names made unique (case-insensitively) by numbering repeats."""
    seen: set[str] = set()
    result = []
    for name in names:
        candidate, count = name, 1
        while candidate.lower() in seen:
            count += 1
            candidate = f"{name}_{count}"
        seen.add(candidate.lower())
        result.append(candidate)
    return result
