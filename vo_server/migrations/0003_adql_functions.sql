-- SQL functions named by the ADQL translator (package adql/).
-- Plain PostgreSQL >= 14, no extension.  Idempotent: CREATE OR REPLACE only.
--
-- Geometry values are double precision[] whose shape the translator knows:
--   point [ra, dec], circle [ra, dec, radius], polygon [ra1, dec1, ra2, dec2, ...]
-- in degrees (ICRS).  Polygon edges are great-circle arcs; the interior lies
-- to the left of the edges (counter-clockwise seen from outside the sphere;
-- adql_polygon_ccw establishes that for polygons built at run time).
-- MOCs are bigint[] of half-open depth-29 nested HEALPix ranges [lo0, hi0, lo1, hi1, ...].

-- Great-circle distance in degrees (Vincenty's atan2 form: accurate at all separations).
CREATE OR REPLACE FUNCTION adql_distance(ra1 double precision, dec1 double precision,
                                         ra2 double precision, dec2 double precision)
RETURNS double precision LANGUAGE sql IMMUTABLE PARALLEL SAFE AS $$
  SELECT atan2d(
           sqrt(power(cosd(dec2) * sind(ra2 - ra1), 2)
                + power(cosd(dec1) * sind(dec2) - sind(dec1) * cosd(dec2) * cosd(ra2 - ra1), 2)),
           sind(dec1) * sind(dec2) + cosd(dec1) * cosd(dec2) * cosd(ra2 - ra1))
$$;

CREATE OR REPLACE FUNCTION adql_point_in_circle(ra double precision, de double precision,
                                                cra double precision, cdec double precision,
                                                radius double precision)
RETURNS boolean LANGUAGE sql IMMUTABLE PARALLEL SAFE AS $$
  SELECT adql_distance(ra, de, cra, cdec) <= radius
$$;

CREATE OR REPLACE FUNCTION adql_circle_area(radius double precision)
RETURNS double precision LANGUAGE sql IMMUTABLE PARALLEL SAFE AS $$
  SELECT 2 * pi() * (1 - cosd(radius)) * power(180 / pi(), 2)
$$;

-- Unit vector of a position.
CREATE OR REPLACE FUNCTION adql_vector(ra double precision, de double precision)
RETURNS double precision[] LANGUAGE sql IMMUTABLE PARALLEL SAFE AS $$
  SELECT ARRAY[cosd(de) * cosd(ra), cosd(de) * sind(ra), sind(de)]
$$;

-- Signed area (steradians) of a polygon seen from its vertices' mean direction;
-- positive for counter-clockwise vertices.
CREATE OR REPLACE FUNCTION adql_polygon_signed_area(poly double precision[])
RETURNS double precision LANGUAGE plpgsql IMMUTABLE STRICT PARALLEL SAFE AS $$
DECLARE
  n integer := coalesce(array_length(poly, 1), 0) / 2;
  c1 double precision := 0; c2 double precision := 0; c3 double precision := 0;
  a1 double precision; a2 double precision; a3 double precision;
  b1 double precision; b2 double precision; b3 double precision;
  norm double precision;
  total double precision := 0;
  i integer;
BEGIN
  IF n < 3 THEN RETURN NULL; END IF;
  FOR i IN 1..n LOOP
    c1 := c1 + cosd(poly[2 * i]) * cosd(poly[2 * i - 1]);
    c2 := c2 + cosd(poly[2 * i]) * sind(poly[2 * i - 1]);
    c3 := c3 + sind(poly[2 * i]);
  END LOOP;
  norm := sqrt(c1 * c1 + c2 * c2 + c3 * c3);
  IF norm < 1e-12 THEN RETURN NULL; END IF;
  c1 := c1 / norm; c2 := c2 / norm; c3 := c3 / norm;
  a1 := cosd(poly[2 * n]) * cosd(poly[2 * n - 1]);
  a2 := cosd(poly[2 * n]) * sind(poly[2 * n - 1]);
  a3 := sind(poly[2 * n]);
  FOR i IN 1..n LOOP
    b1 := cosd(poly[2 * i]) * cosd(poly[2 * i - 1]);
    b2 := cosd(poly[2 * i]) * sind(poly[2 * i - 1]);
    b3 := sind(poly[2 * i]);
    total := total + 2 * atan2(
      c1 * (a2 * b3 - a3 * b2) + c2 * (a3 * b1 - a1 * b3) + c3 * (a1 * b2 - a2 * b1),
      1 + (c1 * a1 + c2 * a2 + c3 * a3) + (a1 * b1 + a2 * b2 + a3 * b3) + (b1 * c1 + b2 * c2 + b3 * c3));
    a1 := b1; a2 := b2; a3 := b3;
  END LOOP;
  RETURN total;
END
$$;

-- The polygon with counter-clockwise vertices (reversed if needed); NULL if degenerate.
CREATE OR REPLACE FUNCTION adql_polygon_ccw(poly double precision[])
RETURNS double precision[] LANGUAGE plpgsql IMMUTABLE STRICT PARALLEL SAFE AS $$
DECLARE
  n integer := coalesce(array_length(poly, 1), 0) / 2;
  area double precision;
  result double precision[] := '{}';
  i integer;
BEGIN
  IF n < 3 OR array_length(poly, 1) % 2 <> 0 THEN RETURN NULL; END IF;
  area := adql_polygon_signed_area(poly);
  IF area IS NULL OR area = 0 THEN RETURN NULL; END IF;
  IF area > 0 THEN RETURN poly; END IF;
  FOR i IN REVERSE n..1 LOOP
    result := result || ARRAY[poly[2 * i - 1], poly[2 * i]];
  END LOOP;
  RETURN result;
END
$$;

CREATE OR REPLACE FUNCTION adql_polygon_area(poly double precision[])
RETURNS double precision LANGUAGE sql IMMUTABLE PARALLEL SAFE AS $$
  SELECT abs(adql_polygon_signed_area(poly)) * power(180 / pi(), 2)
$$;

-- Point in a counter-clockwise polygon: the winding angle of the edges seen from
-- the point is +2 pi inside and 0 (or -2 pi, antipode inside) outside.
CREATE OR REPLACE FUNCTION adql_point_in_polygon(ra double precision, de double precision,
                                                 poly double precision[])
RETURNS boolean LANGUAGE plpgsql IMMUTABLE STRICT PARALLEL SAFE AS $$
DECLARE
  n integer := coalesce(array_length(poly, 1), 0) / 2;
  p1 double precision := cosd(de) * cosd(ra);
  p2 double precision := cosd(de) * sind(ra);
  p3 double precision := sind(de);
  a1 double precision; a2 double precision; a3 double precision;
  b1 double precision; b2 double precision; b3 double precision;
  total double precision := 0;
  i integer;
BEGIN
  IF n < 3 THEN RETURN NULL; END IF;
  a1 := cosd(poly[2 * n]) * cosd(poly[2 * n - 1]);
  a2 := cosd(poly[2 * n]) * sind(poly[2 * n - 1]);
  a3 := sind(poly[2 * n]);
  FOR i IN 1..n LOOP
    b1 := cosd(poly[2 * i]) * cosd(poly[2 * i - 1]);
    b2 := cosd(poly[2 * i]) * sind(poly[2 * i - 1]);
    b3 := sind(poly[2 * i]);
    total := total + atan2(
      p1 * (a2 * b3 - a3 * b2) + p2 * (a3 * b1 - a1 * b3) + p3 * (a1 * b2 - a2 * b1),
      (a1 * b1 + a2 * b2 + a3 * b3) - (a1 * p1 + a2 * p2 + a3 * p3) * (b1 * p1 + b2 * p2 + b3 * p3));
    a1 := b1; a2 := b2; a3 := b3;
  END LOOP;
  RETURN total > pi();
END
$$;

-- Centre of mass direction of a counter-clockwise polygon, as a point.
CREATE OR REPLACE FUNCTION adql_polygon_centroid(poly double precision[])
RETURNS double precision[] LANGUAGE plpgsql IMMUTABLE STRICT PARALLEL SAFE AS $$
DECLARE
  n integer := coalesce(array_length(poly, 1), 0) / 2;
  a1 double precision; a2 double precision; a3 double precision;
  b1 double precision; b2 double precision; b3 double precision;
  x1 double precision; x2 double precision; x3 double precision; xn double precision;
  s1 double precision := 0; s2 double precision := 0; s3 double precision := 0;
  theta double precision;
  i integer;
BEGIN
  IF n < 3 THEN RETURN NULL; END IF;
  a1 := cosd(poly[2 * n]) * cosd(poly[2 * n - 1]);
  a2 := cosd(poly[2 * n]) * sind(poly[2 * n - 1]);
  a3 := sind(poly[2 * n]);
  FOR i IN 1..n LOOP
    b1 := cosd(poly[2 * i]) * cosd(poly[2 * i - 1]);
    b2 := cosd(poly[2 * i]) * sind(poly[2 * i - 1]);
    b3 := sind(poly[2 * i]);
    x1 := a2 * b3 - a3 * b2; x2 := a3 * b1 - a1 * b3; x3 := a1 * b2 - a2 * b1;
    xn := sqrt(x1 * x1 + x2 * x2 + x3 * x3);
    IF xn > 0 THEN
      theta := atan2(xn, a1 * b1 + a2 * b2 + a3 * b3);
      s1 := s1 + theta * x1 / xn; s2 := s2 + theta * x2 / xn; s3 := s3 + theta * x3 / xn;
    END IF;
    a1 := b1; a2 := b2; a3 := b3;
  END LOOP;
  IF s1 = 0 AND s2 = 0 AND s3 = 0 THEN RETURN NULL; END IF;
  RETURN adql_radec(s1, s2, s3);
END
$$;

-- Position [ra, de] of the direction of a vector (ra in [0, 360)).
CREATE OR REPLACE FUNCTION adql_radec(x double precision, y double precision, z double precision)
RETURNS double precision[] LANGUAGE sql IMMUTABLE PARALLEL SAFE AS $$
  SELECT ARRAY[atan2d(y, x) - 360 * floor(atan2d(y, x) / 360), atan2d(z, sqrt(x * x + y * y))]
$$;

-- Corner of a BOX: the intersection of two sides (given by their poles) on the centre's side.
CREATE OR REPLACE FUNCTION adql_box_corner(p double precision[], q double precision[], c double precision[])
RETURNS double precision[] LANGUAGE plpgsql IMMUTABLE STRICT PARALLEL SAFE AS $$
DECLARE
  v1 double precision := p[2] * q[3] - p[3] * q[2];
  v2 double precision := p[3] * q[1] - p[1] * q[3];
  v3 double precision := p[1] * q[2] - p[2] * q[1];
BEGIN
  IF v1 * c[1] + v2 * c[2] + v3 * c[3] < 0 THEN
    v1 := -v1; v2 := -v2; v3 := -v3;
  END IF;
  RETURN adql_radec(v1, v2, v3);
END
$$;

-- ADQL BOX: great-circle sides; width across the meridian, height along it (see adql/geometry.py).
CREATE OR REPLACE FUNCTION adql_box(ra double precision, de double precision,
                                    width double precision, height double precision)
RETURNS double precision[] LANGUAGE plpgsql IMMUTABLE STRICT PARALLEL SAFE AS $$
DECLARE
  c double precision[] := adql_vector(ra, de);
  e double precision[] := ARRAY[-sind(ra), cosd(ra), 0];
  nv double precision[] := ARRAY[-sind(de) * cosd(ra), -sind(de) * sind(ra), cosd(de)];
  hw double precision := width / 2;
  hh double precision := height / 2;
  south double precision[];
  north double precision[];
  east double precision[];
  west double precision[];
BEGIN
  IF width <= 0 OR height <= 0 OR width >= 180 OR height >= 180 OR de < -90 OR de > 90 THEN
    RETURN NULL;
  END IF;
  -- poles of the sides, pointing into the box
  south := ARRAY[sind(hh) * c[1] + cosd(hh) * nv[1], sind(hh) * c[2] + cosd(hh) * nv[2], sind(hh) * c[3] + cosd(hh) * nv[3]];
  north := ARRAY[sind(hh) * c[1] - cosd(hh) * nv[1], sind(hh) * c[2] - cosd(hh) * nv[2], sind(hh) * c[3] - cosd(hh) * nv[3]];
  east := ARRAY[sind(hw) * c[1] - cosd(hw) * e[1], sind(hw) * c[2] - cosd(hw) * e[2], sind(hw) * c[3] - cosd(hw) * e[3]];
  west := ARRAY[sind(hw) * c[1] + cosd(hw) * e[1], sind(hw) * c[2] + cosd(hw) * e[2], sind(hw) * c[3] + cosd(hw) * e[3]];
  RETURN adql_polygon_ccw(adql_box_corner(south, west, c) || adql_box_corner(south, east, c)
                          || adql_box_corner(north, east, c) || adql_box_corner(north, west, c));
END
$$;

-- Angular distance (degrees) from a point to the minor great-circle arc a-b (unit vectors).
CREATE OR REPLACE FUNCTION adql_arc_distance(p double precision[], a double precision[], b double precision[])
RETURNS double precision LANGUAGE plpgsql IMMUTABLE STRICT PARALLEL SAFE AS $$
DECLARE
  n1 double precision := a[2] * b[3] - a[3] * b[2];
  n2 double precision := a[3] * b[1] - a[1] * b[3];
  n3 double precision := a[1] * b[2] - a[2] * b[1];
  nn double precision := sqrt(n1 * n1 + n2 * n2 + n3 * n3);
  s double precision;
  q1 double precision; q2 double precision; q3 double precision;
BEGIN
  IF nn > 0 THEN
    n1 := n1 / nn; n2 := n2 / nn; n3 := n3 / nn;
    s := p[1] * n1 + p[2] * n2 + p[3] * n3;
    -- projection of p onto the great circle
    q1 := p[1] - s * n1; q2 := p[2] - s * n2; q3 := p[3] - s * n3;
    -- inside the arc if (a x q).n >= 0 and (q x b).n >= 0
    IF (a[2] * q3 - a[3] * q2) * n1 + (a[3] * q1 - a[1] * q3) * n2 + (a[1] * q2 - a[2] * q1) * n3 >= 0
       AND (q2 * b[3] - q3 * b[2]) * n1 + (q3 * b[1] - q1 * b[3]) * n2 + (q1 * b[2] - q2 * b[1]) * n3 >= 0
       AND (q1 * q1 + q2 * q2 + q3 * q3) > 0 THEN
      RETURN abs(asind(greatest(-1, least(1, s))));
    END IF;
  END IF;
  RETURN least(
    atan2d(sqrt(power(p[2] * a[3] - p[3] * a[2], 2) + power(p[3] * a[1] - p[1] * a[3], 2) + power(p[1] * a[2] - p[2] * a[1], 2)),
           p[1] * a[1] + p[2] * a[2] + p[3] * a[3]),
    atan2d(sqrt(power(p[2] * b[3] - p[3] * b[2], 2) + power(p[3] * b[1] - p[1] * b[3], 2) + power(p[1] * b[2] - p[2] * b[1], 2)),
           p[1] * b[1] + p[2] * b[2] + p[3] * b[3]));
END
$$;

-- Whether the minor arcs a1-a2 and b1-b2 (unit vectors) properly cross.
CREATE OR REPLACE FUNCTION adql_arcs_cross(a1 double precision[], a2 double precision[],
                                           b1 double precision[], b2 double precision[])
RETURNS boolean LANGUAGE plpgsql IMMUTABLE STRICT PARALLEL SAFE AS $$
DECLARE
  na double precision[] := ARRAY[a1[2] * a2[3] - a1[3] * a2[2], a1[3] * a2[1] - a1[1] * a2[3], a1[1] * a2[2] - a1[2] * a2[1]];
  nb double precision[] := ARRAY[b1[2] * b2[3] - b1[3] * b2[2], b1[3] * b2[1] - b1[1] * b2[3], b1[1] * b2[2] - b1[2] * b2[1]];
  s1 double precision := na[1] * b1[1] + na[2] * b1[2] + na[3] * b1[3];
  s2 double precision := na[1] * b2[1] + na[2] * b2[2] + na[3] * b2[3];
  t1 double precision := nb[1] * a1[1] + nb[2] * a1[2] + nb[3] * a1[3];
  t2 double precision := nb[1] * a2[1] + nb[2] * a2[2] + nb[3] * a2[3];
BEGIN
  IF s1 * s2 >= 0 OR t1 * t2 >= 0 THEN RETURN false; END IF;
  -- both arcs are shorter than 180 degrees: they cross iff the endpoints straddle
  -- each other's great circle on the same side of the sphere
  RETURN (a1[1] + a2[1]) * (b1[1] + b2[1]) + (a1[2] + a2[2]) * (b1[2] + b2[2]) + (a1[3] + a2[3]) * (b1[3] + b2[3]) > 0;
END
$$;

-- Vertices of a polygon as unit vectors (a 2-D array n x 3).
CREATE OR REPLACE FUNCTION adql_polygon_vectors(poly double precision[])
RETURNS double precision[] LANGUAGE sql IMMUTABLE STRICT PARALLEL SAFE AS $$
  SELECT array_agg(v ORDER BY i)
  FROM (SELECT i, adql_vector(poly[2 * i - 1], poly[2 * i]) AS v
        FROM generate_series(1, array_length(poly, 1) / 2) AS i) AS s
$$;

-- Smallest distance (degrees) from a point to the boundary of a polygon.
CREATE OR REPLACE FUNCTION adql_polygon_edge_distance(ra double precision, de double precision,
                                                      poly double precision[])
RETURNS double precision LANGUAGE plpgsql IMMUTABLE STRICT PARALLEL SAFE AS $$
DECLARE
  n integer := array_length(poly, 1) / 2;
  p double precision[] := adql_vector(ra, de);
  best double precision := 'Infinity';
  i integer;
BEGIN
  FOR i IN 1..n LOOP
    best := least(best, adql_arc_distance(p, adql_vector(poly[2 * i - 1], poly[2 * i]),
                  adql_vector(poly[2 * (i % n) + 1], poly[2 * (i % n) + 2])));
  END LOOP;
  RETURN best;
END
$$;

-- Whether any edge of polygon a crosses any edge of polygon b.
CREATE OR REPLACE FUNCTION adql_polygon_edges_cross(a double precision[], b double precision[])
RETURNS boolean LANGUAGE plpgsql IMMUTABLE STRICT PARALLEL SAFE AS $$
DECLARE
  na integer := array_length(a, 1) / 2;
  nb integer := array_length(b, 1) / 2;
  i integer; j integer;
BEGIN
  FOR i IN 1..na LOOP
    FOR j IN 1..nb LOOP
      IF adql_arcs_cross(adql_vector(a[2 * i - 1], a[2 * i]), adql_vector(a[2 * (i % na) + 1], a[2 * (i % na) + 2]),
                         adql_vector(b[2 * j - 1], b[2 * j]), adql_vector(b[2 * (j % nb) + 1], b[2 * (j % nb) + 2])) THEN
        RETURN true;
      END IF;
    END LOOP;
  END LOOP;
  RETURN false;
END
$$;

-- CONTAINS(inner, outer) for region shapes 'point', 'circle', 'polygon'.
CREATE OR REPLACE FUNCTION adql_region_within(inner_kind text, inner_g double precision[],
                                              outer_kind text, outer_g double precision[])
RETURNS boolean LANGUAGE plpgsql IMMUTABLE STRICT PARALLEL SAFE AS $$
DECLARE
  i integer;
  n integer;
BEGIN
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

-- INTERSECTS(a, b) for region shapes 'point', 'circle', 'polygon'.
CREATE OR REPLACE FUNCTION adql_region_intersects(a_kind text, a double precision[],
                                                  b_kind text, b double precision[])
RETURNS boolean LANGUAGE plpgsql IMMUTABLE STRICT PARALLEL SAFE AS $$
DECLARE
  i integer;
BEGIN
  IF a_kind = 'point' THEN RETURN adql_region_within(a_kind, a, b_kind, b); END IF;
  IF b_kind = 'point' THEN RETURN adql_region_within(b_kind, b, a_kind, a); END IF;
  IF a_kind = 'circle' AND b_kind = 'circle' THEN
    RETURN adql_distance(a[1], a[2], b[1], b[2]) <= a[3] + b[3];
  END IF;
  IF a_kind = 'circle' THEN
    RETURN adql_point_in_polygon(a[1], a[2], b) OR adql_polygon_edge_distance(a[1], a[2], b) <= a[3];
  END IF;
  IF b_kind = 'circle' THEN
    RETURN adql_point_in_polygon(b[1], b[2], a) OR adql_polygon_edge_distance(b[1], b[2], a) <= b[3];
  END IF;
  FOR i IN 1..array_length(a, 1) / 2 LOOP
    IF adql_point_in_polygon(a[2 * i - 1], a[2 * i], b) THEN RETURN true; END IF;
  END LOOP;
  FOR i IN 1..array_length(b, 1) / 2 LOOP
    IF adql_point_in_polygon(b[2 * i - 1], b[2 * i], a) THEN RETURN true; END IF;
  END LOOP;
  RETURN adql_polygon_edges_cross(a, b);
END
$$;

-- Membership of a depth-29 HEALPix index in a sorted MOC range list (binary search).
CREATE OR REPLACE FUNCTION adql_hpx_in_moc(hpx bigint, ranges bigint[])
RETURNS boolean LANGUAGE plpgsql IMMUTABLE STRICT PARALLEL SAFE AS $$
DECLARE
  lo integer := 1;
  hi integer := coalesce(array_length(ranges, 1), 0) / 2;
  mid integer;
BEGIN
  WHILE lo <= hi LOOP
    mid := (lo + hi) / 2;
    IF hpx < ranges[2 * mid - 1] THEN
      hi := mid - 1;
    ELSIF hpx >= ranges[2 * mid] THEN
      lo := mid + 1;
    ELSE
      RETURN true;
    END IF;
  END LOOP;
  RETURN false;
END
$$;

-- Nested HEALPix index of (ra, de) at order 0..29 (the HEALPix ang2pix_nest algorithm).
CREATE OR REPLACE FUNCTION adql_healpix_index(hpx_order integer, ra double precision, de double precision)
RETURNS bigint LANGUAGE plpgsql IMMUTABLE STRICT PARALLEL SAFE AS $$
DECLARE
  nside bigint;
  z double precision := sind(de);
  za double precision := abs(sind(de));
  tt double precision;
  tp double precision;
  tmp double precision;
  temp1 double precision;
  temp2 double precision;
  jp bigint; jm bigint; ifp bigint; ifm bigint; ntt bigint;
  face bigint; ix bigint; iy bigint;
  bits bigint := 0;
  b integer;
BEGIN
  IF hpx_order < 0 OR hpx_order > 29 OR de < -90 OR de > 90 THEN RETURN NULL; END IF;
  nside := 1::bigint << hpx_order;
  tt := (ra - 360 * floor(ra / 360)) / 90.0;
  IF tt < 0 THEN tt := tt + 4; END IF;
  IF tt >= 4 THEN tt := 0; END IF;
  IF za <= 2.0 / 3.0 THEN
    temp1 := nside * (0.5 + tt);
    temp2 := nside * (z * 0.75);
    jp := floor(temp1 - temp2);
    jm := floor(temp1 + temp2);
    ifp := jp >> hpx_order;
    ifm := jm >> hpx_order;
    IF ifp = ifm THEN
      face := ifp | 4;
    ELSIF ifp < ifm THEN
      face := ifp;
    ELSE
      face := ifm + 8;
    END IF;
    ix := jm & (nside - 1);
    iy := nside - (jp & (nside - 1)) - 1;
  ELSE
    ntt := least(3, floor(tt)::bigint);
    tp := tt - ntt;
    -- sqrt(3 (1 - |z|)) computed without cancellation near the poles
    tmp := sqrt(3.0) * cosd(de) / sqrt(1 + za);
    jp := floor(nside * tp * tmp);
    jm := floor(nside * (1 - tp) * tmp);
    jp := least(jp, nside - 1);
    jm := least(jm, nside - 1);
    IF z >= 0 THEN
      face := ntt;
      ix := nside - jm - 1;
      iy := nside - jp - 1;
    ELSE
      face := ntt + 8;
      ix := jp;
      iy := jm;
    END IF;
  END IF;
  FOR b IN 0..hpx_order - 1 LOOP
    bits := bits | (((ix >> b) & 1) << (2 * b)) | (((iy >> b) & 1) << (2 * b + 1));
  END LOOP;
  RETURN (face << (2 * hpx_order)) | bits;
END
$$;

-- Centre of a nested HEALPix cell as a point [ra, de] (pix2ang_nest).
CREATE OR REPLACE FUNCTION adql_healpix_center(hpx_order integer, ipix bigint)
RETURNS double precision[] LANGUAGE plpgsql IMMUTABLE STRICT PARALLEL SAFE AS $$
DECLARE
  nside bigint;
  npface bigint;
  face integer;
  ipf bigint;
  ix bigint := 0;
  iy bigint := 0;
  jr bigint; nr bigint; jp bigint;
  kshift integer;
  z double precision;
  de double precision;
  ra double precision;
  jrll integer[] := ARRAY[2, 2, 2, 2, 3, 3, 3, 3, 4, 4, 4, 4];
  jpll integer[] := ARRAY[1, 3, 5, 7, 0, 2, 4, 6, 1, 3, 5, 7];
  b integer;
BEGIN
  IF hpx_order < 0 OR hpx_order > 29 THEN RETURN NULL; END IF;
  nside := 1::bigint << hpx_order;
  npface := nside * nside;
  IF ipix < 0 OR ipix >= 12 * npface THEN RETURN NULL; END IF;
  face := (ipix >> (2 * hpx_order))::integer;
  ipf := ipix & (npface - 1);
  FOR b IN 0..hpx_order - 1 LOOP
    ix := ix | (((ipf >> (2 * b)) & 1) << b);
    iy := iy | (((ipf >> (2 * b + 1)) & 1) << b);
  END LOOP;
  jr := jrll[face + 1] * nside - ix - iy - 1;
  IF jr < nside THEN
    nr := jr;
    z := 1 - nr * nr / (3.0 * npface);
    kshift := 0;
    de := 90 - 2 * asind(nr / sqrt(6.0 * npface));
  ELSIF jr > 3 * nside THEN
    nr := 4 * nside - jr;
    z := -(1 - nr * nr / (3.0 * npface));
    kshift := 0;
    de := -(90 - 2 * asind(nr / sqrt(6.0 * npface)));
  ELSE
    nr := nside;
    z := (2 * nside - jr) * 2.0 / (3.0 * nside);
    kshift := ((jr - nside) & 1)::integer;
    de := asind(z);
  END IF;
  jp := (jpll[face + 1] * nr + ix - iy + 1 + kshift) / 2;
  IF jp > 4 * nside THEN jp := jp - 4 * nside; END IF;
  IF jp < 1 THEN jp := jp + 4 * nside; END IF;
  ra := (jp - (kshift + 1) * 0.5) * (90.0 / nr);
  RETURN ARRAY[ra, de];
END
$$;

-- DALI text serialisation ("ra de ...") to a geometry array of the given shape.
CREATE OR REPLACE FUNCTION adql_dali_geometry(value text, shape text)
RETURNS double precision[] LANGUAGE plpgsql IMMUTABLE STRICT PARALLEL SAFE AS $$
DECLARE
  result double precision[];
  n integer;
BEGIN
  result := string_to_array(btrim(regexp_replace(value, '\s+', ' ', 'g')), ' ')::double precision[];
  n := coalesce(array_length(result, 1), 0);
  IF (shape = 'point' AND n <> 2) OR (shape = 'circle' AND n <> 3)
     OR (shape = 'polygon' AND (n < 6 OR n % 2 <> 0)) THEN
    RAISE EXCEPTION 'cannot cast % to %: wrong number of values', value, upper(shape);
  END IF;
  RETURN result;
END
$$;

-- ivo_hasword: 1 if word occurs in haystack as a whole word, ignoring case.
CREATE OR REPLACE FUNCTION adql_hasword(haystack text, word text)
RETURNS integer LANGUAGE sql IMMUTABLE PARALLEL SAFE AS $$
  SELECT CASE WHEN haystack ~* ('(^|[^[:alnum:]_])'
                                || regexp_replace(word, '([^[:alnum:][:space:]_])', '\\\1', 'g')
                                || '($|[^[:alnum:]_])')
              THEN 1 ELSE 0 END
$$;

-- ivo_nocasematch: 1 if value matches the LIKE pattern ignoring case.
CREATE OR REPLACE FUNCTION adql_nocasematch(value text, pattern text)
RETURNS integer LANGUAGE sql IMMUTABLE PARALLEL SAFE AS $$
  SELECT CASE WHEN value ILIKE pattern THEN 1 ELSE 0 END
$$;

-- ivo_epoch_prop_pos: linear space motion of a star from ref_epoch to out_epoch
-- (Julian years); pmra includes cos(de); mas, mas/yr, km/s.  NULL motions count as 0.
CREATE OR REPLACE FUNCTION adql_epoch_prop_pos(ra double precision, de double precision,
                                               parallax double precision, pmra double precision,
                                               pmdec double precision, radial_velocity double precision,
                                               ref_epoch double precision, out_epoch double precision)
RETURNS double precision[] LANGUAGE plpgsql IMMUTABLE PARALLEL SAFE AS $$
DECLARE
  mas double precision := pi() / 180 / 3600000;
  t double precision := out_epoch - ref_epoch;
  mu_r double precision := coalesce(radial_velocity, 0) * coalesce(parallax, 0) / 4.740470446;
  pa double precision := coalesce(pmra, 0) * mas;
  pd double precision := coalesce(pmdec, 0) * mas;
  pr double precision := mu_r * mas;
  x double precision; y double precision; z double precision;
BEGIN
  IF ra IS NULL OR de IS NULL OR t IS NULL THEN RETURN NULL; END IF;
  x := cosd(de) * cosd(ra) + t * (-sind(ra) * pa - sind(de) * cosd(ra) * pd + cosd(de) * cosd(ra) * pr);
  y := cosd(de) * sind(ra) + t * (cosd(ra) * pa - sind(de) * sind(ra) * pd + cosd(de) * sind(ra) * pr);
  z := sind(de) + t * (cosd(de) * pd + sind(de) * pr);
  RETURN adql_radec(x, y, z);
END
$$;
