"""Footprints and SIA queries where spherical geometry bites: across ra = 0,
around a pole, SIP-free rotated images, and cones just outside a footprint."""

from __future__ import annotations

import io

import httpx
import numpy as np
import pytest
from astropy.coordinates import SkyCoord
from astropy.io.votable import parse_single_table

from tests.conftest import LiveServer, free_port
from tests.sia.images import tan_header, write_image
from vo_server.config import Settings
from vo_server.sia.ingest import ImageIngestRequest, ingest_images

pytestmark = pytest.mark.filterwarnings("ignore::astropy.utils.exceptions.AstropyWarning")


@pytest.fixture(scope="module")
def server(db_target, tmp_path_factory):
    source = tmp_path_factory.mktemp("edges")
    # 64 x 64 pixels of 1e-3 deg: 0.064 deg wide
    write_image(source / "wrap.fits", tan_header(crval=(0.0, 10.0)))
    write_image(source / "pole.fits", tan_header(crval=(45.0, 89.99)))
    write_image(source / "south_pole.fits", tan_header(crval=(300.0, -90.0)))
    write_image(source / "rotated.fits", tan_header(crval=(120.0, -40.0), cards={
        "PC1_1": np.cos(0.5), "PC1_2": -np.sin(0.5), "PC2_1": np.sin(0.5), "PC2_2": np.cos(0.5)}))
    settings = Settings(host="127.0.0.1", port=free_port(), data_dir=tmp_path_factory.mktemp("edges-data"))
    report = ingest_images(db_target, settings, ImageIngestRequest(paths=[source], collection="edges"))
    assert report.rows == 4, report.skipped
    with LiveServer(settings, db_target) as live:
        yield live


def found(server, **params) -> set[str]:
    response = httpx.get(f"{server.url}/sia/query", params=params, timeout=30)
    assert response.status_code == 200, response.text
    return {str(v) for v in parse_single_table(io.BytesIO(response.content)).to_table()["obs_id"]}


@pytest.mark.parametrize("pos, expected", [
    ("CIRCLE 359.99 10 0.001", {"wrap.fits"}),
    ("CIRCLE 0.02 10.01 0.001", {"wrap.fits"}),
    ("CIRCLE 359.9 10 0.05", set()),                       # 0.1 deg west of centre: 0.068 deg from the edge
    ("CIRCLE 359.9 10 0.07", {"wrap.fits"}),               # reaches the edge
    ("POLYGON 359.98 9.98 0.02 9.98 0.02 10.02 359.98 10.02", {"wrap.fits"}),
    ("RANGE 0 0.01 9.99 10.01", {"wrap.fits"}),
    ("RANGE 359.99 360 9.99 10.01", {"wrap.fits"}),
    ("CIRCLE 200 89.995 0.001", {"pole.fits"}),            # the footprint contains the north pole
    ("CIRCLE 0 90 0.001", {"pole.fits"}),
    ("RANGE 0 360 89.999 90", {"pole.fits"}),
    ("CIRCLE 10 -89.99 0.001", {"south_pole.fits"}),
    ("CIRCLE 120 -40 0.001", {"rotated.fits"}),
    ("POLYGON 10 10 20 10 15 20", set()),
])
def test_positions(server, pos, expected):
    assert found(server, POS=pos) == expected


def test_rotated_corners_inside_and_bounding_box_corner_outside(server):
    """The rotated image's footprint is not its ra/dec bounding box."""
    from astropy.wcs import WCS
    header = tan_header(crval=(120.0, -40.0), cards={
        "PC1_1": np.cos(0.5), "PC1_2": -np.sin(0.5), "PC2_1": np.sin(0.5), "PC2_2": np.cos(0.5)})
    wcs = WCS(header)
    corners = wcs.pixel_to_world(np.array([0, 63, 63, 0]), np.array([0, 0, 63, 63]))
    for c in corners:
        assert "rotated.fits" in found(server, POS=f"CIRCLE {c.ra.deg} {c.dec.deg} 0.0001")
    box_corner = SkyCoord(corners.ra.deg.max(), corners.dec.deg.max(), unit="deg")
    assert "rotated.fits" not in found(server, POS=f"CIRCLE {box_corner.ra.deg} {box_corner.dec.deg} 0.0001")
