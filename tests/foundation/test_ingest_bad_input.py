"""Every bad input to ``vo-server ingest``: a one-line error saying what to do,
a non-zero exit code, and the database exactly as it was."""

from __future__ import annotations

import re
import signal
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq
import pytest
from astropy.io import fits
from astropy.table import Table

from tests.foundation.files import bad_positions_table, star_table, write
from tests.foundation.snapshot import database_state

CLI = [sys.executable, "-m", "vo_server.cli"]


def run_cli(env: dict[str, str], *args: str, timeout: float = 120) -> subprocess.CompletedProcess:
    return subprocess.run([*CLI, *args], env=env, capture_output=True, text=True, timeout=timeout)


@pytest.fixture(scope="module")
def existing(db_target, cli_env, tmp_path_factory) -> Path:
    """A published table that every failed ingest must leave alone."""
    path = write(star_table(40), tmp_path_factory.mktemp("existing") / "stars.vot")
    result = run_cli(cli_env, "ingest", str(path), "--table", "keep.stars", "--quiet")
    assert result.returncode == 0, result.stderr
    return path


def assert_clean_failure(result: subprocess.CompletedProcess, expected: str) -> None:
    assert result.returncode != 0
    errors = [line for line in result.stderr.splitlines() if line.startswith("error:")]
    assert len(errors) == 1, result.stderr
    assert "Traceback" not in result.stderr
    assert re.search(expected, errors[0], re.IGNORECASE), errors[0]


def unreadable_files(tmp: Path) -> dict[str, tuple[Path, str]]:
    random_bytes = tmp / "noise.dat"
    random_bytes.write_bytes(np.random.default_rng(0).bytes(4096))
    truncated_fits = tmp / "truncated.fits"
    full = tmp / "full.fits"
    write(star_table(50), full)
    truncated_fits.write_bytes(full.read_bytes()[:4000])
    broken_xml = tmp / "broken.vot"
    broken_xml.write_text('<?xml version="1.0"?><VOTABLE version="1.4"><RESOURCE><TABLE><FIELD name="a" '
                          'datatype="int"/><DATA><TABLEDATA><TR><TD>1</TD></TR>')
    garbage_parquet = tmp / "garbage.parquet"
    garbage_parquet.write_bytes(b"PAR1" + b"\x00" * 100)
    image_only = tmp / "image.fits"
    fits.PrimaryHDU(np.zeros((4, 4))).writeto(image_only)
    return {
        "missing": (tmp / "does-not-exist.fits", "no such file"),
        "unknown format": (random_bytes, "unknown file format"),
        "truncated fits": (truncated_fits, "cannot read as fits"),
        "broken votable": (broken_xml, "cannot read as votable"),
        "garbage parquet": (garbage_parquet, "cannot read as parquet"),
        "fits without table": (image_only, "no table extension"),
    }


@pytest.mark.parametrize("case", ["missing", "unknown format", "truncated fits", "broken votable",
                                  "garbage parquet", "fits without table"])
def test_unreadable_input(db_target, cli_env, existing, tmp_path, case: str) -> None:
    path, expected = unreadable_files(tmp_path)[case]
    before = database_state(db_target.owner_dsn)
    result = run_cli(cli_env, "ingest", str(path), "--table", "new.things")
    assert_clean_failure(result, expected)
    assert database_state(db_target.owner_dsn) == before


def test_named_position_columns_absent(db_target, cli_env, existing, tmp_path) -> None:
    path = write(star_table(10), tmp_path / "s.parquet")
    before = database_state(db_target.owner_dsn)
    result = run_cli(cli_env, "ingest", str(path), "--table", "new.things", "--ra", "alpha", "--dec", "delta")
    assert_clean_failure(result, r"--ra 'alpha' is not a column of the file; columns are: id, RA, DEC")
    assert database_state(db_target.owner_dsn) == before


def test_table_exists_without_mode(db_target, cli_env, existing) -> None:
    before = database_state(db_target.owner_dsn)
    result = run_cli(cli_env, "ingest", str(existing), "--table", "keep.stars")
    assert_clean_failure(result, r"already exists: use --mode replace .* or --mode append")
    assert database_state(db_target.owner_dsn) == before


def test_unsupported_column_type(db_target, cli_env, existing, tmp_path) -> None:
    table = Table({"id": [1, 2], "z": np.array([1 + 2j, 3 - 1j])})
    path = tmp_path / "complex.fits"
    table.write(path)
    before = database_state(db_target.owner_dsn)
    result = run_cli(cli_env, "ingest", str(path), "--table", "new.things")
    assert_clean_failure(result, r"column z: complex numbers are not supported")
    assert database_state(db_target.owner_dsn) == before


def test_nested_parquet_type_is_refused(db_target, cli_env, existing, tmp_path) -> None:
    path = tmp_path / "nested.parquet"
    pq.write_table(pa.table({"id": [1, 2], "tags": [["a"], ["b", "c"]]}), path)
    before = database_state(db_target.owner_dsn)
    result = run_cli(cli_env, "ingest", str(path), "--table", "new.things")
    assert_clean_failure(result, r"column tags: type list<.*> is not supported")
    assert database_state(db_target.owner_dsn) == before


@pytest.mark.parametrize("name, expected", [("nodot", "must be SCHEMA.NAME"), ("a.b.c", "must be SCHEMA.NAME"),
                                            ("Bad.Name", "not a valid name"), ("tap_schema.x", "reserved"),
                                            ("pg_catalog.x", "reserved"), ("vo_internal.x", "reserved")])
def test_bad_table_names(db_target, cli_env, existing, name: str, expected: str) -> None:
    before = database_state(db_target.owner_dsn)
    assert_clean_failure(run_cli(cli_env, "ingest", str(existing), "--table", name), expected)
    assert database_state(db_target.owner_dsn) == before


def test_append_with_other_columns(db_target, cli_env, existing, tmp_path) -> None:
    table = star_table(10)
    table.remove_column("mag_g")
    path = write(table, tmp_path / "fewer.vot")
    before = database_state(db_target.owner_dsn)
    result = run_cli(cli_env, "ingest", str(path), "--table", "keep.stars", "--mode", "append")
    assert_clean_failure(result, r"cannot append .*missing \['mag_g'\]")
    assert database_state(db_target.owner_dsn) == before


def test_bad_metadata_file(db_target, cli_env, existing, tmp_path) -> None:
    meta = tmp_path / "meta.yaml"
    meta.write_text("columns:\n  nosuchcolumn: {unit: m}\n")
    path = write(star_table(10), tmp_path / "s.vot")
    before = database_state(db_target.owner_dsn)
    result = run_cli(cli_env, "ingest", str(path), "--table", "new.things", "--metadata", str(meta))
    assert_clean_failure(result, r"columns.nosuchcolumn is not a column")
    assert database_state(db_target.owner_dsn) == before


def test_invalid_positions_are_kept_and_counted(db_target, cli_env, existing, tmp_path) -> None:
    path = write(bad_positions_table(), tmp_path / "bad.vot")
    result = run_cli(cli_env, "ingest", str(path), "--table", "badpos.things", "--quiet")
    assert result.returncode == 0, result.stderr
    assert "5 rows have a missing or invalid position" in result.stderr
    assert "6 rows in the table" in result.stdout and "5 rows without a valid position" in result.stdout
    import psycopg
    with psycopg.connect(db_target.query_dsn) as conn:
        rows = conn.execute("SELECT id, hpx IS NOT NULL FROM badpos.things ORDER BY id").fetchall()
        bad = conn.execute("SELECT 1").fetchone()
    assert rows == [(0, True), (1, False), (2, False), (3, False), (4, False), (5, False)]
    assert bad == (1,)


def test_interrupted_load_leaves_previous_table(db_target, cli_env, existing, tmp_path) -> None:
    """SIGINT in the middle of COPY: the previous table and metadata stay as they were."""
    n = 4_000_000
    rng = np.random.default_rng(1)
    path = tmp_path / "big.parquet"
    pq.write_table(pa.table({"id": np.arange(n), "RA": rng.uniform(0, 360, n), "DEC": rng.uniform(-90, 90, n),
                             "mag_g": rng.uniform(5, 20, n).astype(np.float32),
                             "name": pa.array(np.full(n, "x")), "flag": np.zeros(n, dtype=bool)}), path)
    before = database_state(db_target.owner_dsn)
    proc = subprocess.Popen([*CLI, "ingest", str(path), "--table", "keep.stars", "--mode", "replace"],
                            env=cli_env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    stderr = ""
    deadline = time.monotonic() + 60
    assert proc.stderr is not None
    while time.monotonic() < deadline:  # wait until rows are flowing into the database
        char = proc.stderr.read(1)
        if not char:
            break
        stderr += char
        if re.search(r"loading keep\.stars: *[1-9]", stderr):
            break
    proc.send_signal(signal.SIGINT)
    out, err = proc.communicate(timeout=60)
    assert proc.returncode == 130, stderr + err
    assert "interrupted: nothing was changed" in err
    assert database_state(db_target.owner_dsn) == before
