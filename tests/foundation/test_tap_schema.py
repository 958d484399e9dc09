"""TAP_SCHEMA rows come from the YAML files and from the ingested file's own metadata."""

from __future__ import annotations

import psycopg
import pytest

from tests.foundation.files import star_table, write
from vo_server.config import REPO_ROOT
from vo_server.ingest.loader import IngestRequest, ingest
from vo_server.metadata.tap_schema import adql_column_name, read_schemas, read_tables, stored_column_name
from vo_server.metadata.yaml_files import load_schema_files


def tap_rows(dsn: str, table_name: str) -> dict[str, tuple]:
    with psycopg.connect(dsn) as conn:
        rows = conn.execute(
            "SELECT column_name, datatype, arraysize, xtype, unit, ucd, utype, description, principal, indexed, "
            "std, column_index FROM tap_schema.columns WHERE table_name = %s ORDER BY column_index",
            (table_name,)).fetchall()
    return {r[0]: r[1:] for r in rows}


def test_tap_schema_describes_itself_exactly_as_the_yaml_says(db_target) -> None:
    (tap_schema,) = [s for s in load_schema_files(REPO_ROOT / "schemas") if s.name == "tap_schema"]
    assert [t.name for t in tap_schema.tables] == ["schemas", "tables", "columns", "keys", "key_columns"]
    for table in tap_schema.tables:
        rows = tap_rows(db_target.query_dsn, f"tap_schema.{table.name}")
        # TAP 1.1: names that are ADQL reserved words ("size") are published delimited
        assert list(rows) == [adql_column_name(c.name) for c in table.columns]
        for index, col in enumerate(table.columns, start=1):
            datatype, arraysize, xtype, unit, ucd, utype, description, principal, indexed, std, col_index = rows[
                adql_column_name(col.name)]
            assert (datatype, arraysize, xtype, unit, ucd, utype, description) == (
                col.datatype, col.arraysize, col.xtype, col.unit, col.ucd, col.utype, col.description)
            assert (principal, indexed, std, col_index) == (int(col.principal), int(col.indexed), int(col.std), index)


def test_tap_schema_tables_match_the_database_columns(db_target) -> None:
    """What TAP_SCHEMA says is what the database has (names and order).  The one
    kind of unpublished column: the stored geometry of a region column
    (vo_server.sky.footprint_index, e.g. ivoa.obscore.s_region_dali)."""
    from vo_server.sky.footprint_index import REGION_COLUMNS

    with psycopg.connect(db_target.owner_dsn) as conn:
        for table in read_tables(conn):
            internal = {r.geometry_column for r in REGION_COLUMNS.get((table.schema, table.name), ())}
            actual = [r[0] for r in conn.execute(
                "SELECT column_name FROM information_schema.columns WHERE table_schema = %s AND table_name = %s "
                "ORDER BY ordinal_position", (table.schema, table.name))]
            assert [name for name in actual if name not in internal] == [
                stored_column_name(c.name) for c in table.columns], table.qualified_name
            assert internal <= set(actual), table.qualified_name


def test_keys_are_published(db_target) -> None:
    with psycopg.connect(db_target.query_dsn) as conn:
        keys = conn.execute("SELECT k.key_id, from_table, target_table, from_column, target_column "
                            "FROM tap_schema.keys k JOIN tap_schema.key_columns USING (key_id) ORDER BY 1").fetchall()
    assert ("columns_table", "tap_schema.columns", "tap_schema.tables", "table_name", "table_name") in keys
    assert len(keys) == 5


@pytest.mark.parametrize("suffix", [".vot", ".fits", ".ecsv", ".parquet"])
def test_ingested_file_metadata_lands_in_tap_schema(db_target, tmp_path, suffix: str) -> None:
    table_name = f"meta.stars_{suffix[1:]}"
    path = write(star_table(30), tmp_path / f"stars{suffix}")
    ingest(db_target, IngestRequest(path=path, table=table_name))
    rows = tap_rows(db_target.query_dsn, table_name)
    assert list(rows) == ["id", "ra", "dec", "mag_g", "name", "flag", "hpx"]
    assert rows["ra"][:6] == ("double", None, None, "deg", "pos.eq.ra;meta.main", None)
    assert rows["ra"][6] == "Right ascension"
    assert rows["dec"][3:5] == ("deg", "pos.eq.dec;meta.main")
    assert rows["mag_g"][:5] == ("float", None, None, "mag", "phot.mag;em.opt.V")
    assert rows["mag_g"][6] == "Magnitude in g"
    assert rows["id"][0] == "long" and rows["id"][4] == "meta.id;meta.main"
    assert rows["name"][:2] == ("char", "*")
    assert rows["flag"][0] == "boolean"
    assert rows["hpx"][0] == "long" and rows["hpx"][4] == "pos.healpix" and rows["hpx"][8] == 1  # indexed
    assert rows["ra"][8] == 1 and rows["ra"][7] == 1  # indexed (through hpx) and principal
    with psycopg.connect(db_target.query_dsn) as conn:
        description = conn.execute("SELECT description FROM tap_schema.tables WHERE table_name = %s",
                                   (table_name,)).fetchone()[0]
    if suffix != ".fits":  # FITS has no table description; EXTNAME is used
        assert description == "Test stars"


def test_metadata_file_overrides_and_adds(db_target, tmp_path) -> None:
    path = write(star_table(10), tmp_path / "stars.csv")  # CSV carries no units: the YAML adds them
    meta = tmp_path / "meta.yaml"
    meta.write_text("schema: {description: My catalogues}\n"
                    "table: {description: Overridden, citation: Someone 2024, license: CC-BY-4.0}\n"
                    "columns:\n  mag_g: {unit: mag, ucd: phot.mag;em.opt.B, description: B magnitude}\n"
                    "  RA: {description: RA from yaml}\n")
    ingest(db_target, IngestRequest(path=path, table="yamlcat.stars", metadata=meta))
    rows = tap_rows(db_target.query_dsn, "yamlcat.stars")
    assert rows["mag_g"][3:5] == ("mag", "phot.mag;em.opt.B") and rows["mag_g"][6] == "B magnitude"
    assert rows["ra"][6] == "RA from yaml"
    with psycopg.connect(db_target.owner_dsn) as conn:
        schemas = {s.name: s for s in read_schemas(conn)}
        extra = conn.execute("SELECT extra FROM vo_internal.published_tables WHERE schema_name = 'yamlcat'").fetchone()[0]
    assert schemas["yamlcat"].description == "My catalogues"
    assert schemas["yamlcat"].tables[0].description == "Overridden"
    assert extra["citation"] == "Someone 2024" and extra["license"] == "CC-BY-4.0" and extra["source"] == "stars.csv"
