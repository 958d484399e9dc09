"""Translation speed of adql.translate against queryparser-python3.

Prints the median and 95th percentile translation time over a corpus of
representative queries (cone searches, crossmatches, aggregates, CTEs, set
operations, ...) and the ratio of our median to queryparser's on the queries
both translators accept.  Targets: median <= 1 ms, ratio <= 1.0.

    python bench/adql_translate.py [--repeat N] [--reference-repeat M]
"""

from __future__ import annotations

import argparse
import statistics
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from adql import AdqlError, translate  # noqa: E402
from adql.catalog import ColumnInfo, SimpleCatalog, TableInfo  # noqa: E402
from adql.spatial import PlainSpatialCompiler  # noqa: E402

C = ColumnInfo
_GAIA = (
    C("source_id", "long"), C("ra", "double", unit="deg"), C("dec", "double", unit="deg"),
    C("parallax", "double", unit="mas"), C("pmra", "double", unit="mas/yr"), C("pmdec", "double", unit="mas/yr"),
    C("phot_g_mean_mag", "float", unit="mag"), C("bp_rp", "float", unit="mag"), C("radial_velocity", "double"),
    C("hpx", "long"), C("designation", "char", "*"), C("ruwe", "float"),
)
CATALOG = SimpleCatalog.of([
    TableInfo("gaia", "dr3", _GAIA, position=("ra", "dec"), hpx_column="hpx"),
    TableInfo("twomass", "psc", (C("designation", "char", "*"), C("ra", "double", unit="deg"),
                                 C("dec", "double", unit="deg"), C("j_m", "float"), C("h_m", "float"),
                                 C("k_m", "float"), C("hpx", "long")), position=("ra", "dec"), hpx_column="hpx"),
    TableInfo("ivoa", "obscore", (C("obs_id", "char", "*"), C("s_ra", "double"), C("s_dec", "double"),
                                  C("t_min", "double"), C("t_max", "double"), C("em_min", "double"),
                                  C("dataproduct_type", "char", "*"), C("obs_collection", "char", "*"))),
    TableInfo("tap_schema", "tables", (C("schema_name", "char", "*"), C("table_name", "char", "*"),
                                       C("description", "char", "*"))),
    TableInfo("tap_schema", "columns", (C("table_name", "char", "*"), C("column_name", "char", "*"),
                                        C("datatype", "char", "*"), C("unit", "char", "*"))),
])


def corpus() -> list[str]:
    queries: list[str] = []
    cones = [(10.5, -3.2, 0.1), (266.4, -29.0, 0.5), (0.0, 88.9, 1.0), (359.9, 0.1, 0.05), (83.8, -5.4, 0.2),
             (201.4, -43.0, 0.3), (150.0, 2.2, 0.02), (56.75, 24.1, 1.5)]
    for ra, dec, r in cones:
        queries.append(f"SELECT * FROM gaia.dr3 WHERE 1 = CONTAINS(POINT('ICRS', ra, dec), CIRCLE('ICRS', {ra}, {dec}, {r}))")
        queries.append(f"SELECT TOP 100 source_id, ra, dec, phot_g_mean_mag, DISTANCE(POINT('ICRS', ra, dec), "
                       f"POINT('ICRS', {ra}, {dec})) AS dist FROM gaia.dr3 WHERE 1 = CONTAINS(POINT('ICRS', ra, dec), "
                       f"CIRCLE('ICRS', {ra}, {dec}, {r})) AND phot_g_mean_mag < 18 ORDER BY dist")
        queries.append(f"SELECT source_id FROM gaia.dr3 AS g WHERE DISTANCE(POINT(g.ra, g.dec), POINT({ra}, {dec})) "
                       f"< {r}")
        queries.append(f"SELECT COUNT(*) FROM gaia.dr3 WHERE 1 = CONTAINS(POINT('ICRS', ra, dec), "
                       f"BOX('ICRS', {ra}, {dec}, {2 * r}, {r}))")
        queries.append(f"SELECT source_id, ra, dec FROM gaia.dr3 WHERE 1 = CONTAINS(POINT('ICRS', ra, dec), "
                       f"POLYGON('ICRS', {ra - r}, {dec - r / 2}, {ra + r}, {dec - r / 2}, {ra}, {dec + r / 2}))")
    for r in (0.0003, 0.001, 0.002):
        queries.append(f"SELECT g.source_id, t.designation, DISTANCE(POINT('ICRS', g.ra, g.dec), POINT('ICRS', t.ra, "
                       f"t.dec)) AS d FROM gaia.dr3 AS g JOIN twomass.psc AS t ON 1 = CONTAINS(POINT('ICRS', g.ra, "
                       f"g.dec), CIRCLE('ICRS', t.ra, t.dec, {r})) WHERE g.phot_g_mean_mag < 15")
        queries.append(f"SELECT TOP 1000 g.source_id, t.j_m - t.k_m AS jk FROM gaia.dr3 AS g INNER JOIN twomass.psc AS t "
                       f"ON DISTANCE(POINT(g.ra, g.dec), POINT(t.ra, t.dec)) < {r} ORDER BY jk DESC")
    for column in ("phot_g_mean_mag", "bp_rp", "parallax", "ruwe"):
        queries.append(f"SELECT FLOOR({column}) AS bin, COUNT(*) AS n, AVG({column}) AS mean FROM gaia.dr3 "
                       f"GROUP BY FLOOR({column}) HAVING COUNT(*) > 10 ORDER BY bin")
        queries.append(f"SELECT MIN({column}), MAX({column}), AVG({column}), SUM({column}), COUNT({column}) "
                       "FROM gaia.dr3")
        queries.append(f"SELECT TOP 20 source_id, {column} FROM gaia.dr3 WHERE {column} IS NOT NULL "
                       f"ORDER BY {column} DESC")
        queries.append(f"SELECT source_id FROM gaia.dr3 WHERE {column} BETWEEN 1 AND 2 AND parallax > 0")
    for limit in (10, 100):
        queries.append(f"WITH bright AS (SELECT source_id, ra, dec, phot_g_mean_mag FROM gaia.dr3 WHERE "
                       f"phot_g_mean_mag < 10) SELECT TOP {limit} b.source_id FROM bright AS b ORDER BY "
                       "b.phot_g_mean_mag")
        queries.append(f"WITH a AS (SELECT source_id, parallax FROM gaia.dr3 WHERE parallax > 10), b AS (SELECT "
                       f"source_id FROM a WHERE parallax < 50) SELECT TOP {limit} * FROM b")
        queries.append(f"SELECT TOP {limit} source_id FROM gaia.dr3 WHERE phot_g_mean_mag < 5 UNION SELECT "
                       "source_id FROM gaia.dr3 WHERE parallax > 100")
        queries.append("SELECT source_id FROM gaia.dr3 WHERE ruwe > 1.4 EXCEPT SELECT source_id FROM gaia.dr3 "
                       f"WHERE parallax < {limit}")
        queries.append("SELECT source_id FROM gaia.dr3 WHERE bp_rp > 1 INTERSECT SELECT source_id FROM gaia.dr3 "
                       f"WHERE phot_g_mean_mag < {limit}")
    for pattern in ("'Gaia DR3 1%'", "'%4'", "'Gaia%'"):
        queries.append(f"SELECT designation FROM gaia.dr3 WHERE designation LIKE {pattern}")
        queries.append(f"SELECT designation FROM gaia.dr3 WHERE designation ILIKE {pattern} ORDER BY 1")
        queries.append(f"SELECT table_name, description FROM tap_schema.tables WHERE schema_name LIKE {pattern}")
    queries += [
        "SELECT * FROM tap_schema.tables",
        "SELECT table_name, column_name, datatype, unit FROM tap_schema.columns WHERE table_name = 'gaia.dr3'",
        "SELECT t.table_name, COUNT(*) FROM tap_schema.tables AS t JOIN tap_schema.columns AS c ON "
        "t.table_name = c.table_name GROUP BY t.table_name",
        "SELECT source_id, pmra * pmra + pmdec * pmdec AS pm2 FROM gaia.dr3 WHERE parallax > 5 ORDER BY pm2 DESC",
        "SELECT source_id, SQRT(POWER(pmra, 2) + POWER(pmdec, 2)) AS pm FROM gaia.dr3 WHERE parallax > 0",
        "SELECT source_id, 1000 / parallax AS distance_pc FROM gaia.dr3 WHERE parallax > 0.1",
        "SELECT source_id, phot_g_mean_mag + 5 * LOG10(parallax) - 10 AS abs_g FROM gaia.dr3 WHERE parallax > 1",
        "SELECT source_id, CASE WHEN bp_rp < 0.5 THEN 'blue' WHEN bp_rp < 1.5 THEN 'white' ELSE 'red' END "
        "FROM gaia.dr3",
        "SELECT source_id, COALESCE(radial_velocity, 0) FROM gaia.dr3 WHERE ruwe < 1.4",
        "SELECT source_id, CAST(phot_g_mean_mag AS INTEGER) FROM gaia.dr3",
        "SELECT source_id, ROUND(ra, 3), TRUNCATE(dec, 3) FROM gaia.dr3",
        "SELECT source_id, MOD(source_id, 1000) FROM gaia.dr3 WHERE MOD(source_id, 1000) = 7",
        "SELECT source_id, source_id & 34359738367 FROM gaia.dr3",
        "SELECT source_id / 34359738368 AS healpix12 FROM gaia.dr3",
        "SELECT ivo_healpix_index(8, ra, dec) AS pix, COUNT(*) FROM gaia.dr3 GROUP BY ivo_healpix_index(8, ra, dec)",
        "SELECT source_id, IN_UNIT(parallax, 'arcsec') FROM gaia.dr3",
        "SELECT source_id, LOWER(designation), UPPER(designation) FROM gaia.dr3",
        "SELECT source_id FROM gaia.dr3 WHERE source_id IN (SELECT source_id FROM gaia.dr3 WHERE ruwe > 2)",
        "SELECT g.source_id FROM gaia.dr3 AS g WHERE EXISTS (SELECT 1 FROM twomass.psc AS t WHERE t.designation "
        "= g.designation)",
        "SELECT s.source_id FROM (SELECT source_id, parallax FROM gaia.dr3 WHERE parallax > 20) AS s",
        "SELECT source_id FROM gaia.dr3 ORDER BY phot_g_mean_mag OFFSET 100",
        "SELECT DISTINCT dataproduct_type FROM ivoa.obscore",
        "SELECT obs_id, s_ra, s_dec FROM ivoa.obscore WHERE 1 = CONTAINS(POINT('ICRS', s_ra, s_dec), "
        "CIRCLE('ICRS', 83.8, -5.4, 1))",
        "SELECT obs_id FROM ivoa.obscore WHERE t_min > 58000 AND t_max < 59000 AND em_min < 1e-6",
        "SELECT obs_collection, COUNT(*) FROM ivoa.obscore GROUP BY obs_collection",
        "SELECT AREA(CIRCLE('ICRS', 10, 10, 1)), CENTROID(POLYGON('ICRS', 1, 1, 2, 1, 2, 2)) FROM ivoa.obscore",
        "SELECT COORD1(POINT('ICRS', s_ra, s_dec)), COORD2(POINT('ICRS', s_ra, s_dec)) FROM ivoa.obscore",
        "SELECT g.source_id, t.designation FROM gaia.dr3 AS g LEFT OUTER JOIN twomass.psc AS t ON g.designation "
        "= t.designation",
        "SELECT DEGREES(ACOS(SIN(RADIANS(dec)) * SIN(RADIANS(20)) + COS(RADIANS(dec)) * COS(RADIANS(20)) * "
        "COS(RADIANS(ra - 10)))) AS sep FROM gaia.dr3",
        "SELECT source_id, ATAN2(pmdec, pmra) AS pa FROM gaia.dr3",
        "SELECT TOP 5 * FROM gaia.dr3",
        "SELECT source_id FROM gaia.dr3 WHERE 1 = INTERSECTS(POINT('ICRS', ra, dec), CIRCLE('ICRS', 45, 45, 0.5))",
        "SELECT source_id FROM gaia.dr3 WHERE 1 = CONTAINS(POINT(ra, dec), MOC('5/100-120 6/600'))",
    ]
    return queries


def time_call(function, repeat: int) -> float:
    best = []
    for _ in range(repeat):
        start = time.perf_counter()
        function()
        best.append(time.perf_counter() - start)
    return statistics.median(best)


def percentile(values: list[float], fraction: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(round(fraction * (len(ordered) - 1))))]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--repeat", type=int, default=15, help="timed runs per query for adql (median taken)")
    parser.add_argument("--reference-repeat", type=int, default=1, help="timed runs per query for queryparser")
    args = parser.parse_args()

    queries = corpus()
    spatial = PlainSpatialCompiler()
    for query in queries:  # warm-up (imports, caches) and correctness
        translate(query, CATALOG, spatial)
    ours = [time_call(lambda q=query: translate(q, CATALOG, spatial), args.repeat) for query in queries]

    try:
        from queryparser.adql import ADQLQueryTranslator
    except ImportError:
        ADQLQueryTranslator = None  # noqa: N806

    both_ours: list[float] = []
    both_reference: list[float] = []
    rejected = 0
    if ADQLQueryTranslator is not None:
        for query, our_time in zip(queries, ours, strict=True):
            def reference(q: str = query) -> str:
                return ADQLQueryTranslator(q).to_postgresql()

            try:
                reference()
            except Exception:  # queryparser raises many types for what it cannot translate
                rejected += 1
                continue
            both_reference.append(time_call(reference, args.reference_repeat))
            both_ours.append(our_time)

    ms = 1000.0
    print(f"adql.translate: {len(queries)} queries")
    print(f"  median {statistics.median(ours) * ms:.3f} ms   p95 {percentile(ours, 0.95) * ms:.3f} ms   "
          f"max {max(ours) * ms:.3f} ms")
    if both_reference:
        ours_median = statistics.median(both_ours)
        reference_median = statistics.median(both_reference)
        print(f"queryparser-python3: accepted {len(both_reference)} of {len(queries)} ({rejected} rejected)")
        print(f"  median {reference_median * ms:.3f} ms   p95 {percentile(both_reference, 0.95) * ms:.3f} ms")
        print(f"ratio (adql median / queryparser median, {len(both_reference)} common queries): "
              f"{ours_median / reference_median:.4f}")
    else:
        print("queryparser-python3 not installed: no ratio")
    errors = 0
    for query in queries:
        try:
            translate(query, CATALOG, spatial)
        except AdqlError:
            errors += 1
    if errors:
        print(f"warning: {errors} corpus queries failed to translate")


if __name__ == "__main__":
    main()
