"""The ``vo-server`` command as an operator uses it: help, config, and the
server with its embedded PostgreSQL started and stopped cleanly."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time

import httpx
import psutil

from tests.conftest import free_port

CLI = [sys.executable, "-m", "vo_server.cli"]


def test_help_lists_commands_and_settings() -> None:
    result = subprocess.run([*CLI, "--help"], capture_output=True, text=True, timeout=60)
    assert result.returncode == 0
    for word in ("serve", "ingest", "tables", "drop", "db", "VO_SERVER_DSN", "VO_SERVER_AUTHORITY"):
        assert word in result.stdout


def test_ingest_help_explains_metadata() -> None:
    result = subprocess.run([*CLI, "ingest", "--help"], capture_output=True, text=True, timeout=60)
    assert result.returncode == 0 and "--metadata" in result.stdout and "--mode" in result.stdout


def test_bad_configuration_is_one_line(tmp_path) -> None:
    env = {**os.environ, "VO_SERVER_PORT": "eighty", "VO_SERVER_DATA_DIR": str(tmp_path)}
    result = subprocess.run([*CLI, "tables"], capture_output=True, text=True, env=env, timeout=60)
    assert result.returncode == 2
    assert result.stderr.strip() == "error: setting port='eighty' is not a valid int"


def test_unreachable_external_database(tmp_path) -> None:
    env = {**os.environ, "VO_SERVER_DSN": f"host={tmp_path} port=1 user=x dbname=y connect_timeout=2"}
    result = subprocess.run([*CLI, "tables"], capture_output=True, text=True, env=env, timeout=60)
    assert result.returncode == 2
    assert result.stderr.startswith("error: cannot reach PostgreSQL")


def test_tables_and_drop(cli_env, tmp_path) -> None:
    from tests.foundation.files import star_table, write
    path = write(star_table(8), tmp_path / "s.vot")
    assert subprocess.run([*CLI, "ingest", str(path), "--table", "clitest.stars", "--quiet"], env=cli_env,
                          capture_output=True, timeout=120).returncode == 0
    listing = subprocess.run([*CLI, "tables"], env=cli_env, capture_output=True, text=True, timeout=60)
    assert "clitest.stars" in listing.stdout and "8 rows" in listing.stdout
    dropped = subprocess.run([*CLI, "drop", "clitest.stars"], env=cli_env, capture_output=True, text=True, timeout=60)
    assert dropped.returncode == 0
    again = subprocess.run([*CLI, "drop", "clitest.stars"], env=cli_env, capture_output=True, text=True, timeout=60)
    assert again.returncode == 2 and "is not a published table" in again.stderr


def _postgres_processes(pg_dir) -> list[psutil.Process]:
    found = []
    for proc in psutil.process_iter(attrs=["name", "cmdline"]):
        if proc.info["name"] == "postgres" and str(pg_dir) in " ".join(proc.info["cmdline"] or []):
            found.append(proc)
    return found


def test_serve_on_embedded_postgres_and_stop_cleanly(tmp_path) -> None:
    """What `make run` does: embedded PostgreSQL, migrations, serve; Ctrl-C stops both;
    a second start reuses the data."""
    port = free_port()
    env = {k: v for k, v in os.environ.items() if not k.startswith("VO_SERVER_")}
    env.update(VO_SERVER_DATA_DIR=str(tmp_path / "var"), VO_SERVER_PORT=str(port))
    from tests.foundation.files import star_table, write
    path = write(star_table(25), tmp_path / "s.vot")
    for attempt in range(2):
        if attempt == 0:  # the CLI starts the embedded server, loads, and stops it again
            result = subprocess.run([*CLI, "ingest", str(path), "--table", "emb.stars", "--quiet"],
                                    env=env, capture_output=True, text=True, timeout=120)
            assert result.returncode == 0, result.stderr
            assert not _postgres_processes(tmp_path / "var" / "pg")
        server = subprocess.Popen([*CLI, "serve"], env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT)
        try:
            deadline = time.monotonic() + 60
            while True:
                try:
                    page = httpx.get(f"http://127.0.0.1:{port}/", timeout=2)
                    break
                except httpx.TransportError:
                    assert time.monotonic() < deadline and server.poll() is None, "server did not start"
                    time.sleep(0.2)
            assert page.status_code == 200 and "emb.stars" in page.text
            assert _postgres_processes(tmp_path / "var" / "pg")
            if attempt == 1:  # ingest while serving: shares the running PostgreSQL, shows up at once
                result = subprocess.run([*CLI, "ingest", str(path), "--table", "emb.more", "--quiet"],
                                        env=env, capture_output=True, text=True, timeout=120)
                assert result.returncode == 0, result.stderr
                assert "emb.more" in httpx.get(f"http://127.0.0.1:{port}/", timeout=5).text
        finally:
            server.send_signal(signal.SIGINT)
            server.wait(timeout=30)
        assert server.returncode == 0
        deadline = time.monotonic() + 10
        while _postgres_processes(tmp_path / "var" / "pg") and time.monotonic() < deadline:
            time.sleep(0.1)
        assert not _postgres_processes(tmp_path / "var" / "pg"), "embedded PostgreSQL still running after Ctrl-C"


def test_readme_documents_every_setting() -> None:
    from vo_server.config import REPO_ROOT, describe_settings
    readme = (REPO_ROOT / "README.md").read_text()
    missing = [var for var, _, _ in describe_settings() if f"`{var}`" not in readme]
    assert not missing, f"README lacks {missing}"
    assert "make run" in readme and "make test" in readme


def test_pg_ctl_fallback_engine(tmp_path) -> None:
    """Without the pgserver wheel, PostgreSQL's own initdb/pg_ctl (here Debian's, on PATH) serve."""
    import shutil

    import psycopg

    from vo_server.db.embedded import start_embedded
    from vo_server.db.migrations import upgrade
    from vo_server.db.target import bootstrap_embedded, embedded_target
    assert shutil.which("initdb") and shutil.which("pg_ctl"), "PostgreSQL's initdb/pg_ctl must be on PATH"
    pg_dir = tmp_path / "fallback" / "pg"
    uri = start_embedded(pg_dir, engine="pg_ctl")
    try:
        bootstrap_embedded(uri, "vo_query", "vo")
        target = embedded_target(uri, "vo_query", "vo")
        upgrade(target)
        with psycopg.connect(target.query_dsn) as conn:
            assert conn.execute("SELECT count(*) FROM tap_schema.tables WHERE schema_name = 'tap_schema'").fetchone()[0] == 5
    finally:
        subprocess.run(["runuser", "-u", "postgres", "--", shutil.which("pg_ctl"), "-D", str(pg_dir), "-w",
                        "-m", "fast", "stop"] if os.geteuid() == 0 else
                       [shutil.which("pg_ctl"), "-D", str(pg_dir), "-w", "-m", "fast", "stop"], capture_output=True)
