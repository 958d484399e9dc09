"""``vo-server``: run the archive and manage its data.

Every command works on the embedded PostgreSQL under the data directory
(started on demand, shared with a running server) unless VO_SERVER_DSN points
to an external PostgreSQL.  Errors are one line on stderr and a non-zero exit.
"""

from __future__ import annotations

import argparse
import logging
import sys
import textwrap
from pathlib import Path

import psycopg

from vo_server.config import ConfigError, Settings, describe_settings, load_settings
from vo_server.db.embedded import EmbeddedPostgresError
from vo_server.ingest.errors import IngestError
from vo_server.metadata.yaml_files import MetadataError
from vo_server.sky.skymap_files import SkymapError

log = logging.getLogger("vo_server")

EPILOG = "configuration (environment variable, default: meaning):\n" + "\n".join(
    textwrap.fill(f"{var}  [{default}]  {doc}", width=100, initial_indent="  ", subsequent_indent="      ")
    for var, default, doc in describe_settings())


def setup_logging(settings: Settings) -> None:
    logging.basicConfig(level=settings.log_level.upper(), format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    logging.getLogger("pgserver").setLevel(logging.WARNING)


def _target(settings: Settings):
    from vo_server.db.migrations import upgrade
    from vo_server.db.target import resolve_target

    target = resolve_target(settings)
    upgrade(target)
    return target


def cmd_serve(args: argparse.Namespace, settings: Settings) -> int:
    from vo_server.serving import serve, worker_count

    if args.host:
        settings = Settings(**{**settings.__dict__, "host": args.host})
    if args.port:
        settings = Settings(**{**settings.__dict__, "port": args.port})
    if args.workers is not None:
        if args.workers < 0:
            raise ConfigError("--workers must be >= 0 (0 = one per CPU core)")
        settings = Settings(**{**settings.__dict__, "workers": args.workers})
    target = _target(settings)
    if args.demo:
        from vo_server.demo.loader import load_demo
        for table in load_demo(target, settings):
            log.info("demo table %s loaded", table)
    log.info("serving %s (database %s, %d process(es))", settings.public_url,
             "embedded" if target.embedded else "external", worker_count(settings))
    serve(settings, target)
    return 0


def cmd_db(args: argparse.Namespace, settings: Settings) -> int:
    from vo_server.db.migrations import applied_versions, available_migrations, upgrade
    from vo_server.db.target import resolve_target

    target = resolve_target(settings)
    if args.action == "upgrade":
        applied = upgrade(target)
        print(f"applied {len(applied)} migration(s): {', '.join(applied)}" if applied else "database is up to date")
    else:
        done = set(applied_versions(target)) if _has_migrations_table(target) else set()
        for m in available_migrations():
            print(f"{'applied' if m.version in done else 'pending'}  {m.version}")
    return 0


def _has_migrations_table(target) -> bool:
    with psycopg.connect(target.owner_dsn) as conn:
        return conn.execute("SELECT to_regclass('vo_internal.schema_migrations') IS NOT NULL").fetchone()[0]


def cmd_ingest(args: argparse.Namespace, settings: Settings) -> int:
    from tqdm import tqdm

    from vo_server.ingest.loader import IngestRequest, ingest

    request = IngestRequest(path=Path(args.file), table=args.table, ra=args.ra, dec=args.dec, mode=args.mode,
                            metadata=Path(args.metadata) if args.metadata else None, format=args.format,
                            coverage_order=settings.coverage_order)
    target = _target(settings)
    bar: tqdm | None = None

    def progress(rows: int) -> None:  # the bar appears once rows flow, not before a possible early error
        nonlocal bar
        if bar is None:
            bar = tqdm(unit=" rows", unit_scale=True, desc=f"loading {args.table}", disable=args.quiet,
                       file=sys.stderr, mininterval=0.5)
        bar.update(rows)

    try:
        report = ingest(target, request, progress=progress)
    finally:
        if bar is not None:
            bar.close()
    for warning in report.warnings:
        print(f"warning: {warning}", file=sys.stderr)
    position = f"position ({report.ra_column}, {report.dec_column})" if report.ra_column else "no position columns"
    coverage = f", sky coverage {100 * report.sky_fraction:.3g}%" if report.sky_fraction is not None else ""
    print(f"{report.table}: {report.mode} done, {report.rows} rows in the table, {position}, "
          f"{report.bad_positions} rows without a valid position{coverage}")
    print("time: " + ", ".join(f"{stage} {seconds:.2f} s" for stage, seconds in report.timings.items()))
    return 0


def cmd_ingest_images(args: argparse.Namespace, settings: Settings) -> int:
    from vo_server.sia.ingest import ImageIngestRequest, ingest_images

    request = ImageIngestRequest(paths=[Path(p) for p in args.paths], collection=args.collection,
                                 facility=args.facility, instrument=args.instrument, calib_level=args.calib_level)
    report = ingest_images(_target(settings), settings, request)
    for path, reason in report.skipped[:50]:
        print(f"skipped {path}: {reason}", file=sys.stderr)
    if len(report.skipped) > 50:
        print(f"... and {len(report.skipped) - 50} more skipped", file=sys.stderr)
    print(f"{report.collection}: loaded {len(report.files_loaded)} file(s), {report.rows} row(s) into "
          f"ivoa.obscore; {len(report.skipped)} skipped")
    return 0


def cmd_tables(args: argparse.Namespace, settings: Settings) -> int:
    from vo_server.ingest.loader import list_tables

    tables = list_tables(_target(settings))
    if not tables:
        print("no tables published; load one with: vo-server ingest FILE --table SCHEMA.NAME")
    for t in tables:
        pos = f"({t['ra_column']}, {t['dec_column']})" if t["ra_column"] else "-"
        print(f"{t['table']:<32} {t['rows']:>12,} rows  position {pos:<20} {(t['description'] or '')[:60]}")
    return 0


def cmd_drop(args: argparse.Namespace, settings: Settings) -> int:
    from vo_server.ingest.loader import drop_table

    drop_table(_target(settings), args.table)
    print(f"{args.table} dropped")
    return 0


def cmd_demo(args: argparse.Namespace, settings: Settings) -> int:
    from vo_server.demo.loader import load_demo

    loaded = load_demo(_target(settings), settings)
    print(f"loaded: {', '.join(loaded)}" if loaded else "demo data already loaded")
    return 0


def cmd_skymap(args: argparse.Namespace, settings: Settings) -> int:
    from vo_server.sky.skymaps import drop_skymap, ingest_skymap, list_skymaps

    target = _target(settings)
    if args.action == "ingest":
        report = ingest_skymap(target, Path(args.file), args.name, replace=args.replace)
        for warning in report.warnings:
            print(f"warning: {warning}", file=sys.stderr)
        print(f"{report.name}: {report.tiles} tiles in {report.seconds:.2f} s, 50% area {report.area_50:.2f} deg2, "
              f"90% area {report.area_90:.2f} deg2, {'with' if report.has_distance else 'no'} distance layers")
    elif args.action == "list":
        maps = list_skymaps(target)
        if not maps:
            print("no sky maps; load one with: vo-server skymap ingest FILE --name NAME")
        for m in maps:
            print(f"{m['name']:<24} {str(m['object'] or ''):<20} {str(m['date_obs'] or ''):<26} "
                  f"90% {m['area_90']:>9.2f} deg2  {m['tile_count']:>8} tiles{'  3D' if m['has_distance'] else ''}")
    else:
        drop_skymap(target, args.name)
        print(f"{args.name} dropped")
    return 0


def cmd_config(args: argparse.Namespace, settings: Settings) -> int:
    for name, value in settings.__dict__.items():
        print(f"{name} = {value}")
    return 0


def cmd_registry(args: argparse.Namespace, settings: Settings) -> int:
    from registry.conformance import run_conformance
    from vo_server.app import create_app

    report = run_conformance(create_app(settings, _target(settings)))
    print(report.summary())
    return 0 if report.ok else 1


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="vo-server", description=__doc__.split("\n\n")[0].replace("``", ""),
        epilog=EPILOG, formatter_class=argparse.RawDescriptionHelpFormatter)
    sub = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")

    p = sub.add_parser("serve", help="run the HTTP server", description="Run the HTTP server (migrations are applied first).")
    p.add_argument("--host", help="interface to listen on (VO_SERVER_HOST)")
    p.add_argument("--port", type=int, help="port (VO_SERVER_PORT)")
    p.add_argument("--demo", action="store_true", help="load the demo data first if it is not loaded yet")
    p.add_argument("--workers", type=int, metavar="N",
                   help="server processes (VO_SERVER_WORKERS; 0 = one per CPU core, at most 4)")
    p.set_defaults(func=cmd_serve)

    p = sub.add_parser("db", help="database migrations", description="Apply or list schema migrations.")
    p.add_argument("action", choices=["upgrade", "status"])
    p.set_defaults(func=cmd_db)

    p = sub.add_parser(
        "ingest", help="load a catalogue file into a published table",
        formatter_class=argparse.RawDescriptionHelpFormatter,
        description="Load a FITS binary table, VOTable, CSV/ECSV or Parquet file into SCHEMA.NAME.\n"
                    "Units, UCDs and descriptions are taken from the file; --metadata adds or overrides them.\n"
                    "With a position (ra/dec in degrees, detected from UCDs or usual names, or given),\n"
                    "each row gets its HEALPix index and the table its coverage MOC.  The load is atomic.",
        epilog="example:\n  vo-server ingest stars.parquet --table mycat.stars --ra RAJ2000 --dec DEJ2000\n"
               "metadata file (YAML):\n  table: {description: ..., citation: ..., license: ...}\n"
               "  columns: {mag_g: {unit: mag, ucd: phot.mag;em.opt.V, description: ...}}")
    p.add_argument("file", help="the file to load")
    p.add_argument("--table", required=True, help="target table as SCHEMA.NAME (lower case)")
    p.add_argument("--ra", help="right ascension column (degrees, ICRS)")
    p.add_argument("--dec", help="declination column (degrees, ICRS)")
    p.add_argument("--mode", choices=["create", "append", "replace"],
                   help="required when the table exists: replace it, or append rows")
    p.add_argument("--metadata", help="YAML file with table and column metadata")
    p.add_argument("--format", choices=["fits", "votable", "csv", "ecsv", "parquet"],
                   help="file format (default: from the extension or the content)")
    p.add_argument("--quiet", action="store_true", help="no progress bar")
    p.set_defaults(func=cmd_ingest)

    p = sub.add_parser(
        "ingest-images", help="publish FITS images in ivoa.obscore (SIA 2.0)",
        description="Describe every image HDU with a celestial WCS in ivoa.obscore and serve the files.\n"
                    "Files are copied under <data_dir>/images/COLLECTION; re-ingesting a file replaces its rows.")
    p.add_argument("paths", nargs="+", metavar="FILE_OR_DIR", help="FITS files, or directories searched recursively")
    p.add_argument("--collection", required=True, help="obs_collection name (letters, digits, _ . -)")
    p.add_argument("--facility", help="facility_name for these images (default: TELESCOP from the header)")
    p.add_argument("--instrument", help="instrument_name for these images (default: INSTRUME from the header)")
    p.add_argument("--calib-level", type=int, default=1, choices=range(0, 5), metavar="N",
                   help="ObsCore calib_level 0-4 (default 1)")
    p.set_defaults(func=cmd_ingest_images)

    p = sub.add_parser("tables", help="list published tables")
    p.set_defaults(func=cmd_tables)

    p = sub.add_parser("drop", help="remove a published table and its metadata")
    p.add_argument("table", help="SCHEMA.NAME")
    p.set_defaults(func=cmd_drop)

    p = sub.add_parser("demo", help="load the demo data (Gaia DR3 bright stars)")
    p.set_defaults(func=cmd_demo)

    p = sub.add_parser("skymap", help="gravitational-wave sky maps: ingest, list, drop",
                       description="Store HEALPix sky maps (multi-order UNIQ/PROBDENSITY or flat PROB, "
                                   "with DISTMU/DISTSIGMA/DISTNORM when present) for /gw and ADQL overlaps.")
    p.add_argument("action", choices=["ingest", "list", "drop"])
    p.add_argument("file", nargs="?", help="FITS sky map (ingest)")
    p.add_argument("--name", help="name of the sky map, e.g. GW170817 (ingest, drop)")
    p.add_argument("--replace", action="store_true", help="replace a sky map of the same name (ingest)")
    p.set_defaults(func=cmd_skymap)

    p = sub.add_parser("registry", help="OAI-PMH registry checks",
                       description="validate: run every OAI-PMH verb, record and error case through the registry "
                                   "and check each response against the bundled XSDs (exit 1 on any problem).")
    p.add_argument("action", choices=["validate"])
    p.set_defaults(func=cmd_registry)

    p = sub.add_parser("config", help="print the effective configuration")
    p.set_defaults(func=cmd_config)
    return parser


def main(argv: list[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    if args.command == "skymap":
        if args.action == "ingest" and not (args.file and args.name):
            parser.error("skymap ingest needs FILE and --name NAME")
        if args.action == "drop":
            args.name = args.name or args.file
            if not args.name:
                parser.error("skymap drop needs the NAME")
    try:
        settings = load_settings()
        setup_logging(settings)
        return args.func(args, settings)
    except (IngestError, ConfigError, MetadataError, EmbeddedPostgresError, PermissionError, SkymapError) as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    except psycopg.OperationalError as exc:
        print(f"error: cannot reach PostgreSQL: {str(exc).strip().splitlines()[0]}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print("interrupted: nothing was changed by the unfinished command", file=sys.stderr)
        return 130


if __name__ == "__main__":
    sys.exit(main())
