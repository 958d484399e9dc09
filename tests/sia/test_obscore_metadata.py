"""ivoa.obscore metadata checked against the ObsCore 1.1 standard's table of
mandatory columns (IVOA REC 2017-05-09, table 6 and appendix B), as
published in TAP_SCHEMA, and the demo collection loaded by the demo loader."""

from __future__ import annotations

import io

import httpx
import psycopg
import pytest
from astropy.io.votable import parse_single_table

from tests.conftest import LiveServer, free_port
from vo_server.config import Settings

# name: (type family, unit, UCD, utype without the "obscore:" prefix) -- copied from the standard
OBSCORE_11_MANDATORY = {
    "dataproduct_type": ("char", None, "meta.code.class", "ObsDataset.dataProductType"),
    "calib_level": ("int", None, "meta.code;obs.calib", "ObsDataset.calibLevel"),
    "obs_collection": ("char", None, "meta.id", "DataID.Collection"),
    "obs_id": ("char", None, "meta.id", "DataID.observationID"),
    "obs_publisher_did": ("char", None, "meta.ref.ivoid", "Curation.PublisherDID"),
    "access_url": ("char", None, "meta.ref.url", "Access.Reference"),
    "access_format": ("char", None, "meta.code.mime", "Access.Format"),
    "access_estsize": ("int", "kbyte", "phys.size;meta.file", "Access.Size"),
    "target_name": ("char", None, "meta.id;src", "Target.Name"),
    "s_ra": ("float", "deg", "pos.eq.ra", "Char.SpatialAxis.Coverage.Location.Coord.Position2D.Value2.C1"),
    "s_dec": ("float", "deg", "pos.eq.dec", "Char.SpatialAxis.Coverage.Location.Coord.Position2D.Value2.C2"),
    "s_fov": ("float", "deg", "phys.angSize;instr.fov", "Char.SpatialAxis.Coverage.Bounds.Extent.diameter"),
    "s_region": ("region", None, "pos.outline;obs.field", "Char.SpatialAxis.Coverage.Support.Area"),
    "s_resolution": ("float", "arcsec", "pos.angResolution", "Char.SpatialAxis.Resolution.Refval.value"),
    "s_xel1": ("int", None, "meta.number", "Char.SpatialAxis.numBins1"),
    "s_xel2": ("int", None, "meta.number", "Char.SpatialAxis.numBins2"),
    "t_min": ("float", "d", "time.start;obs.exposure", "Char.TimeAxis.Coverage.Bounds.Limits.StartTime"),
    "t_max": ("float", "d", "time.end;obs.exposure", "Char.TimeAxis.Coverage.Bounds.Limits.StopTime"),
    "t_exptime": ("float", "s", "time.duration;obs.exposure", "Char.TimeAxis.Coverage.Support.Extent"),
    "t_resolution": ("float", "s", "time.resolution", "Char.TimeAxis.Resolution.Refval.value"),
    "t_xel": ("int", None, "meta.number", "Char.TimeAxis.numBins"),
    "em_min": ("float", "m", "em.wl;stat.min", "Char.SpectralAxis.Coverage.Bounds.Limits.LoLimit"),
    "em_max": ("float", "m", "em.wl;stat.max", "Char.SpectralAxis.Coverage.Bounds.Limits.HiLimit"),
    "em_res_power": ("float", None, "spect.resolution", "Char.SpectralAxis.Resolution.ResolPower.refVal"),
    "em_xel": ("int", None, "meta.number", "Char.SpectralAxis.numBins"),
    "o_ucd": ("char", None, "meta.ucd", "Char.ObservableAxis.ucd"),
    "pol_states": ("char", None, "meta.code;phys.polarization", "Char.PolarizationAxis.stateList"),
    "pol_xel": ("int", None, "meta.number", "Char.PolarizationAxis.numBins"),
    "facility_name": ("char", None, "meta.id;instr.tel", "Provenance.ObsConfig.Facility.name"),
    "instrument_name": ("char", None, "meta.id;instr", "Provenance.ObsConfig.Instrument.name"),
}
TYPE_FAMILIES = {"char": {"char", "unicodeChar"}, "int": {"short", "int", "long"}, "float": {"float", "double"}}


def published_columns(dsn: str) -> dict[str, tuple]:
    with psycopg.connect(dsn) as conn:
        return {r[0]: r[1:] for r in conn.execute(
            "SELECT column_name, datatype, arraysize, xtype, unit, ucd, utype, std, description "
            "FROM tap_schema.columns WHERE table_name = 'ivoa.obscore'")}


def test_every_mandatory_column_as_the_standard_says(query_dsn):
    columns = published_columns(query_dsn)
    assert set(columns) == set(OBSCORE_11_MANDATORY)
    for name, (family, unit, ucd, utype) in OBSCORE_11_MANDATORY.items():
        datatype, arraysize, xtype, got_unit, got_ucd, got_utype, std, description = columns[name]
        if family == "region":  # ObsCore 1.1 adql:REGION: an STC-S string
            assert (datatype, arraysize, xtype) == ("char", "*", "adql:REGION"), name
        else:
            assert datatype in TYPE_FAMILIES[family], name
        if family == "char":
            assert arraysize == "*", name
        assert got_unit == unit, name
        assert got_ucd == ucd, name
        assert got_utype.lower() == f"obscore:{utype}".lower(), name
        assert std == 1 and description, name


def test_table_and_schema_published(query_dsn):
    with psycopg.connect(query_dsn) as conn:
        assert conn.execute("SELECT schema_name, utype FROM tap_schema.tables WHERE table_name = 'ivoa.obscore'"
                            ).fetchall() == [("ivoa", "ivo://ivoa.net/std/ObsCore#core-1.1")]
        assert conn.execute("SELECT count(*) FROM tap_schema.schemas WHERE schema_name = 'ivoa'").fetchone()[0] == 1
        # the query role reads the table and its footprint index, not the internal file records
        conn.execute("SELECT count(*) FROM ivoa.obscore, ivoa.obscore_footprint")
        with pytest.raises(psycopg.errors.InsufficientPrivilege):
            conn.execute("SELECT * FROM vo_internal.image_files")


@pytest.mark.filterwarnings("ignore::astropy.utils.exceptions.AstropyWarning")
def test_demo_loader_publishes_the_demo_images(db_target, tmp_path_factory):
    from vo_server.demo.images import COLLECTION, demo_image_files, load_demo_images

    settings = Settings(host="127.0.0.1", port=free_port(), data_dir=tmp_path_factory.mktemp("demo"))
    assert load_demo_images(db_target, settings) is True
    assert load_demo_images(db_target, settings) is False  # already there
    with LiveServer(settings, db_target) as server:
        response = httpx.get(f"{server.url}/sia/query", params={"COLLECTION": COLLECTION,
                                                                "RESPONSEFORMAT": "votable"}, timeout=30)
        assert response.status_code == 200
        assert response.content.count(b"<TR>") == 0  # BINARY2 by default
        table = parse_single_table(io.BytesIO(response.content)).to_table()
        assert len(table) == len(demo_image_files())
        for url in table["access_url"]:
            assert httpx.head(str(url), timeout=10).status_code == 200


def test_migration_0009_converts_dali_polygons_to_stcs(db_target):
    """A database from before 0009 stored s_region as a DALI polygon: its rows
    become STC-S text with the polygon (counter-clockwise) kept in s_region_dali."""
    import importlib

    migration = importlib.import_module("vo_server.migrations.0009_obscore_region")
    with psycopg.connect(db_target.owner_dsn) as conn:
        conn.execute("ALTER TABLE ivoa.obscore DROP COLUMN s_region_dali")
        conn.execute("ALTER TABLE ivoa.obscore ALTER COLUMN s_region TYPE double precision[] USING NULL")
        clockwise = [10.0, 20.0, 10.0, 21.0, 11.0, 21.0, 11.0, 20.0]
        conn.execute("INSERT INTO ivoa.obscore (obs_publisher_did, obs_id, obs_collection, calib_level, s_region) "
                     "VALUES ('ivo://x/old', 'old', 'old', 1, %s)", (clockwise,))
        migration.convert_s_region(conn)
        text, dali, inside = conn.execute(
            "SELECT s_region, s_region_dali, adql_region_within('point', ARRAY[10.5, 20.5], 'polygon', s_region_dali)"
            " FROM ivoa.obscore WHERE obs_id = 'old'").fetchone()
        conn.rollback()
    assert dali == [11.0, 20.0, 11.0, 21.0, 10.0, 21.0, 10.0, 20.0]  # counter-clockwise now
    assert text == "Polygon ICRS 11 20 11 21 10 21 10 20" and inside is True
