"""The HEALPix ``join_lookup`` contract, checked in PostgreSQL on pairs made
to be awkward: for every pair of positions within the radius exactly one
probe row of the outer position holds the other's depth-29 index (so a
crossmatch finds each pair exactly once), near the poles, ra = 0/360 and
the HEALPix face edges, from 1 mas to 10 degrees."""

from __future__ import annotations

import numpy as np
import psycopg
import pytest
from astropy import units as u
from astropy.coordinates import SkyCoord

from adql.spatial import IndexedPosition
from tests.adql.support import depth29
from vo_server.sky.spatial_compiler import MAX_JOIN_RADIUS, HealpixSpatialCompiler, join_depth


def awkward_centres(n: int, rng: np.random.Generator) -> tuple[np.ndarray, np.ndarray]:
    """A quarter uniform; the rest near the poles, the face edges
    (dec = +-41.81, ra multiples of 45) and ra = 0/360."""
    ra = rng.uniform(0, 360, n)
    dec = np.degrees(np.arcsin(rng.uniform(-1, 1, n)))
    kind = rng.integers(0, 4, n)
    near = rng.normal(0, 0.5, n)
    pole = kind == 1
    dec[pole] = np.sign(near[pole] + 1e-9) * (90 - np.abs(near[pole]) * rng.uniform(0, 1, pole.sum()))
    edge = kind == 2
    dec[edge] = rng.choice([-41.8103149, 41.8103149, 0.0], edge.sum()) + near[edge] * 0.01
    ra[edge] = rng.integers(0, 8, edge.sum()) * 45.0 + near[edge] * 0.01
    wrap = kind == 3
    ra[wrap] = near[wrap] * 0.01
    return ra % 360.0, np.clip(dec, -90, 90)


@pytest.mark.parametrize("seed", [1, 2])
def test_each_pair_within_the_radius_is_found_exactly_once(seed: int, db_dsn: str) -> None:
    rng = np.random.default_rng(seed)
    n = 6000
    ra, dec = awkward_centres(n, rng)
    radius = 10 ** rng.uniform(np.log10(1e-6), np.log10(MAX_JOIN_RADIUS), n)
    # most partners close to the edge of the circle, where a too-small neighbourhood fails first
    distance = radius * np.where(rng.uniform(0, 1, n) < 0.7, 1 - 1e-6, rng.uniform(0, 1, n))
    moved = SkyCoord(ra * u.deg, dec * u.deg).directional_offset_by(rng.uniform(0, 2 * np.pi, n) * u.rad,
                                                                    distance * u.deg)
    p, q = depth29(ra, dec), depth29(moved.ra.deg % 360.0, moved.dec.deg)
    depths = np.array([join_depth(r) for r in radius])
    compiler = HealpixSpatialCompiler()
    counts: dict[int, int] = {}
    with psycopg.connect(db_dsn) as conn:
        for depth in np.unique(depths):
            chosen = np.nonzero(depths == depth)[0]
            r = float(radius[chosen].max())
            assert join_depth(r) == depth
            lookup = compiler.join_lookup(IndexedPosition("", "", "t.q"), IndexedPosition("", "", "t.p"), r, '"x"')
            assert lookup is not None
            rows = conn.execute(
                f"SELECT t.i, count(*) FILTER (WHERE {lookup.condition}) FROM unnest(%s::int[], %s::bigint[], "
                f"%s::bigint[]) AS t(i, p, q) LEFT JOIN LATERAL {lookup.from_item} ON TRUE GROUP BY t.i",
                (chosen.tolist(), p[chosen].tolist(), q[chosen].tolist()),
            ).fetchall()
            counts.update(rows)
    assert len(counts) == n
    wrong = {i: c for i, c in counts.items() if c != 1}
    assert not wrong, [(i, c, ra[i], dec[i], radius[i]) for i, c in list(wrong.items())[:5]]
    assert len(np.unique(depths)) >= 15  # from depth 1 (10 deg) to 29 (1 mas)


def test_limits_and_null_positions(db_dsn: str) -> None:
    compiler = HealpixSpatialCompiler()
    position = IndexedPosition("ra", "dec", "hpx")
    assert compiler.join_lookup(position, position, MAX_JOIN_RADIUS + 0.1, '"x"') is None
    assert compiler.join_lookup(position, position, -1.0, '"x"') is None
    assert join_depth(0.0) == 29
    lookup = compiler.join_lookup(IndexedPosition("", "", "t.q"), IndexedPosition("", "", "t.p"), 0.0, '"x"')
    with psycopg.connect(db_dsn) as conn:
        # a NULL outer position gives no probe rows; radius 0 probes the own depth-29 cell only
        assert conn.execute(f"SELECT count(*) FROM (SELECT NULL::bigint AS p) AS t, LATERAL {lookup.from_item}"
                            ).fetchone()[0] == 0
        rows = conn.execute(f"SELECT x.lo, x.hi FROM (SELECT 12345::bigint AS p) AS t, LATERAL {lookup.from_item}"
                            ).fetchall()
    assert (12345, 12345) in rows and len(rows) == 9
