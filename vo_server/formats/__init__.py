"""Streaming writers of query results (VOTable, and more as the TAP service grows)."""
