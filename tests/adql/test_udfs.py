"""The UDF registry (for TAPRegExt) and the GW sky-map functions' wiring."""

from __future__ import annotations

import pytest

from adql import UDFS, AdqlError, translate
from adql.spatial import NamedRegion
from tests.adql.support import CATALOG

P = "adqltest.points"


def test_udfs_are_listed_with_signatures() -> None:
    names = {signature.split("(")[0] for signature, _ in UDFS}
    assert {"ivo_healpix_index", "ivo_healpix_center", "ivo_hasword", "ivo_nocasematch", "ivo_string_agg",
            "ivo_epoch_prop_pos", "gw_region", "gw_probdensity", "gw_credible_level"} <= names
    for signature, description in UDFS:
        assert "->" in signature and description.endswith(".")


class RecordingCompiler:
    def __init__(self) -> None:
        self.regions: list = []

    def region_prefilter(self, position, region):
        self.regions.append((position, region))
        return f"gw_prefilter({position.hpx_sql})"

    def join_prefilter(self, position, other, radius):
        return None


def test_gw_region_gets_a_named_region_prefilter() -> None:
    compiler = RecordingCompiler()
    sql = translate(f"SELECT id FROM {P} WHERE 1 = CONTAINS(POINT(ra, dec), gw_region('S200129m', 0.9))",
                    CATALOG, compiler).sql
    assert compiler.regions[0][1] == NamedRegion("gw_region", ("S200129m", 0.9))
    assert compiler.regions[0][0].hpx_sql == '"t1"."hpx"'
    assert 'gw_prefilter("t1"."hpx")' in sql and "vo_sky.gw_in_region('S200129m'" in sql


def test_gw_region_without_index_is_exact_only() -> None:
    compiler = RecordingCompiler()
    sql = translate(f"SELECT id FROM {P} WHERE 1 = CONTAINS(POINT(ra + 1, dec), gw_region('S1', 0.5))",
                    CATALOG, compiler).sql
    assert "gw_prefilter" not in sql and "vo_sky.gw_in_region" in sql


def test_gw_values_use_the_stored_index() -> None:
    sql = translate(f"SELECT gw_probdensity('S1', ra, dec), gw_credible_level('S1', ra, dec), "
                    f"gw_probdensity('S1', dec, ra) FROM {P}", CATALOG).sql
    assert "vo_sky.gw_probdensity_hpx('S1', \"t1\".\"hpx\")" in sql
    assert "vo_sky.gw_credible_level_hpx('S1', \"t1\".\"hpx\")" in sql
    assert "vo_sky.gw_probdensity('S1', \"t1\".\"dec\", \"t1\".\"ra\")" in sql


def test_gw_map_name_is_a_safe_literal() -> None:
    sql = translate(f"SELECT gw_probdensity('x''); DROP TABLE y; --', ra, dec) FROM {P}", CATALOG).sql
    assert "'x''); DROP TABLE y; --'" in sql


@pytest.mark.parametrize(
    ("query", "fragment"),
    [
        (f"SELECT gw_region('S1', 0.9) FROM {P}", "only be used inside"),
        (f"SELECT id FROM {P} WHERE 1 = CONTAINS(POINT(ra, dec), gw_region('S1', 1.5))", "between 0 and 1"),
        (f"SELECT id FROM {P} WHERE 1 = CONTAINS(POINT(ra, dec), gw_region('S1', mag))", "between 0 and 1"),
        (f"SELECT id FROM {P} WHERE 1 = CONTAINS(POINT(ra, dec), gw_region(name, 0.5))", "string literal"),
        (f"SELECT id FROM {P} WHERE 1 = CONTAINS(POINT(ra, dec), gw_region('', 0.5))", "non-empty"),
        (f"SELECT id FROM {P} WHERE 1 = INTERSECTS(CIRCLE(ra, dec, 1), gw_region('S1', 0.5))", "needs a point"),
        (f"SELECT gw_probdensity('S1', ra) FROM {P}", "takes 3 arguments"),
        (f"SELECT gw_credible_level('S1', name, dec) FROM {P}", "numeric"),
    ],
)
def test_gw_errors(query: str, fragment: str) -> None:
    with pytest.raises(AdqlError) as info:
        translate(query, CATALOG)
    assert fragment in info.value.message
