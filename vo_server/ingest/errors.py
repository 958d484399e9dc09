class IngestError(Exception):
    """An ingest that cannot proceed; the message says what to do.  The
    database is left as it was."""
