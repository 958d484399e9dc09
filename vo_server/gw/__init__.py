"""Gravitational-wave sky maps: listing, summaries and catalogue overlaps."""
