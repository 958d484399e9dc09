"""ObsCore s_region as ObsCore 1.1 says: an STC-S string (``adql:REGION``).

* ``ivoa.obscore.s_region`` becomes text (``Polygon ICRS ra1 dec1 ...`` or
  ``Circle ICRS ra dec r``); its geometry for computation moves to the
  unpublished column ``s_region_dali`` (DALI array: [ra, dec, r] for a circle,
  [ra1, dec1, ...] counter-clockwise for a polygon), so no query parses text.
  Migration 0007 creates the table from schemas/ivoa.yaml, so a database
  created after that file changed already has a text s_region: only existing
  double precision[] values are converted.
* Wide footprint ranges (an all-sky image is one range, not 196,608) are
  flagged ``wide`` and found through a partial index
  (``vo_server.sky.regions.split_ranges``, ``ranges_sql.footprint_overlap_sql``).
* ``adql_dali_kind/area/centroid``: ADQL AREA/CENTROID/CONTAINS/INTERSECTS on
  a column holding either shape; ``adql_region_within`` (0003) learns that a
  circle of radius 180 (an all-sky s_region) contains everything.
* The exact SIA tests of 0007 duplicated the ADQL geometry of 0003: the
  polygon/circle/point ones now call ``adql_region_intersects`` and
  ``adql_point_in_polygon``; ``vo_sky.arc_within`` (only used by them) is
  dropped.  ``vo_sky.region_overlaps_*`` take either footprint shape.
"""

from __future__ import annotations

import psycopg

from vo_server.sky.regions import MAX_RANGE_LENGTH

CONVERT = """
UPDATE ivoa.obscore SET s_region_dali = adql_polygon_ccw(s_region);
ALTER TABLE ivoa.obscore ALTER COLUMN s_region TYPE text
    USING 'Polygon ICRS ' || array_to_string(adql_polygon_ccw(s_region), ' ');
"""

FUNCTIONS = r"""
-- Shape of a DALI geometry array by its length: point [ra, dec], circle [ra, dec, r], else polygon.
CREATE FUNCTION adql_dali_kind(g double precision[])
RETURNS text LANGUAGE sql IMMUTABLE STRICT PARALLEL SAFE
RETURN CASE array_length(g, 1) WHEN 2 THEN 'point' WHEN 3 THEN 'circle' ELSE 'polygon' END;

CREATE FUNCTION adql_dali_area(g double precision[])
RETURNS double precision LANGUAGE sql IMMUTABLE STRICT PARALLEL SAFE
RETURN CASE array_length(g, 1) WHEN 2 THEN 0 WHEN 3 THEN adql_circle_area(g[3]) ELSE adql_polygon_area(g) END;

CREATE FUNCTION adql_dali_centroid(g double precision[])
RETURNS double precision[] LANGUAGE sql IMMUTABLE STRICT PARALLEL SAFE
RETURN CASE WHEN array_length(g, 1) <= 3 THEN g[1:2] ELSE adql_polygon_centroid(g) END;

-- CONTAINS(inner, outer) as in 0003, plus: a circle of radius 180 (an all-sky s_region) contains
-- everything, even a circle centred on its own antipode or a polygon (0003 said no to both).
CREATE OR REPLACE FUNCTION adql_region_within(inner_kind text, inner_g double precision[],
                                              outer_kind text, outer_g double precision[])
RETURNS boolean LANGUAGE plpgsql IMMUTABLE STRICT PARALLEL SAFE AS $$
DECLARE
  i integer;
  n integer;
BEGIN
  IF outer_kind = 'circle' AND outer_g[3] >= 180 THEN RETURN true; END IF;
  IF inner_kind = 'point' THEN
    IF outer_kind = 'point' THEN RETURN adql_distance(inner_g[1], inner_g[2], outer_g[1], outer_g[2]) = 0; END IF;
    IF outer_kind = 'circle' THEN RETURN adql_point_in_circle(inner_g[1], inner_g[2], outer_g[1], outer_g[2], outer_g[3]); END IF;
    RETURN adql_point_in_polygon(inner_g[1], inner_g[2], outer_g);
  ELSIF inner_kind = 'circle' THEN
    IF outer_kind = 'point' THEN
      RETURN inner_g[3] = 0 AND adql_distance(inner_g[1], inner_g[2], outer_g[1], outer_g[2]) = 0;
    END IF;
    IF outer_kind = 'circle' THEN
      RETURN adql_distance(inner_g[1], inner_g[2], outer_g[1], outer_g[2]) + inner_g[3] <= outer_g[3];
    END IF;
    RETURN adql_point_in_polygon(inner_g[1], inner_g[2], outer_g)
       AND adql_polygon_edge_distance(inner_g[1], inner_g[2], outer_g) >= inner_g[3];
  ELSE
    IF outer_kind = 'point' THEN RETURN false; END IF;
    n := array_length(inner_g, 1) / 2;
    FOR i IN 1..n LOOP
      IF NOT adql_region_within('point', ARRAY[inner_g[2 * i - 1], inner_g[2 * i]], outer_kind, outer_g) THEN
        RETURN false;
      END IF;
    END LOOP;
    IF outer_kind = 'circle' THEN RETURN outer_g[3] <= 90; END IF;
    RETURN NOT adql_polygon_edges_cross(inner_g, outer_g);
  END IF;
END
$$;

-- 0007's polygon tests, now the ADQL ones (polygons in either order, taken as the smaller region).
CREATE OR REPLACE FUNCTION vo_sky.polygon_contains_point(poly double precision[], p_ra double precision,
                                                         p_dec double precision)
RETURNS boolean LANGUAGE sql IMMUTABLE STRICT PARALLEL SAFE COST 5000
RETURN coalesce(adql_point_in_polygon(p_ra, p_dec, adql_polygon_ccw(poly)), false);

CREATE OR REPLACE FUNCTION vo_sky.polygon_overlaps_circle(poly double precision[], p_ra float8, p_dec float8,
                                                          radius float8)
RETURNS boolean LANGUAGE sql IMMUTABLE STRICT PARALLEL SAFE COST 5000
RETURN array_length(poly, 1) >= 6
       AND adql_region_intersects('polygon', adql_polygon_ccw(poly), 'circle', ARRAY[p_ra, p_dec, radius]);

CREATE OR REPLACE FUNCTION vo_sky.polygon_overlaps_polygon(a double precision[], b double precision[])
RETURNS boolean LANGUAGE sql IMMUTABLE STRICT PARALLEL SAFE COST 5000
RETURN array_length(a, 1) >= 6 AND array_length(b, 1) >= 6
       AND adql_region_intersects('polygon', adql_polygon_ccw(a), 'polygon', adql_polygon_ccw(b));

DROP FUNCTION vo_sky.arc_within(float8, float8, float8, float8, float8, float8, float8);

-- Does the cap overlap p_ra in [ra_min, ra_max] (wrapping if ra_min > ra_max), p_dec in [dec_min, dec_max]?
-- The centre inside, or the boundary within the radius: the nearest point of a parallel segment is
-- below the centre or at the end nearer in ra; meridian sides are great-circle arcs (in two halves).
CREATE FUNCTION vo_sky.circle_overlaps_range(c_ra float8, c_dec float8, radius float8, ra_min float8,
                                             ra_max float8, dec_min float8, dec_max float8)
RETURNS boolean LANGUAGE plpgsql IMMUTABLE STRICT PARALLEL SAFE COST 5000 AS $$
DECLARE
    full_ra boolean := ra_max - ra_min >= 360; dec0 float8; meridian float8;
    dec_mid float8 := (dec_min + dec_max) / 2; p double precision[] := adql_vector(c_ra, c_dec);
BEGIN
    IF dec_min > dec_max THEN RETURN false; END IF;
    IF radius >= 180 THEN RETURN true; END IF;
    IF c_dec BETWEEN dec_min AND dec_max AND vo_sky.ra_in_interval(c_ra, ra_min, ra_max) THEN RETURN true; END IF;
    FOREACH dec0 IN ARRAY ARRAY[dec_min, dec_max] LOOP
        IF full_ra OR vo_sky.ra_in_interval(c_ra, ra_min, ra_max) THEN
            IF abs(c_dec - dec0) <= radius THEN RETURN true; END IF;
        ELSIF least(adql_distance(c_ra, c_dec, ra_min, dec0), adql_distance(c_ra, c_dec, ra_max, dec0)) <= radius THEN
            RETURN true;
        END IF;
    END LOOP;
    IF NOT full_ra THEN
        FOREACH meridian IN ARRAY ARRAY[ra_min, ra_max] LOOP
            IF adql_arc_distance(p, adql_vector(meridian, dec_min), adql_vector(meridian, dec_mid)) <= radius
               OR adql_arc_distance(p, adql_vector(meridian, dec_mid), adql_vector(meridian, dec_max)) <= radius THEN
                RETURN true;
            END IF;
        END LOOP;
    END IF;
    RETURN false;
END $$;

-- SIA's exact tests on s_region_dali, whichever shape it holds.
CREATE FUNCTION vo_sky.region_overlaps_circle(g double precision[], p_ra float8, p_dec float8, radius float8)
RETURNS boolean LANGUAGE sql IMMUTABLE STRICT PARALLEL SAFE COST 5000
RETURN adql_region_intersects(adql_dali_kind(g), g, 'circle', ARRAY[p_ra, p_dec, radius]);

CREATE FUNCTION vo_sky.region_overlaps_polygon(g double precision[], poly double precision[])
RETURNS boolean LANGUAGE sql IMMUTABLE STRICT PARALLEL SAFE COST 5000
RETURN adql_region_intersects(adql_dali_kind(g), g, 'polygon', adql_polygon_ccw(poly));

CREATE FUNCTION vo_sky.region_overlaps_range(g double precision[], ra_min float8, ra_max float8,
                                             dec_min float8, dec_max float8)
RETURNS boolean LANGUAGE sql IMMUTABLE STRICT PARALLEL SAFE COST 5000
RETURN CASE WHEN array_length(g, 1) = 3
            THEN vo_sky.circle_overlaps_range(g[1], g[2], g[3], ra_min, ra_max, dec_min, dec_max)
            ELSE vo_sky.polygon_overlaps_range(g, ra_min, ra_max, dec_min, dec_max) END;
"""


def convert_s_region(conn: psycopg.Connection) -> None:
    """Add s_region_dali; turn a DALI-polygon s_region (databases created before
    this migration) into STC-S text, keeping the polygon in s_region_dali."""
    (data_type,) = conn.execute(
        "SELECT data_type FROM information_schema.columns WHERE table_schema = 'ivoa' "
        "AND table_name = 'obscore' AND column_name = 's_region'").fetchone()
    conn.execute("ALTER TABLE ivoa.obscore ADD COLUMN s_region_dali double precision[]")
    if data_type == "ARRAY":
        conn.execute(CONVERT)


def upgrade(conn: psycopg.Connection) -> None:
    convert_s_region(conn)
    # A stored column, not just an index predicate: ANALYZE then knows how few wide ranges there
    # are, so the planner estimates the wide arm at ~0 rows.  (With the predicate alone it
    # estimated the arm from the whole table's lo statistics, 68k of 500k rows, and chose a hash
    # join over a sequential scan of ivoa.obscore: 48 ms instead of 1.7 ms per SIA cone.)
    conn.execute(f"ALTER TABLE ivoa.obscore_footprint ADD COLUMN wide boolean "
                 f"GENERATED ALWAYS AS (hi - lo > {MAX_RANGE_LENGTH}) STORED")
    conn.execute("CREATE INDEX obscore_footprint_wide ON ivoa.obscore_footprint (lo) "
                 "INCLUDE (hi, obs_publisher_did) WHERE wide")
    conn.execute(FUNCTIONS)
