"""Name resolution, reserved words, output metadata and row limits."""

from __future__ import annotations

import pytest

from adql import AdqlError, OutputColumn, translate
from adql.reserved import ADQL_RESERVED, RESERVED_WORDS, SQL_RESERVED

P = "adqltest.points"


@pytest.mark.parametrize("word", sorted(RESERVED_WORDS))
def test_reserved_word_as_column_alias_is_rejected(word: str, catalog) -> None:
    with pytest.raises(AdqlError) as info:
        translate(f"SELECT id AS {word} FROM {P}", catalog)
    assert info.value.line == 1


@pytest.mark.parametrize("word", sorted(ADQL_RESERVED | {"SIZE", "VALUE", "USER", "DATE", "SECTION"}))
def test_reserved_word_as_column_name_is_rejected_with_hint(word: str, catalog) -> None:
    with pytest.raises(AdqlError) as info:
        translate(f"SELECT t.{word} FROM {P} AS t", catalog)
    assert info.value.line == 1 and info.value.column is not None


@pytest.mark.parametrize("word", ["size", "value", "point", "select", "top"])
def test_reserved_word_delimited_is_an_ordinary_name(word: str, catalog) -> None:
    # delimited: not a reserved-word error, but an unknown column (with the right name)
    with pytest.raises(AdqlError, match=f"unknown column '{word}'"):
        translate(f'SELECT "{word}" FROM {P}', catalog)
    translation = translate(f'SELECT id AS "{word}" FROM {P}', catalog)
    assert translation.columns[0].name == word


def test_reserved_lists_match_the_bnf() -> None:
    assert "CONTAINS" in ADQL_RESERVED and "IN_UNIT" in ADQL_RESERVED and "OFFSET" in ADQL_RESERVED
    assert "END-EXEC" in SQL_RESERVED and "NULLIF" in SQL_RESERVED
    assert len(ADQL_RESERVED) == 41


@pytest.mark.parametrize("spelling", ["id", "ID", "Id", "iD"])
def test_regular_identifiers_are_case_insensitive(spelling: str, catalog) -> None:
    translation = translate(f"SELECT {spelling} FROM ADQLTEST.Points", catalog)
    assert translation.sql.startswith('SELECT "t1"."id"')
    assert translation.columns[0].name == "id"


def test_delimited_identifiers_are_case_sensitive(catalog) -> None:
    assert '"t1"."Id"' in translate('SELECT "Id" FROM adqltest."Mixed"', catalog).sql
    assert '"t1"."id"' in translate('SELECT "id" FROM adqltest."Mixed"', catalog).sql
    with pytest.raises(AdqlError, match="unknown column 'ID'"):
        translate('SELECT "ID" FROM adqltest."Mixed"', catalog)
    with pytest.raises(AdqlError, match="unknown table"):
        translate('SELECT * FROM adqltest."mixed"', catalog)


def test_regular_identifier_prefers_the_lower_case_column(catalog) -> None:
    # "Id" and "id" both exist: the regular identifier ID means the lower-case one
    assert '"t1"."id"' in translate("SELECT ID FROM adqltest.Mixed", catalog).sql
    assert '"t1"."VAL"' in translate("SELECT val FROM adqltest.Mixed", catalog).sql


def test_unknown_column_suggests(catalog) -> None:
    with pytest.raises(AdqlError) as info:
        translate(f"SELECT mga FROM {P}", catalog)
    assert info.value.suggestion == "mag"
    assert (info.value.line, info.value.column) == (1, 8)
    assert "did you mean mag?" in str(info.value)


def test_unknown_table_suggests(catalog) -> None:
    with pytest.raises(AdqlError) as info:
        translate("SELECT * FROM adqltest.pionts", catalog)
    assert info.value.suggestion == "adqltest.points"
    assert info.value.column == 15


def test_unknown_qualifier_suggests(catalog) -> None:
    with pytest.raises(AdqlError) as info:
        translate(f"SELECT pp.id FROM {P} AS p", catalog)
    assert "unknown table or alias 'pp'" in info.value.message


def test_unknown_function_suggests(catalog) -> None:
    with pytest.raises(AdqlError) as info:
        translate(f"SELECT DISTANCEE(ra, dec, 1, 2) FROM {P}", catalog)
    assert info.value.suggestion == "DISTANCE"


def test_ambiguous_column(catalog) -> None:
    with pytest.raises(AdqlError, match="ambiguous"):
        translate(f"SELECT id FROM {P} AS p, adqltest.other AS o", catalog)


def test_ambiguous_table_name_needs_schema() -> None:
    from adql import SimpleCatalog, TableInfo
    from adql.catalog import ColumnInfo

    cat = SimpleCatalog.of([TableInfo("a", "t", (ColumnInfo("x", "int"),)), TableInfo("b", "t", (ColumnInfo("x", "int"),))])
    with pytest.raises(AdqlError, match="ambiguous"):
        translate("SELECT x FROM t", cat)
    assert '"b"."t"' in translate("SELECT x FROM b.t", cat).sql


def test_table_alias_hides_table_name(catalog) -> None:
    with pytest.raises(AdqlError, match="unknown table or alias 'points'"):
        translate(f"SELECT points.id FROM {P} AS p", catalog)


def test_same_table_twice_needs_alias(catalog) -> None:
    with pytest.raises(AdqlError, match="appears twice"):
        translate(f"SELECT 1 FROM {P}, {P}", catalog)
    with pytest.raises(AdqlError, match="used twice"):
        translate(f"SELECT a.id FROM {P} AS a, adqltest.other AS a", catalog)


def test_star_expands_from_catalog(catalog) -> None:
    translation = translate(f"SELECT * FROM {P}", catalog)
    assert [c.name for c in translation.columns] == ["id", "ra", "dec", "hpx", "mag", "plx", "bits", "name", "flag"]
    ra = translation.columns[1]
    assert ra == OutputColumn("ra", "double", None, None, "deg", "pos.eq.ra;meta.main", None, "right ascension")


def test_qualified_star_expands_one_table(catalog) -> None:
    translation = translate(f"SELECT o.*, p.id FROM {P} AS p JOIN adqltest.other AS o ON p.id = o.id", catalog)
    names = [c.name for c in translation.columns]
    assert names[:3] == ["id", "ra", "dec"] and names[-1] == "id_2" and len(names) == 10


def test_using_merges_columns_in_star(catalog) -> None:
    translation = translate(f"SELECT * FROM {P} AS p JOIN adqltest.other AS o USING (id)", catalog)
    names = [c.name for c in translation.columns]
    assert names[0] == "id" and names.count("id") == 1 and len(names) == 17


def test_natural_join_merges_all_common_columns(catalog) -> None:
    translation = translate(f"SELECT * FROM {P} NATURAL JOIN adqltest.other", catalog)
    assert [c.name for c in translation.columns] == ["id", "ra", "dec", "hpx", "mag", "plx", "bits", "name", "flag"]


def test_cte_and_derived_table_columns_keep_metadata(catalog) -> None:
    translation = translate(f"WITH c AS (SELECT ra AS alpha FROM {P}) SELECT s.alpha FROM (SELECT alpha FROM c) AS s",
                            catalog)
    assert translation.columns[0].name == "alpha"
    assert translation.columns[0].unit == "deg"


def test_expression_metadata(catalog) -> None:
    translation = translate(
        f"SELECT COUNT(*), AVG(mag), DISTANCE(ra, dec, 1, 2) AS d, POINT(ra, dec), CIRCLE(ra, dec, 1), "
        f"BOX(ra, dec, 1, 1), name || 'x', IN_UNIT(ra, 'arcmin'), CAST(id AS SMALLINT), MOD(id, 2), "
        f"SUM(mag) FROM {P} GROUP BY ra, dec, name, id",
        catalog,
    )
    cols = translation.columns
    assert (cols[0].name, cols[0].datatype) == ("count", "long")
    assert (cols[1].datatype, cols[1].unit) == ("double", "mag")
    assert (cols[2].name, cols[2].unit) == ("d", "deg")
    assert (cols[3].datatype, cols[3].arraysize, cols[3].xtype) == ("double", "2", "point")
    assert (cols[4].arraysize, cols[4].xtype) == ("3", "circle")
    assert (cols[5].arraysize, cols[5].xtype) == ("*", "polygon")
    assert (cols[6].datatype, cols[6].arraysize) == ("char", "*")
    assert (cols[7].datatype, cols[7].unit) == ("double", "arcmin")
    assert cols[8].datatype == "short"
    assert cols[9].datatype == "int"
    assert cols[10].datatype == "double"


def test_duplicate_output_names_are_made_unique(catalog) -> None:
    translation = translate(f"SELECT id, id, ID AS id_2 FROM {P}", catalog)
    assert [c.name for c in translation.columns] == ["id", "id_2", "id_2_2"]


def test_translation_lists_tables(catalog) -> None:
    translation = translate(f"SELECT p.id FROM {P} AS p JOIN adqltest.other AS o ON p.id = o.id", catalog)
    assert translation.tables == ("adqltest.points", "adqltest.other")


class TestMaxRows:
    def test_no_limit_without_max_rows(self, catalog) -> None:
        translation = translate(f"SELECT id FROM {P}", catalog)
        assert translation.limit is None and "LIMIT" not in translation.sql

    def test_max_rows_adds_probe_row(self, catalog) -> None:
        translation = translate(f"SELECT id FROM {P} ORDER BY mag", catalog, max_rows=100)
        assert translation.sql.endswith("ORDER BY \"t1\".\"mag\" ASC LIMIT 101")
        assert translation.limit == 101 and translation.overflow_possible

    def test_smaller_top_wins(self, catalog) -> None:
        translation = translate(f"SELECT TOP 10 id FROM {P}", catalog, max_rows=100)
        assert translation.sql.endswith("LIMIT 10") and not translation.overflow_possible

    def test_top_equal_to_max_rows_cannot_overflow(self, catalog) -> None:
        translation = translate(f"SELECT TOP 100 id FROM {P}", catalog, max_rows=100)
        assert translation.limit == 100 and not translation.overflow_possible

    def test_larger_top_is_capped(self, catalog) -> None:
        translation = translate(f"SELECT TOP 1000 id FROM {P}", catalog, max_rows=100)
        assert translation.limit == 101 and translation.overflow_possible

    def test_offset_kept(self, catalog) -> None:
        translation = translate(f"SELECT id FROM {P} ORDER BY id OFFSET 5", catalog, max_rows=10)
        assert translation.sql.endswith("LIMIT 11 OFFSET 5")

    def test_set_operation(self, catalog) -> None:
        translation = translate(f"SELECT id FROM {P} UNION SELECT id FROM adqltest.other ORDER BY 1", catalog,
                                max_rows=5)
        assert translation.sql.endswith("ORDER BY 1 ASC LIMIT 6")

    def test_inner_top_untouched(self, catalog) -> None:
        translation = translate(f"SELECT id FROM (SELECT TOP 3 id FROM {P}) AS s", catalog, max_rows=1)
        assert "LIMIT 3" in translation.sql and translation.sql.endswith("LIMIT 2")

    def test_zero(self, catalog) -> None:
        assert translate(f"SELECT id FROM {P}", catalog, max_rows=0).limit == 1


def test_semantic_errors(catalog) -> None:
    cases = {
        f"SELECT id FROM {P} WHERE mag": "condition",
        f"SELECT id FROM {P} WHERE COUNT(*) > 1": "aggregate",
        f"SELECT COUNT(MAX(mag)) FROM {P}": "nested",
        f"SELECT id FROM {P} GROUP BY COUNT(*)": "aggregate",
        f"SELECT id FROM {P} WHERE name > 3": "cannot compare",
        f"SELECT mag + name FROM {P}": "numeric",
        f"SELECT name || 3 FROM {P}": "string",
        f"SELECT mag & 3 FROM {P}": "integer operands",
        f"SELECT ~mag FROM {P}": "integer operands",
        f"SELECT UPPER(mag) FROM {P}": "string",
        f"SELECT id FROM {P} WHERE name LIKE 3": "string",
        f"SELECT id FROM {P} ORDER BY 12": "position 12",
        f"SELECT id FROM {P} UNION SELECT id, ra FROM {P}": "different numbers of columns",
        f"SELECT id FROM {P} UNION SELECT name FROM {P}": "incompatible",
        f"SELECT id FROM {P} WHERE id IN (SELECT id, ra FROM {P})": "exactly one column",
        f"SELECT (SELECT id, ra FROM {P}) FROM {P}": "exactly one column",
        f"SELECT IN_UNIT(id, 'deg') FROM {P}": "unit is known",
        f"SELECT IN_UNIT(ra, 'kg') FROM {P}": "different dimensions",
        f"SELECT IN_UNIT(ra, 'furlongs_per_x') FROM {P}": "unknown unit",
        f"SELECT IN_UNIT(ra, name) FROM {P}": "string literal",
        f"SELECT ROUND(mag, 1.5) FROM {P}": "integer literal",
        f"SELECT ROUND(mag, id) FROM {P}": "integer literal",
        f"SELECT ABS(mag, 1) FROM {P}": "takes 1 argument",
        f"SELECT PI(1) FROM {P}": "takes 0 arguments",
        f"SELECT ATAN2(1) FROM {P}": "takes 2 arguments",
        f"SELECT CASE WHEN mag < 1 THEN 'a' ELSE 2 END FROM {P}": "incompatible",
        f"SELECT DISTINCT id FROM {P} ORDER BY mag": "DISTINCT",
        f"SELECT id FROM {P} AS p LEFT JOIN adqltest.other AS o": "needs ON or USING",
        f"SELECT id FROM {P} JOIN adqltest.other USING (nothere)": "USING column",
        f"SELECT id = 1 FROM {P}": "condition",
        f"SELECT id, COUNT(*) FROM {P} GROUP BY 1": "must appear in GROUP BY",  # 1 is a value, not a position
        f"SELECT CAST(id AS CHAR(0)) FROM {P}": "positive",
        f"SELECT CAST(POINT(1, 2) AS INTEGER) FROM {P}": "cast to INTEGER",
        f"SELECT SUM(name) FROM {P}": "numeric",
        f"SELECT COUNT(DISTINCT *) FROM {P}": "COUNT",
        f"SELECT ABS(*) FROM {P}": "'*'",
        f"WITH a AS (SELECT id FROM {P}), a AS (SELECT id FROM {P}) SELECT * FROM a": "defined twice",
        f"SELECT 0x12345678901234567 FROM {P}": "64 bits",
        f"SELECT RAND(1.5) FROM {P}": "seed",
    }
    for query, fragment in cases.items():
        with pytest.raises(AdqlError) as info:
            translate(query, catalog)
        assert fragment in info.value.message, (query, info.value.message)


@pytest.mark.parametrize(
    "query",
    [
        f"SELECT flag, COUNT(*) FROM {P}",
        f"SELECT mag, COUNT(*) FROM {P} GROUP BY flag",
        f"SELECT flag FROM {P} GROUP BY flag HAVING mag > 1",
        f"SELECT flag, COUNT(*) FROM {P} GROUP BY flag ORDER BY mag",
        f"SELECT * FROM {P} GROUP BY flag",
    ],
)
def test_ungrouped_columns_are_rejected(query: str, catalog) -> None:
    with pytest.raises(AdqlError, match="must appear in GROUP BY"):
        translate(query, catalog)


@pytest.mark.parametrize(
    "query",
    [
        f"SELECT flag, COUNT(*) FROM {P} GROUP BY flag",
        f"SELECT FLOOR(mag) + 1, COUNT(*) FROM {P} GROUP BY FLOOR(mag)",
        f"SELECT flag AS f, MAX(mag) FROM {P} GROUP BY f",
        f"SELECT COUNT(*) FROM {P} HAVING COUNT(*) > 1",
        f"SELECT flag, COUNT(*) FROM {P} GROUP BY flag HAVING MAX(mag) > 3 ORDER BY flag",
        f"SELECT p.flag, (SELECT MAX(o.mag) FROM adqltest.other AS o) FROM {P} AS p GROUP BY p.flag",
    ],
)
def test_grouped_queries_are_accepted(query: str, catalog) -> None:
    assert "GROUP BY" in translate(query, catalog).sql or "HAVING" in translate(query, catalog).sql


def test_using_column_ambiguous_with_a_third_table(catalog) -> None:
    with pytest.raises(AdqlError, match="ambiguous"):
        translate(f"SELECT id FROM {P} AS a JOIN adqltest.other AS b USING (id), adqltest.Mixed AS c", catalog)
    assert translate(f"SELECT a.id FROM {P} AS a JOIN adqltest.other AS b USING (id), adqltest.Mixed AS c",
                     catalog).sql


@pytest.mark.parametrize(
    "condition", ["p.id < o.id", "p.id = p.id", "1 = CONTAINS(POINT(p.ra, p.dec), CIRCLE(o.ra, o.dec, 1))",
                  "p.id = o.id OR p.ra = o.ra", "p.id = 3"],
)
def test_full_join_needs_column_equalities(condition: str, catalog) -> None:
    with pytest.raises(AdqlError, match="FULL OUTER JOIN"):
        translate(f"SELECT p.id FROM {P} AS p FULL OUTER JOIN adqltest.other AS o ON {condition}", catalog)


def test_full_join_with_equalities(catalog) -> None:
    sql = translate(f"SELECT p.id FROM {P} AS p FULL JOIN adqltest.other AS o ON (o.id = p.id) AND p.ra = o.ra",
                    catalog).sql
    assert "FULL OUTER JOIN" in sql


@pytest.mark.parametrize(
    "query",
    [f"(SELECT id FROM {P})", f"((SELECT id FROM {P}))", f"(SELECT id FROM {P}) ORDER BY 1",
     f"(SELECT id FROM {P}) ORDER BY id OFFSET 2", f"(SELECT TOP 50 id FROM {P})"],
)
def test_max_rows_applies_to_parenthesised_queries(query: str, catalog) -> None:
    translation = translate(query, catalog, max_rows=20)
    assert translation.limit == 21 and translation.overflow_possible
    assert "LIMIT 21" in translation.sql


def test_names_resolve_against_the_catalog_given_each_time() -> None:
    """Tables and columns are looked up through indexes cached per catalog
    and per table object: a reloaded catalog (new objects, same names) is
    resolved afresh, and case rules hold on wide tables."""
    from adql import ColumnInfo, SimpleCatalog, TableInfo

    wide = tuple(ColumnInfo(f"c{i}", "double") for i in range(200))
    before = SimpleCatalog.of([TableInfo("s", "t", (ColumnInfo("old", "int"), *wide))])
    after = SimpleCatalog.of([TableInfo("s", "t", (ColumnInfo("new", "int"), ColumnInfo("Mixed", "int"),
                                                   ColumnInfo("mixed", "long"), *wide))])
    assert translate("SELECT old, c199 FROM s.t", before).columns[0].name == "old"
    with pytest.raises(AdqlError, match="unknown column 'old'"):
        translate("SELECT old FROM s.t", after)
    assert [c.datatype for c in translate('SELECT MIXED, "Mixed", C150 FROM S.T', after).columns] == [
        "long", "int", "double"]  # all-lower-case stored name preferred for a regular identifier
    with pytest.raises(AdqlError, match="unknown column"):
        translate('SELECT "MIXED" FROM s.t', after)
    with pytest.raises(AdqlError, match="unknown table"):
        translate("SELECT new FROM s.u", after)
