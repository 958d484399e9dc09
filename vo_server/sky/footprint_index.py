"""Where region columns keep their geometry and footprint index.

ObsCore ``s_region`` is published as STC-S text (ObsCore 1.1 ``adql:REGION``);
its geometry for computation is the unpublished column ``s_region_dali`` and
its footprint index is ``ivoa.obscore_footprint`` (migrations 0007 and 0009).
The TAP catalog hands these names to the ADQL translator
(``adql.catalog.RegionColumn``), the HEALPix spatial compiler resolves the
index name here (so only these tables can ever be named in SQL), and SIA
builds its candidate query from the same ``FootprintIndex``.
"""

from __future__ import annotations

from dataclasses import dataclass

from adql.catalog import RegionColumn


@dataclass(frozen=True)
class FootprintIndex:
    """A table of depth-29 ranges (``lo``, ``hi``; stored as
    ``regions.split_ranges`` does) per row of the indexed table, joined on
    ``key_column``."""

    table: str
    key_column: str


OBSCORE_FOOTPRINT = FootprintIndex("ivoa.obscore_footprint", "obs_publisher_did")
FOOTPRINT_INDEXES = {OBSCORE_FOOTPRINT.table: OBSCORE_FOOTPRINT}

# (schema, table) -> its region columns
REGION_COLUMNS: dict[tuple[str, str], tuple[RegionColumn, ...]] = {
    ("ivoa", "obscore"): (RegionColumn("s_region", "s_region_dali", OBSCORE_FOOTPRINT.table,
                                       OBSCORE_FOOTPRINT.key_column),),
}
