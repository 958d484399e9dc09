"""access_url over real HTTP: headers, conditional and Range requests, and
nothing outside the published collections (path traversal, symlinks)."""

from __future__ import annotations

import hashlib
import io
import os
import socket

import httpx
import psycopg
import pytest
from astropy.io import fits

from tests.conftest import LiveServer, free_port
from tests.sia.images import demo_files, tan_header, write_image
from vo_server.config import Settings
from vo_server.sia.ingest import ImageIngestRequest, collection_directory, ingest_images

pytestmark = pytest.mark.filterwarnings("ignore::astropy.utils.exceptions.AstropyWarning")


@pytest.fixture(scope="module")
def setup(db_target, tmp_path_factory):
    data_dir = tmp_path_factory.mktemp("files-data")
    settings = Settings(host="127.0.0.1", port=free_port(), data_dir=data_dir, authority="ivo://test.example")
    source = tmp_path_factory.mktemp("source")
    (source / "sub").mkdir()
    write_image(source / "sub" / "nested image.fits", tan_header(crval=(45.0, 45.0)))
    ingest_images(db_target, settings, ImageIngestRequest(paths=demo_files()[:3], collection="demo"))
    ingest_images(db_target, settings, ImageIngestRequest(paths=[source], collection="nested"))
    # files that exist on disk but are not published
    (data_dir / "secret.txt").write_text("secret")
    (collection_directory(settings, "demo") / "unlisted.fits").write_bytes(b"SIMPLE  = T")
    with LiveServer(settings, db_target) as live:
        yield live, settings


def access_url(db_dsn: str, obs_id: str) -> str:
    with psycopg.connect(db_dsn) as conn:
        return conn.execute("SELECT access_url FROM ivoa.obscore WHERE obs_id = %s", (obs_id,)).fetchone()[0]


def test_download_matches_file_with_headers(setup, db_dsn):
    server, _ = setup
    original = demo_files()[1].read_bytes()
    url = access_url(db_dsn, "cfht_megaprime_g_sa110.fits")
    assert url.startswith(server.url)
    response = httpx.get(url, timeout=10)
    assert response.status_code == 200
    assert response.content == original
    assert response.headers["content-type"] == "application/fits"
    assert int(response.headers["content-length"]) == len(original)
    assert response.headers["etag"] and response.headers["last-modified"]
    assert response.headers["accept-ranges"] == "bytes"
    with fits.open(io.BytesIO(response.content)) as hdul:
        assert hdul[0].header["NAXIS1"] == 101
    head = httpx.head(url, timeout=10)
    assert head.status_code == 200 and int(head.headers["content-length"]) == len(original)
    gz = httpx.get(access_url(db_dsn, "dss_14.29.56-62.41.05.fits.gz"), timeout=10)
    assert gz.headers["content-type"] == "application/gzip"
    assert hashlib.sha256(gz.content).hexdigest() == hashlib.sha256(demo_files()[2].read_bytes()).hexdigest()


def test_range_requests(setup, db_dsn):
    original = demo_files()[1].read_bytes()
    url = access_url(db_dsn, "cfht_megaprime_g_sa110.fits")
    part = httpx.get(url, headers={"Range": "bytes=2880-5759"}, timeout=10)
    assert part.status_code == 206
    assert part.content == original[2880:5760]
    assert part.headers["content-range"] == f"bytes 2880-5759/{len(original)}"
    tail = httpx.get(url, headers={"Range": "bytes=-100"}, timeout=10)
    assert tail.status_code == 206 and tail.content == original[-100:]
    multi = httpx.get(url, headers={"Range": "bytes=0-9,100-109"}, timeout=10)
    assert multi.status_code == 206 and multi.headers["content-type"].startswith("multipart/byteranges")
    assert original[:10] in multi.content and original[100:110] in multi.content
    beyond = httpx.get(url, headers={"Range": f"bytes={len(original) + 10}-"}, timeout=10)
    assert beyond.status_code == 416
    assert beyond.headers["content-range"] == f"bytes */{len(original)}"


def test_conditional_requests(setup, db_dsn):
    url = access_url(db_dsn, "cfht_megaprime_g_sa110.fits")
    first = httpx.get(url, timeout=10)
    again = httpx.get(url, headers={"If-None-Match": first.headers["etag"]}, timeout=10)
    assert again.status_code == 304 and again.content == b""
    since = httpx.get(url, headers={"If-Modified-Since": first.headers["last-modified"]}, timeout=10)
    assert since.status_code == 304
    changed = httpx.get(url, headers={"If-None-Match": '"something-else"'}, timeout=10)
    assert changed.status_code == 200


def test_nested_path_with_space(setup, db_dsn):
    url = access_url(db_dsn, "sub/nested image.fits")
    assert url.endswith("/sia/files/nested/sub/nested%20image.fits")
    response = httpx.get(url, timeout=10)
    assert response.status_code == 200 and response.content.startswith(b"SIMPLE")


def raw_get(server_url: str, target: str) -> int:
    """Status of a GET with the request target sent exactly as given (no client normalisation)."""
    host, port = server_url.removeprefix("http://").split(":")
    with socket.create_connection((host, int(port)), timeout=10) as sock:
        sock.sendall(f"GET {target} HTTP/1.1\r\nHost: {host}\r\nConnection: close\r\n\r\n".encode())
        data = b""
        while chunk := sock.recv(65536):
            data += chunk
    return int(data.split(b" ", 2)[1])


@pytest.mark.parametrize("target", [
    "/sia/files/demo/../../secret.txt",
    "/sia/files/demo/%2e%2e/%2e%2e/secret.txt",
    "/sia/files/demo/..%2f..%2fsecret.txt",
    "/sia/files/demo/%2Fetc%2Fpasswd",
    "/sia/files/demo//etc/passwd",
    "/sia/files/demo/unlisted.fits",
    "/sia/files/demo/sub/../cfht_megaprime_g_sa110.fits",
    "/sia/files/nested/../demo/cfht_megaprime_g_sa110.fits",
    "/sia/files/../../../../etc/passwd",
    "/sia/files/demo/cfht_megaprime_g_sa110.fits%00.txt",
    "/sia/files/nosuch/cfht_megaprime_g_sa110.fits",
    "/sia/files/demo/",
])
def test_nothing_outside_published_files(setup, target):
    server, _ = setup
    status = raw_get(server.url, target)
    assert status == 404, target


def test_symlink_planted_in_collection_is_refused(setup, db_dsn):
    server, settings = setup
    directory = collection_directory(settings, "demo")
    target = directory / "apogee_sip_wcs.fits"
    url = access_url(db_dsn, "apogee_sip_wcs.fits")
    assert httpx.get(url, timeout=10).status_code == 200
    saved = target.read_bytes()
    target.unlink()
    os.symlink(settings.data_dir / "secret.txt", target)
    try:
        assert httpx.get(url, timeout=10).status_code == 404
    finally:
        target.unlink()
        target.write_bytes(saved)
