"""Spatial core: HEALPix indexing, MOCs and the region -> index-range machinery."""
