"""TAP 1.1 service under /tap: sync and async (UWS 1.1) queries, VOSI,
TAP_SCHEMA, uploads, examples; see docs/tap.md."""
