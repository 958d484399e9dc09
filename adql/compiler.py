"""Compilation of ADQL queries (SELECT, set operations, WITH, FROM, joins).

The compiler walks the sqlglot tree once, resolving names against the
catalog and emitting PostgreSQL text as it goes.  Only constructs it knows
produce SQL; anything else in the tree is an error, so sqlglot's tolerance
of other dialects can never leak through.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from sqlglot import exp

from adql.catalog import ColumnInfo, TableInfo
from adql.errors import AdqlError
from adql.expressions import ExpressionCompiler
from adql.geometry_sql import GeometryCompiler
from adql.scope import Scope, Source, SourceColumn, ident_matches, pick, quote, suggest
from adql.spatial import SpatialCompiler
from adql.syntax import position
from adql.values import GEOMETRY, PREDICATE, Value

_SELECT_ARGS = frozenset({"expressions", "from_", "where", "group", "having", "order", "offset", "limit",
                          "distinct", "joins", "with_"})
_SETOP_ARGS = frozenset({"this", "expression", "distinct", "order", "offset", "with_", "limit"})
_JOIN_ARGS = frozenset({"this", "on", "using", "side", "kind", "method"})
_TABLE_ARGS = frozenset({"this", "db", "alias", "joins", "catalog"})


@dataclass
class OutputItem:
    name: str
    value: Value


class Compiler(ExpressionCompiler, GeometryCompiler):
    """Translate one parsed query; instances are single-use."""

    def __init__(self, text: str, tables: Sequence[TableInfo], spatial: SpatialCompiler) -> None:
        self.text = text
        self.tables = list(tables)
        self.spatial = spatial
        self.warnings: list[str] = []
        self.tables_used: list[str] = []
        self._aliases = 0
        self.aggregates_allowed = False
        self.in_aggregate = False
        self._select_aliases: list[dict[str, Value]] = []
        self._columns_seen: list[str] | None = None
        self.root: exp.Expr | None = None
        self.max_rows: int | None = None
        self.limit: int | None = None
        self.overflow_possible = False

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
            prefix = self.with_clause(with_, scope)
        if isinstance(node, exp.Select):
            sql, items = self.select(node, scope)
        elif isinstance(node, exp.Union | exp.Intersect | exp.Except):
            sql, items = self.set_operation(node, scope)
        elif isinstance(node, exp.Subquery) and not node.args.get("alias"):
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
            columns = [SourceColumn(item.name, _output_info(item)) for item in items]
            name = identifier.this if identifier.quoted else identifier.this
            scope.ctes[name] = (sql_name, identifier.quoted, columns)
            parts.append(f"{quote(sql_name)} AS ({sql})")
        return "WITH " + ", ".join(parts) + " "

    def set_operation(self, node: exp.Expr, scope: Scope) -> tuple[str, list[OutputItem]]:
        self._check_args(node, _SETOP_ARGS, "set operation")
        keyword = {exp.Union: "UNION", exp.Intersect: "INTERSECT", exp.Except: "EXCEPT"}[type(node)]
        if not node.args.get("distinct"):
            keyword += " ALL"
        left_sql, left = self.query(node.this, scope)
        right_sql, right = self.query(node.expression, scope)
        if len(left) != len(right):
            raise self.fail(f"the queries of {keyword.split()[0]} return different numbers of columns "
                            f"({len(left)} and {len(right)})", node)
        for a, b in zip(left, right, strict=True):
            self._check_union_types(a, b, node)
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
        kinds = {a.value.kind, b.value.kind} - {"null"}
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
        from_sql = self.from_clause(from_, node.args.get("joins") or [], scope)

        parts = ["SELECT"]
        if distinct is not None:
            parts.append("DISTINCT")
        where_sql = None
        where = node.args.get("where")
        if where is not None:
            where_sql = self.condition(where.this, scope)

        group_keys: list[str] = []
        group = node.args.get("group")
        if group is not None:
            for key in ("grouping_sets", "cube", "rollup", "totals"):
                if group.args.get(key):
                    raise self.fail("GROUP BY supports column references and expressions only", group)
        items = self.select_list(node, scope)
        self._select_aliases.append({item.name: item.value for item in items})
        try:
            if group is not None:
                for term in group.expressions:
                    if isinstance(term, exp.Literal):
                        raise self.fail("GROUP BY takes column references or expressions, not literals", term)
                    value = self.expr(term, scope)
                    if value.aggregate:
                        raise self.fail("aggregate functions are not allowed in GROUP BY", term)
                    if value.kind == PREDICATE:
                        raise self.fail("GROUP BY takes values, not conditions", term)
                    group_keys.append(value.sql)
            having_sql = None
            having = node.args.get("having")
            if having is not None:
                self.aggregates_allowed = True
                try:
                    having_sql = self.condition(having.this, scope)
                finally:
                    self.aggregates_allowed = False
            order_terms = self.order_by(node.args.get("order"), items, scope, distinct is not None)
        finally:
            self._select_aliases.pop()

        if node is self.root:
            for item, name in zip(items, unique_names([i.name for i in items]), strict=True):
                item.name = name
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
                    items.extend(self.expand_star(scope, None))
                    continue
                if isinstance(item, exp.Column) and isinstance(item.this, exp.Star):
                    items.extend(self.expand_star(scope, item))
                    continue
                alias = None
                if isinstance(item, exp.Alias):
                    alias = item.args.get("alias")
                    item = item.this
                    if not isinstance(alias, exp.Identifier):
                        raise self.fail("invalid alias", node)
                    self.check_identifier(alias, "column alias")
                value = self.expr(item, scope)
                if value.kind == PREDICATE:
                    raise self.fail("a condition cannot be selected; ADQL has no boolean values", item)
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
            items.append(OutputItem(col.name, self._column_value(col, quote(col.name), source)))
            done.add(key)
        for source in sources:
            for col in source.columns:
                if qualified is None and col.name.lower() in done and source in scope.merged.get(
                    col.name.lower(), []
                ):
                    continue
                items.append(OutputItem(col.name, self._column_value(col, source.column_sql(col.name), source)))
        return items

    def _column_value(self, col: SourceColumn, sql: str, source: Source) -> Value:
        from adql.expressions import kind_of_column

        kind = kind_of_column(col.info)
        value = Value(sql, kind, col.info.datatype, col.info.arraysize, col.info.xtype, info=col.info,
                      name=col.name, extras={"source": source, "column": col.name})
        if kind == GEOMETRY:
            from dataclasses import replace

            value = replace(value, geometry=self.column_geometry(value, exp.Null()))
        return value

    def order_by(self, order: exp.Order | None, items: list[OutputItem], scope: Scope,
                 distinct: bool) -> list[str]:
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
                    value = self.expr(target, scope)
                    if value.kind in (PREDICATE, GEOMETRY):
                        raise self.fail(f"cannot ORDER BY a {value.kind}", target)
                    if distinct and value.sql not in {i.value.sql for i in items}:
                        raise self.fail("with SELECT DISTINCT, ORDER BY expressions must appear in the "
                                        "select list", target)
                    term = value.sql
                terms.append(term + (" DESC" if ordered.args.get("desc") else " ASC"))
        finally:
            self.aggregates_allowed = False
        return terms

    # ------------------------------------------------------------------ FROM
    def from_clause(self, from_: exp.From, joins: list[exp.Join], scope: Scope) -> str:
        sql = self.table_reference(from_.this, scope)
        segment_start = 0
        for join in joins:
            self._check_args(join, _JOIN_ARGS, "JOIN")
            if _is_comma_join(join):
                segment_start = len(scope.sources)
                sql += ", " + self.table_reference(join.this, scope)
            else:
                sql = self.join(sql, join, scope, segment_start)
        return sql

    def join(self, left_sql: str, join: exp.Join, scope: Scope, segment_start: int) -> str:
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
            self._merge(scope, names, left_sources, right_sources)
            return f"{left_sql} NATURAL {keyword} {right_sql}"
        if using:
            names = []
            for identifier in using:
                name_left = self._join_column(identifier, left_sources, join, "left")
                self._join_column(identifier, right_sources, join, "right")
                names.append(name_left)
            self._merge(scope, names, left_sources, right_sources)
            return f"{left_sql} {keyword} {right_sql} USING ({', '.join(quote(n) for n in names)})"
        if on is not None:
            condition = self.condition(on, scope)
            return f"{left_sql} {keyword} {right_sql} ON {condition}"
        if side:
            raise self.fail(f"{side} OUTER JOIN needs ON or USING", join)
        return f"{left_sql} CROSS JOIN {right_sql}"

    def _join_column(self, identifier: exp.Identifier, sources: list[Source], join: exp.Join, side: str) -> str:
        hits = [(s, c) for s in sources for c in pick(identifier, s.columns, lambda c: c.name)]
        if not hits:
            raise self.fail(f"USING column {identifier.this!r} is not in the {side} table", identifier)
        if len(hits) > 1:
            raise self.fail(f"USING column {identifier.this!r} is ambiguous in the {side} tables", identifier)
        return hits[0][1].name

    def _common_columns(self, left: list[Source], right: list[Source]) -> list[str]:
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

    def _merge(self, scope: Scope, names: list[str], left: list[Source], right: list[Source]) -> None:
        for name in names:
            owners = [s for s in left + right if any(c.name == name for c in s.columns)]
            scope.merged[name.lower()] = owners

    def table_reference(self, node: exp.Expr, scope: Scope) -> str:
        if isinstance(node, exp.Table):
            self._check_args(node, _TABLE_ARGS, "table reference")
            if node.args.get("joins"):
                raise self.fail("unexpected join here", node)
            return self.named_table(node, scope)
        if isinstance(node, exp.Subquery):
            alias = node.args.get("alias")
            inner = node.this
            if isinstance(inner, exp.Table) and inner.args.get("joins") and alias is None:
                # a parenthesised joined table
                table_args = {k: v for k, v in inner.args.items() if k != "joins"}
                base = exp.Table(**table_args)
                return "(" + self.from_clause(exp.From(this=base), inner.args["joins"], scope) + ")"
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
            source = Source(internal, alias.this.this, [SourceColumn(i.name, _output_info(i)) for i in items],
                            ref_name=alias.this.this, ref_quoted=alias.this.quoted, aliased=True)
            self._add_source(scope, source, node)
            return f"({sql}) AS {quote(internal)}"
        raise self.fail("expected a table, a joined table or a subquery", node)

    def named_table(self, node: exp.Table, scope: Scope) -> str:
        name: exp.Identifier = node.this
        if not isinstance(name, exp.Identifier):
            raise self.fail("expected a table name", node)
        schema = node.args.get("db")
        if node.args.get("catalog") is not None:
            raise self.fail("catalog-qualified table names are not supported", node)
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
        columns = [SourceColumn(c.name, c) for c in table.columns]
        source = Source(internal, alias.this if alias is not None else table.qualified_name, columns, table=table,
                        ref_name=alias.this if alias is not None else table.name,
                        ref_quoted=bool(alias is not None and alias.quoted), schema=table.schema,
                        aliased=alias is not None)
        self._add_source(scope, source, node)
        table_sql = quote(table.name) if not table.schema else f"{quote(table.schema)}.{quote(table.name)}"
        return f"{table_sql} AS {quote(internal)}"

    def _add_source(self, scope: Scope, source: Source, node: exp.Expr) -> None:
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

    def find_table(self, name: exp.Identifier, schema: exp.Identifier | None, node: exp.Expr,
                   scope: Scope) -> TableInfo:
        candidates = [t for t in self.tables if ident_matches(name, t.name)]
        if schema is not None:
            candidates = [t for t in candidates if t.schema is not None and ident_matches(schema, t.schema)]
        if len(candidates) > 1:
            narrowed = pick(name, candidates, lambda t: t.name)
            if schema is not None and len(narrowed) > 1:
                narrowed = pick(schema, narrowed, lambda t: t.schema or "")
            candidates = narrowed
        if not candidates:
            written = f"{schema.this}.{name.this}" if schema is not None else name.this
            raise self.fail(f"unknown table {written!r}", node, self.suggest_table(written, scope))
        if len(candidates) > 1:
            options = ", ".join(sorted(t.qualified_name for t in candidates))
            raise self.fail(f"table name {name.this!r} is ambiguous; qualify it with its schema ({options})", node)
        return candidates[0]

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


def _is_comma_join(join: exp.Join) -> bool:
    return not any(join.args.get(k) for k in ("on", "using", "side", "kind", "method"))


def _output_info(item: OutputItem) -> ColumnInfo:
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


def raise_unexpected(node: exp.Expr) -> AdqlError:  # pragma: no cover - helper for callers
    return AdqlError(f"unexpected {type(node).__name__}")
