"""Registry records of the GW sky maps: one resource per map (set ``skymaps``),
with the 90% credible region as its spatial coverage and the event time as
its temporal coverage — derived from ``vo_sky.skymaps``, never hand-written."""

from __future__ import annotations

from collections.abc import Iterable

import numpy as np
import psycopg
from astropy.time import Time
from mocpy import MOC

from registry.model import RegistryResource
from registry.sources import RecordContext, _context_fingerprint, _digest, base_resource, inline_moc

CREDIBLE_LEVEL = 0.9


class SkymapSource:
    name = "skymaps"

    def fingerprint(self, conn: psycopg.Connection, ctx: RecordContext) -> str:
        maps = conn.execute("SELECT name, ingested_at FROM vo_sky.skymaps ORDER BY name").fetchall()
        return _digest([_context_fingerprint(ctx), [(name, str(when)) for name, when in maps]])

    def resources(self, conn: psycopg.Connection, ctx: RecordContext) -> Iterable[RegistryResource]:
        rows = conn.execute(
            "SELECT name, object, date_obs, instruments, area_50, area_90, distmean, diststd, max_order, "
            "ingested_at FROM vo_sky.skymaps ORDER BY name").fetchall()
        for name, obj, date_obs, instruments, area_50, area_90, distmean, diststd, max_order, ingested in rows:
            ranges = conn.execute("SELECT lo, hi FROM vo_sky.gw_region_ranges(%s, %s)",
                                  (name, CREDIBLE_LEVEL)).fetchall()
            moc = MOC.from_depth29_ranges(int(max_order), np.array(ranges, dtype=np.uint64).reshape(-1, 2))
            url = f"{ctx.settings.public_url}/gw/{name}"
            event = obj or name
            parts = [f"Gravitational-wave sky localisation of {event}"]
            if instruments:
                parts.append(f"by {instruments}")
            if date_obs is not None:
                parts.append(f"at {date_obs:%Y-%m-%dT%H:%M:%S}Z")
            distance = (f"; luminosity distance {distmean:.0f} ± {diststd:.0f} Mpc"
                        if distmean is not None and diststd is not None else "")
            description = (" ".join(parts) + f": 50% credible area {area_50:.1f} deg², 90% {area_90:.1f} deg²"
                           f"{distance}. The catalogue sources inside a credible region, ranked by probability: "
                           f"{url}/sources?table=SCHEMA.TABLE&credible=0.9; in ADQL: gw_region('{name}', 0.9).")
            temporal = []
            if date_obs is not None:
                mjd = float(Time(date_obs).mjd)
                temporal = [(mjd, mjd)]
            yield base_resource(
                ctx, f"{ctx.authority}/gw/{name}", "vs:CatalogResource", "skymaps", f"GW sky map {event}",
                description, short_name=name[:16], created=ingested, dates=[("updated", ingested)],
                coverage_moc=inline_moc(moc.to_string(format="ascii")), sky_fraction=float(moc.sky_fraction),
                temporal=temporal, datacite_type="Dataset", access_urls=[url], reference_url=url)
