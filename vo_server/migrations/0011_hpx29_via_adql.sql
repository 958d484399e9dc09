-- vo_sky.hpx29 (0004) was a copy of adql_healpix_index (0003) specialised to depth 29;
-- one implementation is kept: identical values (checked on 2e5 points incl. grid points,
-- the poles and ra = 0) and NULL outside [-90, 90] as before.
CREATE OR REPLACE FUNCTION vo_sky.hpx29(ra_deg double precision, dec_deg double precision) RETURNS bigint
LANGUAGE sql IMMUTABLE STRICT PARALLEL SAFE
RETURN adql_healpix_index(29, ra_deg, dec_deg);
