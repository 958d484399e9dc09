"""Server settings: environment variables over an optional ``vo-server.toml``
over defaults.

Every setting has an environment variable ``VO_SERVER_<NAME>`` (upper case)
and a key ``<name>`` in the TOML file (looked up in ``$VO_SERVER_CONFIG``,
else ``./vo-server.toml``).  README lists them all; ``vo-server config``
prints the effective values.
"""

from __future__ import annotations

import os
import tomllib
from dataclasses import dataclass, field, fields
from pathlib import Path
from typing import Any

REPO_ROOT = Path(__file__).resolve().parent.parent


class ConfigError(Exception):
    """A setting has a value the server cannot use."""


@dataclass(frozen=True)
class Settings:
    dsn: str | None = field(default=None, metadata={"doc": "External PostgreSQL (>= 14) connection string; unset = embedded PostgreSQL under <data_dir>/pg"})
    query_dsn: str | None = field(default=None, metadata={"doc": "Connection string for client queries (a role with SELECT only); unset = the owner DSN with SET ROLE <query_role>"})
    query_role: str = field(default="vo_query", metadata={"doc": "Role that runs client queries: SELECT on published schemas only"})
    data_dir: Path = field(default=Path("var"), metadata={"doc": "Where the embedded PostgreSQL, job results and uploaded files live"})
    embedded_engine: str = field(default="auto", metadata={"doc": "How the embedded PostgreSQL runs: pgserver (bundled wheel), pg_ctl (initdb/pg_ctl on PATH), or auto"})
    host: str = field(default="127.0.0.1", metadata={"doc": "Interface the HTTP server listens on"})
    port: int = field(default=8000, metadata={"doc": "HTTP port"})
    workers: int = field(default=0, metadata={"doc": "HTTP server processes (vo-server serve --workers N); 0 = one per CPU core, at most 4"})
    shutdown_timeout: float = field(default=30.0, metadata={"doc": "Seconds a stopping server (SIGTERM, Ctrl-C) gives in-flight requests before closing them; running async jobs are requeued"})
    base_url: str | None = field(default=None, metadata={"doc": "Public URL of the server as clients see it (behind a proxy); default http://<host>:<port>"})
    authority: str = field(default="ivo://example.org", metadata={"doc": "IVOA authority ID (ivo://...) under which resources are published: set it to your own"})
    publisher: str | None = field(default=None, metadata={"doc": "Publisher name; overrides schemas/resource.yaml"})
    contact_name: str | None = field(default=None, metadata={"doc": "Contact person; overrides schemas/resource.yaml"})
    contact_email: str | None = field(default=None, metadata={"doc": "Contact e-mail; overrides schemas/resource.yaml"})
    schemas_dir: Path = field(default=REPO_ROOT / "schemas", metadata={"doc": "Directory of the metadata YAML files"})
    statement_timeout: float = field(default=60.0, metadata={"doc": "Seconds a client query may run before PostgreSQL cancels it"})
    coverage_order: int = field(default=8, metadata={"doc": "HEALPix order of the coverage MOCs computed at ingest"})
    log_level: str = field(default="info", metadata={"doc": "Logging level: debug, info, warning, error"})
    tap_max_rec: int = field(default=100000, metadata={"doc": "TAP: rows returned when the client gives no MAXREC (a larger result is truncated and flagged OVERFLOW)"})
    tap_max_rec_limit: int = field(default=10000000, metadata={"doc": "TAP: the largest MAXREC a client may ask for (hard limit)"})
    tap_upload_max_bytes: int = field(default=50_000_000, metadata={"doc": "TAP: largest accepted upload (inline or fetched from a URL), in bytes"})
    tap_upload_max_rows: int = field(default=1_000_000, metadata={"doc": "TAP: largest number of rows in one uploaded table"})
    tap_upload_fetch_timeout: float = field(default=30.0, metadata={"doc": "TAP: seconds allowed to fetch an upload given by URL"})
    tap_async_execution_duration: int = field(default=3600, metadata={"doc": "TAP: default and maximum execution duration of an async job, in seconds"})
    tap_async_destruction: int = field(default=7 * 86400, metadata={"doc": "TAP: seconds after creation when an async job and its results are destroyed (default and maximum)"})
    tap_async_workers: int = field(default=2, metadata={"doc": "TAP: async jobs executed at the same time by one server process"})
    oai_page_size: int = field(default=100, metadata={"doc": "Records per OAI-PMH list response; longer lists continue with a resumptionToken"})
    oai_token_lifetime: int = field(default=86400, metadata={"doc": "Seconds an OAI-PMH resumptionToken stays valid (tokens survive restarts)"})

    @property
    def public_url(self) -> str:
        return (self.base_url or f"http://{self.host}:{self.port}").rstrip("/")

    @property
    def pg_dir(self) -> Path:
        return self.data_dir / "pg"


def _coerce(name: str, raw: Any, kind: Any) -> Any:
    if raw is None:
        return None
    try:
        if kind in (int, "int"):
            return int(raw)
        if kind in (float, "float"):
            return float(raw)
        if kind in (Path, "Path"):
            return Path(str(raw)).expanduser()
    except (TypeError, ValueError) as exc:
        raise ConfigError(f"setting {name}={raw!r} is not a valid {getattr(kind, '__name__', kind)}") from exc
    return str(raw)


def _field_kind(annotation: str) -> str:
    base = annotation.replace(" | None", "")
    return base


def load_settings(env: dict[str, str] | None = None, config_file: Path | None = None) -> Settings:
    """Effective settings: environment, then TOML file, then defaults."""
    env = dict(os.environ if env is None else env)
    path = config_file or Path(env.get("VO_SERVER_CONFIG", "vo-server.toml"))
    file_values: dict[str, Any] = {}
    if path.is_file():
        try:
            file_values = tomllib.loads(path.read_text())
        except tomllib.TOMLDecodeError as exc:
            raise ConfigError(f"{path}: not valid TOML ({exc})") from exc
    known = {f.name for f in fields(Settings)}
    unknown = set(file_values) - known
    if unknown:
        raise ConfigError(f"{path}: unknown settings {sorted(unknown)}; known: {sorted(known)}")
    values: dict[str, Any] = {}
    for f in fields(Settings):
        raw = env.get(f"VO_SERVER_{f.name.upper()}", file_values.get(f.name))
        if raw is not None and raw != "":
            values[f.name] = _coerce(f.name, raw, _field_kind(str(f.type)))
    settings = Settings(**values)
    if settings.workers < 0 or settings.shutdown_timeout < 0:
        raise ConfigError("workers and shutdown_timeout must not be negative")
    if settings.oai_page_size < 1 or settings.oai_token_lifetime < 1:
        raise ConfigError("oai_page_size and oai_token_lifetime must be positive")
    if not settings.authority.startswith("ivo://") or "/" in settings.authority[6:]:
        raise ConfigError(f"authority {settings.authority!r} must look like ivo://your.authority (no path)")
    return settings


def describe_settings() -> list[tuple[str, str, str]]:
    """(environment variable, default, meaning) for every setting, for docs and --help."""
    rows = []
    for f in fields(Settings):
        default = "" if f.default is None else str(f.default)
        if f.name == "schemas_dir":
            default = "<repository>/schemas"
        rows.append((f"VO_SERVER_{f.name.upper()}", default, f.metadata["doc"]))
    return rows
