"""Indexed region searches return exactly what a brute-force filter returns.

10k random cones (radii 1 arcsec to 30 deg, centres anywhere including the
poles and ra = 0/360) run as SQL (index ranges + exact test) against a
table of points placed around each cone's boundary, compared with astropy's
angular separation; the spatial compiler's prefilter is checked to be a
superset for polygons, boxes and MOCs."""

from __future__ import annotations

import itertools
import math

import astropy.units as u
import numpy as np
import psycopg
import pyarrow as pa
import pyarrow.parquet as pq
import pytest
from astropy.coordinates import Latitude, Longitude, angular_separation
from cdshealpix.nested import cone_search
from mocpy import MOC

from adql.spatial import Box, Circle, IndexedPosition, Moc, Polygon
from vo_server.ingest.loader import IngestRequest, ingest
from vo_server.sky.hpx import hpx_index
from vo_server.sky.ranges_sql import (
    COSINE_FORM_MIN_RADIUS,
    WALK_RANGE_COST_US,
    cone_filter_sql,
    cone_rows_sql,
)
from vo_server.sky.regions import MERGE_GAP_ROWS, RegionError, _runs, cone_ranges, max_pixrad, region_ranges
from vo_server.sky.spatial_compiler import HealpixSpatialCompiler

N_CONES = 10_000
BATCH = 250


def _cones(rng: np.random.Generator) -> np.ndarray:
    ra = rng.uniform(0, 360, N_CONES)
    dec = np.degrees(np.arcsin(rng.uniform(-1, 1, N_CONES)))
    special = N_CONES // 10
    dec[:special // 2] = rng.choice([90.0, -90.0, 89.9999, -89.9999, 88.0, -88.0], special // 2)
    ra[special // 2:special] = rng.choice([0.0, 360.0, 1e-9, 359.9999999], special - special // 2)
    radius = 10 ** rng.uniform(math.log10(1 / 3600), math.log10(30), N_CONES)
    return np.stack([ra, dec, radius], axis=1)


def _offset(ra, dec, distance, bearing):
    """Points at ``distance`` deg from (ra, dec) along ``bearing`` (all degrees)."""
    d, b = np.radians(distance), np.radians(bearing)
    lat1, lon1 = np.radians(dec), np.radians(ra)
    lat2 = np.arcsin(np.clip(np.sin(lat1) * np.cos(d) + np.cos(lat1) * np.sin(d) * np.cos(b), -1, 1))
    lon2 = lon1 + np.arctan2(np.sin(b) * np.sin(d) * np.cos(lat1), np.cos(d) - np.sin(lat1) * np.sin(lat2))
    return np.degrees(lon2) % 360, np.degrees(lat2)


@pytest.fixture(scope="module")
def points(db_target, tmp_path_factory):
    rng = np.random.default_rng(42)
    cones = _cones(rng)
    ras, decs = [], []
    for k in range(4):  # four points per cone, within 0..2 radii, many right at the edge
        scale = rng.uniform(0, 2, N_CONES) if k < 2 else rng.uniform(0.999, 1.001, N_CONES)
        ra, dec = _offset(cones[:, 0], cones[:, 1], cones[:, 2] * scale, rng.uniform(0, 360, N_CONES))
        ras.append(ra)
        decs.append(dec)
    ras.append(rng.uniform(0, 360, 5000))
    decs.append(np.degrees(np.arcsin(rng.uniform(-1, 1, 5000))))
    ras.append(np.array([0.0, 360.0, 0.0, 180.0, 359.99999999, 0.0]))
    decs.append(np.array([90.0, -90.0, 0.0, 89.99999, 0.0, -89.99999]))
    ra, dec = np.concatenate(ras), np.concatenate(decs)
    path = tmp_path_factory.mktemp("cones") / "points.parquet"
    pq.write_table(pa.table({"id": np.arange(len(ra)), "ra": ra, "dec": dec}), path)
    ingest(db_target, IngestRequest(path=path, table="conetest.points", mode="create"))
    return cones, ra, dec


def _brute_force(cones: np.ndarray, ra: np.ndarray, dec: np.ndarray) -> list[set[int]]:
    """astropy's angular_separation (Vincenty) on candidates preselected by a generous dot-product bound."""
    xyz = np.stack([np.cos(np.radians(dec)) * np.cos(np.radians(ra)),
                    np.cos(np.radians(dec)) * np.sin(np.radians(ra)), np.sin(np.radians(dec))], axis=1)
    out = []
    for start in range(0, len(cones), 500):
        block = cones[start:start + 500]
        c = np.stack([np.cos(np.radians(block[:, 1])) * np.cos(np.radians(block[:, 0])),
                      np.cos(np.radians(block[:, 1])) * np.sin(np.radians(block[:, 0])),
                      np.sin(np.radians(block[:, 1]))], axis=1)
        dots = c @ xyz.T
        bound = np.cos(np.minimum(np.radians(block[:, 2]) * 1.01 + 1e-7, np.pi))
        for i, (cra, cdec, r) in enumerate(block):
            cand = np.nonzero(dots[i] >= bound[i])[0]
            sep = angular_separation(np.radians(cra), np.radians(cdec), np.radians(ra[cand]), np.radians(dec[cand]))
            out.append(set(cand[np.degrees(sep) <= r].tolist()))
    return out


@pytest.mark.parametrize("form", ["literal", "parameters"])
def test_cones_equal_brute_force(db_target, points, form):
    cones, ra, dec = points
    expected = _brute_force(cones, ra, dec)
    got: list[set[int]] = [set() for _ in range(len(cones))]
    with psycopg.connect(db_target.query_dsn) as conn:
        for start in range(0, len(cones), BATCH):
            parts, params = [], []
            for k in range(start, min(start + BATCH, len(cones))):
                c_ra, c_dec, r = (float(x) for x in cones[k])
                if form == "literal":  # the ADQL prefilter: all ranges OR-ed, exact test on every row
                    region = cone_ranges(c_ra, c_dec, r, rows=len(ra))
                    where = cone_filter_sql("hpx", "ra", "dec", c_ra, c_dec, r, region)
                    parts.append(f"SELECT {k} AS k, id FROM conetest.points WHERE {where}")
                else:  # the SCS form: ranges walked, interior cells without the exact test
                    region = cone_ranges(c_ra, c_dec, r, rows=len(ra), range_cost_us=WALK_RANGE_COST_US)
                    rows, values = cone_rows_sql("conetest.points", ["id"], "hpx", "ra", "dec", c_ra, c_dec, r, region)
                    parts.append(f"SELECT {k} AS k, id FROM {rows} AS c")
                    params += values
            for k, ident in conn.execute(" UNION ALL ".join(parts), params or None):
                got[k].add(ident)
    mismatches = [k for k in range(len(cones)) if got[k] != expected[k]]
    assert sum(len(s) for s in expected) > 3 * len(cones)  # the test points really sit in the cones
    assert not mismatches, [(cones[k].tolist(), sorted(got[k] ^ expected[k])[:5]) for k in mismatches[:5]]


def test_interior_ranges_hold_no_point_outside_the_cone():
    """Rows of interior ranges skip the exact test: points just outside a cone
    (up to 10% of the radius beyond it) never fall in one, poles included."""
    rng = np.random.default_rng(11)
    cones = _cones(rng)[:1500]
    checked = 0
    for c_ra, c_dec, r in cones:
        region = cone_ranges(float(c_ra), float(c_dec), float(r), rows=1e7, range_cost_us=WALK_RANGE_COST_US)
        if not region.interior:
            continue
        interior = np.array(region.interior, dtype=np.int64)
        p_ra, p_dec = _offset(np.full(3000, c_ra), np.full(3000, c_dec), r * rng.uniform(1 + 1e-9, 1.1, 3000),
                              rng.uniform(0, 360, 3000))
        hpx, _ = hpx_index(p_ra, p_dec)
        assert not np.any(_in_ranges(hpx, interior)), (c_ra, c_dec, r)
        checked += 1
    assert checked > 300


def test_trigonometry_free_bound_accepts_only_points_inside():
    """The cheap test that lets rows skip the exact one never accepts a point
    outside the cone (points up to 1.5 radii out, at every declination, across
    ra = 0/360, radii 1 mas to 30 deg), and accepts most points inside."""
    from vo_server.sky.ranges_sql import _inside_bound_params

    rng = np.random.default_rng(13)
    cones = _cones(rng)[:3000]
    cones[:300, 2] = 10 ** rng.uniform(-6.5, -3, 300)
    accepted_inside = inside_total = 0
    for c_ra, c_dec, r in cones:
        d0, _, k, a0, _, c = _inside_bound_params(float(c_ra), float(c_dec), float(r))
        p_ra, p_dec = _offset(np.full(400, c_ra), np.full(400, c_dec), r * rng.uniform(0, 1.5, 400),
                              rng.uniform(0, 360, 400))
        accepted = (p_dec - d0) * (p_dec - d0) + k * (p_ra - a0) * (p_ra - a0) <= c
        sep = np.degrees(angular_separation(np.radians(c_ra), np.radians(c_dec), np.radians(p_ra), np.radians(p_dec)))
        assert not np.any(accepted & (sep > r)), (c_ra, c_dec, r)
        accepted_inside += int(np.sum(accepted & (sep <= r)))
        inside_total += int(np.sum(sep <= r))
    assert accepted_inside > 0.6 * inside_total


def test_cells_lie_within_max_pixrad_of_their_centre():
    """The interior test's margin: every point of a cell's edges (sampled
    densely, polar and equatorial cells) is within max_pixrad of its centre."""
    import cdshealpix.nested as healpix

    rng = np.random.default_rng(12)
    for depth in (1, 3, 6, 9, 12, 16, 20):
        n = 12 * 4 ** depth
        ipix = np.unique(np.concatenate([rng.integers(0, n, 400), np.arange(min(n, 200)),
                                         n - 1 - np.arange(min(n, 200))]).astype(np.uint64))
        c_lon, c_lat = (a.to_value(u.rad) for a in healpix.healpix_to_lonlat(ipix, depth))
        worst = 0.0
        for t in np.linspace(0, 1 - 1e-9, 33):
            for dx, dy in ((t, 0.0), (t, 1 - 1e-9), (0.0, t), (1 - 1e-9, t)):
                lon, lat = (a.to_value(u.rad) for a in healpix.healpix_to_lonlat(ipix, depth, dx=dx, dy=dy))
                worst = max(worst, float(np.max(angular_separation(c_lon, c_lat, lon, lat))))
        assert worst <= max_pixrad(depth) * (1 + 1e-9), depth


def _in_ranges(hpx: np.ndarray, ranges: np.ndarray) -> np.ndarray:
    i = np.searchsorted(ranges[:, 0], hpx, side="right") - 1
    return (i >= 0) & (hpx < ranges[np.maximum(i, 0), 1])


def _sample_around(rng, ra, dec, radius, n=400):
    return _offset(np.full(n, ra), np.full(n, dec), radius * np.sqrt(rng.uniform(0, 1, n)), rng.uniform(0, 360, n))


def test_polygon_ranges_cover_the_polygon():
    rng = np.random.default_rng(7)
    for _ in range(300):
        c_ra, c_dec = rng.uniform(0, 360), float(np.degrees(np.arcsin(rng.uniform(-0.98, 0.98))))
        size = 10 ** rng.uniform(-3, 1)
        angles = np.sort(rng.uniform(0, 360, rng.integers(3, 8)))
        v_ra, v_dec = _offset(np.full(len(angles), c_ra), np.full(len(angles), c_dec),
                              size * rng.uniform(0.5, 1, len(angles)), angles)
        vertices = tuple(zip(v_ra.tolist(), v_dec.tolist(), strict=True))
        region = region_ranges(Polygon(vertices))
        p_ra, p_dec = _sample_around(rng, c_ra, c_dec, size)
        xyz = np.stack([np.cos(np.radians(p_dec)) * np.cos(np.radians(p_ra)),
                        np.cos(np.radians(p_dec)) * np.sin(np.radians(p_ra)), np.sin(np.radians(p_dec))], axis=1)
        v = np.stack([np.cos(np.radians(v_dec)) * np.cos(np.radians(v_ra)),
                      np.cos(np.radians(v_dec)) * np.sin(np.radians(v_ra)), np.sin(np.radians(v_dec))], axis=1)
        sides = np.stack([xyz @ np.cross(v[i], v[(i + 1) % len(v)]) for i in range(len(v))], axis=1)
        inside = np.all(sides >= 0, axis=1) | np.all(sides <= 0, axis=1)
        hpx, _ = hpx_index(p_ra, p_dec)
        assert np.all(_in_ranges(hpx, region.ranges)[inside])


def test_box_ranges_cover_the_box():
    rng = np.random.default_rng(8)
    for _ in range(300):
        box = Box(rng.uniform(0, 360), rng.uniform(-80, 80), 10 ** rng.uniform(-3, 1.3), 10 ** rng.uniform(-3, 1))
        region = region_ranges(box)
        p_ra = box.ra + box.width * rng.uniform(-0.5, 0.5, 500)
        p_dec = np.clip(box.dec + box.height * rng.uniform(-0.5, 0.5, 500), -90, 90)
        hpx, _ = hpx_index(p_ra % 360, p_dec)
        assert np.all(_in_ranges(hpx, region.ranges))


def test_moc_ranges_are_exact_or_a_superset():
    rng = np.random.default_rng(9)
    moc = MOC.from_cone(Longitude(30 * u.deg), Latitude(20 * u.deg), radius=5 * u.deg, max_depth=9)
    region = region_ranges(Moc(moc.to_string(format="ascii")))
    p_ra, p_dec = _sample_around(rng, 30, 20, 7, 5000)
    hpx, _ = hpx_index(p_ra, p_dec)
    inside = moc.contains_lonlat(Longitude(p_ra * u.deg), Latitude(p_dec * u.deg))
    assert np.all(_in_ranges(hpx, region.ranges)[inside])
    with pytest.raises(RegionError):
        region_ranges(Moc("not a moc"))


def test_compiler_prefilters():
    compiler = HealpixSpatialCompiler()
    position = IndexedPosition('"t"."ra"', '"t"."dec"', '"t"."hpx"')
    text = compiler.region_prefilter(position, Circle(10, 20, 0.1))
    assert text and text.startswith('("t"."hpx" BETWEEN ')
    assert compiler.region_prefilter(position, Circle(10, 20, 180)) is None
    assert compiler.region_prefilter(position, Circle(10, 95, 1)) is None  # the exact test reports it
    from adql.spatial import NamedRegion

    assert compiler.region_prefilter(position, NamedRegion("gw_region", ("GW170817", 0.9))) is None  # no lookup
    asked = []

    def lookup(name, level):
        asked.append((name, level))
        return np.array([[100, 200], [300, 400]], dtype=np.int64) if name == "GW170817" else None

    with_maps = HealpixSpatialCompiler(skymap_regions=lookup)
    gw = with_maps.region_prefilter(position, NamedRegion("gw_region", ("GW170817", 0.9)))
    assert gw == '("t"."hpx" BETWEEN 100 AND 199 OR "t"."hpx" BETWEEN 300 AND 399)'
    assert with_maps.region_prefilter(position, NamedRegion("gw_region", ("unknown", 0.9))) == "FALSE"
    assert with_maps.region_prefilter(position, NamedRegion("gw_region", ("x'; drop table y; --", 0.9))) is None
    assert with_maps.region_prefilter(position, NamedRegion("gw_region", ("GW170817", 2))) is None
    assert asked == [("GW170817", 0.9), ("unknown", 0.9)]


def test_adaptive_depth_keeps_filters_small():
    for radius in (1 / 3600, 1 / 60, 1, 10, 30):
        region = cone_ranges(123.4, -45.6, radius, rows=1e7)
        assert 1 <= region.count <= 64
    with pytest.raises(RegionError):
        cone_ranges(float("nan"), 0, 1)
    with pytest.raises(RegionError):
        cone_ranges(0, 0, -1)


def test_boundary_runs_bridge_small_gaps():
    """Runs of boundary cells closer than MERGE_GAP_ROWS rows become one range
    (still covering every cell); cones with interior ranges keep exact runs."""
    assert _runs([1, 2, 3, 5, 9, 10], 28) == ((4, 16), (20, 24), (36, 44))
    assert _runs([1, 2, 3, 5, 9, 10], 28, max_gap=1) == ((4, 24), (36, 44))
    assert _runs([1, 2, 3, 5, 9, 10], 28, max_gap=3) == ((4, 44),)
    rng = np.random.default_rng(5)
    bridged = 0
    for c_ra, c_dec in zip(rng.uniform(0, 360, 300), np.degrees(np.arcsin(rng.uniform(-1, 1, 300))), strict=True):
        for radius in (1 / 60, 10 / 60, 1.0):
            region = cone_ranges(float(c_ra), float(c_dec), radius, rows=1e7, range_cost_us=WALK_RANGE_COST_US)
            assert not region.interior
            cell = 4 ** (29 - region.depth)
            gaps = [lo - hi for (_, hi), (lo, _) in itertools.pairwise(region.boundary)]
            assert all(g > int(MERGE_GAP_ROWS * 12 * 4 ** region.depth / 1e7) * cell for g in gaps)
            cells = cone_search(float(c_ra) * u.deg, float(c_dec) * u.deg, radius * u.deg, region.depth,
                                flat=True)[0]
            exact = _runs(sorted(cells.tolist()), region.depth)  # every cell in a range of its own run
            bridged += len(exact) - len(region.boundary)
            los = np.array([lo for lo, _ in region.boundary])
            for lo, hi in exact:
                k = np.searchsorted(los, lo, side="right") - 1
                assert region.boundary[k][0] <= lo and hi <= region.boundary[k][1]
    assert bridged > 100


def test_cone_edges_to_microarcseconds(db_target, tmp_path_factory):
    """Points 5 µas inside and outside the edge of cones from 1 mas to 30 deg
    (poles and ra = 0/360 included) are told apart as astropy does: haversine
    below COSINE_FORM_MIN_RADIUS, the cosine form (quantised ~1 µas at 10")
    above it."""
    rng = np.random.default_rng(77)
    n = 600
    cones = np.stack([rng.uniform(0, 360, n), np.degrees(np.arcsin(rng.uniform(-1, 1, n))),
                      10 ** rng.uniform(math.log10(1e-3 / 3600), math.log10(30), n)], axis=1)
    cones[:30, 1] = rng.choice([89.99, -89.99, 88.0, -88.0], 30)
    cones[30:60, 0] = rng.choice([0.0, 1e-7, 359.9999999], 30)
    cones[60:120, 2] = rng.choice([COSINE_FORM_MIN_RADIUS, COSINE_FORM_MIN_RADIUS * (1 - 1e-9), 10 / 3600], 60)
    edge = 5e-6 / 3600
    ras, decs = [], []
    for offset in (-edge, edge):
        ra, dec = _offset(cones[:, 0], cones[:, 1], cones[:, 2] + offset, rng.uniform(0, 360, n))
        ras.append(ra)
        decs.append(dec)
    ra, dec = np.concatenate(ras), np.concatenate(decs)
    path = tmp_path_factory.mktemp("edges") / "edges.parquet"
    pq.write_table(pa.table({"id": np.arange(len(ra)), "ra": ra, "dec": dec}), path)
    ingest(db_target, IngestRequest(path=path, table="conetest.edges", mode="create"))
    expected = _brute_force(cones, ra, dec)
    assert sum(k in expected[k] for k in range(n)) == n  # every inner point is inside its own cone
    assert not any(k + n in expected[k] for k in range(n))  # every outer one outside
    with psycopg.connect(db_target.query_dsn) as conn:
        for k, (c_ra, c_dec, r) in enumerate(cones.tolist()):
            region = cone_ranges(c_ra, c_dec, r, rows=len(ra), range_cost_us=WALK_RANGE_COST_US)
            rows, values = cone_rows_sql("conetest.edges", ["id"], "hpx", "ra", "dec", c_ra, c_dec, r, region)
            got = {i for (i,) in conn.execute(f"SELECT id FROM {rows} AS c", values)}
            assert got == expected[k], (c_ra, c_dec, r * 3600, sorted(got ^ expected[k]))
