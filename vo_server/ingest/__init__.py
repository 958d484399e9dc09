"""Loading catalogue files into published tables (``vo-server ingest``)."""

from vo_server.ingest.errors import IngestError

__all__ = ["IngestError"]
