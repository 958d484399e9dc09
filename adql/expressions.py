"""Compilation of ADQL value expressions and search conditions.

A mixin of :class:`adql.compiler.Compiler`; every method takes the sqlglot
node and the current :class:`Scope` and returns a :class:`Value` whose SQL is
fully parenthesised, so operator precedence never depends on PostgreSQL's
rules matching ADQL's.
"""

from __future__ import annotations

import math
import re
from dataclasses import replace
from typing import TYPE_CHECKING

from sqlglot import exp

from adql import functions as fn
from adql.catalog import ColumnInfo
from adql.errors import AdqlError
from adql.reserved import RESERVED_WORDS
from adql.scope import Scope, quote, suggest
from adql.units import conversion_factor
from adql.values import (
    ARRAY,
    BOOLEAN,
    FLOAT_TYPES,
    GEOMETRY,
    INTEGER_TYPES,
    LOOSE,
    NOT_CONSTANT,
    NULL,
    NUMBER,
    PREDICATE,
    STRING,
    TIMESTAMP,
    UNKNOWN,
    Value,
    retyped_query,
    sql_type,
)

if TYPE_CHECKING:
    from adql.compiler import Compiler

_INT64_MAX = 2**63 - 1
_NUMBER_TEXT = re.compile(r"(\d+(\.\d*)?|\.\d+)([eE][+-]?\d+)?\Z")
_KIND_NAMES = {NUMBER: "numeric", STRING: "a string", GEOMETRY: "a geometry", TIMESTAMP: "a timestamp",
               PREDICATE: "a condition", BOOLEAN: "boolean", ARRAY: "an array"}

_COMPARISONS = {exp.EQ: "=", exp.NEQ: "<>", exp.GT: ">", exp.GTE: ">=", exp.LT: "<", exp.LTE: "<="}
_FLIPPED = {"=": "=", "<>": "<>", ">": "<", ">=": "<=", "<": ">", "<=": ">="}
_ARITHMETIC = {exp.Add: "+", exp.Sub: "-", exp.Mul: "*", exp.Div: "/"}
_BITWISE = {exp.BitwiseAnd: "&", exp.BitwiseOr: "|", exp.BitwiseXor: "#"}
_PG_INTEGER = {"short": "smallint", "int": "integer", "long": "bigint", "unsignedByte": "smallint"}
_INTEGER_RANK = {"unsignedByte": 0, "short": 1, "int": 2, "long": 3}

# Functions whose PostgreSQL versions take double precision only.
_DOUBLE_ONLY = {"sin", "cos", "tan", "cot", "asin", "acos", "atan", "atan2", "degrees", "radians", "power"}
_DOUBLE_ONLY |= {"exp", "ln", "log", "sqrt"}


def seeded_random_sql(seed: int) -> str:
    """RAND(seed) in one SELECT: the uncorrelated sub-select is an InitPlan,
    run once, when the CASE is first evaluated, i.e. just before the first
    random() of this call; so the sequence restarts from ``setseed`` in every
    execution and the same query over the same rows in the same plan gives
    the same values.  (setseed is parallel-unsafe, so such a query is not
    parallelised, which keeps the order of evaluation.)  Seeds map to
    setseed's [-1, 1] modulo 2**32."""
    fraction = (seed % 2**32) / (2**32 - 1) * 2 - 1
    return f"(CASE WHEN (SELECT setseed({fraction!r})) IS NULL THEN random() ELSE random() END)"


def string_literal(text: str) -> str:
    if "\\" in text:
        return "E'" + text.replace("\\", "\\\\").replace("'", "''") + "'"
    return "'" + text.replace("'", "''") + "'"


def float_literal(value: float) -> str:
    if math.isnan(value) or math.isinf(value):
        return f"CAST('{value}' AS double precision)"
    return f"CAST({value!r} AS double precision)"


def number_value(value: float | int) -> Value:
    if isinstance(value, int) and not isinstance(value, bool) and abs(value) <= _INT64_MAX:
        datatype = "int" if abs(value) < 2**31 else "long"
        sql = str(value) if value >= 0 else f"({value})"
        return Value(sql, NUMBER, datatype, const=value)
    return Value(float_literal(float(value)), NUMBER, "double", const=float(value))


def kind_of_column(info: ColumnInfo) -> str:
    if info.datatype == "unknown":
        return UNKNOWN
    xtype = (info.xtype or "").lower()
    if xtype in ("point", "circle", "polygon", "moc"):
        return GEOMETRY
    if xtype == "timestamp":
        return TIMESTAMP
    if info.datatype in ("char", "unicodeChar"):
        return STRING
    if info.datatype == "boolean":
        return BOOLEAN
    if info.arraysize not in (None, "", "1"):
        return ARRAY
    return NUMBER


def promote(a: Value, b: Value) -> str:
    """VOTable datatype of an arithmetic result (PostgreSQL's promotion)."""
    if a.datatype in INTEGER_TYPES and b.datatype in INTEGER_TYPES:
        return max(a.datatype, b.datatype, key=lambda d: _INTEGER_RANK[d])
    if a.kind in LOOSE:
        return b.datatype or "double"
    if b.kind in LOOSE:
        return a.datatype or "double"
    if "double" in (a.datatype, b.datatype):
        return "double"
    if "float" in (a.datatype, b.datatype):
        # real combined with an integer stays real in PostgreSQL; with numeric constants double
        return "float" if (a.datatype in INTEGER_TYPES or b.datatype in INTEGER_TYPES) else "double"
    return "double"


class ExpressionCompiler:
    """Value expressions; see the module docstring."""

    # ----------------------------------------------------------------- helpers
    def fail(self: Compiler, message: str, node: exp.Expr | None = None, suggestion: str | None = None):
        line = column = None
        if node is not None:
            line, column = self.position_of(node)
        return AdqlError(message, line, column, suggestion)

    def check_identifier(self: Compiler, identifier: exp.Identifier, what: str) -> None:
        if not identifier.quoted and identifier.this.upper() in RESERVED_WORDS:
            raise self.fail(
                f"{identifier.this!r} is a reserved word and cannot be used as a {what}; "
                f'write it as a delimited identifier ("{identifier.this}") if that is meant',
                identifier,
            )

    def expect(self: Compiler, value: Value, kinds: tuple[str, ...], node: exp.Expr, what: str) -> Value:
        if value.kind in kinds or value.kind in LOOSE:
            return value
        wanted = " or ".join(_KIND_NAMES.get(k, k) for k in kinds)
        raise self.fail(f"{what} must be {wanted}, not {_KIND_NAMES.get(value.kind, value.kind)}", node)

    def condition(self: Compiler, node: exp.Expr, scope: Scope) -> str:
        """SQL of a search condition."""
        value = self.expr(node, scope)
        if value.kind == PREDICATE:
            return value.sql
        if value.kind == BOOLEAN:
            return value.sql
        raise self.fail("expected a condition (a comparison or predicate) here", node)

    # -------------------------------------------------------------- dispatch
    def expr(self: Compiler, node: exp.Expr, scope: Scope) -> Value:
        handler = _HANDLERS.get(type(node))
        if handler is None:
            raise self.fail(f"{_describe(node)} is not supported in ADQL", node)
        return handler(self, node, scope)

    # -------------------------------------------------------------- literals
    def literal(self: Compiler, node: exp.Literal, scope: Scope) -> Value:
        text = node.this
        if node.is_string:
            return Value(string_literal(text), STRING, "char", "*", const=text)
        if not _NUMBER_TEXT.match(text):
            raise self.fail(f"malformed number {text!r}", node)
        if any(c in text for c in ".eE"):
            return number_value(float(text))
        return number_value(int(text))

    def hex_literal(self: Compiler, node: exp.HexString, scope: Scope) -> Value:
        digits = node.this
        if len(digits) > 16:
            raise self.fail("hexadecimal literal longer than 64 bits", node)
        value = int(digits, 16)
        if value > _INT64_MAX:
            value -= 2**64
        result = number_value(value)
        return replace(result, datatype="long" if len(digits) > 8 else result.datatype)

    def null(self: Compiler, node: exp.Null, scope: Scope) -> Value:
        parent = node.parent
        # NULL is a <value_expression> only, not a <numeric_primary>/<character_primary>: "NULL + 1",
        # "x LIKE NULL", "ABS(NULL)" are not ADQL; "(NULL) + 1" and CAST(NULL AS ...) are
        if isinstance(parent, _NO_NULL_OPERAND) or (
            isinstance(parent, exp.Anonymous)
            and (spec := fn.lookup(parent.this if isinstance(parent.this, str) else "")) is not None
            and spec.category in _NO_NULL_ARGUMENT
            and not spec.name.startswith("IVO_")
        ):
            raise self.fail("NULL cannot be an operand here; write (NULL) or CAST(NULL AS type)", node)
        return Value("NULL", NULL, const=None)

    # --------------------------------------------------------------- columns
    def column(self: Compiler, node: exp.Column, scope: Scope) -> Value:
        if isinstance(node.this, exp.Star):
            raise self.fail("'*' is only allowed in the select list and COUNT(*)", node)
        for part in ("this", "table", "db", "catalog"):
            identifier = node.args.get(part)
            if identifier is None:
                continue
            if not isinstance(identifier, exp.Identifier):
                raise self.fail("malformed column reference", node)
            self.check_identifier(identifier, "name")
        current: Scope | None = scope
        while current is not None:
            try:
                found = current.lookup(node)
            except AdqlError as error:  # an ambiguous name: point at the reference
                raise self.fail(error.message, node) from None
            if found is not None:
                source, col, merged = found
                sql = current.merged_sql.get(col.name.lower(), quote(col.name)) if merged else \
                    source.sql_of(col)
                if current is scope:
                    self.note_column(sql)
                kind = kind_of_column(col.info)
                value = Value(
                    sql,
                    kind,
                    col.info.datatype,
                    col.info.arraysize,
                    col.info.xtype,
                    info=col.info,
                    name=col.name,
                    extras={"source": source, "column": col.name},
                )
                if kind == GEOMETRY:
                    value = replace(value, geometry=self.column_geometry(value, node))
                region = self.region_column_geometry(source, col.name)
                if region is not None:
                    value = replace(value, kind=GEOMETRY, geometry=region)
                return value
            current = current.parent
        alias = self.select_alias(node)
        if alias is not None:
            return alias
        name = node.this.this
        if node.args.get("table") is not None and not scope.has_qualifier(node):
            qualifier = node.args["table"].this
            raise self.fail(f"unknown table or alias {qualifier!r}", node, self.suggest_table(qualifier, scope))
        raise self.fail(f"unknown column {name!r}", node, suggest(name, scope.visible_names()))

    # ------------------------------------------------------------ arithmetic
    def paren(self: Compiler, node: exp.Paren, scope: Scope) -> Value:
        inner = self.expr(node.this, scope)
        if node.meta.get("unary_plus"):  # <factor> ::= [ <sign> ] <numeric_primary>
            inner = self.expect(inner, (NUMBER,), node, "the operand of unary plus")
        return inner.with_sql(f"({inner.sql})")

    def negate(self: Compiler, node: exp.Neg, scope: Scope) -> Value:
        inner = _typed_null(self.expect(self.expr(node.this, scope), (NUMBER,), node, "the operand of unary minus"))
        const = -inner.const if isinstance(inner.const, int | float) else NOT_CONSTANT
        return Value(f"(- {inner.sql})", NUMBER, inner.datatype, info=_unit_only(inner.info), const=const,
                     aggregate=inner.aggregate)

    def arithmetic(self: Compiler, node: exp.Binary, scope: Scope) -> Value:
        op = _ARITHMETIC[type(node)]
        left = _typed_null(self.expect(self.expr(node.this, scope), (NUMBER,), node, f"an operand of '{op}'"))
        right = _typed_null(self.expect(self.expr(node.expression, scope), (NUMBER,), node, f"an operand of '{op}'"))
        const = NOT_CONSTANT
        if isinstance(left.const, int | float) and isinstance(right.const, int | float):
            const = _fold(op, left.const, right.const)
        sql = f"({left.sql} {op} {right.sql})"
        return Value(sql, NUMBER, promote(left, right), const=const,
                     aggregate=left.aggregate or right.aggregate)

    def bitwise(self: Compiler, node: exp.Binary, scope: Scope) -> Value:
        op = _BITWISE[type(node)]
        left = self.expr(node.this, scope)
        right = self.expr(node.expression, scope)
        for side in (left, right):
            if side.kind not in LOOSE and not side.is_integer:
                raise self.fail("bitwise operators need integer operands", node)
        return Value(f"({left.sql} {op} {right.sql})", NUMBER, promote(left, right),
                     aggregate=left.aggregate or right.aggregate)

    def bitwise_not(self: Compiler, node: exp.BitwiseNot, scope: Scope) -> Value:
        inner = self.expr(node.this, scope)
        if inner.kind not in LOOSE and not inner.is_integer:
            raise self.fail("bitwise operators need integer operands", node)
        return Value(f"(~ {inner.sql})", NUMBER, inner.datatype or "long", aggregate=inner.aggregate)

    def concat(self: Compiler, node: exp.DPipe, scope: Scope) -> Value:
        _check_unsigned(self, node, "'||'")
        left = self.expect(self.expr(node.this, scope), (STRING,), node, "an operand of '||'")
        right = self.expect(self.expr(node.expression, scope), (STRING,), node, "an operand of '||'")
        return Value(f"({left.sql} || {right.sql})", STRING, "char", "*",
                     aggregate=left.aggregate or right.aggregate)

    # ------------------------------------------------------------ predicates
    def comparison(self: Compiler, node: exp.Binary, scope: Scope) -> Value:
        op = _COMPARISONS[type(node)]
        left = self.expr(node.this, scope)
        right = self.expr(node.expression, scope)
        for a, b, operator in ((left, right, op), (right, left, _FLIPPED[op])):
            if a.spatial is not None and b.is_constant and operator in ("=", "<>"):
                return self.spatial_comparison(a, b, operator, node)
            if a.distance is not None and b.is_constant and operator in ("<", "<="):
                return self.distance_comparison(a, b, operator, node)
        self.check_comparable(left, right, node)
        left, right = _boolean_constants(left, right), _boolean_constants(right, left)
        return Value(f"({left.sql} {op} {right.sql})", PREDICATE, aggregate=left.aggregate or right.aggregate)

    def check_comparable(self: Compiler, left: Value, right: Value, node: exp.Expr) -> None:
        kinds = {left.kind, right.kind} - LOOSE
        if PREDICATE in kinds:
            raise self.fail("a condition cannot be compared; ADQL has no boolean values", node)
        if GEOMETRY in kinds:
            raise self.fail("geometries cannot be compared; use CONTAINS, INTERSECTS or DISTANCE", node)
        if len(kinds) <= 1 or kinds == {TIMESTAMP, STRING}:
            return
        if kinds == {BOOLEAN, NUMBER}:
            other = right if left.kind == BOOLEAN else left
            if other.const in (0, 1):
                return
        if kinds == {BOOLEAN, STRING}:
            other = right if left.kind == BOOLEAN else left
            if isinstance(other.const, str) and other.const.lower() in ("true", "false", "t", "f", "1", "0"):
                return
        raise self.fail(f"cannot compare {left.kind} with {right.kind}", node)

    def conjunction(self: Compiler, node: exp.Connector, scope: Scope) -> Value:
        op = "AND" if isinstance(node, exp.And) else "OR"
        left = self.condition(node.this, scope)
        right = self.condition(node.expression, scope)
        return Value(f"({left} {op} {right})", PREDICATE)

    def negation(self: Compiler, node: exp.Not, scope: Scope) -> Value:
        return Value(f"(NOT {self.condition(node.this, scope)})", PREDICATE)

    def between(self: Compiler, node: exp.Between, scope: Scope) -> Value:
        if node.args.get("symmetric"):
            raise self.fail("BETWEEN SYMMETRIC is not ADQL", node)
        value = self.expr(node.this, scope)
        low = self.expr(node.args["low"], scope)
        high = self.expr(node.args["high"], scope)
        self.check_comparable(value, low, node)
        self.check_comparable(value, high, node)
        if BOOLEAN in (value.kind, low.kind, high.kind):
            raise self.fail("BETWEEN does not apply to boolean values", node)
        return Value(f"({value.sql} BETWEEN {low.sql} AND {high.sql})", PREDICATE)

    def in_predicate(self: Compiler, node: exp.In, scope: Scope) -> Value:
        value = self.expr(node.this, scope)
        query = node.args.get("query")
        if query is not None:
            sql, columns = self.subquery(query, scope, node)
            if len(columns) != 1:
                raise self.fail("the subquery of IN must return exactly one column", node)
            self.check_comparable(value, columns[0].value, node)
            if columns[0].value.kind == NULL and sql_type(value) is not None:
                sql = retyped_query(sql, [columns[0].name], {0: sql_type(value)}, self.new_alias("s"))
            return Value(f"({value.sql} IN {sql})", PREDICATE)
        items = node.expressions
        if not items or node.args.get("unnest") or node.args.get("field"):
            raise self.fail("IN needs a list of values or a subquery", node)
        values = []
        for item in items:
            item_value = self.expr(item, scope)
            self.check_comparable(value, item_value, item)
            values.append(item_value)
        if any(_boolean_constants(value, v) is not value for v in values):
            # a 0/1 constant tested against boolean values: compare one by one
            return Value("(" + " OR ".join(_equal_sql(value, v) for v in values) + ")", PREDICATE)
        compiled = [_boolean_constants(v, value).sql for v in values]
        return Value(f"({value.sql} IN ({', '.join(compiled)}))", PREDICATE)

    def like(self: Compiler, node: exp.Like | exp.ILike, scope: Scope) -> Value:
        op = "LIKE" if isinstance(node, exp.Like) else "ILIKE"
        if node.args.get("escape"):
            raise self.fail("LIKE ... ESCAPE is not ADQL", node)
        _check_unsigned(self, node, op)
        value = self.expect(self.expr(node.this, scope), (STRING,), node, f"the value of {op}")
        pattern = self.expect(self.expr(node.expression, scope), (STRING,), node, f"the pattern of {op}")
        negate = "NOT " if node.args.get("negate") else ""
        return Value(f"({value.sql} {negate}{op} {pattern.sql})", PREDICATE)

    def is_null(self: Compiler, node: exp.Is, scope: Scope) -> Value:
        if not isinstance(node.expression, exp.Null):
            raise self.fail("only IS NULL and IS NOT NULL are ADQL", node)
        if not isinstance(node.this, exp.Column) or isinstance(node.this.this, exp.Star):
            # ADQL 2.1: <null_predicate> ::= <column_reference> IS [ NOT ] NULL
            raise self.fail("IS [NOT] NULL applies to a column (e.g. t.mag IS NULL), not to an expression or a "
                            "condition; ADQL 2.1 allows only a column reference there", node)
        value = self.expr(node.this, scope)
        if value.kind == PREDICATE:
            raise self.fail("IS NULL needs a value, not a condition", node)
        return Value(f"({value.sql} IS NULL)", PREDICATE)

    def exists(self: Compiler, node: exp.Exists, scope: Scope) -> Value:
        sql, _ = self.subquery(node.this, scope, node)
        return Value(f"(EXISTS {sql})", PREDICATE)

    def scalar_subquery(self: Compiler, node: exp.Subquery, scope: Scope) -> Value:
        sql, columns = self.subquery(node, scope, node)
        if len(columns) != 1:
            raise self.fail("a subquery used as a value must return exactly one column", node)
        inner = columns[0].value
        return Value(sql, inner.kind, inner.datatype, inner.arraysize, inner.xtype, info=inner.info,
                     geometry=None)

    # ------------------------------------------------------------ CASE, CAST
    def case(self: Compiler, node: exp.Case, scope: Scope) -> Value:
        operand = node.args.get("this")
        operand_value = self.expr(operand, scope) if operand is not None else None
        parts = ["CASE"]
        results: list[Value] = []
        for branch in node.args.get("ifs") or []:
            if operand_value is not None:
                # simple CASE as searched CASE: operand = value, with ADQL's 0/1 for booleans
                when_value = self.expr(branch.this, scope)
                self.check_comparable(operand_value, when_value, branch)
                when = _equal_sql(operand_value, when_value)
            else:
                when = self.condition(branch.this, scope)
            result = self.expr(branch.args["true"], scope)
            results.append(result)
            parts.append(f"WHEN {when} THEN {result.sql}")
        default = node.args.get("default")
        if default is not None:
            result = self.expr(default, scope)
            results.append(result)
            parts.append(f"ELSE {result.sql}")
        parts.append("END")
        model = self._common_type(results, node, "CASE results")
        return self._computed_geometry(
            Value("(" + " ".join(parts) + ")", model.kind, model.datatype, model.arraysize, model.xtype,
                  aggregate=any(r.aggregate for r in results)), node)

    def _common_type(self: Compiler, values: list[Value], node: exp.Expr, what: str) -> Value:
        typed = [v for v in values if v.kind not in LOOSE]
        if not typed:
            return Value("NULL", NULL)
        kinds = {v.kind for v in typed}
        if PREDICATE in kinds:
            raise self.fail(f"{what} must be values, not conditions", node)
        if GEOMETRY in kinds:
            # geometries of one shape share one SQL representation (DALI double precision[])
            shapes = {(v.xtype or "").lower() for v in typed}
            if len(kinds) > 1 or len(shapes) != 1 or not shapes <= {"point", "circle", "polygon"}:
                raise self.fail(f"{what} must be geometries of one shape (all points, all circles or all "
                                "polygons)", node)
            model = typed[0]
            return Value(model.sql, GEOMETRY, model.datatype, "*" if len({v.arraysize for v in typed}) > 1
                         else model.arraysize, model.xtype)

        if len(kinds) > 1 and kinds != {TIMESTAMP, STRING}:
            raise self.fail(f"{what} have incompatible types ({', '.join(sorted(kinds))})", node)
        model = typed[0]
        if model.kind == NUMBER:
            datatype = model.datatype
            for other in typed[1:]:
                datatype = promote(replace(model, datatype=datatype), other)
            return replace(model, datatype=datatype)
        return model

    def _computed_geometry(self: Compiler, value: Value, node: exp.Expr) -> Value:
        """A geometry computed by COALESCE or CASE is used like a column of its shape."""
        if value.kind != GEOMETRY:
            return value
        return replace(value, geometry=self.column_geometry(value, node))

    def cast(self: Compiler, node: exp.Cast, scope: Scope) -> Value:
        target = node.args["to"].this if isinstance(node.args.get("to"), exp.Var) else ""
        length_node = node.args.get("format")
        value = self.expr(node.this, scope)
        if value.kind in (PREDICATE,):
            raise self.fail("CAST needs a value, not a condition", node)
        length = None
        if length_node is not None:
            if not (isinstance(length_node, exp.Literal) and not length_node.is_string and length_node.this.isdigit()):
                raise self.fail("the length of a CHAR/VARCHAR cast must be an unsigned integer", node)
            length = int(length_node.this)
            if length == 0:
                raise self.fail("the length of a CHAR/VARCHAR cast must be positive", node)
        numeric = {"SMALLINT": "short", "INTEGER": "int", "BIGINT": "long", "REAL": "float",
                   "DOUBLE PRECISION": "double"}
        if target in numeric:
            if length is not None:
                raise self.fail(f"{target} takes no length", node)
            self.expect(value, (NUMBER, STRING, BOOLEAN), node, f"the value cast to {target}")
            pg = {"short": "smallint", "int": "integer", "long": "bigint", "float": "real",
                  "double": "double precision"}[numeric[target]]
            return Value(f"CAST({value.sql} AS {pg})", NUMBER, numeric[target], aggregate=value.aggregate)
        if target in ("CHAR", "VARCHAR"):
            self.expect(value, (NUMBER, STRING, TIMESTAMP, BOOLEAN), node, f"the value cast to {target}")
            pg = ("char" if target == "CHAR" else "varchar") + (f"({length})" if length else "")
            if target == "VARCHAR" and length is None:
                pg = "text"
            if target == "CHAR":
                arraysize = str(length or 1)  # CHAR without a length is CHAR(1), as in SQL
            else:
                arraysize = f"{length}*" if length else "*"
            return Value(f"CAST({value.sql} AS {pg})", STRING, "char", arraysize, aggregate=value.aggregate)
        if target == "TIMESTAMP":
            if length is not None:
                raise self.fail("TIMESTAMP takes no length", node)
            self.expect(value, (STRING, TIMESTAMP), node, "the value cast to TIMESTAMP")
            return Value(f"CAST({value.sql} AS timestamp)", TIMESTAMP, "char", "*", "timestamp",
                         aggregate=value.aggregate)
        if target in ("POINT", "CIRCLE", "POLYGON"):
            return self.cast_geometry(value, target.lower(), node)
        raise self.fail(
            f"cannot CAST to {target or 'this type'!s}; ADQL cast targets are CHAR, VARCHAR, SMALLINT, INTEGER, "
            "BIGINT, REAL, DOUBLE PRECISION, TIMESTAMP, POINT, CIRCLE, POLYGON",
            node,
        )

    # ------------------------------------------------------------- functions
    def function(self: Compiler, node: exp.Anonymous, scope: Scope) -> Value:
        if not isinstance(node.this, str):  # <user_defined_function_name> ::= [ prefix ] <regular_identifier>
            raise self.fail("a function name cannot be a delimited identifier", node)
        name = node.this
        spec = fn.lookup(name)
        if spec is None:
            if self.permissive and name.upper() not in RESERVED_WORDS:
                # syntax-only validation: any regular identifier may name a user-defined function
                values = [self.expr(a, scope) for a in node.expressions if not isinstance(a, exp.Star)]
                for arg, value in zip(node.expressions, values, strict=False):
                    if value.kind == PREDICATE:  # <user_defined_function_param> ::= <value_expression>
                        raise self.fail("a condition cannot be a function argument", arg)
                return Value(f"{name}({', '.join(v.sql for v in values)})", UNKNOWN,
                             aggregate=any(v.aggregate for v in values))
            raise self.fail(f"unknown function {name!r}", node, suggest(name, [n for n in fn.FUNCTIONS]))
        args = list(node.expressions)
        if len(args) < spec.min_args or (spec.max_args is not None and len(args) > spec.max_args):
            if spec.min_args == spec.max_args:
                count = f"{spec.min_args} argument{'s' if spec.min_args != 1 else ''}"
            elif spec.max_args is None:
                count = f"at least {spec.min_args} arguments"
            else:
                count = f"{spec.min_args} to {spec.max_args} arguments"
            raise self.fail(f"{spec.name} takes {count}, got {len(args)} (usage: {spec.signature})", node)
        if spec.category == "aggregate" or spec.name == "IVO_STRING_AGG":
            return self.aggregate(spec, args, node, scope)
        for arg in args:
            if isinstance(arg, exp.Star | exp.Distinct):
                raise self.fail(f"{spec.name} does not accept {_describe(arg)}", arg)
        if spec.category == "geometry" or spec.name in ("IVO_HEALPIX_CENTER", "IVO_EPOCH_PROP_POS"):
            return _with_aggregates(self.geometry_function(spec, args, node, scope), args)
        if spec.name in fn.GW_FUNCTIONS:
            return _with_aggregates(self.geometry_function(spec, args, node, scope), args)
        if spec.name == "IVO_HEALPIX_INDEX":
            return _with_aggregates(self.healpix_index(args, node, scope), args)
        if spec.name in ("IVO_HASWORD", "IVO_NOCASEMATCH"):
            values = [self.expect(self.expr(a, scope), (STRING,), a, f"an argument of {spec.name}") for a in args]
            pg = "adql_hasword" if spec.name == "IVO_HASWORD" else "adql_nocasematch"
            return Value(f"{pg}({values[0].sql}, {values[1].sql})", NUMBER, "int",
                         aggregate=any(v.aggregate for v in values))
        if spec.name in ("LOWER", "UPPER"):
            value = self.expect(self.expr(args[0], scope), (STRING,), args[0], f"the argument of {spec.name}")
            return Value(f"{spec.pg}({value.sql})", STRING, "char", "*", aggregate=value.aggregate)
        if spec.name == "COALESCE":
            values = [self.expr(a, scope) for a in args]
            model = self._common_type(values, node, "COALESCE arguments")
            if model.kind == NULL and all(v.kind == NULL for v in values):
                return Value("NULL", NULL, aggregate=any(v.aggregate for v in values))  # PostgreSQL: text
            return self._computed_geometry(
                Value(f"COALESCE({', '.join(v.sql for v in values)})", model.kind, model.datatype,
                      model.arraysize, model.xtype, info=_unit_only(model.info),
                      aggregate=any(v.aggregate for v in values)), node)
        if spec.name == "IN_UNIT":
            return self.in_unit(args, node, scope)
        return self.math_function(spec, args, node, scope)

    def math_function(self: Compiler, spec: fn.FunctionSpec, args: list[exp.Expr], node: exp.Expr,
                      scope: Scope) -> Value:
        if spec.name == "PI":
            return Value("pi()", NUMBER, "double", const=math.pi)
        if spec.name == "RAND":
            if args:
                seed = args[0]
                if not (isinstance(seed, exp.Literal) and not seed.is_string and seed.this.isdigit()):
                    raise self.fail("the seed of RAND must be an unsigned integer", seed)
                return Value(seeded_random_sql(int(seed.this)), NUMBER, "double")
            return Value("random()", NUMBER, "double")
        if spec.name in ("ROUND", "TRUNCATE"):
            return self.round_or_truncate(spec, args, node, scope)
        values = [
            self.expect(self.expr(a, scope), (NUMBER,), a, f"an argument of {spec.name}") for a in args
        ]
        aggregate = any(v.aggregate for v in values)
        if spec.name == "MOD":
            a, b = values
            if a.is_integer and b.is_integer:
                return Value(f"mod({a.sql}, {b.sql})", NUMBER, promote(a, b), aggregate=aggregate)
            return Value(
                f"CAST(mod(CAST({a.sql} AS numeric), CAST({b.sql} AS numeric)) AS double precision)",
                NUMBER, "double", aggregate=aggregate)
        if spec.pg in _DOUBLE_ONLY:
            sqls = [v.sql if v.datatype in FLOAT_TYPES else f"CAST({v.sql} AS double precision)" for v in values]
            return Value(f"{spec.pg}({', '.join(sqls)})", NUMBER, "double", aggregate=aggregate)
        # abs, ceil, floor keep the argument's type
        value = values[0]
        datatype = value.datatype if value.datatype in INTEGER_TYPES | FLOAT_TYPES else "double"
        info = _unit_only(value.info) if spec.name == "ABS" else None
        return Value(f"{spec.pg}({value.sql})", NUMBER, datatype, info=info, aggregate=aggregate)

    def round_or_truncate(self: Compiler, spec: fn.FunctionSpec, args: list[exp.Expr], node: exp.Expr,
                          scope: Scope) -> Value:
        value = self.expect(self.expr(args[0], scope), (NUMBER,), args[0], f"the argument of {spec.name}")
        places = "0"
        if len(args) == 2:
            digits = args[1]
            sign = ""
            if isinstance(digits, exp.Neg):
                sign, digits = "-", digits.this
            elif isinstance(digits, exp.Paren) and digits.meta.get("unary_plus"):  # <signed_integer> +2
                digits = digits.this
            if not (isinstance(digits, exp.Literal) and not digits.is_string and digits.this.isdigit()):
                raise self.fail(f"the second argument of {spec.name} must be an integer literal", args[1])
            places = sign + digits.this
        datatype = value.datatype if value.datatype in INTEGER_TYPES | FLOAT_TYPES else "double"
        pg_type = _PG_INTEGER.get(datatype, "double precision")
        sql = f"CAST({spec.pg}(CAST({value.sql} AS numeric), {places}) AS {pg_type})"
        return Value(sql, NUMBER, datatype, info=_unit_only(value.info), aggregate=value.aggregate)

    def in_unit(self: Compiler, args: list[exp.Expr], node: exp.Expr, scope: Scope) -> Value:
        value = self.expect(self.expr(args[0], scope), (NUMBER,), args[0], "the value of IN_UNIT")
        target = args[1]
        if not (isinstance(target, exp.Literal) and target.is_string):
            raise self.fail("the unit of IN_UNIT must be a string literal", target)
        source_unit = value.info.unit if value.info is not None else None
        if value.kind == UNKNOWN:
            from adql.units import _parse_unit

            try:
                _parse_unit(target.this)
            except AdqlError as err:
                raise self.fail(err.message, target) from None
            return Value(value.sql, NUMBER, "double", aggregate=value.aggregate)
        if not source_unit:
            raise self.fail("IN_UNIT needs a value whose unit is known (a column with a unit)", args[0])
        try:
            factor = conversion_factor(source_unit, target.this)
        except AdqlError as err:
            raise self.fail(err.message, target) from None
        info = ColumnInfo(name="in_unit", datatype="double", unit=target.this)
        sql = value.sql if factor == 1.0 else f"({value.sql} * {float_literal(factor)})"
        return Value(sql, NUMBER, "double", info=info, aggregate=value.aggregate)

    def aggregate(self: Compiler, spec: fn.FunctionSpec, args: list[exp.Expr], node: exp.Expr,
                  scope: Scope) -> Value:
        if not self.aggregates_allowed:
            raise self.fail(f"aggregate function {spec.name} is not allowed here", node)
        if self.in_aggregate:
            raise self.fail("aggregate functions cannot be nested", node)
        arg = args[0]
        quantifier = ""
        if isinstance(arg, exp.Distinct):
            if len(arg.expressions) != 1:
                raise self.fail(f"{spec.name}(DISTINCT ...) takes one value", node)
            quantifier, arg = "DISTINCT ", arg.expressions[0]
        if isinstance(arg, exp.Star):
            if spec.name != "COUNT" or quantifier:
                raise self.fail("'*' is only allowed in COUNT(*)", node)
            return Value("COUNT(*)", NUMBER, "long", aggregate=True, name="count")
        self.in_aggregate = True
        try:
            value = self.expr(arg, scope)
            extra = self.expr(args[1], scope) if len(args) > 1 else None
        finally:
            self.in_aggregate = False
        if value.kind == PREDICATE:
            raise self.fail(f"{spec.name} needs a value, not a condition", arg)
        if value.kind == NULL and spec.name in ("AVG", "SUM"):
            # <general_set_function> of NULL: PostgreSQL cannot choose AVG/SUM/MIN/MAX of an untyped NULL
            value = Value(f"CAST({value.sql} AS double precision)", NUMBER, "double")
        elif value.kind == NULL and spec.name in ("MIN", "MAX"):
            # the result stays an untyped NULL for the type checks (its SQL type is double precision)
            value = value.with_sql(f"CAST({value.sql} AS double precision)")
        if spec.name == "COUNT":
            return Value(f"COUNT({quantifier}{value.sql})", NUMBER, "long", aggregate=True, name="count")
        if spec.name == "IVO_STRING_AGG":
            assert extra is not None
            self.expect(extra, (STRING,), args[1], "the delimiter of ivo_string_agg")
            return Value(f"string_agg({quantifier}CAST({value.sql} AS text), {extra.sql})", STRING, "char", "*",
                         aggregate=True, name="ivo_string_agg")
        if spec.name in ("MIN", "MAX"):
            if value.kind in (GEOMETRY, ARRAY):
                raise self.fail(f"{spec.name} cannot be applied to a {value.kind}", arg)
            return Value(f"{spec.name}({quantifier}{value.sql})", value.kind, value.datatype, value.arraysize,
                         value.xtype, info=_unit_only(value.info), aggregate=True, name=spec.name.lower())
        self.expect(value, (NUMBER,), arg, f"the argument of {spec.name}")
        if spec.name == "AVG":
            sql = f"CAST(AVG({quantifier}{value.sql}) AS double precision)"
            return Value(sql, NUMBER, "double", info=_unit_only(value.info), aggregate=True, name="avg")
        if value.datatype in INTEGER_TYPES:
            # SUM of integers is numeric in PostgreSQL; keep it an integer type.
            sql = f"CAST(SUM({quantifier}{value.sql}) AS bigint)"
            datatype = "long"
        else:
            sql = f"CAST(SUM({quantifier}{value.sql}) AS double precision)"
            datatype = "double"
        return Value(sql, NUMBER, datatype, info=_unit_only(value.info), aggregate=True, name="sum")


_NO_NULL_OPERAND = (exp.Add, exp.Sub, exp.Mul, exp.Div, exp.Neg, exp.DPipe, exp.Like, exp.ILike)
_NO_NULL_ARGUMENT = {"math", "trig", "string", "geometry"}


def _check_unsigned(compiler: Compiler, node: exp.Binary, op: str) -> None:
    """Operands of '||' and LIKE are <character_factor>s, which have no sign."""
    for operand in (node.this, node.expression):
        if isinstance(operand, exp.Neg) or (isinstance(operand, exp.Paren) and operand.meta.get("unary_plus")):
            raise compiler.fail(f"an operand of {op} cannot have a sign", operand)


def _typed_null(value: Value) -> Value:
    """NULL as an arithmetic operand: PostgreSQL cannot choose among its - and + operators for an
    untyped NULL ("operator is not unique: - unknown")."""
    if value.kind != NULL:
        return value
    return value.with_sql(f"CAST({value.sql} AS double precision)")


def _contains_aggregate(node: exp.Expr) -> bool:
    """Whether an aggregate function is called in ``node`` (not counting subqueries)."""
    if isinstance(node, exp.Query | exp.Subquery):
        return False
    if isinstance(node, exp.Anonymous) and isinstance(node.this, str) and node.this.upper() in fn.AGGREGATES:
        return True
    return any(_contains_aggregate(child) for child in node.iter_expressions())


def _with_aggregates(value: Value, args: list[exp.Expr]) -> Value:
    """Geometry functions build their SQL from parts; an aggregate in an argument makes the value an
    aggregate (for the GROUP BY checks) as for any other function."""
    if value.aggregate or not any(_contains_aggregate(arg) for arg in args):
        return value
    return replace(value, aggregate=True)


def _unit_only(info: ColumnInfo | None) -> ColumnInfo | None:
    """Keep a value's unit (and UCD) through operations that preserve it."""
    if info is None or not info.unit:
        return None
    return ColumnInfo(name=info.name, datatype=info.datatype, unit=info.unit, ucd=info.ucd)


def _equal_sql(a: Value, b: Value) -> str:
    return f"({_boolean_constants(a, b).sql} = {_boolean_constants(b, a).sql})"


def _boolean_constants(value: Value, other: Value) -> Value:
    if other.kind == BOOLEAN and value.kind == NUMBER and value.const in (0, 1):
        return value.with_sql("TRUE" if value.const == 1 else "FALSE")
    return value


def _fold(op: str, a: float, b: float) -> object:
    try:
        if op == "+":
            return a + b
        if op == "-":
            return a - b
        if op == "*":
            return a * b
        if b == 0:
            return NOT_CONSTANT
        if isinstance(a, int) and isinstance(b, int):
            return int(a / b)  # SQL integer division truncates toward zero
        return a / b
    except OverflowError:
        return NOT_CONSTANT


def _describe(node: exp.Expr) -> str:
    names = {
        exp.Star: "'*'",
        exp.Distinct: "DISTINCT",
        exp.Boolean: "a boolean literal",
        exp.Placeholder: "a parameter placeholder",
        exp.Dot: "this use of '.'",
        exp.Tuple: "a row value",
        exp.Array: "an array",
        exp.Bracket: "an array subscript",
        exp.Alias: "an alias here",
    }
    return names.get(type(node), f"this construct ({type(node).__name__})")


_HANDLERS = {
    exp.Literal: ExpressionCompiler.literal,
    exp.HexString: ExpressionCompiler.hex_literal,
    exp.Null: ExpressionCompiler.null,
    exp.Column: ExpressionCompiler.column,
    exp.Paren: ExpressionCompiler.paren,
    exp.Neg: ExpressionCompiler.negate,
    exp.DPipe: ExpressionCompiler.concat,
    exp.And: ExpressionCompiler.conjunction,
    exp.Or: ExpressionCompiler.conjunction,
    exp.Not: ExpressionCompiler.negation,
    exp.Between: ExpressionCompiler.between,
    exp.In: ExpressionCompiler.in_predicate,
    exp.Like: ExpressionCompiler.like,
    exp.ILike: ExpressionCompiler.like,
    exp.Is: ExpressionCompiler.is_null,
    exp.Exists: ExpressionCompiler.exists,
    exp.Subquery: ExpressionCompiler.scalar_subquery,
    exp.Case: ExpressionCompiler.case,
    exp.Cast: ExpressionCompiler.cast,
    exp.Anonymous: ExpressionCompiler.function,
    exp.BitwiseNot: ExpressionCompiler.bitwise_not,
    **{cls: ExpressionCompiler.comparison for cls in _COMPARISONS},
    **{cls: ExpressionCompiler.arithmetic for cls in _ARITHMETIC},
    **{cls: ExpressionCompiler.bitwise for cls in _BITWISE},
}
