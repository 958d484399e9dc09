"""The embedded PostgreSQL: a private server under ``<data_dir>/pg``.

The ``pgserver`` wheel bundles PostgreSQL 16 and shares one running server
between every process that asks for the same data directory (the server and
a ``vo-server ingest`` run side by side); the last process to leave stops it.
Without ``pgserver`` (Python >= 3.13, or an exotic platform) we fall back to
``initdb``/``pg_ctl`` found on PATH.
"""

from __future__ import annotations

import atexit
import logging
import os
import shutil
import subprocess
import tempfile
import warnings
from pathlib import Path

log = logging.getLogger(__name__)


class EmbeddedPostgresError(RuntimeError):
    pass


ENGINES = ("auto", "pgserver", "pg_ctl")


def start_scratch_embedded(prefix: str) -> tuple[str, Path]:
    """A throw-away embedded server (tests, benchmarks) in a new temporary
    directory, removed at exit: (superuser URI, directory).  The removal is
    registered first, so it runs after the server's own stop handler
    (``atexit`` runs the last-registered first)."""
    root = Path(tempfile.mkdtemp(prefix=prefix))
    atexit.register(shutil.rmtree, root, ignore_errors=True)
    return start_embedded(root / "pg"), root


def start_embedded(pg_dir: Path, engine: str = "auto") -> str:
    """Start (or join) the embedded server in ``pg_dir``; return the superuser URI.

    ``engine``: "pgserver" (the wheel), "pg_ctl" (initdb/pg_ctl on PATH) or
    "auto" (pgserver when installed, else pg_ctl).
    """
    if engine not in ENGINES:
        raise EmbeddedPostgresError(f"embedded engine {engine!r} unknown; use one of {', '.join(ENGINES)}")
    pg_dir = pg_dir.expanduser().resolve()
    pg_dir.parent.mkdir(parents=True, exist_ok=True)
    if engine == "pg_ctl":
        return _start_with_pg_ctl(pg_dir)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # platformdirs warns when XDG_RUNTIME_DIR is unset
        try:
            import pgserver
        except ImportError:
            if engine == "pgserver":
                raise EmbeddedPostgresError("the pgserver wheel is not installed (Python <= 3.12 only)") from None
            return _start_with_pg_ctl(pg_dir)
        try:
            server = pgserver.get_server(pg_dir, cleanup_mode="stop")
        except subprocess.SubprocessError as exc:
            raise EmbeddedPostgresError(f"could not start the embedded PostgreSQL in {pg_dir}: {exc}; see {pg_dir}/log") from exc
    return server.get_uri()


def _start_with_pg_ctl(pg_dir: Path) -> str:
    initdb, pg_ctl = shutil.which("initdb"), shutil.which("pg_ctl")
    if not (initdb and pg_ctl):
        raise EmbeddedPostgresError(
            "no embedded PostgreSQL available: install the 'pgserver' wheel (Python <= 3.12) "
            "or put PostgreSQL's initdb and pg_ctl on PATH, or set VO_SERVER_DSN to an external server")
    as_user: list[str] = []
    if os.geteuid() == 0:  # PostgreSQL refuses to run as root: run it as the postgres user
        as_user = ["runuser", "-u", "postgres", "--"]
        pg_dir.mkdir(exist_ok=True)
        shutil.chown(pg_dir, "postgres", "postgres")
        for parent in pg_dir.parents:  # the postgres user must be able to reach the directory
            parent.chmod(parent.stat().st_mode | 0o011)
    if not (pg_dir / "PG_VERSION").exists():
        subprocess.run([*as_user, initdb, "-D", str(pg_dir), "--auth=trust", "-U", "postgres", "-E", "UTF8"],
                       check=True, capture_output=True)
    status = subprocess.run([*as_user, pg_ctl, "-D", str(pg_dir), "status"], capture_output=True)
    if status.returncode != 0:
        subprocess.run([*as_user, pg_ctl, "-D", str(pg_dir), "-w", "-l", str(pg_dir / "log"),
                        "-o", f"-h '' -k {pg_dir}", "start"], check=True, capture_output=True)
        atexit.register(subprocess.run, [*as_user, pg_ctl, "-D", str(pg_dir), "-w", "stop"], capture_output=True)
    return f"postgresql://postgres@/postgres?host={pg_dir}"
