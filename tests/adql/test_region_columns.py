"""Region columns (STC-S text, xtype adql:REGION, e.g. ObsCore s_region) in
the translator: which exact SQL is emitted, what the spatial compiler is asked
for (``footprint_prefilter``), and what stays plain text.  Execution against
PostgreSQL with the HEALPix compiler is tested in tests/sia/test_region_adql.py."""

from __future__ import annotations

import pytest

from adql import AdqlError, PlainSpatialCompiler, translate
from adql.catalog import ColumnInfo, RegionColumn, SimpleCatalog, TableInfo
from adql.spatial import Circle, IndexedFootprint, Polygon
from tests.adql.support import RangeTestCompiler

C = ColumnInfo
OBSCORE_COLUMNS = (C("obs_publisher_did", "char", "*"), C("obs_id", "char", "*"),
                   C("s_region", "char", "*", xtype="adql:REGION", ucd="pos.outline;obs.field"))
CATALOG = SimpleCatalog.of([
    TableInfo("ivoa", "obscore", OBSCORE_COLUMNS, region_columns=(
        RegionColumn("s_region", "s_region_dali", "the.index", "obs_publisher_did"),)),
    TableInfo("plain", "regions", OBSCORE_COLUMNS, region_columns=(RegionColumn("s_region", "s_region_dali"),)),
    TableInfo("text", "regions", OBSCORE_COLUMNS),
])


class RecordingCompiler(PlainSpatialCompiler):
    """Answers every footprint request with a marker and remembers it."""

    def __init__(self) -> None:
        self.requests: list[tuple[IndexedFootprint, object]] = []

    def footprint_prefilter(self, footprint, region):
        self.requests.append((footprint, region))
        return "INDEX_MARKER"


@pytest.mark.parametrize(("predicate", "region"), [
    ("1 = INTERSECTS(s_region, CIRCLE('ICRS', 10, 20, 1))", Circle(10.0, 20.0, 1.0)),
    ("INTERSECTS(CIRCLE(10, 20, 1), s_region) = 1", Circle(10.0, 20.0, 1.0)),
    ("1 = CONTAINS(POINT('ICRS', 10, 20), s_region)", Circle(10.0, 20.0, 0.0)),
    ("1 = INTERSECTS(POINT(10, 20), s_region)", Circle(10.0, 20.0, 0.0)),
    ("1 = CONTAINS(s_region, CIRCLE(10, 20, 5))", Circle(10.0, 20.0, 5.0)),
    ("1 = CONTAINS(CIRCLE(10, 20, 0.1), s_region)", Circle(10.0, 20.0, 0.1)),
    ("1 = INTERSECTS(s_region, POLYGON(10, 20, 11, 20, 11, 21))", Polygon(((10.0, 20.0), (11.0, 20.0), (11.0, 21.0)))),
    ("1 = INTERSECTS(s_region, REGION('Circle ICRS 10 20 1'))", Circle(10.0, 20.0, 1.0)),
])
def test_indexed_predicates_ask_for_the_footprint_prefilter(predicate, region):
    spatial = RecordingCompiler()
    sql = translate(f"SELECT obs_id FROM ivoa.obscore AS o WHERE {predicate}", CATALOG, spatial).sql
    assert spatial.requests == [(IndexedFootprint("the.index", '"t1"."obs_publisher_did"'), region)]
    assert "INDEX_MARKER" in sql and '"t1"."s_region_dali"' in sql
    assert "adql_dali_kind" in sql  # the stored geometry may be a circle or a polygon


def test_box_is_passed_as_its_polygon():
    spatial = RecordingCompiler()
    translate("SELECT obs_id FROM ivoa.obscore WHERE 1 = INTERSECTS(s_region, BOX(10, 20, 2, 1))", CATALOG, spatial)
    ((_, region),) = spatial.requests
    assert isinstance(region, Polygon) and len(region.vertices) == 4


def test_negated_test_is_exact_only():
    sql = translate("SELECT obs_id FROM ivoa.obscore WHERE 0 = INTERSECTS(s_region, CIRCLE(10, 20, 1))", CATALOG,
                    RecordingCompiler()).sql
    assert "INDEX_MARKER" not in sql and "(NOT adql_region_intersects(" in sql


def test_no_prefilter_between_two_region_columns():
    spatial = RecordingCompiler()
    sql = translate("SELECT a.obs_id FROM ivoa.obscore AS a, plain.regions AS b "
                    "WHERE 1 = INTERSECTS(a.s_region, b.s_region)", CATALOG, spatial).sql
    assert spatial.requests == [] and "INDEX_MARKER" not in sql
    assert '"t1"."s_region_dali"' in sql and '"t2"."s_region_dali"' in sql


def test_compilers_without_the_method_and_tables_without_an_index():
    query = "SELECT obs_id FROM {} WHERE 1 = INTERSECTS(s_region, CIRCLE(10, 20, 1))"
    exact = translate(query.format("ivoa.obscore"), CATALOG, RangeTestCompiler()).sql  # no footprint_prefilter
    assert "adql_region_intersects" in exact
    spatial = RecordingCompiler()
    unindexed = translate(query.format("plain.regions"), CATALOG, spatial).sql
    assert spatial.requests == [] and "adql_region_intersects" in unindexed


def test_selected_region_is_the_stcs_text_with_its_metadata():
    t = translate("SELECT s_region, AREA(s_region) AS a, CENTROID(s_region) AS c, COORDSYS(s_region) AS s "
                  "FROM ivoa.obscore WHERE s_region IS NOT NULL", CATALOG, RecordingCompiler())
    region, area, centroid, coordsys = t.columns
    assert (region.datatype, region.arraysize, region.xtype, region.ucd) == (
        "char", "*", "adql:REGION", "pos.outline;obs.field")
    assert area.unit == "deg**2" and (centroid.datatype, centroid.xtype) == ("double", "point")
    assert '"t1"."s_region" AS "s_region"' in t.sql
    assert "adql_dali_area" in t.sql and "adql_dali_centroid" in t.sql


def test_text_where_the_catalog_gives_no_geometry():
    for query in ("SELECT obs_id FROM text.regions WHERE 1 = INTERSECTS(s_region, CIRCLE(10, 20, 1))",
                  "SELECT q.obs_id FROM (SELECT obs_id, s_region FROM ivoa.obscore) AS q "
                  "WHERE 1 = INTERSECTS(q.s_region, CIRCLE(10, 20, 1))"):
        with pytest.raises(AdqlError, match="geometry"):
            translate(query, CATALOG)
    assert "LIKE" in translate("SELECT obs_id FROM text.regions WHERE s_region LIKE 'Circle%'", CATALOG).sql


def test_region_with_a_moc_is_an_error():
    with pytest.raises(AdqlError, match="MOC"):
        translate("SELECT obs_id FROM ivoa.obscore WHERE 1 = CONTAINS(s_region, MOC('3/1-5'))", CATALOG)
