"""DALI /examples: an XHTML+RDFa document of example queries, written from
``EXAMPLES`` (each one is run by the tests, against the demo table
``gaia.dr3_bright``; the upload example with an uploaded table ``targets``
having ra/dec columns)."""

from __future__ import annotations

from dataclasses import dataclass
from xml.sax.saxutils import escape

from starlette.requests import Request
from starlette.responses import Response


@dataclass(frozen=True)
class Example:
    id: str
    name: str
    description: str
    query: str
    tables: tuple[str, ...] = ("gaia.dr3_bright",)
    upload: str | None = None  # name of the TAP_UPLOAD table the query needs


EXAMPLES: tuple[Example, ...] = (
    Example("cone", "Cone search",
            "Stars within 1 degree of the Orion Nebula, using the positional (HEALPix) index.",
            "SELECT source_id, ra, dec, phot_g_mean_mag\nFROM gaia.dr3_bright\n"
            "WHERE 1 = CONTAINS(POINT('ICRS', ra, dec), CIRCLE('ICRS', 83.82, -5.39, 1.0))"),
    Example("cone-sorted", "Nearest stars to a position",
            "The 20 stars nearest to Vega, with their distance in degrees.",
            "SELECT TOP 20 source_id, ra, dec, phot_g_mean_mag,\n"
            "       DISTANCE(POINT('ICRS', ra, dec), POINT('ICRS', 279.2347, 38.7837)) AS dist\n"
            "FROM gaia.dr3_bright\n"
            "WHERE 1 = CONTAINS(POINT('ICRS', ra, dec), CIRCLE('ICRS', 279.2347, 38.7837, 2.0))\n"
            "ORDER BY dist"),
    Example("crossmatch-upload", "Crossmatch with an uploaded table",
            "Upload your own table (here TAP_UPLOAD.targets with columns ra, dec in degrees) and find "
            "the Gaia stars within 10 arcseconds of each target.",
            "SELECT t.ra AS target_ra, t.dec AS target_dec, g.source_id, g.phot_g_mean_mag,\n"
            "       DISTANCE(POINT('ICRS', t.ra, t.dec), POINT('ICRS', g.ra, g.dec)) AS dist\n"
            "FROM TAP_UPLOAD.targets AS t\nJOIN gaia.dr3_bright AS g\n"
            "  ON 1 = CONTAINS(POINT('ICRS', g.ra, g.dec), CIRCLE('ICRS', t.ra, t.dec, 10.0/3600))",
            upload="targets"),
    Example("density-map", "Sky density map",
            "Star counts per HEALPix cell of order 3 (768 cells), for a quick all-sky density map.",
            "SELECT ivo_healpix_index(3, ra, dec) AS hpx3, COUNT(*) AS n_stars\n"
            "FROM gaia.dr3_bright\nGROUP BY hpx3\nORDER BY hpx3"),
    Example("magnitude-histogram", "Magnitude histogram",
            "Number of stars per unit of G magnitude.",
            "SELECT FLOOR(phot_g_mean_mag) AS g_bin, COUNT(*) AS n\nFROM gaia.dr3_bright\n"
            "WHERE phot_g_mean_mag IS NOT NULL\nGROUP BY g_bin\nORDER BY g_bin"),
    Example("brightest", "Brightest stars",
            "The ten brightest stars in the table.",
            "SELECT TOP 10 source_id, ra, dec, phot_g_mean_mag, origin\nFROM gaia.dr3_bright\n"
            "WHERE phot_g_mean_mag IS NOT NULL\nORDER BY phot_g_mean_mag"),
    Example("box", "Stars in a box",
            "Stars in a 2 x 2 degree box around the Pleiades.",
            "SELECT source_id, ra, dec, phot_g_mean_mag\nFROM gaia.dr3_bright\n"
            "WHERE 1 = CONTAINS(POINT('ICRS', ra, dec), BOX('ICRS', 56.75, 24.12, 2.0, 2.0))"),
    Example("polygon", "Stars in a polygon",
            "Stars inside a triangle on the sky (vertices in degrees, edges are great circles).",
            "SELECT source_id, ra, dec\nFROM gaia.dr3_bright\n"
            "WHERE 1 = CONTAINS(POINT('ICRS', ra, dec), POLYGON('ICRS', 10.0, 10.0, 14.0, 10.0, 12.0, 14.0))"),
    Example("origin-counts", "Rows per source catalogue",
            "How many rows come from Gaia DR3 and how many from Hipparcos-2.",
            "SELECT origin, COUNT(*) AS n, MIN(phot_g_mean_mag) AS brightest\nFROM gaia.dr3_bright\n"
            "GROUP BY origin"),
    Example("tap-schema-tables", "Tables of this service",
            "Every published table with its description, from TAP_SCHEMA.",
            "SELECT schema_name, table_name, description\nFROM TAP_SCHEMA.tables\nORDER BY schema_name, table_name",
            tables=("TAP_SCHEMA.tables",)),
    Example("tap-schema-columns", "Columns of a table",
            "Names, types, units and UCDs of the columns of gaia.dr3_bright, from TAP_SCHEMA.",
            "SELECT column_name, datatype, arraysize, xtype, unit, ucd, description\nFROM TAP_SCHEMA.columns\n"
            "WHERE table_name = 'gaia.dr3_bright'\nORDER BY column_index",
            tables=("TAP_SCHEMA.columns",)),
    Example("dec-band", "Bright stars in a declination band",
            "A declination band with a magnitude cut, using plain comparisons.",
            "SELECT COUNT(*) AS n\nFROM gaia.dr3_bright\n"
            "WHERE dec BETWEEN 60 AND 70 AND phot_g_mean_mag < 8"),
)


def examples_document(base_url: str) -> str:
    sections = []
    for ex in EXAMPLES:
        tables = "".join(f'<li><span property="table">{escape(t)}</span></li>' for t in ex.tables)
        sections.append(
            f'<div typeof="example" id="{ex.id}" resource="#{ex.id}">\n'
            f'<h2 property="name">{escape(ex.name)}</h2>\n'
            f"<p>{escape(ex.description)}</p>\n"
            f'<pre class="dachs-ex-tapquery" property="query">{escape(ex.query)}</pre>\n'
            f"<p>Tables:</p><ul>{tables}</ul>\n</div>\n")
    return ('<?xml version="1.0" encoding="UTF-8"?>\n'
            '<!DOCTYPE html>\n'
            '<html xmlns="http://www.w3.org/1999/xhtml" vocab="http://www.ivoa.net/rdf/examples#" '
            'version="XHTML+RDFa 1.1">\n'
            "<head><title>TAP examples</title></head>\n<body>\n"
            "<h1>Example queries for this TAP service</h1>\n"
            f'<p>Run them at <a href="{escape(base_url)}">{escape(base_url)}</a> with TOPCAT, pyvo or '
            "astroquery; the uploaded-table example needs a table named <code>targets</code> with "
            "<code>ra</code> and <code>dec</code> columns.</p>\n"
            + "".join(sections) + "</body>\n</html>\n")


async def examples(request: Request) -> Response:
    base = request.app.state.settings.public_url + "/tap"
    return Response(examples_document(base), media_type="application/xhtml+xml")
