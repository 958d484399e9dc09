"""Demo data for ``make run``: real catalogues loaded through the normal
ingest path.  The server itself never depends on any of it."""
