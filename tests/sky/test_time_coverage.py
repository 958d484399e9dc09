"""Temporal coverage (T-MOC): computed by the ingest from the table's time
column, served at /moc/tables/{table}/time, gone with the table."""

from __future__ import annotations

import io

import astropy.units as u
import httpx
import numpy as np
import psycopg
import pytest
from astropy.time import Time
from mocpy import TimeMOC

from tests.foundation.files import star_table, write
from vo_server.ingest.loader import IngestRequest, drop_table, ingest
from vo_server.sky.time_coverage import CELL_US, MJD_TO_JD, US_PER_DAY

MJD = np.array([58000.0, 58000.01, 58001.5, 59000.25])


@pytest.fixture(scope="module")
def timed(db_target, tmp_path_factory):
    table = star_table(4, seed=3)
    table["obs_mjd"] = MJD * u.d
    table["obs_mjd"].meta["ucd"] = "time.epoch"
    path = write(table, tmp_path_factory.mktemp("tmoc") / "timed.vot")
    report = ingest(db_target, IngestRequest(path=path, table="tmoc.timed", mode="create"))
    assert "time coverage" in report.timings
    untimed = write(star_table(5, seed=4), tmp_path_factory.mktemp("tmoc") / "untimed.vot")
    ingest(db_target, IngestRequest(path=untimed, table="tmoc.untimed", mode="create"))
    return "tmoc.timed"


def _stored(db_target, name: str) -> list[tuple]:
    with psycopg.connect(db_target.owner_dsn) as conn:
        return conn.execute("SELECT column_name, moc FROM vo_sky.time_coverage WHERE table_name = %s",
                            (name,)).fetchall()


def test_ingest_stores_the_tmoc_of_the_time_column(db_target, timed):
    stored = _stored(db_target, "timed")
    assert [row[0] for row in stored] == ["obs_mjd"]
    moc = TimeMOC.from_string(stored[0][1], format="ascii")
    cells = {int(v) for v in np.floor((MJD + MJD_TO_JD) * US_PER_DAY / CELL_US)}
    assert len(cells) == 3  # the first two epochs share an order-29 cell
    # every epoch lies in the T-MOC; a day without observations does not
    assert moc.contains(Time(MJD, format="mjd", scale="tcb")).all()
    assert not moc.contains(Time([58500.0], format="mjd", scale="tcb")).any()
    assert _stored(db_target, "untimed") == []


def test_tmoc_endpoint_serves_the_stored_moc(live_server, db_target, timed):
    response = httpx.get(f"{live_server.url}/moc/tables/{timed}/time", params={"format": "fits"})
    assert response.status_code == 200
    served = TimeMOC.from_fits(io.BytesIO(response.content))
    assert served == TimeMOC.from_string(_stored(db_target, "timed")[0][1], format="ascii")
    missing = httpx.get(f"{live_server.url}/moc/tables/tmoc.untimed/time")
    assert missing.status_code == 404 and "time column" in missing.text


def test_drop_removes_the_tmoc(db_target, timed, tmp_path):
    table = star_table(2, seed=5)
    table["t"] = np.array([58000.0, 58010.0]) * u.d
    table["t"].meta["ucd"] = "time.start"
    path = write(table, tmp_path / "gone.vot")
    ingest(db_target, IngestRequest(path=path, table="tmoc.gone", mode="create"))
    assert len(_stored(db_target, "gone")) == 1
    drop_table(db_target, "tmoc.gone")
    assert _stored(db_target, "gone") == []
