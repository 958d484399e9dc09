-- Sky core: GW sky maps stored as ranked HEALPix tiles, and the SQL functions
-- that let queries (SCS, /gw, ADQL UDFs) use them.  Sky maps are public data:
-- every role of the database may read them (the query role included).
CREATE SCHEMA IF NOT EXISTS vo_sky;
GRANT USAGE ON SCHEMA vo_sky TO PUBLIC;

CREATE TABLE vo_sky.skymaps (
    skymap_id serial PRIMARY KEY,
    name text NOT NULL UNIQUE,
    object text,
    date_obs timestamptz,
    instruments text,
    distmean double precision,        -- Mpc, from the FITS header
    diststd double precision,
    has_distance boolean NOT NULL,
    max_order integer NOT NULL,
    tile_count integer NOT NULL,
    area_50 double precision NOT NULL, -- deg2, greedy credible region (interpolated)
    area_90 double precision NOT NULL,
    max_ra double precision NOT NULL,  -- centre of the densest tile
    max_dec double precision NOT NULL,
    source text,
    header jsonb NOT NULL DEFAULT '{}',
    warnings text[] NOT NULL DEFAULT '{}',
    ingested_at timestamptz NOT NULL DEFAULT now()
);

-- One row per multi-order tile; [lo, hi) are depth-29 nested indexes.
-- rank 0 is the densest tile; cum_prob/cum_area include the tile itself, so
-- the credible region at level p is the prefix rank <= (first rank with cum_prob >= p).
CREATE TABLE vo_sky.skymap_tiles (
    skymap_id integer NOT NULL REFERENCES vo_sky.skymaps ON DELETE CASCADE,
    rank integer NOT NULL,
    uniq bigint NOT NULL,
    lo bigint NOT NULL,
    hi bigint NOT NULL,
    probdensity double precision NOT NULL,   -- per steradian
    distmu double precision,
    distsigma double precision,
    distnorm double precision,
    cum_prob double precision NOT NULL,
    cum_area double precision NOT NULL,      -- deg2
    PRIMARY KEY (skymap_id, rank)
);
CREATE INDEX skymap_tiles_lo ON vo_sky.skymap_tiles (skymap_id, lo) INCLUDE (hi);
CREATE INDEX skymap_tiles_cum_prob ON vo_sky.skymap_tiles (skymap_id, cum_prob);

GRANT SELECT ON vo_sky.skymaps, vo_sky.skymap_tiles TO PUBLIC;

-- Nested HEALPix index at depth 29 of (ra, dec) in degrees: the same cell as
-- vo_server.sky.hpx.hpx_index (cdshealpix) except within ~1e-7 of a depth-29
-- cell edge.  Used when a position is not a stored, indexed one.
CREATE FUNCTION vo_sky.hpx29(ra_deg double precision, dec_deg double precision) RETURNS bigint
LANGUAGE plpgsql IMMUTABLE STRICT PARALLEL SAFE AS $$
DECLARE
    nside constant double precision := 536870912;  -- 2^29
    z double precision;
    za double precision;
    tt double precision;
    tp double precision;
    tmp double precision;
    jp bigint;
    jm bigint;
    ifp bigint;
    ifm bigint;
    face bigint;
    ix bigint;
    iy bigint;
    ntt bigint;
BEGIN
    IF dec_deg < -90 OR dec_deg > 90 OR ra_deg <> ra_deg OR dec_deg <> dec_deg
       OR ra_deg IN ('Infinity', '-Infinity') THEN
        RETURN NULL;
    END IF;
    z := sind(dec_deg);
    za := abs(z);
    tt := (ra_deg - 360 * floor(ra_deg / 360)) / 90;  -- in [0, 4)
    IF tt >= 4 THEN tt := 0; END IF;
    IF za <= 2.0 / 3.0 THEN
        jp := floor(nside * (0.5 + tt - z * 0.75));
        jm := floor(nside * (0.5 + tt + z * 0.75));
        ifp := jp >> 29;
        ifm := jm >> 29;
        IF ifp = ifm THEN
            face := ifp | 4;
        ELSIF ifp < ifm THEN
            face := ifp;
        ELSE
            face := ifm + 8;
        END IF;
        ix := jm & 536870911;
        iy := 536870911 - (jp & 536870911);
    ELSE
        ntt := least(3, floor(tt)::bigint);
        tp := tt - ntt;
        -- sqrt(3 (1 - |z|)) computed without cancellation near the poles
        tmp := nside * sqrt(6.0) * sind((90 - abs(dec_deg)) / 2);
        jp := least(536870911, floor(tp * tmp)::bigint);
        jm := least(536870911, floor((1 - tp) * tmp)::bigint);
        IF z >= 0 THEN
            face := ntt;
            ix := 536870911 - jm;
            iy := 536870911 - jp;
        ELSE
            face := ntt + 8;
            ix := jp;
            iy := jm;
        END IF;
    END IF;
    -- interleave: ix in the even bits, iy in the odd bits
    ix := (ix | (ix << 16)) & 281470681808895;      -- 0x0000FFFF0000FFFF
    ix := (ix | (ix << 8)) & 71777214294589695;     -- 0x00FF00FF00FF00FF
    ix := (ix | (ix << 4)) & 1085102592571150095;   -- 0x0F0F0F0F0F0F0F0F
    ix := (ix | (ix << 2)) & 3689348814741910323;   -- 0x3333333333333333
    ix := (ix | (ix << 1)) & 6148914691236517205;   -- 0x5555555555555555
    iy := (iy | (iy << 16)) & 281470681808895;
    iy := (iy | (iy << 8)) & 71777214294589695;
    iy := (iy | (iy << 4)) & 1085102592571150095;
    iy := (iy | (iy << 2)) & 3689348814741910323;
    iy := (iy | (iy << 1)) & 6148914691236517205;
    RETURN (face << 58) | ix | (iy << 1);
END
$$;

-- The tile of a sky map holding a depth-29 index (NULL outside the map).
CREATE FUNCTION vo_sky.skymap_tile(map_name text, hpx bigint) RETURNS vo_sky.skymap_tiles
LANGUAGE sql STABLE PARALLEL SAFE AS $$
    SELECT t.* FROM vo_sky.skymap_tiles t
    WHERE t.skymap_id = (SELECT skymap_id FROM vo_sky.skymaps WHERE name = map_name)
      AND t.lo <= hpx
    ORDER BY t.lo DESC LIMIT 1
$$;

-- Probability density (per steradian) of the map at a position.
CREATE FUNCTION vo_sky.gw_probdensity(map_name text, ra_deg double precision, dec_deg double precision)
RETURNS double precision LANGUAGE sql STABLE PARALLEL SAFE AS $$
    SELECT CASE WHEN h < (t).hi THEN (t).probdensity END
    FROM (SELECT vo_sky.hpx29(ra_deg, dec_deg) AS h) p, LATERAL (SELECT vo_sky.skymap_tile(map_name, p.h) AS t) x
$$;

-- Searched probability (credible level) of a position: the probability of the
-- smallest greedy credible region that contains it.
CREATE FUNCTION vo_sky.gw_credible_level(map_name text, ra_deg double precision, dec_deg double precision)
RETURNS double precision LANGUAGE sql STABLE PARALLEL SAFE AS $$
    SELECT CASE WHEN h < (t).hi THEN (t).cum_prob END
    FROM (SELECT vo_sky.hpx29(ra_deg, dec_deg) AS h) p, LATERAL (SELECT vo_sky.skymap_tile(map_name, p.h) AS t) x
$$;

-- The last rank of the credible region at ``level``: the first tile whose
-- cumulative probability reaches it (cum_prob grows with rank: one index descent).
CREATE FUNCTION vo_sky.gw_region_last_rank(map_name text, level double precision)
RETURNS integer LANGUAGE sql STABLE PARALLEL SAFE AS $$
    SELECT coalesce(
        (SELECT t.rank FROM vo_sky.skymap_tiles t
         WHERE t.skymap_id = (SELECT skymap_id FROM vo_sky.skymaps WHERE name = map_name) AND t.cum_prob >= level
         ORDER BY t.cum_prob LIMIT 1),
        2147483647)
$$;

-- The depth-29 ranges of the credible region at ``level`` (the fewest tiles,
-- densest first, whose probability reaches it), coalesced where tiles touch.
CREATE FUNCTION vo_sky.gw_region_ranges(map_name text, level double precision)
RETURNS TABLE (lo bigint, hi bigint) LANGUAGE sql STABLE PARALLEL SAFE ROWS 200 AS $$
    WITH m AS (SELECT skymap_id FROM vo_sky.skymaps WHERE name = map_name),
    region AS (
        SELECT t.lo, t.hi FROM vo_sky.skymap_tiles t, m
        WHERE t.skymap_id = m.skymap_id AND t.rank <= vo_sky.gw_region_last_rank(map_name, level)
    ),
    marked AS (
        SELECT r.lo, r.hi, CASE WHEN r.lo = lag(r.hi) OVER (ORDER BY r.lo) THEN 0 ELSE 1 END AS starts
        FROM region r
    ),
    grouped AS (SELECT m2.lo, m2.hi, sum(m2.starts) OVER (ORDER BY m2.lo) AS g FROM marked m2)
    SELECT min(g2.lo), max(g2.hi) FROM grouped g2 GROUP BY g2.g ORDER BY 1
$$;

-- Faster forms for a stored, indexed position: the depth-29 index is given.
CREATE FUNCTION vo_sky.gw_probdensity_hpx(map_name text, hpx bigint)
RETURNS double precision LANGUAGE sql STABLE PARALLEL SAFE AS $$
    SELECT CASE WHEN hpx < (t).hi THEN (t).probdensity END FROM (SELECT vo_sky.skymap_tile(map_name, hpx) AS t) x
$$;

CREATE FUNCTION vo_sky.gw_credible_level_hpx(map_name text, hpx bigint)
RETURNS double precision LANGUAGE sql STABLE PARALLEL SAFE AS $$
    SELECT CASE WHEN hpx < (t).hi THEN (t).cum_prob END FROM (SELECT vo_sky.skymap_tile(map_name, hpx) AS t) x
$$;

-- Exact membership of a position in the credible region at ``level`` (the
-- same tiles as gw_region_ranges).
CREATE FUNCTION vo_sky.gw_in_region(map_name text, level double precision, ra_deg double precision,
                                    dec_deg double precision)
RETURNS boolean LANGUAGE sql STABLE PARALLEL SAFE AS $$
    SELECT coalesce(h < (t).hi AND (t).rank <= vo_sky.gw_region_last_rank(map_name, level), false)
    FROM (SELECT vo_sky.hpx29(ra_deg, dec_deg) AS h) p, LATERAL (SELECT vo_sky.skymap_tile(map_name, p.h) AS t) x
$$;

CREATE FUNCTION vo_sky.gw_in_region_hpx(map_name text, level double precision, hpx bigint)
RETURNS boolean LANGUAGE sql STABLE PARALLEL SAFE AS $$
    SELECT coalesce(hpx < (t).hi AND (t).rank <= vo_sky.gw_region_last_rank(map_name, level), false)
    FROM (SELECT vo_sky.skymap_tile(map_name, hpx) AS t) x
$$;

-- Temporal coverage (T-MOC, MOC 2.0 ASCII) of published tables with a time
-- column, computed on first request and kept until the table is reloaded.
CREATE TABLE vo_sky.time_coverage (
    schema_name text NOT NULL,
    table_name text NOT NULL,
    column_name text NOT NULL,
    computed_for timestamptz NOT NULL,   -- vo_internal.published_tables.updated_at it was computed from
    moc text NOT NULL,
    PRIMARY KEY (schema_name, table_name)
);

-- HEALPix neighbours (nested scheme) for crossmatch joins: the cell of a
-- depth-``depth`` index and its 8 (7 at the 8 corners where 3 faces meet)
-- neighbours, as an array of 9 indexes (-1 for a missing one).  Port of
-- healpix_base::neighbors (face tables from HEALPix C++).
CREATE FUNCTION vo_sky.hpx_neighbourhood(ipix bigint, depth integer) RETURNS bigint[]
LANGUAGE plpgsql IMMUTABLE STRICT PARALLEL SAFE AS $$
DECLARE
    nside bigint := 1::bigint << depth;
    face bigint := ipix >> (2 * depth);
    rest bigint := ipix & ((1::bigint << (2 * depth)) - 1);
    ix bigint;
    iy bigint;
    xoff constant integer[] := ARRAY[-1, -1, 0, 1, 1, 1, 0, -1];
    yoff constant integer[] := ARRAY[0, 1, 1, 1, 0, -1, -1, -1];
    -- nb_facearray[nbnum][face], nbnum 0..8 (S, SE, E, SW, centre, NE, W, NW, N)
    facearray constant integer[] := ARRAY[
        [ 8, 9,10,11,-1,-1,-1,-1,10,11, 8, 9],
        [ 5, 6, 7, 4, 8, 9,10,11, 9,10,11, 8],
        [-1,-1,-1,-1, 5, 6, 7, 4,-1,-1,-1,-1],
        [ 4, 5, 6, 7,11, 8, 9,10,11, 8, 9,10],
        [ 0, 1, 2, 3, 4, 5, 6, 7, 8, 9,10,11],
        [ 1, 2, 3, 0, 0, 1, 2, 3, 5, 6, 7, 4],
        [-1,-1,-1,-1, 7, 4, 5, 6,-1,-1,-1,-1],
        [ 3, 0, 1, 2, 3, 0, 1, 2, 4, 5, 6, 7],
        [ 2, 3, 0, 1,-1,-1,-1,-1, 0, 1, 2, 3]];
    swaparray constant integer[] := ARRAY[
        [0, 0, 3], [0, 0, 6], [0, 0, 0], [0, 0, 5], [0, 0, 0], [5, 0, 0], [0, 0, 0], [6, 0, 0], [3, 0, 0]];
    result bigint[] := ARRAY[ipix];
    x bigint;
    y bigint;
    t bigint;
    nbnum integer;
    f integer;
    bits integer;
    i integer;
BEGIN
    -- de-interleave: x from the even bits, y from the odd bits
    ix := rest & 6148914691236517205;                -- 0x5555555555555555
    ix := (ix | (ix >> 1)) & 3689348814741910323;    -- 0x3333333333333333
    ix := (ix | (ix >> 2)) & 1085102592571150095;    -- 0x0F0F0F0F0F0F0F0F
    ix := (ix | (ix >> 4)) & 71777214294589695;      -- 0x00FF00FF00FF00FF
    ix := (ix | (ix >> 8)) & 281470681808895;        -- 0x0000FFFF0000FFFF
    ix := (ix | (ix >> 16)) & 4294967295;
    iy := (rest >> 1) & 6148914691236517205;
    iy := (iy | (iy >> 1)) & 3689348814741910323;
    iy := (iy | (iy >> 2)) & 1085102592571150095;
    iy := (iy | (iy >> 4)) & 71777214294589695;
    iy := (iy | (iy >> 8)) & 281470681808895;
    iy := (iy | (iy >> 16)) & 4294967295;
    FOR i IN 1 .. 8 LOOP
        x := ix + xoff[i];
        y := iy + yoff[i];
        nbnum := 4;
        f := face;
        IF x < 0 THEN x := x + nside; nbnum := nbnum - 1;
        ELSIF x >= nside THEN x := x - nside; nbnum := nbnum + 1; END IF;
        IF y < 0 THEN y := y + nside; nbnum := nbnum - 3;
        ELSIF y >= nside THEN y := y - nside; nbnum := nbnum + 3; END IF;
        IF nbnum <> 4 THEN
            f := facearray[nbnum + 1][face + 1];
            IF f >= 0 THEN
                bits := swaparray[nbnum + 1][(face >> 2) + 1];
                IF bits & 1 <> 0 THEN x := nside - x - 1; END IF;
                IF bits & 2 <> 0 THEN y := nside - y - 1; END IF;
                IF bits & 4 <> 0 THEN t := x; x := y; y := t; END IF;
            END IF;
        END IF;
        IF f < 0 THEN
            result := result || (-1)::bigint;
        ELSE
            x := (x | (x << 16)) & 281470681808895;
            x := (x | (x << 8)) & 71777214294589695;
            x := (x | (x << 4)) & 1085102592571150095;
            x := (x | (x << 2)) & 3689348814741910323;
            x := (x | (x << 1)) & 6148914691236517205;
            y := (y | (y << 16)) & 281470681808895;
            y := (y | (y << 8)) & 71777214294589695;
            y := (y | (y << 4)) & 1085102592571150095;
            y := (y | (y << 2)) & 3689348814741910323;
            y := (y | (y << 1)) & 6148914691236517205;
            result := result || ((f::bigint << (2 * depth)) | x | (y << 1));
        END IF;
    END LOOP;
    RETURN result;
END
$$;
