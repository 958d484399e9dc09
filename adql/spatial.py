"""How geometric predicates use a positional index: the contract between the
translator and whoever owns the index strategy.

The translator always emits the *exact* predicate itself (e.g. a call to the
SQL function that tests whether a point lies in a circle).  When the point is
an indexed position of a table (its ra/dec columns, see
``TableInfo.position``) and the other side is known, it asks the spatial
compiler for an *index prefilter*: an extra SQL boolean, a superset of the
exact predicate, that the database can answer from the ``hpx`` btree.  The
translator ANDs the two.  A compiler that returns None changes nothing, so
indexed and unindexed translations return the same rows by construction.

Region-valued columns (ObsCore ``s_region``: STC-S text whose geometry the
catalog says is stored beside it, see ``catalog.RegionColumn``) may have a
*footprint index* instead: then ``footprint_prefilter`` is asked for the rows
whose region may overlap a constant region.

``vo_server.sky`` provides the HEALPix compiler; ``PlainSpatialCompiler``
(the default) never prefilters.

Crossmatch joins (``1 = CONTAINS(POINT(a.ra, a.dec), CIRCLE(b.ra, b.dec, r))``
with a constant r) need more than a boolean: a btree can only be probed once
per row of the other table if the probe bounds come from a FROM item.  A
compiler may therefore also offer ``join_lookup`` (optional, looked up with
``getattr``): a LATERAL FROM item computed from the outer row plus a join
condition on the indexed table.  The translator adds both only where that
preserves the rows (``adql.crossmatch``), next to the exact predicate.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Protocol


@dataclass(frozen=True)
class IndexedPosition:
    """SQL expressions (already quoted and qualified) of an indexed position."""

    ra_sql: str
    dec_sql: str
    hpx_sql: str


@dataclass(frozen=True)
class IndexedFootprint:
    """A region column with a footprint index: ``index`` is the name the
    catalog gives (``RegionColumn.footprint_index``, meaningful to the spatial
    compiler only), ``key_sql`` the quoted, qualified SQL of the row's key
    (``RegionColumn.key_column``) that the index is keyed by."""

    index: str
    key_sql: str


@dataclass(frozen=True)
class Circle:
    ra: float
    dec: float
    radius: float


@dataclass(frozen=True)
class Box:
    """ADQL BOX: centre and full widths along the coordinate axes, in degrees."""

    ra: float
    dec: float
    width: float
    height: float


@dataclass(frozen=True)
class Polygon:
    """Vertices in order; edges are great-circle arcs."""

    vertices: tuple[tuple[float, float], ...]


@dataclass(frozen=True)
class Moc:
    """A MOC given as its ASCII serialisation (MOC 2.0, e.g. "3/1-5 4/88")."""

    ascii: str


@dataclass(frozen=True)
class NamedRegion:
    """A region resolved by the compiler itself, e.g. a GW credible region
    ``gw_region('S200129m', 0.9)`` -> NamedRegion("gw_region", ("S200129m", 0.9))."""

    function: str
    arguments: tuple[object, ...]


Region = Circle | Box | Polygon | Moc | NamedRegion


@dataclass(frozen=True)
class JoinLookup:
    """A crossmatch probe: ``from_item`` is a LATERAL FROM item (with its
    alias, e.g. ``(SELECT ...) AS "x5"``) computed from one outer row, and
    ``condition`` a boolean on the indexed table's row and that item's row.

    Contract, which makes the rewrite exact: for every pair of positions
    within the radius exactly one row of the outer row's item satisfies
    ``condition``; for any other pair at most one does.  The translator still
    ANDs the exact distance test, so a pair appears once, and only if it
    matches.  An outer row whose position is NULL may yield no item rows.
    """

    from_item: str
    condition: str


class SpatialCompiler(Protocol):
    def region_prefilter(self, position: IndexedPosition, region: Region) -> str | None:
        """SQL boolean true for every row whose position may lie in ``region``
        (a superset), answerable from the index; None if no useful filter."""
        ...

    def footprint_prefilter(self, footprint: IndexedFootprint, region: Region) -> str | None:
        """SQL boolean true for every row whose region column may overlap
        ``region`` (a superset of the rows where it intersects, contains or
        lies within it), answerable from the footprint index; None if none.
        Optional: the translator treats a compiler without it as returning None."""
        ...

    def join_prefilter(self, position: IndexedPosition, other: IndexedPosition, radius: float) -> str | None:
        """SQL boolean true for every pair whose positions may be within
        ``radius`` degrees of each other (a superset), ANDed with the exact
        test where ``join_lookup`` cannot be used; None if no useful filter."""
        ...


class JoinLookupCompiler(SpatialCompiler, Protocol):
    """A spatial compiler that also probes its index row by row in joins."""

    def join_lookup(self, indexed: IndexedPosition, outer: IndexedPosition, radius: float,
                    alias: str) -> JoinLookup | None:
        """The LATERAL item (aliased ``alias``, a quoted SQL identifier) and
        join condition reaching ``indexed``'s table through its index from
        each row of ``outer``'s table, for positions within ``radius``
        degrees (see ``JoinLookup``); None if the index cannot help."""
        ...


class PlainSpatialCompiler:
    """No index: the exact predicate alone."""

    def region_prefilter(self, position: IndexedPosition, region: Region) -> str | None:
        return None

    def footprint_prefilter(self, footprint: IndexedFootprint, region: Region) -> str | None:
        return None

    def join_prefilter(self, position: IndexedPosition, other: IndexedPosition, radius: float) -> str | None:
        return None

    def join_lookup(self, indexed: IndexedPosition, outer: IndexedPosition, radius: float,
                    alias: str) -> JoinLookup | None:
        return None
