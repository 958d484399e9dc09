"""ADQL geometry on ObsCore s_region (STC-S text, adql:REGION) through the
footprint index: the indexed translation (HEALPix compiler) returns exactly
the rows of the unindexed, exact one, and both agree with an independent
classification of points by each image's WCS (astropy) or cap (separation).

The footprints come from the real code path (``image_footprint`` of
synthetic WCSs: rotated TAN images of 0.2-8 deg anywhere on the sky, images on
the poles and across ra = 0, and cap footprints of CAR/ZEA maps: all-sky,
polar caps, larger than a hemisphere) with their stored index ranges.
"""

from __future__ import annotations

import math
import warnings

import numpy as np
import psycopg
import pytest
from astropy.coordinates import SkyCoord
from astropy.wcs import WCS

from adql import PlainSpatialCompiler, translate
from adql.geometry import signed_area
from vo_server.catalog import load_catalog
from vo_server.sky.footprints import Footprint, footprint_ranges, image_footprint
from vo_server.sky.spatial_compiler import HealpixSpatialCompiler

N = 64  # pixels per image axis


def tan_wcs(ra: float, dec: float, size: float, angle: float) -> WCS:
    w = WCS(naxis=2)
    w.wcs.ctype = ["RA---TAN", "DEC--TAN"]
    w.wcs.crval = [ra, dec]
    w.wcs.crpix = [(N + 1) / 2, (N + 1) / 2]
    w.wcs.cdelt = [-size / N, size / N]
    c, s = math.cos(math.radians(angle)), math.sin(math.radians(angle))
    w.wcs.pc = [[c, -s], [s, c]]
    return w


def map_wcs(projection: str, shape: tuple[int, int], crpix2: float, crval2: float = 0.0, cdelt: float = 1.0) -> WCS:
    w = WCS(naxis=2)
    w.wcs.ctype = [f"RA---{projection}", f"DEC--{projection}"]
    w.wcs.crval = [180.0, crval2]
    w.wcs.crpix = [(shape[0] + 1) / 2, crpix2]
    w.wcs.cdelt = [-cdelt, cdelt]
    return w


def images() -> list[tuple[str, WCS, tuple[int, int]]]:
    rng = np.random.default_rng(20261122)
    result = []
    for i in range(300):
        ra, dec = rng.uniform(0, 360), math.degrees(math.asin(rng.uniform(-1, 1)))
        result.append((f"tan{i}", tan_wcs(ra, dec, rng.uniform(0.2, 8), rng.uniform(0, 90)), (N, N)))
    for i, (ra, dec) in enumerate([(0.0, 90.0), (123.0, -90.0), (0.0, 0.0), (359.9, -10.0), (0.05, 30.0),
                                   (180.0, 88.0), (45.0, -87.0)]):
        result.append((f"edge{i}", tan_wcs(ra, dec, 4.0, 20.0 * i), (N, N)))
    result += [
        ("allsky_car", map_wcs("CAR", (360, 180), 90.5), (360, 180)),
        ("allsky_ait", map_wcs("AIT", (360, 180), 90.5), (360, 180)),
        ("north_cap", map_wcs("CAR", (360, 30), -59.5), (360, 30)),   # dec 60..90
        ("south_cap", map_wcs("CAR", (360, 20), 90.5), (360, 20)),    # dec -90..-70
        ("wide_zea", map_wcs("ZEA", (100, 100), 50.5, 30.0, 1.5), (100, 100)),
    ]
    return result


@pytest.fixture(scope="module")
def loaded(db_target) -> dict[str, tuple[WCS, tuple[int, int], Footprint]]:
    found = {}
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        for name, wcs, shape in images():
            found[name] = (wcs, shape, image_footprint(wcs, *shape))
    with psycopg.connect(db_target.owner_dsn) as conn, conn.cursor() as cur:
        for name, (_, _, fp) in found.items():
            did = f"ivo://test/obscore?synthetic/{name}"
            cur.execute("INSERT INTO ivoa.obscore (obs_publisher_did, obs_id, obs_collection, calib_level, s_ra, "
                        "s_dec, s_fov, s_region, s_region_dali) VALUES (%s, %s, 'synthetic', 1, %s, %s, %s, %s, %s)",
                        (did, name, fp.center_ra, fp.center_dec, fp.fov, fp.stcs, fp.dali))
            cur.executemany("INSERT INTO ivoa.obscore_footprint (obs_publisher_did, lo, hi) VALUES (%s, %s, %s)",
                            [(did, int(lo), int(hi)) for lo, hi in footprint_ranges(fp)])
        cur.execute("ANALYZE ivoa.obscore_footprint")
    return found


@pytest.fixture(scope="module")
def catalog(db_target, loaded):
    return load_catalog(db_target.owner_dsn)[1]


def obs_ids(dsn: str, sql: str) -> set[str]:
    with psycopg.connect(dsn) as conn:
        return {row[0] for row in conn.execute(sql)}


def both_ways(catalog, dsn: str, where: str) -> set[str]:
    """Rows of the indexed translation, asserted equal to the unindexed one."""
    query = f"SELECT obs_id FROM ivoa.obscore WHERE {where}"
    indexed = translate(query, catalog, HealpixSpatialCompiler())
    assert "ivoa.obscore_footprint" in indexed.sql, indexed.sql  # the footprint index is used
    plain = translate(query, catalog, PlainSpatialCompiler())
    assert "obscore_footprint" not in plain.sql
    got = obs_ids(dsn, indexed.sql)
    assert got == obs_ids(dsn, plain.sql), where
    return got


def classify(wcs: WCS, shape: tuple[int, int], fp: Footprint, ra: np.ndarray, dec: np.ndarray) -> np.ndarray:
    """Per point: 1 inside, 0 outside, by the image itself (pixel position
    with a one-pixel margin) or, for caps, by the separation; -1 when too
    close to call."""
    points = SkyCoord(ra, dec, unit="deg")
    if fp.cap is not None:
        distance = points.separation(SkyCoord(fp.cap[0], fp.cap[1], unit="deg")).deg
        return np.where(np.abs(distance - fp.cap[2]) < 1e-6, -1, distance < fp.cap[2]).astype(int)
    near = points.separation(SkyCoord(*wcs.wcs.crval, unit="deg")).deg < 30
    x, y = wcs.world_to_pixel(points)
    inside = near & (x >= 0.5) & (x <= shape[0] - 1.5) & (y >= 0.5) & (y <= shape[1] - 1.5)
    outside = ~near | (x < -1.5) | (x > shape[0] + 0.5) | (y < -1.5) | (y > shape[1] + 0.5)
    return np.where(inside, 1, np.where(outside, 0, -1))


POINTS = [(10.0, 20.0), (0.0, 90.0), (200.0, -90.0), (0.0, 0.0), (359.95, -10.0), (0.05, 30.0), (181.0, 88.5),
          (45.0, -86.0), (180.0, 75.0), (300.0, -80.0), (12.0, 45.0), (250.0, 5.0), (100.0, -30.0)]


def test_contains_point_in_s_region(loaded, catalog, query_dsn):
    rng = np.random.default_rng(7)
    # points at the centres of some images, and fixed awkward ones
    centres = [(fp.center_ra, fp.center_dec) for _, _, fp in list(loaded.values())[:300:15]]
    points = POINTS + centres + [(rng.uniform(0, 360), math.degrees(math.asin(rng.uniform(-1, 1)))) for _ in range(10)]
    found = []
    for ra, dec in points:
        got = both_ways(catalog, query_dsn, f"1 = CONTAINS(POINT('ICRS', {ra!r}, {dec!r}), s_region)")
        assert got == both_ways(catalog, query_dsn, f"INTERSECTS(POINT({ra!r}, {dec!r}), s_region) = 1")
        found.append(got)
    ra, dec = np.array(points).T
    for name, (wcs, shape, fp) in loaded.items():
        expected = classify(wcs, shape, fp, ra, dec)
        for i, got in enumerate(found):
            if expected[i] >= 0:
                assert (name in got) == bool(expected[i]), (name, points[i], fp.stcs[:80])
    hits = sum(len(got) for got in found)
    assert hits > 3 * len(points)  # the all-sky maps alone give 2 per point


@pytest.mark.parametrize("radius", [0.3, 3.0, 25.0])
def test_intersects_circle(loaded, catalog, query_dsn, radius):
    for ra, dec in POINTS:
        got = both_ways(catalog, query_dsn, f"1 = INTERSECTS(s_region, CIRCLE('ICRS', {ra!r}, {dec!r}, {radius!r}))")
        assert {"allsky_car", "allsky_ait"} <= got
        # every image whose centre is inside the circle intersects it, none farther than radius + its fov
        names = list(loaded)
        centres = SkyCoord([loaded[n][2].center_ra for n in names], [loaded[n][2].center_dec for n in names],
                           unit="deg")
        distance = SkyCoord(ra, dec, unit="deg").separation(centres).deg
        for name, d in zip(names, distance, strict=True):
            if d < radius:
                assert name in got, name
            if d > radius + loaded[name][2].fov / 2 + 1e-6:
                assert name not in got, name


def test_polar_caps_and_whole_sky(loaded, catalog, query_dsn):
    got = both_ways(catalog, query_dsn, "1 = CONTAINS(POINT(33, 71), s_region)")
    assert {"north_cap", "allsky_car", "allsky_ait"} <= got and "south_cap" not in got
    got = both_ways(catalog, query_dsn, "1 = CONTAINS(POINT(33, 55), s_region)")
    assert "north_cap" not in got
    got = both_ways(catalog, query_dsn, "1 = INTERSECTS(s_region, CIRCLE(0, -66, 5))")
    assert "south_cap" in got
    assert "south_cap" not in both_ways(catalog, query_dsn, "1 = INTERSECTS(s_region, CIRCLE(0, -60, 5))")


def test_polygon_box_and_containment(loaded, catalog, query_dsn):
    for ra, dec in POINTS[:8]:
        poly = f"POLYGON('ICRS', {ra}, {dec - 2}, {ra + 3}, {dec - 1}, {ra + 1}, {dec + 2})"
        if abs(dec) > 87:
            poly = f"POLYGON({ra}, {88 if dec > 0 else -88}, {ra + 120}, {88 if dec > 0 else -88}, " \
                   f"{ra + 240}, {88 if dec > 0 else -88})"
        intersecting = both_ways(catalog, query_dsn, f"1 = INTERSECTS(s_region, {poly})")
        assert {"allsky_car", "allsky_ait"} <= intersecting
        within = both_ways(catalog, query_dsn, f"1 = CONTAINS(s_region, CIRCLE({ra}, {dec}, 20))")
        assert within and not within & {"allsky_car", "allsky_ait", "north_cap", "south_cap", "wide_zea"}
        for name in within:
            fp = loaded[name][2]
            distance = SkyCoord(ra, dec, unit="deg").separation(SkyCoord(fp.center_ra, fp.center_dec, unit="deg"))
            assert distance.deg <= 20
        containing = both_ways(catalog, query_dsn, f"1 = CONTAINS(CIRCLE({ra}, {dec}, 0.01), s_region)")
        assert {"allsky_car", "allsky_ait"} <= containing
        boxed = both_ways(catalog, query_dsn, f"1 = INTERSECTS(BOX('ICRS', {ra}, {dec if abs(dec) < 80 else 0}, 4, 3),"
                                              " s_region)")
        assert {"allsky_car", "allsky_ait"} <= boxed


def test_area_centroid_and_text(loaded, catalog, query_dsn):
    sql = translate("SELECT obs_id, s_region, AREA(s_region) AS a, CENTROID(s_region) AS c FROM ivoa.obscore",
                    catalog, HealpixSpatialCompiler())
    columns = {c.name: c for c in sql.columns}
    assert (columns["s_region"].datatype, columns["s_region"].arraysize, columns["s_region"].xtype) == (
        "char", "*", "adql:REGION")
    assert columns["a"].unit == "deg**2"
    with psycopg.connect(query_dsn) as conn:
        rows = {r[0]: r[1:] for r in conn.execute(sql.sql)}
    deg2 = (180 / math.pi) ** 2
    for name, (_, _, fp) in loaded.items():
        text, area, centroid = rows[name]
        assert text == fp.stcs
        if fp.cap is not None:
            assert text.startswith("Circle ICRS ")
            assert area == pytest.approx(2 * math.pi * (1 - math.cos(math.radians(fp.cap[2]))) * deg2, rel=1e-9)
            assert centroid == pytest.approx(list(fp.cap[:2]))
        else:
            assert text.startswith("Polygon ICRS ")
            vertices = list(zip(fp.ra.tolist(), fp.dec.tolist(), strict=True))
            assert area == pytest.approx(signed_area(vertices) * deg2, rel=1e-6)
            assert SkyCoord(*centroid, unit="deg").separation(
                SkyCoord(fp.center_ra, fp.center_dec, unit="deg")).deg < fp.fov / 4
    assert rows["allsky_car"][0] == "Circle ICRS 0.0 90.0 180.0"
    assert rows["allsky_car"][1] == pytest.approx(4 * math.pi * deg2)


def test_moc_with_s_region_is_an_error(catalog):
    from adql import AdqlError

    with pytest.raises(AdqlError, match="MOC"):
        translate("SELECT obs_id FROM ivoa.obscore WHERE 1 = INTERSECTS(s_region, MOC('3/1-5'))", catalog)


def test_stored_ranges_split_except_wide_ones(loaded):
    from vo_server.sky.regions import (
        CELLS_29,
        MAX_RANGE_LENGTH,
        WIDE_RANGE_LENGTH,
        merge_ranges,
        split_ranges,
    )

    assert footprint_ranges(loaded["allsky_car"][2]).tolist() == [[0, CELLS_29]]
    for name in ("tan0", "edge0", "north_cap", "wide_zea"):
        stored = footprint_ranges(loaded[name][2])
        lengths = stored[:, 1] - stored[:, 0]
        assert np.all((lengths <= MAX_RANGE_LENGTH) | (lengths >= WIDE_RANGE_LENGTH)), name
        # cutting changes nothing but the number of rows
        assert merge_ranges(stored[:, 0], stored[:, 1]).tolist() == merge_ranges(
            *split_ranges(merge_ranges(stored[:, 0], stored[:, 1])).T).tolist()
    mixed = np.array([[0, 3 * MAX_RANGE_LENGTH + 5], [WIDE_RANGE_LENGTH, 3 * WIDE_RANGE_LENGTH]])
    assert split_ranges(mixed).tolist() == [[0, MAX_RANGE_LENGTH], [MAX_RANGE_LENGTH, 2 * MAX_RANGE_LENGTH],
                                            [2 * MAX_RANGE_LENGTH, 3 * MAX_RANGE_LENGTH],
                                            [3 * MAX_RANGE_LENGTH, 3 * MAX_RANGE_LENGTH + 5],
                                            [WIDE_RANGE_LENGTH, 3 * WIDE_RANGE_LENGTH]]
