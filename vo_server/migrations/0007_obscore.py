"""ObsCore 1.1 (ivoa.obscore, created from schemas/ivoa.yaml), its footprint
index (depth-29 HEALPix ranges per observation), the internal record of
image collections and files, and the exact spherical geometry tests SIA
uses after the index prefilter (vo_sky.*: pure SQL, no extension)."""

from __future__ import annotations

import psycopg

from vo_server.config import load_settings
from vo_server.metadata.ddl import create_table_sql
from vo_server.metadata.yaml_files import load_schema_files

TABLES = """
CREATE INDEX obscore_collection ON ivoa.obscore (obs_collection);
CREATE INDEX obscore_t_min ON ivoa.obscore (t_min);
CREATE INDEX obscore_t_max ON ivoa.obscore (t_max);
CREATE INDEX obscore_em_min ON ivoa.obscore (em_min);
CREATE INDEX obscore_em_max ON ivoa.obscore (em_max);

-- Footprint index: the MOC of each s_region as depth-29 [lo, hi) ranges, no
-- range longer than 4^(29-7) (see vo_server.sky.footprints), so overlap with a
-- query range [qlo, qhi) is the btree scan lo > qlo - 4^22 AND lo < qhi, hi > qlo.
CREATE TABLE ivoa.obscore_footprint (
    obs_publisher_did text NOT NULL REFERENCES ivoa.obscore (obs_publisher_did) ON DELETE CASCADE,
    lo bigint NOT NULL,
    hi bigint NOT NULL,
    CHECK (lo < hi)
);
CREATE INDEX obscore_footprint_lo ON ivoa.obscore_footprint (lo) INCLUDE (hi, obs_publisher_did);
CREATE INDEX obscore_footprint_did ON ivoa.obscore_footprint (obs_publisher_did);

-- Published image collections: the directory (under the data dir) whose files may be served.
CREATE TABLE vo_internal.image_collections (
    name text PRIMARY KEY,
    directory text NOT NULL,
    created_at timestamptz NOT NULL DEFAULT now(),
    updated_at timestamptz NOT NULL DEFAULT now()
);

-- Every servable file, by collection and path relative to the collection directory.
CREATE TABLE vo_internal.image_files (
    collection text NOT NULL REFERENCES vo_internal.image_collections (name) ON DELETE CASCADE,
    relpath text NOT NULL,
    source text NOT NULL,             -- where ingest read it from
    content_type text NOT NULL,
    size_bytes bigint NOT NULL,
    sha256 text NOT NULL,
    ingested_at timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (collection, relpath)
);

-- Which file and HDU each ObsCore row describes (re-ingest replaces a file's rows).
CREATE TABLE vo_internal.image_hdus (
    obs_publisher_did text PRIMARY KEY REFERENCES ivoa.obscore (obs_publisher_did) ON DELETE CASCADE,
    collection text NOT NULL,
    relpath text NOT NULL,
    hdu integer NOT NULL,
    FOREIGN KEY (collection, relpath) REFERENCES vo_internal.image_files (collection, relpath) ON DELETE CASCADE
);
CREATE INDEX image_hdus_file ON vo_internal.image_hdus (collection, relpath);
"""

GEOMETRY = r"""
CREATE SCHEMA IF NOT EXISTS vo_sky;
GRANT USAGE ON SCHEMA vo_sky TO PUBLIC;

-- The functions declare a high COST (they loop over vertices in PL/pgSQL), so the
-- planner evaluates them after the cheap index conditions, on candidates only.
-- Polygons are DALI arrays [ra1, dec1, ra2, dec2, ...] in degrees with
-- great-circle edges, taken as the smaller of the two regions they bound
-- (they must fit in a hemisphere).  Points on the boundary may go either way.

CREATE FUNCTION vo_sky.polygon_contains_point(poly double precision[], p_ra double precision, p_dec double precision)
RETURNS boolean LANGUAGE plpgsql IMMUTABLE STRICT PARALLEL SAFE COST 5000 AS $$
DECLARE
    n int := array_length(poly, 1) / 2;
    cx float8 := 0; cy float8 := 0; cz float8 := 0; norm float8;
    ex float8; ey float8; nx float8; ny float8; nz float8;
    vx float8; vy float8; vz float8; d float8; px float8; py float8;
    xs float8[]; ys float8[]; inside boolean := false; i int; j int;
BEGIN
    IF n IS NULL OR n < 3 THEN RETURN false; END IF;
    FOR i IN 1..n LOOP
        cx := cx + cosd(poly[2*i]) * cosd(poly[2*i-1]);
        cy := cy + cosd(poly[2*i]) * sind(poly[2*i-1]);
        cz := cz + sind(poly[2*i]);
    END LOOP;
    norm := sqrt(cx*cx + cy*cy + cz*cz);
    IF norm < 1e-12 THEN RETURN false; END IF;
    cx := cx / norm; cy := cy / norm; cz := cz / norm;
    -- gnomonic projection about the centre: great circles become straight lines
    norm := sqrt(cx*cx + cy*cy);
    IF norm < 1e-12 THEN ex := 0; ey := 1; ELSE ex := -cy / norm; ey := cx / norm; END IF;
    nx := -cz * ey; ny := cz * ex; nz := cx * ey - cy * ex;
    vx := cosd(p_dec) * cosd(p_ra); vy := cosd(p_dec) * sind(p_ra); vz := sind(p_dec);
    d := vx*cx + vy*cy + vz*cz;
    IF d <= 0 THEN RETURN false; END IF;
    px := (vx*ex + vy*ey) / d; py := (vx*nx + vy*ny + vz*nz) / d;
    FOR i IN 1..n LOOP
        vx := cosd(poly[2*i]) * cosd(poly[2*i-1]); vy := cosd(poly[2*i]) * sind(poly[2*i-1]); vz := sind(poly[2*i]);
        d := vx*cx + vy*cy + vz*cz;
        IF d <= 0 THEN RETURN false; END IF;
        xs[i] := (vx*ex + vy*ey) / d; ys[i] := (vx*nx + vy*ny + vz*nz) / d;
    END LOOP;
    j := n;
    FOR i IN 1..n LOOP
        IF (ys[i] > py) <> (ys[j] > py)
           AND px < (xs[j] - xs[i]) * (py - ys[i]) / (ys[j] - ys[i]) + xs[i] THEN
            inside := NOT inside;
        END IF;
        j := i;
    END LOOP;
    RETURN inside;
END $$;

-- Distance test between a point and the minor great-circle arc a-b.
CREATE FUNCTION vo_sky.arc_within(ra1 float8, dec1 float8, ra2 float8, dec2 float8,
                                  p_ra float8, p_dec float8, radius float8)
RETURNS boolean LANGUAGE plpgsql IMMUTABLE STRICT PARALLEL SAFE COST 5000 AS $$
DECLARE
    ax float8 := cosd(dec1)*cosd(ra1); ay float8 := cosd(dec1)*sind(ra1); az float8 := sind(dec1);
    bx float8 := cosd(dec2)*cosd(ra2); b_y float8 := cosd(dec2)*sind(ra2); bz float8 := sind(dec2);
    px float8 := cosd(p_dec)*cosd(p_ra); py float8 := cosd(p_dec)*sind(p_ra); pz float8 := sind(p_dec);
    nx float8; ny float8; nz float8; nn float8; s float8; tx float8; ty float8; tz float8;
BEGIN
    IF px*ax + py*ay + pz*az >= cosd(radius) OR px*bx + py*b_y + pz*bz >= cosd(radius) THEN RETURN true; END IF;
    nx := ay*bz - az*b_y; ny := az*bx - ax*bz; nz := ax*b_y - ay*bx;
    nn := sqrt(nx*nx + ny*ny + nz*nz);
    IF nn < 1e-15 THEN RETURN false; END IF;
    nx := nx/nn; ny := ny/nn; nz := nz/nn;
    s := px*nx + py*ny + pz*nz;
    tx := px - s*nx; ty := py - s*ny; tz := pz - s*nz;
    -- the foot of the perpendicular lies on the arc iff it is between a and b
    IF ((ay*tz - az*ty)*nx + (az*tx - ax*tz)*ny + (ax*ty - ay*tx)*nz) >= 0
       AND ((ty*bz - tz*b_y)*nx + (tz*bx - tx*bz)*ny + (tx*b_y - ty*bx)*nz) >= 0
       AND (tx*tx + ty*ty + tz*tz) > 0 THEN
        RETURN asind(least(1.0, abs(s))) <= radius;
    END IF;
    RETURN false;
END $$;

CREATE FUNCTION vo_sky.polygon_overlaps_circle(poly double precision[], p_ra float8, p_dec float8, radius float8)
RETURNS boolean LANGUAGE plpgsql IMMUTABLE STRICT PARALLEL SAFE COST 5000 AS $$
DECLARE n int := array_length(poly, 1) / 2; i int; j int;
BEGIN
    IF n IS NULL OR n < 3 THEN RETURN false; END IF;
    IF radius >= 180 OR vo_sky.polygon_contains_point(poly, p_ra, p_dec) THEN RETURN true; END IF;
    FOR i IN 1..n LOOP
        j := i % n + 1;
        IF vo_sky.arc_within(poly[2*i-1], poly[2*i], poly[2*j-1], poly[2*j], p_ra, p_dec, radius) THEN
            RETURN true;
        END IF;
    END LOOP;
    RETURN false;
END $$;

-- Do the minor arcs a-b and c-d have a common point?
CREATE FUNCTION vo_sky.arcs_cross(ra1 float8, dec1 float8, ra2 float8, dec2 float8,
                                  ra3 float8, dec3 float8, ra4 float8, dec4 float8)
RETURNS boolean LANGUAGE plpgsql IMMUTABLE STRICT PARALLEL SAFE COST 5000 AS $$
DECLARE
    ax float8 := cosd(dec1)*cosd(ra1); ay float8 := cosd(dec1)*sind(ra1); az float8 := sind(dec1);
    bx float8 := cosd(dec2)*cosd(ra2); b_y float8 := cosd(dec2)*sind(ra2); bz float8 := sind(dec2);
    cx float8 := cosd(dec3)*cosd(ra3); cy float8 := cosd(dec3)*sind(ra3); cz float8 := sind(dec3);
    dx float8 := cosd(dec4)*cosd(ra4); dy float8 := cosd(dec4)*sind(ra4); dz float8 := sind(dec4);
    n1x float8; n1y float8; n1z float8; n2x float8; n2y float8; n2z float8;
    lx float8; ly float8; lz float8; sgn int;
BEGIN
    n1x := ay*bz - az*b_y; n1y := az*bx - ax*bz; n1z := ax*b_y - ay*bx;
    n2x := cy*dz - cz*dy; n2y := cz*dx - cx*dz; n2z := cx*dy - cy*dx;
    lx := n1y*n2z - n1z*n2y; ly := n1z*n2x - n1x*n2z; lz := n1x*n2y - n1y*n2x;
    IF lx*lx + ly*ly + lz*lz < 1e-30 THEN RETURN false; END IF;
    FOREACH sgn IN ARRAY ARRAY[1, -1] LOOP
        IF ((ay*sgn*lz - az*sgn*ly)*n1x + (az*sgn*lx - ax*sgn*lz)*n1y + (ax*sgn*ly - ay*sgn*lx)*n1z) >= 0
           AND ((sgn*ly*bz - sgn*lz*b_y)*n1x + (sgn*lz*bx - sgn*lx*bz)*n1y + (sgn*lx*b_y - sgn*ly*bx)*n1z) >= 0
           AND ((cy*sgn*lz - cz*sgn*ly)*n2x + (cz*sgn*lx - cx*sgn*lz)*n2y + (cx*sgn*ly - cy*sgn*lx)*n2z) >= 0
           AND ((sgn*ly*dz - sgn*lz*dy)*n2x + (sgn*lz*dx - sgn*lx*dz)*n2y + (sgn*lx*dy - sgn*ly*dx)*n2z) >= 0 THEN
            RETURN true;
        END IF;
    END LOOP;
    RETURN false;
END $$;

CREATE FUNCTION vo_sky.polygon_overlaps_polygon(a double precision[], b double precision[])
RETURNS boolean LANGUAGE plpgsql IMMUTABLE STRICT PARALLEL SAFE COST 5000 AS $$
DECLARE na int := array_length(a, 1) / 2; nb int := array_length(b, 1) / 2; i int; j int; k int; l int;
BEGIN
    IF na IS NULL OR nb IS NULL OR na < 3 OR nb < 3 THEN RETURN false; END IF;
    FOR i IN 1..na LOOP
        IF vo_sky.polygon_contains_point(b, a[2*i-1], a[2*i]) THEN RETURN true; END IF;
    END LOOP;
    FOR i IN 1..nb LOOP
        IF vo_sky.polygon_contains_point(a, b[2*i-1], b[2*i]) THEN RETURN true; END IF;
    END LOOP;
    FOR i IN 1..na LOOP
        j := i % na + 1;
        FOR k IN 1..nb LOOP
            l := k % nb + 1;
            IF vo_sky.arcs_cross(a[2*i-1], a[2*i], a[2*j-1], a[2*j], b[2*k-1], b[2*k], b[2*l-1], b[2*l]) THEN
                RETURN true;
            END IF;
        END LOOP;
    END LOOP;
    RETURN false;
END $$;

-- Is p_ra (degrees) within [ra_min, ra_max], the interval wrapping through 0 when ra_min > ra_max?
CREATE FUNCTION vo_sky.ra_in_interval(p_ra float8, ra_min float8, ra_max float8)
RETURNS boolean LANGUAGE sql IMMUTABLE STRICT PARALLEL SAFE
RETURN CASE WHEN ra_max - ra_min >= 360 THEN true
            WHEN ra_min <= ra_max THEN p_ra BETWEEN ra_min AND ra_max
            ELSE p_ra >= ra_min OR p_ra <= ra_max END;

-- Does the great-circle arc a-b meet the parallel dec0 within [ra_min, ra_max]?
CREATE FUNCTION vo_sky.arc_meets_parallel(ra1 float8, dec1 float8, ra2 float8, dec2 float8,
                                          dec0 float8, ra_min float8, ra_max float8)
RETURNS boolean LANGUAGE plpgsql IMMUTABLE STRICT PARALLEL SAFE COST 5000 AS $$
DECLARE
    ax float8 := cosd(dec1)*cosd(ra1); ay float8 := cosd(dec1)*sind(ra1); az float8 := sind(dec1);
    bx float8 := cosd(dec2)*cosd(ra2); b_y float8 := cosd(dec2)*sind(ra2); bz float8 := sind(dec2);
    z0 float8 := sind(dec0); nx float8; ny float8; nz float8; m2 float8; c float8; h2 float8; h float8;
    px float8; py float8; sgn int;
BEGIN
    nx := ay*bz - az*b_y; ny := az*bx - ax*bz; nz := ax*b_y - ay*bx;
    m2 := nx*nx + ny*ny;
    IF m2 < 1e-24 THEN RETURN false; END IF;   -- the arc runs along the equator
    c := -nz * z0 / m2;
    h2 := (1 - z0*z0) - c*c*m2;
    IF h2 < 0 THEN RETURN false; END IF;
    h := sqrt(h2 / m2);
    FOREACH sgn IN ARRAY ARRAY[1, -1] LOOP
        px := c*nx - sgn*h*ny; py := c*ny + sgn*h*nx;
        IF ((ay*z0 - az*py)*nx + (az*px - ax*z0)*ny + (ax*py - ay*px)*nz) >= 0
           AND ((py*bz - z0*b_y)*nx + (z0*bx - px*bz)*ny + (px*b_y - py*bx)*nz) >= 0
           AND vo_sky.ra_in_interval(CASE WHEN atan2d(py, px) < 0 THEN atan2d(py, px) + 360 ELSE atan2d(py, px) END, ra_min, ra_max) THEN
            RETURN true;
        END IF;
    END LOOP;
    RETURN false;
END $$;

-- Does the polygon overlap p_ra in [ra_min, ra_max] (wrapping if ra_min > ra_max), p_dec in [dec_min, dec_max]?
CREATE FUNCTION vo_sky.polygon_overlaps_range(poly double precision[], ra_min float8, ra_max float8,
                                              dec_min float8, dec_max float8)
RETURNS boolean LANGUAGE plpgsql IMMUTABLE STRICT PARALLEL SAFE COST 5000 AS $$
DECLARE
    n int := array_length(poly, 1) / 2; i int; j int; dec_mid float8 := (dec_min + dec_max) / 2;
    full_ra boolean := ra_max - ra_min >= 360; meridian float8; corner_ra float8; corner_dec float8;
BEGIN
    IF n IS NULL OR n < 3 OR dec_min > dec_max THEN RETURN false; END IF;
    FOR i IN 1..n LOOP
        IF poly[2*i] BETWEEN dec_min AND dec_max AND vo_sky.ra_in_interval(poly[2*i-1], ra_min, ra_max) THEN
            RETURN true;
        END IF;
    END LOOP;
    FOREACH corner_ra IN ARRAY ARRAY[ra_min, ra_max] LOOP
        FOREACH corner_dec IN ARRAY ARRAY[dec_min, dec_max] LOOP
            IF vo_sky.polygon_contains_point(poly, corner_ra, corner_dec) THEN RETURN true; END IF;
        END LOOP;
    END LOOP;
    FOR i IN 1..n LOOP
        j := i % n + 1;
        IF NOT full_ra THEN
            FOREACH meridian IN ARRAY ARRAY[ra_min, ra_max] LOOP
                IF vo_sky.arcs_cross(poly[2*i-1], poly[2*i], poly[2*j-1], poly[2*j], meridian, dec_min, meridian, dec_mid)
                   OR vo_sky.arcs_cross(poly[2*i-1], poly[2*i], poly[2*j-1], poly[2*j], meridian, dec_mid, meridian, dec_max) THEN
                    RETURN true;
                END IF;
            END LOOP;
        END IF;
        IF (dec_min > -90 AND vo_sky.arc_meets_parallel(poly[2*i-1], poly[2*i], poly[2*j-1], poly[2*j], dec_min, ra_min, ra_max))
           OR (dec_max < 90 AND vo_sky.arc_meets_parallel(poly[2*i-1], poly[2*i], poly[2*j-1], poly[2*j], dec_max, ra_min, ra_max)) THEN
            RETURN true;
        END IF;
    END LOOP;
    RETURN false;
END $$;
"""


def upgrade(conn: psycopg.Connection) -> None:
    schemas = load_schema_files(load_settings().schemas_dir)
    ivoa = next(s for s in schemas if s.name == "ivoa")
    obscore = next(t for t in ivoa.tables if t.name == "obscore")
    conn.execute(create_table_sql(obscore))
    conn.execute(TABLES)
    conn.execute(GEOMETRY)
