"""vo-server: a Virtual Observatory archive server on plain PostgreSQL."""

__version__ = "0.1.0"
