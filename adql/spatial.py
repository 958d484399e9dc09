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
        ``radius`` degrees of each other (a superset), letting the database use
        the index of ``position``'s table while iterating over ``other``'s rows."""
        ...


class PlainSpatialCompiler:
    """No index: the exact predicate alone."""

    def region_prefilter(self, position: IndexedPosition, region: Region) -> str | None:
        return None

    def footprint_prefilter(self, footprint: IndexedFootprint, region: Region) -> str | None:
        return None

    def join_prefilter(self, position: IndexedPosition, other: IndexedPosition, radius: float) -> str | None:
        return None
