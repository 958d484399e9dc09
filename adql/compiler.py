"""Compilation of ADQL queries (SELECT, set operations, WITH, ORDER BY, limits);
FROM clauses are in ``adql.tables``, expressions in ``adql.expressions``,
geometry in ``adql.geometry_sql``.

The compiler walks the sqlglot tree once, resolving names against the
catalog and emitting PostgreSQL text as it goes.  Only constructs it knows
produce SQL; anything else in the tree is an error, so sqlglot's tolerance
of other dialects can never leak through.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass, replace

from sqlglot import exp

from adql.catalog import TableInfo
from adql.crossmatch import CrossmatchCompiler
from adql.expressions import ExpressionCompiler, promote
from adql.geometry_sql import GeometryCompiler
from adql.scope import Scope, Source, SourceColumn, ident_matches, pick, quote, suggest, tables_by_name
from adql.spatial import SpatialCompiler
from adql.syntax import position
from adql.tables import TableCompiler, distinct_output_columns, unique_names
from adql.values import BOOLEAN, GEOMETRY, NULL, NUMBER, PREDICATE, STRING, Value, retyped_query, sql_type

_SELECT_ARGS = frozenset({"expressions", "from_", "where", "group", "having", "order", "offset", "limit",
                          "distinct", "joins", "with_"})
_SETOP_ARGS = frozenset({"this", "expression", "distinct", "order", "offset", "with_", "limit"})


@dataclass
class OutputItem:
    name: str
    value: Value


class Compiler(TableCompiler, ExpressionCompiler, GeometryCompiler, CrossmatchCompiler):
    """Translate one parsed query; instances are single-use."""

    def __init__(self, text: str, tables: Sequence[TableInfo], spatial: SpatialCompiler,
                 permissive: bool = False) -> None:
        self.text = text
        # permissive: no catalog; unknown tables and columns are accepted (syntax-only validation)
        self.permissive = permissive
        self.tables = list(tables)
        self.table_index = tables_by_name(tables)
        self.spatial = spatial
        self.warnings: list[str] = []
        self.tables_used: list[str] = []
        self._aliases = 0
        self.aggregates_allowed = False
        self.in_aggregate = False
        self._select_aliases: list[dict[str, Value]] = []
        self._columns_seen: list[str] | None = None
        self._item_columns: list[tuple[exp.Expr, str, list[str]]] = []
        self.root: exp.Expr | None = None
        self.max_rows: int | None = None
        self.limit: int | None = None
        self.overflow_possible = False
        self._crossmatch_stack = []
        self._order_aggregate = False  # set by order_by: an aggregate in ORDER BY

    def root_limit(self, top: int | None) -> int | None:
        """LIMIT of the outermost query: TOP, or max_rows + 1 to detect overflow."""
        if self.max_rows is None or (top is not None and top <= self.max_rows):
            self.limit = top
            return top
        self.limit = self.max_rows + 1
        self.overflow_possible = True
        return self.limit

    # ------------------------------------------------------------- utilities
    def position_of(self, node: exp.Expr) -> tuple[int | None, int | None]:
        best = None
        for sub in node.walk():
            start = sub.meta.get("start") if sub._meta else None  # noqa: SLF001
            if start is not None and (best is None or start < best):
                best = start
        if best is None:
            return None, None
        return position(self.text, best)

    def new_alias(self, prefix: str = "t") -> str:
        self._aliases += 1
        return f"{prefix}{self._aliases}"

    def note_column(self, sql: str) -> None:
        if self._columns_seen is not None and not self.in_aggregate:
            self._columns_seen.append(sql)

    def select_alias(self, node: exp.Column) -> Value | None:
        if node.args.get("table") is not None or not self._select_aliases:
            return None
        aliases = self._select_aliases[-1]
        identifier = node.this
        for name, value in aliases.items():
            if ident_matches(identifier, name):
                return value
        return None

    def suggest_table(self, name: str, scope: Scope) -> str | None:
        options = [t.name for t in self.tables] + [t.qualified_name for t in self.tables]
        current: Scope | None = scope
        while current is not None:
            options.extend(s.label for s in current.sources)
            current = current.parent
        return suggest(name, options)

    def _check_args(self, node: exp.Expr, allowed: frozenset[str], what: str) -> None:
        for key, value in node.args.items():
            if key not in allowed and value not in (None, [], False, ""):
                if key == "nulls_first" or key == "_type":
                    continue
                raise self.fail(f"{what}: '{key}' is not ADQL", node)

    # ---------------------------------------------------------------- queries
    def query(self, node: exp.Expr, parent: Scope | None) -> tuple[str, list[OutputItem]]:
        """SQL text and output columns of a query expression."""
        scope = Scope(parent=parent)
        prefix = ""
        with_ = node.args.get("with_")
        if with_ is not None:
            if node is not self.root:
                raise self.fail("WITH is only allowed at the start of the whole query", with_)
            prefix = self.with_clause(with_, scope)
        if isinstance(node, exp.Select):
            sql, items = self.select(node, scope)
        elif isinstance(node, exp.Union | exp.Intersect | exp.Except):
            sql, items = self.set_operation(node, scope)
        elif isinstance(node, exp.Subquery) and not node.args.get("alias"):
            if node is self.root and node.args.get("order") is None and node.args.get("offset") is None:
                self.root = node.this  # a parenthesised query: its content is the outermost query
            inner_sql, items = self.query(node.this, scope)
            sql = inner_sql
            sql, items = self._query_modifiers(node, sql, items, scope)
        else:
            raise self.fail("expected a SELECT query", node)
        return prefix + sql, items

    def _query_modifiers(self, node: exp.Expr, sql: str, items: list[OutputItem],
                         scope: Scope) -> tuple[str, list[OutputItem]]:
        order = node.args.get("order")
        offset = node.args.get("offset")
        if node.args.get("limit") is not None:
            raise self.fail("LIMIT is not ADQL; use SELECT TOP n", node)
        if order is None and offset is None:
            return sql, items
        clauses = [f"SELECT * FROM ({sql}) AS {quote(self.new_alias('q'))}"]
        if order is not None:
            clauses.append("ORDER BY " + ", ".join(self.output_order(order, items)))
        if node is self.root:
            limit = self.root_limit(None)
            if limit is not None:
                clauses.append(f"LIMIT {limit}")
        if offset is not None:
            clauses.append(f"OFFSET {self.unsigned(offset.expression, 'OFFSET')}")
        return " ".join(clauses), items

    def with_clause(self, node: exp.With, scope: Scope) -> str:
        if node.args.get("recursive"):
            raise self.fail("WITH RECURSIVE is not ADQL", node)
        parts = []
        for cte in node.expressions:
            alias = cte.args.get("alias")
            if not isinstance(cte, exp.CTE) or alias is None or alias.columns:
                raise self.fail("a WITH query is written name AS (SELECT ...)", cte)
            if cte.args.get("materialized") is not None:
                raise self.fail("MATERIALIZED is not ADQL", cte)
            identifier = alias.this
            self.check_identifier(identifier, "query name")
            if scope.find_cte(identifier) is not None and any(
                ident_matches(identifier, name) for name in scope.ctes
            ):
                raise self.fail(f"WITH query {identifier.this!r} is defined twice", cte)
            sql, items = self.query(cte.this, scope)
            sql_name = self.new_alias("w")
            columns, column_list = distinct_output_columns(items)
            name = identifier.this if identifier.quoted else identifier.this
            scope.ctes[name] = (sql_name, identifier.quoted, columns)
            parts.append(f"{quote(sql_name)}{column_list} AS ({sql})")
        return "WITH " + ", ".join(parts) + " "

    def set_operation(self, node: exp.Expr, scope: Scope) -> tuple[str, list[OutputItem]]:
        self._check_args(node, _SETOP_ARGS, "set operation")
        keyword = {exp.Union: "UNION", exp.Intersect: "INTERSECT", exp.Except: "EXCEPT"}[type(node)]
        if not node.args.get("distinct"):
            keyword += " ALL"
        left_sql, left = self.query(node.this, scope)
        right_sql, right = self.query(node.expression, scope)
        if len(left) != len(right) and not self.permissive:
            raise self.fail(f"the queries of {keyword.split()[0]} return different numbers of columns "
                            f"({len(left)} and {len(right)})", node)
        for a, b in zip(left, right, strict=False):
            self._check_union_types(a, b, node)
        # a bare NULL column of one side takes the other side's type (else PostgreSQL makes it text)
        for side, other, which in ((left, right, "left"), (right, left, "right")):
            types = {i: sql_type(b.value) for i, (a, b) in enumerate(zip(side, other, strict=False))
                     if a.value.kind == NULL and sql_type(b.value) is not None}
            if types:
                names = [item.name for item in side]
                if which == "left":
                    left_sql = retyped_query(f"({left_sql})", names, types, self.new_alias("s"))[1:-1]
                else:
                    right_sql = retyped_query(f"({right_sql})", names, types, self.new_alias("s"))[1:-1]
        left = [_union_item(a, b) for a, b in zip(left, right, strict=False)] + left[len(right):]
        sql = f"({left_sql}) {keyword} ({right_sql})"
        if node.args.get("limit") is not None:
            raise self.fail("LIMIT is not ADQL; use SELECT TOP n", node)
        order = node.args.get("order")
        if order is not None:
            sql += " ORDER BY " + ", ".join(self.output_order(order, left))
        if node is self.root:
            limit = self.root_limit(None)
            if limit is not None:
                sql += f" LIMIT {limit}"
        offset = node.args.get("offset")
        if offset is not None:
            sql += f" OFFSET {self.unsigned(offset.expression, 'OFFSET')}"
        return sql, left

    def _check_union_types(self, a: OutputItem, b: OutputItem, node: exp.Expr) -> None:
        # NULL fits any type; so does a column of an unknown table (syntax-only validation)
        kinds = {a.value.kind, b.value.kind} - {"null", "unknown"}
        if len(kinds) > 1 and kinds != {"timestamp", "string"}:
            raise self.fail(f"column {a.name!r} has incompatible types in the combined queries "
                            f"({' and '.join(sorted(kinds))})", node)

    def output_order(self, order: exp.Order, items: list[OutputItem]) -> list[str]:
        """ORDER BY of a set operation: output names or positions only."""
        terms = []
        for ordered in order.expressions:
            target = ordered.this
            if isinstance(target, exp.Literal) and not target.is_string and target.this.isdigit():
                terms.append(self._position_term(target, len(items)))
            elif isinstance(target, exp.Column) and target.args.get("table") is None:
                names = [item.name for item in items]
                found = pick(target.this, names, lambda n: n)
                if not found:
                    raise self.fail(f"unknown output column {target.this.this!r} in ORDER BY", target,
                                    suggest(target.this.this, names))
                terms.append(quote(found[0]))
            else:
                raise self.fail("ORDER BY after a set operation takes output column names or positions", target)
            terms[-1] += " DESC" if ordered.args.get("desc") else " ASC"
        return terms

    def _position_term(self, literal: exp.Literal, count: int) -> str:
        index = int(literal.this)
        if self.permissive and index >= 1:
            return str(index)
        if not 1 <= index <= count:
            raise self.fail(f"ORDER BY position {index} is not in the select list (1..{count})", literal)
        return str(index)

    def unsigned(self, node: exp.Expr, what: str) -> int:
        if isinstance(node, exp.Literal) and not node.is_string and node.this.isdigit():
            return int(node.this)
        raise self.fail(f"{what} takes an unsigned integer", node)

    # ----------------------------------------------------------------- SELECT
    def select(self, node: exp.Select, scope: Scope) -> tuple[str, list[OutputItem]]:
        self._check_args(node, _SELECT_ARGS, "SELECT")
        distinct = node.args.get("distinct")
        if distinct is not None and (distinct.args.get("on") is not None or distinct.expressions):
            raise self.fail("DISTINCT ON is not ADQL", node)
        from_ = node.args.get("from_")
        if from_ is None:
            raise self.fail("ADQL requires a FROM clause", node)
        crossmatch = self.crossmatch_begin(node, scope)
        from_sql = self.from_clause(from_, node.args.get("joins") or [], scope)

        parts = ["SELECT"]
        if distinct is not None:
            parts.append("DISTINCT")
        where_sql = None
        where = node.args.get("where")
        if where is not None:
            where_sql = self.condition(where.this, scope)
        from_sql, where_sql = self.crossmatch_end(crossmatch, from_sql, where_sql)

        group_keys: list[str] = []
        group = node.args.get("group")
        if group is not None:
            if not group.expressions:
                raise self.fail("GROUP BY needs at least one column or expression", node)
            for key in ("grouping_sets", "cube", "rollup", "totals"):
                if group.args.get(key):
                    raise self.fail("GROUP BY supports column references and expressions only", group)
        saved_columns = self._item_columns
        self._item_columns = []
        items = self.select_list(node, scope)
        self._select_aliases.append({item.name: item.value for item in items})
        try:
            if group is not None:
                for term in group.expressions:
                    value = self.expr(term, scope)
                    # <group_by_term> ::= <value_expression>: a constant groups by its value
                    value = _constant_as_value(value)
                    if value.aggregate:
                        raise self.fail("aggregate functions are not allowed in GROUP BY", term)
                    if value.kind == PREDICATE:
                        raise self.fail("GROUP BY takes values, not conditions", term)
                    group_keys.append(value.sql)
            having_sql = None
            having = node.args.get("having")
            if having is not None:
                self.aggregates_allowed = True
                self._columns_seen = []
                try:
                    having_sql = self.condition(having.this, scope)
                    self._item_columns.append((having.this, having_sql, self._columns_seen))
                finally:
                    self.aggregates_allowed = False
                    self._columns_seen = None
            order_terms = self.order_by(node.args.get("order"), items, scope, distinct is not None)
            # an aggregate only in ORDER BY groups the query too (one group), as in SQL
            grouped = (group is not None or having is not None or any(item.value.aggregate for item in items)
                       or self._order_aggregate)
            if grouped and not self.permissive:
                self._check_grouping(group_keys)
        finally:
            self._select_aliases.pop()
            self._item_columns = saved_columns

        if node is self.root:
            for item, name in zip(items, unique_names([i.name for i in items]), strict=True):
                item.name = name
                item.value = _typed_output(item.value)
        parts.append(", ".join(f"{item.value.sql} AS {quote(item.name)}" for item in items))
        parts.append("FROM " + from_sql)
        if where_sql is not None:
            parts.append("WHERE " + where_sql)
        if group_keys:
            parts.append("GROUP BY " + ", ".join(group_keys))
        if having_sql is not None:
            parts.append("HAVING " + having_sql)
        if order_terms:
            parts.append("ORDER BY " + ", ".join(order_terms))
        limit = node.args.get("limit")
        top = self.unsigned(limit.expression, "TOP") if limit is not None else None
        if node is self.root:
            top = self.root_limit(top)
        if top is not None:
            parts.append(f"LIMIT {top}")
        offset = node.args.get("offset")
        if offset is not None:
            parts.append(f"OFFSET {self.unsigned(offset.expression, 'OFFSET')}")
        return " ".join(parts), items

    def _check_grouping(self, keys: list[str]) -> None:
        """In a grouped query every column outside an aggregate must be grouped
        (or be part of a grouped expression)."""
        key_set = set(keys)
        for node, sql, columns in self._item_columns:
            if sql in key_set:
                continue
            for column in columns:
                if column in key_set:
                    continue
                if any(column in key and key in sql for key in keys):
                    continue
                name = column.rsplit(".", 1)[-1].strip('"')
                raise self.fail(f"column {name!r} must appear in GROUP BY or be used in an aggregate function",
                                node)

    def select_list(self, node: exp.Select, scope: Scope) -> list[OutputItem]:
        items: list[OutputItem] = []
        expressions = node.expressions
        if not expressions:
            raise self.fail("the select list is empty", node)
        stars = [e for e in expressions if isinstance(e, exp.Star)]
        if stars and len(expressions) > 1:
            raise self.fail("'*' must be the only item of the select list (use t.* to combine)", stars[0])
        self.aggregates_allowed = True
        try:
            for index, item in enumerate(expressions, 1):
                if isinstance(item, exp.Star):
                    if item.args.get("except_") or item.args.get("replace") or item.args.get("rename"):
                        raise self.fail("SELECT * EXCEPT/REPLACE is not ADQL", item)
                    expanded = self.expand_star(scope, None)
                elif isinstance(item, exp.Column) and isinstance(item.this, exp.Star):
                    expanded = self.expand_star(scope, item)
                else:
                    expanded = None
                if expanded is not None:
                    items.extend(expanded)
                    self._item_columns.extend((item, e.value.sql, [e.value.sql]) for e in expanded)
                    continue
                alias = None
                if isinstance(item, exp.Alias):
                    alias = item.args.get("alias")
                    item = item.this
                    if not isinstance(alias, exp.Identifier):
                        raise self.fail("invalid alias", node)
                    self.check_identifier(alias, "column alias")
                self._columns_seen = []
                try:
                    value = self.expr(item, scope)
                finally:
                    seen, self._columns_seen = self._columns_seen, None
                if value.kind == PREDICATE:
                    raise self.fail("a condition cannot be selected; ADQL has no boolean values", item)
                if value.geometry is not None and value.geometry.shape == "named":
                    raise self.fail("gw_region can only be used inside CONTAINS/INTERSECTS", item)
                self._item_columns.append((item, value.sql, seen))
                if alias is not None:
                    name = alias.this
                elif value.name:
                    name = value.name
                else:
                    name = f"col{index}"
                items.append(OutputItem(name, value))
        finally:
            self.aggregates_allowed = False
        return items

    def expand_star(self, scope: Scope, qualified: exp.Column | None) -> list[OutputItem]:
        if qualified is not None:
            sources = scope.resolve_source(qualified)
            if not sources:
                qualifier = qualified.args["table"].this
                raise self.fail(f"unknown table or alias {qualifier!r}", qualified,
                                self.suggest_table(qualifier, scope))
            sources = sources[:1]
            merged_first: list[str] = []
        else:
            sources = scope.sources
            merged_first = list(scope.merged)
        items: list[OutputItem] = []
        done: set[str] = set()
        for key in merged_first:
            source = scope.merged[key][0]
            col = next(c for c in source.columns if c.name.lower() == key)
            items.append(OutputItem(col.name, self._column_value(col, scope.merged_sql.get(key, quote(col.name)),
                                                                 source)))
            done.add(key)
        for source in sources:
            for col in source.columns:
                if qualified is None and col.name.lower() in done and source in scope.merged.get(
                    col.name.lower(), []
                ):
                    continue
                items.append(OutputItem(col.name, self._column_value(col, source.sql_of(col), source)))
        return items

    def _column_value(self, col: SourceColumn, sql: str, source: Source) -> Value:
        from adql.expressions import kind_of_column

        kind = kind_of_column(col.info)
        value = Value(sql, kind, col.info.datatype, col.info.arraysize, col.info.xtype, info=col.info,
                      name=col.name, extras={"source": source, "column": col.name})
        if kind == GEOMETRY:
            from dataclasses import replace

            value = replace(value, geometry=self.column_geometry(value, exp.Null()))
        region = self.region_column_geometry(source, col.name)
        if region is not None:
            from dataclasses import replace

            value = replace(value, kind=GEOMETRY, geometry=region)
        return value

    def order_by(self, order: exp.Order | None, items: list[OutputItem], scope: Scope,
                 distinct: bool) -> list[str]:
        self._order_aggregate = False
        if order is None:
            return []
        terms = []
        self.aggregates_allowed = True
        try:
            for ordered in order.expressions:
                target = ordered.this
                if isinstance(target, exp.Literal) and not target.is_string and target.this.isdigit():
                    term = self._position_term(target, len(items))
                elif isinstance(target, exp.Column) and target.args.get("table") is None and pick(
                    target.this, [i.name for i in items], lambda n: n
                ):
                    found = pick(target.this, [i.name for i in items], lambda n: n)
                    if len(found) > 1:
                        raise self.fail(f"ORDER BY {target.this.this!r} is ambiguous", target)
                    term = quote(found[0])
                else:
                    self._columns_seen = []
                    try:
                        value = self.expr(target, scope)
                    finally:
                        seen, self._columns_seen = self._columns_seen, None
                    self._item_columns.append((target, value.sql, seen))
                    self._order_aggregate = self._order_aggregate or value.aggregate
                    if value.kind == PREDICATE:  # geometries sort as their DALI arrays
                        raise self.fail(f"cannot ORDER BY a {value.kind}", target)
                    value = _constant_as_value(value)  # a constant value, not a position
                    if distinct and not self.permissive and value.sql not in {i.value.sql for i in items}:
                        raise self.fail("with SELECT DISTINCT, ORDER BY expressions must appear in the "
                                        "select list", target)
                    term = value.sql
                terms.append(term + (" DESC" if ordered.args.get("desc") else " ASC"))
        finally:
            self.aggregates_allowed = False
        return terms

    # --------------------------------------------------------------- queries
    def subquery(self, node: exp.Expr, scope: Scope, where: exp.Expr) -> tuple[str, list[OutputItem]]:
        inner = node.this if isinstance(node, exp.Subquery) else node
        if isinstance(node, exp.Subquery) and node.args.get("alias") is not None:
            raise self.fail("unexpected alias on a subquery", node)
        saved = (self.aggregates_allowed, self.in_aggregate, self._columns_seen)
        self.aggregates_allowed = False
        self.in_aggregate = False
        self._columns_seen = None
        try:
            sql, items = self.query(inner, scope)
            if isinstance(node, exp.Subquery):
                sql, items = self._query_modifiers(node, sql, items, scope)
        finally:
            self.aggregates_allowed, self.in_aggregate, self._columns_seen = saved
        return f"({sql})", items


_SQL_CONSTANT = re.compile(r"\(*('(?:[^']|'')*'|[-+]?(?:\d+\.?\d*|\.\d+)(?:[eE][-+]?\d+)?|NULL)\)*\Z")


def _constant_as_value(value: Value) -> Value:
    """A GROUP BY / ORDER BY term whose SQL is a bare literal (also after constant folding, e.g.
    COORDSYS(...) -> 'ICRS'): PostgreSQL would read an integer as an output column position and
    reject other constants ("non-integer constant in ORDER BY"); a cast makes it a value."""
    if not _SQL_CONSTANT.match(value.sql.strip()):
        return value
    pg_type = "text" if value.kind == STRING else "double precision"
    return value.with_sql(f"CAST({value.sql} AS {pg_type})")


_PG_TYPES = {"boolean": "boolean", "short": "smallint", "int": "integer", "long": "bigint", "float": "real",
             "double": "double precision"}


def _typed_output(value: Value) -> Value:
    """Computed result columns get an explicit cast so the PostgreSQL type is
    exactly the VOTable datatype announced (catalog columns already are)."""
    if value.extras.get("column") is not None or value.kind not in (NUMBER, BOOLEAN, STRING):
        return value
    if value.kind == STRING:
        if value.xtype or value.sql.startswith("CAST("):
            return value
        return value.with_sql(f"CAST({value.sql} AS text)")
    pg_type = _PG_TYPES.get(value.datatype or "")
    if pg_type is None or value.sql.startswith("CAST(") and value.sql.endswith(f" AS {pg_type})"):
        return value
    return value.with_sql(f"CAST({value.sql} AS {pg_type})")


def _union_item(a: OutputItem, b: OutputItem) -> OutputItem:
    """The left item with the datatype PostgreSQL gives the combined column."""
    if a.value.kind == NUMBER and b.value.kind == NUMBER and a.value.datatype != b.value.datatype:
        return OutputItem(a.name, replace(a.value, datatype=promote(a.value, b.value)))
    if a.value.kind == NULL and b.value.kind != NULL:
        return OutputItem(a.name, b.value)
    return a


