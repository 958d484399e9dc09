"""The OAI-PMH 2.0 registry: VOResource, Dublin Core and DataCite records
derived from the archive's published metadata (see docs/registry.md)."""
