"""Geometry with wrong arity, wrong types or impossible values."""

from __future__ import annotations

import pytest

from adql import AdqlError, translate

P = "adqltest.points"

BAD = [
    ("POINT one coordinate", "POINT(1)", "POINT"),
    ("POINT three coordinates", "POINT(1, 2, 3)", "POINT"),
    ("POINT four arguments", "POINT('ICRS', 1, 2, 3)", "POINT"),
    ("POINT string coordinate", "POINT(1, 'a')", "numeric"),
    ("POINT geometry coordinate", "POINT(POINT(1, 2), 3)", "numeric"),
    ("POINT declination above 90", "POINT(10, 91)", "declination"),
    ("POINT declination below -90", "POINT(10, -90.5)", "declination"),
    ("POINT coordsys not a literal", "POINT(name, 1, 2)", "coordinate system"),
    ("POINT galactic", "POINT('GALACTIC', 1, 2)", "not supported"),
    ("POINT fk5", "POINT('FK5 J2000', 1, 2)", "not supported"),
    ("CIRCLE too few", "CIRCLE(1, 2)", "CIRCLE"),
    ("CIRCLE too many", "CIRCLE('ICRS', 1, 2, 3, 4)", "CIRCLE"),
    ("CIRCLE negative radius", "CIRCLE(10, 20, -1)", "radius"),
    ("CIRCLE radius over 180", "CIRCLE(10, 20, 180.5)", "radius"),
    ("CIRCLE string radius", "CIRCLE(10, 20, 'x')", "numeric"),
    ("CIRCLE centre not a point", "CIRCLE(CIRCLE(1, 2, 3), 1)", "point"),
    ("CIRCLE geometry radius", "CIRCLE(10, 20, POINT(1, 2))", "numeric"),
    ("BOX too few", "BOX(1, 2, 3)", "BOX"),
    ("BOX zero width", "BOX(10, 20, 0, 1)", "width"),
    ("BOX negative height", "BOX(10, 20, 1, -1)", "height"),
    ("BOX 180 wide", "BOX(10, 20, 180, 1)", "width"),
    ("BOX string size", "BOX(10, 20, 'a', 1)", "numeric"),
    ("POLYGON two vertices", "POLYGON(1, 2, 3, 4)", "at least 3 vertices"),
    ("POLYGON odd coordinates", "POLYGON(1, 2, 3, 4, 5, 6, 7)", "pairs"),
    ("POLYGON two points", "POLYGON(POINT(1, 2), POINT(3, 4))", "at least 3 vertices"),
    ("POLYGON mixed arguments", "POLYGON(POINT(1, 2), 3, 4, 5)", "numeric"),
    ("POLYGON self-crossing", "POLYGON(10, 10, 12, 12, 12, 10, 10, 12)", "self-intersecting"),
    ("POLYGON bow tie", "POLYGON(0, 0, 1, 1, 1, 0, 0, 1)", "self-intersecting"),
    ("POLYGON repeated vertex", "POLYGON(10, 10, 10, 10, 12, 12, 10, 12)", "coincide"),
    ("POLYGON collinear", "POLYGON(0, 0, 1, 0, 2, 0)", "no area"),
    ("POLYGON antipodal edge", "POLYGON(0, 0, 180, 0, 90, 45)", "antipodal"),
    ("POLYGON declination", "POLYGON(0, 0, 1, 95, 2, 0)", "declination"),
    ("POLYGON string vertex", "POLYGON(0, 0, 1, 'x', 2, 0)", "numeric"),
    ("REGION not literal", "REGION(name)", "STC-S"),
    ("REGION unknown shape", "REGION('ELLIPSE ICRS 1 2 3 4 5')", "STC-S"),
    ("REGION galactic", "REGION('CIRCLE GALACTIC 1 2 3')", "not supported"),
    ("REGION bad radius", "REGION('CIRCLE ICRS 1 2 200')", "radius"),
    ("MOC not a literal", "MOC(name)", "MOC"),
    ("MOC malformed", "MOC('not a moc')", "MOC"),
    ("MOC order out of range", "MOC(30, CIRCLE(1, 2, 3))", "outside 0..29"),
    ("MOC order not integer", "MOC(2.5, CIRCLE(1, 2, 3))", "integer"),
    ("CENTROID of a number", "CENTROID(1)", "geometry"),
    ("CENTROID arity", "CENTROID(POINT(1, 2), POINT(1, 2))", "CENTROID"),
    ("COORD1 of a circle", "COORD1(CIRCLE(1, 2, 3))", "point"),
    ("COORD2 of a number", "COORD2(3)", "point"),
    ("AREA of a string", "AREA('x')", "geometry"),
    ("COORDSYS of a number", "COORDSYS(1)", "geometry"),
    ("DISTANCE three arguments", "DISTANCE(1, 2, 3)", "DISTANCE"),
    ("DISTANCE of circles", "DISTANCE(CIRCLE(1, 2, 3), POINT(1, 2))", "point"),
    ("DISTANCE string", "DISTANCE(1, 2, 'a', 4)", "numeric"),
    ("DISTANCE five arguments", "DISTANCE(1, 2, 3, 4, 5)", "DISTANCE"),
    ("ivo_healpix_index order 30", "ivo_healpix_index(30, ra, dec)", "outside 0..29"),
    ("ivo_healpix_index float order", "ivo_healpix_index(1.5, ra, dec)", "integer"),
    ("ivo_healpix_center arity", "ivo_healpix_center(1)", "ivo_healpix_center"),
]


@pytest.mark.parametrize(("reason", "expression", "fragment"), BAD, ids=[b[0] for b in BAD])
def test_bad_geometry_in_select(reason: str, expression: str, fragment: str, catalog) -> None:
    query = f"SELECT {expression} FROM {P}"
    with pytest.raises(AdqlError) as info:
        translate(query, catalog)
    assert fragment in info.value.message
    assert info.value.line == 1 and info.value.column is not None
    assert info.value.column >= 8


PREDICATES = [
    ("CONTAINS of numbers", "1 = CONTAINS(1, 2)", "geometry"),
    ("CONTAINS arity", "1 = CONTAINS(POINT(ra, dec))", "CONTAINS"),
    ("CONTAINS compared with 2", "2 = CONTAINS(POINT(ra, dec), CIRCLE(1, 2, 3))", "0 or 1"),
    ("INTERSECTS with a string", "1 = INTERSECTS('a', CIRCLE(1, 2, 3))", "geometry"),
    ("geometry comparison", "POINT(ra, dec) = POINT(1, 2)", "geometries cannot be compared"),
    ("geometry in BETWEEN", "POINT(ra, dec) BETWEEN 1 AND 2", "geometries"),
    ("CONTAINS circle in MOC", "1 = CONTAINS(CIRCLE(ra, dec, 1), MOC('3/1'))", "MOC"),
    ("bare CONTAINS", "CONTAINS(POINT(ra, dec), CIRCLE(1, 2, 3))", "condition"),
]


@pytest.mark.parametrize(("reason", "condition", "fragment"), PREDICATES, ids=[p[0] for p in PREDICATES])
def test_bad_geometry_predicates(reason: str, condition: str, fragment: str, catalog) -> None:
    with pytest.raises(AdqlError) as info:
        translate(f"SELECT id FROM {P} WHERE {condition}", catalog)
    assert fragment in info.value.message


@pytest.mark.parametrize("coordsys", ["", "ICRS", "icrs", "ICRS GEOCENTER", " ICRS "])
def test_accepted_coordinate_systems(coordsys: str, catalog) -> None:
    translation = translate(f"SELECT POINT('{coordsys}', ra, dec) FROM {P}", catalog)
    assert translation.columns[0].xtype == "point"


def test_coordsys_returns_icrs(catalog) -> None:
    assert "'ICRS'" in translate(f"SELECT COORDSYS(POINT(ra, dec)) FROM {P}", catalog).sql


def test_polygon_orientation_is_normalised(catalog) -> None:
    clockwise = translate(f"SELECT POLYGON(10, 10, 10, 12, 12, 12, 12, 10) FROM {P}", catalog).sql
    counter = translate(f"SELECT POLYGON(10, 10, 12, 10, 12, 12, 10, 12) FROM {P}", catalog).sql
    assert "{10.0,10.0,12.0,10.0,12.0,12.0,10.0,12.0}" in counter
    assert "{12.0,10.0,12.0,12.0,10.0,12.0,10.0,10.0}" in clockwise
