"""Fixtures for the ADQL tests: the catalog and test data in PostgreSQL."""

from __future__ import annotations

from collections.abc import Iterator

import numpy as np
import psycopg
import pytest

from adql.catalog import SimpleCatalog
from tests.adql.support import CATALOG, depth29, random_points


@pytest.fixture(scope="session")
def catalog() -> SimpleCatalog:
    return CATALOG


@pytest.fixture(scope="module")
def sky(db_dsn: str) -> Iterator[dict]:
    """Tables adqltest.points (10 000 rows) and adqltest.other (2 000 rows)."""
    data = {}
    with psycopg.connect(db_dsn, autocommit=True) as conn:
        conn.execute("DROP SCHEMA IF EXISTS adqltest CASCADE")
        conn.execute("CREATE SCHEMA adqltest")
        for table, n, seed in (("points", 10_000, 1), ("other", 2_000, 2)):
            ra, dec = random_points(n, seed)
            hpx = depth29(ra, dec)
            rng = np.random.default_rng(seed + 10)
            mag = rng.uniform(5, 21, n).astype(np.float32)
            plx = rng.uniform(-1, 20, n)
            bits = rng.integers(0, 2**40, n)
            conn.execute(
                f"CREATE TABLE adqltest.{table} (id integer PRIMARY KEY, ra double precision, "
                "dec double precision, hpx bigint, mag real, plx double precision, bits bigint, name text, "
                "flag boolean)"
            )
            with conn.cursor().copy(f"COPY adqltest.{table} FROM STDIN") as copy:
                for i in range(n):
                    name = None if i % 17 == 0 else f"star {i} {'alpha' if i % 3 == 0 else 'beta'}"
                    copy.write_row((i, float(ra[i]), float(dec[i]), int(hpx[i]), float(mag[i]), float(plx[i]),
                                    int(bits[i]), name, bool(i % 2)))
            conn.execute(f"CREATE INDEX ON adqltest.{table} (hpx)")
            conn.execute(f"ANALYZE adqltest.{table}")
            data[table] = {"ra": ra, "dec": dec, "hpx": hpx, "mag": mag, "plx": plx, "bits": bits}
        conn.execute('CREATE TABLE adqltest."Mixed" ("Id" integer, id integer, "VAL" double precision)')
        conn.execute('INSERT INTO adqltest."Mixed" VALUES (1, 10, 0.5), (2, 20, 1.5), (3, 30, NULL)')
        conn.execute(
            "CREATE TABLE adqltest.regions (id integer, pos double precision[], shape double precision[], "
            "cone double precision[], obs_time timestamp)"
        )
        conn.execute(
            "INSERT INTO adqltest.regions VALUES "
            "(1, '{10,20}', '{9,19,11,19,11,21,9,21}', '{10,20,1}', '2020-01-01T00:00:00'), "
            "(2, '{200,-30}', '{199,-31,201,-31,200,-29}', '{200,-30,0.5}', '2021-06-01T12:00:00')"
        )
        conn.execute("CREATE SCHEMA IF NOT EXISTS tap_schema")
        yield data
