"""Helpers shared by the ADQL tests (test data, a test-only index compiler)."""

from __future__ import annotations

import numpy as np
import psycopg

from adql.catalog import ColumnInfo, SimpleCatalog, TableInfo
from adql.spatial import Box, Circle, IndexedPosition, Moc, Polygon, Region

C = ColumnInfo
POINT_COLUMNS = (
    C("id", "int", description="row number"),
    C("ra", "double", unit="deg", ucd="pos.eq.ra;meta.main", description="right ascension"),
    C("dec", "double", unit="deg", ucd="pos.eq.dec;meta.main", description="declination"),
    C("hpx", "long", description="nested HEALPix index, depth 29"),
    C("mag", "float", unit="mag", ucd="phot.mag"),
    C("plx", "double", unit="mas"),
    C("bits", "long"),
    C("name", "char", "*"),
    C("flag", "boolean"),
)

CATALOG = SimpleCatalog.of(
    [
        TableInfo("adqltest", "points", POINT_COLUMNS, position=("ra", "dec"), hpx_column="hpx",
                  description="random points"),
        TableInfo("adqltest", "other", POINT_COLUMNS, position=("ra", "dec"), hpx_column="hpx"),
        TableInfo("adqltest", "Mixed", (C("Id", "int"), C("id", "int"), C("VAL", "double"))),
        TableInfo(
            "adqltest",
            "regions",
            (C("id", "int"), C("pos", "double", "2", xtype="point"), C("shape", "double", "*", xtype="polygon"),
             C("cone", "double", "3", xtype="circle"), C("obs_time", "char", "*", xtype="timestamp")),
        ),
        TableInfo("tap_schema", "tables", (C("schema_name", "char", "*"), C("table_name", "char", "*"),
                                           C("description", "char", "*"))),
        TableInfo("tap_schema", "columns", (C("table_name", "char", "*"), C("column_name", "char", "*"))),
    ]
)


def random_points(n: int, seed: int) -> tuple[np.ndarray, np.ndarray]:
    """Uniform points on the sphere plus the awkward ones: poles, ra = 0/360,
    the equator, and clusters near the test regions."""
    rng = np.random.default_rng(seed)
    ra = rng.uniform(0, 360, n)
    dec = np.degrees(np.arcsin(rng.uniform(-1, 1, n)))
    special = [(0, 90), (123, 90), (0, -90), (250, -90), (0, 0), (359.9999999, 0), (0, 45.5), (360 - 1e-9, -45),
               (180, 0), (90, 89.999), (270, -89.999)]
    for i, (r, d) in enumerate(special):
        ra[i], dec[i] = r, d
    # dense clusters around regions the tests use
    k = len(special)
    for centre_ra, centre_dec in ((10, 20), (0, 0), (359.5, -0.5), (180, 89.5), (45, -89.5)):
        m = n // 20
        ra[k:k + m] = (centre_ra + rng.normal(0, 1.5, m)) % 360
        dec[k:k + m] = np.clip(centre_dec + rng.normal(0, 1.5, m), -90, 90)
        k += m
    return ra, dec


def depth29(ra: np.ndarray, dec: np.ndarray) -> np.ndarray:
    import astropy.units as u
    import cdshealpix
    from astropy.coordinates import Latitude, Longitude

    return cdshealpix.nested.lonlat_to_healpix(Longitude(ra, u.deg), Latitude(dec, u.deg), 29).astype(np.int64)


def run(dsn: str, sql: str) -> list[tuple]:
    with psycopg.connect(dsn) as conn:
        return conn.execute(sql).fetchall()


def ranges_sql(hpx_sql: str, ranges: list[tuple[int, int]]) -> str:
    terms = [f"{hpx_sql} BETWEEN {lo} AND {hi - 1}" for lo, hi in ranges]
    return "(" + " OR ".join(terms) + ")" if terms else "FALSE"


class RangeTestCompiler:
    """Test-only index compiler: region -> depth-29 ranges from mocpy, as
    ``hpx BETWEEN lo AND hi`` terms; joins -> a declination band.  Counts
    calls so the tests can tell the translator asked for a prefilter."""

    def __init__(self, depth: int = 9) -> None:
        self.depth = depth
        self.calls: list[Region] = []
        self.join_calls: list[float] = []

    def _moc(self, region: Region):
        import astropy.units as u
        from astropy.coordinates import Latitude, Longitude
        from mocpy import MOC

        if isinstance(region, Circle):
            # a little margin keeps the superset property despite rounding
            return MOC.from_cone(lon=Longitude(region.ra * u.deg), lat=Latitude(region.dec * u.deg),
                                 radius=(region.radius + 1e-6) * u.deg, max_depth=self.depth)
        if isinstance(region, Polygon):
            import math

            from adql.geometry import _normalize, to_radec, to_vector

            # a polygon grown slightly outwards around its centre
            vectors = [to_vector(*v) for v in region.vertices]
            cx = sum(v[0] for v in vectors)
            cy = sum(v[1] for v in vectors)
            cz = sum(v[2] for v in vectors)
            c = _normalize((cx, cy, cz))
            grown = []
            for v in vectors:
                w = _normalize(tuple(v[i] + 1e-6 * (v[i] - c[i]) / max(1e-12, math.dist(v, c)) for i in range(3)))
                grown.append(to_radec(w))
            lon = Longitude([g[0] for g in grown] * u.deg)
            lat = Latitude([g[1] for g in grown] * u.deg)
            return MOC.from_polygon(lon=lon, lat=lat, max_depth=self.depth)
        if isinstance(region, Moc):
            return MOC.from_string(region.ascii, format="ascii")
        if isinstance(region, Box):  # pragma: no cover - the translator passes polygons for boxes
            raise AssertionError("BOX regions are passed as polygons")
        return None

    def region_prefilter(self, position: IndexedPosition, region: Region) -> str | None:
        self.calls.append(region)
        moc = self._moc(region)
        if moc is None:
            return None
        ranges = [(int(lo), int(hi)) for lo, hi in moc.to_depth29_ranges]
        return ranges_sql(position.hpx_sql, ranges)

    def join_prefilter(self, position: IndexedPosition, other: IndexedPosition, radius: float) -> str | None:
        self.join_calls.append(radius)
        return f"({position.dec_sql} BETWEEN {other.dec_sql} - {radius!r} AND {other.dec_sql} + {radius!r})"
