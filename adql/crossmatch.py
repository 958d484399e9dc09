"""Crossmatch joins through the positional index (a mixin of
:class:`adql.compiler.Compiler`).

``1 = CONTAINS(POINT(a.ra, a.dec), CIRCLE(b.ra, b.dec, r))`` and
``DISTANCE(POINT(a.ra, a.dec), POINT(b.ra, b.dec)) < r`` (``<=``, either
order, constant r) between two tables with indexed positions are compiled
as before (the exact test), and in addition the spatial compiler's
``join_lookup`` gives a LATERAL FROM item computed from each row of the
outer table b plus a condition that probes a's index::

    FROM <from clause as written>, LATERAL <item from b's position> AS "x5"
    WHERE <where as written> AND <a.hpx within the row of "x5">

This is only done where it cannot change the result:

* the predicate is a top-level AND term of the WHERE clause or of the ON
  condition of an inner join, so rows failing it are dropped anyway;
* the FROM clause of that SELECT has only comma and INNER joins (no
  LEFT/RIGHT/FULL OUTER, whose ON conditions do not drop rows, and no
  NATURAL/USING, whose merged columns are referenced unqualified);
* both tables are in that FROM clause (not an enclosing query) and differ.

The item multiplies each outer row by its probe rows; by the ``JoinLookup``
contract exactly one of them satisfies the condition for every pair that
matches the exact test, so each result row appears exactly as often as
without the rewrite.  Anything else keeps the exact SQL (plus
``join_prefilter``, if the compiler has one).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from sqlglot import exp

from adql.scope import Scope, Source, quote
from adql.spatial import IndexedPosition

if TYPE_CHECKING:
    from adql.compiler import Compiler

# The TAP schema of client-uploaded tables: small, so preferably the outer side.
UPLOAD_SCHEMA = "tap_upload"


@dataclass
class CrossmatchScope:
    """Per-SELECT state: where a crossmatch may be rewritten, and what was added."""

    scope: Scope
    eligible: bool
    slots: set[int] = field(default_factory=set)  # id() of the comparison nodes that are top-level AND terms
    items: list[str] = field(default_factory=list)
    conditions: list[str] = field(default_factory=list)


def _unparen(node: exp.Expr) -> exp.Expr:
    while isinstance(node, exp.Paren):
        node = node.this
    return node


def conjuncts(node: exp.Expr | None) -> list[exp.Expr]:
    """The terms of a condition's top-level AND (parentheses removed)."""
    if node is None:
        return []
    node = _unparen(node)
    if isinstance(node, exp.And):
        return conjuncts(node.this) + conjuncts(node.expression)
    return [node]


def _inner_joins_only(first: exp.Expr, joins: list[exp.Join], on_terms: list[exp.Expr]) -> bool:
    """Whether a FROM clause has only comma and INNER ... ON joins (also inside
    parenthesised joins); collects the ON conditions' top-level terms."""
    references = [first]
    for join in joins:
        side = (join.args.get("side") or "").upper()
        kind = (join.args.get("kind") or "").upper()
        if side or kind not in ("", "INNER") or join.args.get("method") or join.args.get("using"):
            return False
        on_terms.extend(conjuncts(join.args.get("on")))
        references.append(join.this)
    for reference in references:
        if isinstance(reference, exp.Subquery) and reference.args.get("alias") is None:
            inner = reference.this
            if isinstance(inner, exp.Table) and inner.args.get("joins"):
                if not _inner_joins_only(inner, inner.args["joins"], on_terms):
                    return False
    return True


class CrossmatchCompiler:
    """Index-assisted crossmatch joins; see the module docstring."""

    _crossmatch_stack: list[CrossmatchScope]  # set by Compiler.__init__

    def crossmatch_begin(self: Compiler, node: exp.Select, scope: Scope) -> CrossmatchScope:
        """Start a SELECT: find the comparison nodes a rewrite may apply to."""
        from_ = node.args.get("from_")
        terms: list[exp.Expr] = []
        eligible = from_ is not None and _inner_joins_only(from_.this, node.args.get("joins") or [], terms)
        state = CrossmatchScope(scope, eligible)
        if eligible:
            where = node.args.get("where")
            terms.extend(conjuncts(where.this if where is not None else None))
            state.slots = {id(term) for term in terms}
        self._crossmatch_stack.append(state)
        return state

    def crossmatch_end(self: Compiler, state: CrossmatchScope, from_sql: str,
                       where_sql: str | None) -> tuple[str, str | None]:
        """FROM and WHERE of the SELECT with the probes added."""
        popped = self._crossmatch_stack.pop()
        assert popped is state
        if not state.items:
            return from_sql, where_sql
        from_sql += "".join(f", LATERAL {item}" for item in state.items)
        terms = ([where_sql] if where_sql is not None else []) + state.conditions
        return from_sql, " AND ".join(f"({term})" for term in terms)

    def crossmatch(self: Compiler, node: exp.Expr, point: IndexedPosition, centre: IndexedPosition,
                   radius: float, symmetric_pick: bool) -> bool:
        """Ask for a lookup for the comparison ``node`` between ``point`` and
        positions within ``radius`` of ``centre``; True if it was added.

        The indexed side is the point's table (CONTAINS) or the table written
        later in FROM (DISTANCE, ``symmetric_pick``), except that an uploaded
        table is preferably the outer side."""
        lookup_of = getattr(self.spatial, "join_lookup", None)
        if lookup_of is None or not self._crossmatch_stack:
            return False
        state = self._crossmatch_stack[-1]
        if not state.eligible or id(node) not in state.slots:
            return False
        indexed_source, outer_source = _source_of(state.scope, point), _source_of(state.scope, centre)
        if indexed_source is None or outer_source is None or indexed_source is outer_source:
            return False
        indexed, outer = point, centre
        if symmetric_pick and state.scope.sources.index(indexed_source) < state.scope.sources.index(outer_source):
            indexed, outer, indexed_source, outer_source = outer, indexed, outer_source, indexed_source
        if _is_upload(indexed_source) and not _is_upload(outer_source):
            indexed, outer = outer, indexed
        alias = quote(self.new_alias("x"))
        lookup = lookup_of(indexed, outer, radius, alias)
        if lookup is None:
            return False
        state.items.append(lookup.from_item)
        state.conditions.append(lookup.condition)
        return True


def _source_of(scope: Scope, position: IndexedPosition) -> Source | None:
    """The table of this SELECT's FROM clause whose indexed position this is."""
    for source in scope.sources:
        table = source.table
        if table is None or table.hpx_column is None:
            continue
        if source.column_sql(table.hpx_column) == position.hpx_sql:
            return source
    return None


def _is_upload(source: Source) -> bool:
    return (source.schema or "").lower() == UPLOAD_SCHEMA
