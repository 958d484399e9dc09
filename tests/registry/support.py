"""Helpers for the registry tests: services registered the way the protocol
modules will register theirs, a live server with them, and OAI requests."""

from __future__ import annotations

from pathlib import Path

import httpx
from lxml import etree

from tests.conftest import LiveServer, free_port
from tests.foundation.files import star_table, write
from vo_server.config import Settings
from vo_server.db.target import DatabaseTarget
from vo_server.ingest.loader import IngestRequest, ingest
from vo_server.web.landing import ServiceLink

OAI = "{http://www.openarchives.org/OAI/2.0/}"
NS = {"oai": "http://www.openarchives.org/OAI/2.0/", "ri": "http://www.ivoa.net/xml/RegistryInterface/v1.0",
      "dc": "http://purl.org/dc/elements/1.1/", "oai_dc": "http://www.openarchives.org/OAI/2.0/oai_dc/",
      "dcite": "http://datacite.org/schema/kernel-4", "xsi": "http://www.w3.org/2001/XMLSchema-instance"}
XSI_TYPE = "{http://www.w3.org/2001/XMLSchema-instance}type"


def tap_details() -> dict:
    return {"languages": [{"name": "ADQL", "versions": [("2.1", "ivo://ivoa.net/std/ADQL#v2.1")],
                           "description": "ADQL 2.1",
                           "features": [{"type": "ivo://ivoa.net/std/TAPRegExt#features-adqlgeo",
                                         "forms": [("CIRCLE", None), ("CONTAINS", "point in region")]}]}],
            "output_formats": [{"mime": "application/x-votable+xml;serialization=BINARY2", "aliases": ["votable"],
                                "ivo_id": "ivo://ivoa.net/std/TAPRegExt#output-votable-binary2"},
                               {"mime": "text/csv", "aliases": ["csv"]}],
            "upload_methods": ["ivo://ivoa.net/std/TAPRegExt#upload-inline"],
            "retention_period": {"default": 172800, "hard": 604800},
            "output_limit": {"default": 20000, "hard": 10000000, "unit": "row"}}


def registered_services() -> list[ServiceLink]:
    """A TAP service over everything, a cone search and an SIA 2 service bound to cat.stars."""
    return [
        ServiceLink("TAP", "/tap", "ADQL queries", standard_id="ivo://ivoa.net/std/TAP", kind="tap",
                    interface_version="1.1", capability_details=tap_details),
        ServiceLink("Cone search", "/scs/cat.stars", "Simple Cone Search on cat.stars",
                    standard_id="ivo://ivoa.net/std/ConeSearch", kind="scs", tables=("cat.stars",),
                    capability_details=lambda: {"max_sr": 10.0, "max_records": 50000, "verbosity": True,
                                                "test_query": {"ra": 10.0, "dec": 20.0, "sr": 0.1}}),
        ServiceLink("Image search", "/sia/cat.stars", "SIA 2 on cat.stars", standard_id="ivo://ivoa.net/std/SIA#query-2.0",
                    kind="sia", tables=("cat.stars",), interface_version="2.0"),
    ]


def live_registry(target: DatabaseTarget, data_dir: Path, services: list[ServiceLink] | None = None,
                  **settings: object) -> LiveServer:
    """A live server with ``services`` registered as protocol modules do (append to app.state.services)."""
    port = free_port()
    server = LiveServer(Settings(host="127.0.0.1", port=port, data_dir=data_dir, **settings), target)
    provided = services if services is not None else registered_services()
    # the given links stand in for the protocol modules' own (e.g. the real TAP module's link)
    replaced = {s.standard_id for s in provided if s.standard_id}
    registered = server.server.config.app.state.services
    registered[:] = [s for s in registered if s.standard_id is None or s.standard_id not in replaced]
    registered.extend(provided)
    if "ivo://ivoa.net/std/ConeSearch" in replaced:  # the cone search module's own links are not refreshed in
        server.server.config.app.state.service_refreshers = []
    return server


def load_table(target: DatabaseTarget, directory: Path, table: str, rows: int = 40, seed: int = 1,
               description: str | None = None, metadata: str | None = None, mode: str | None = None) -> None:
    data = star_table(rows, seed)
    if description:
        data.meta["description"] = description
    meta_path = None
    if metadata:
        meta_path = directory / f"{table}-{seed}.yaml"
        meta_path.write_text(metadata)
    path = write(data, directory / f"{table}-{seed}-{rows}-{abs(hash(description))}.parquet")
    ingest(target, IngestRequest(path=path, table=table, mode=mode, metadata=meta_path))


def oai(url: str, method: str = "GET", **params: str) -> tuple[httpx.Response, etree._Element]:
    if method == "GET":
        response = httpx.get(url + "/oai", params=params, timeout=30)
    else:
        response = httpx.post(url + "/oai", data=params, timeout=30)
    return response, etree.fromstring(response.content)


def error_codes(root: etree._Element) -> list[str]:
    return [e.get("code") for e in root.findall(f"{OAI}error")]


def harvest_identifiers(url: str, verb: str = "ListIdentifiers", **params: str) -> list[tuple[str, str, bool]]:
    """(identifier, datestamp, deleted) of a whole list, following resumption tokens."""
    out = []
    response, root = oai(url, verb=verb, **params)
    while True:
        if error_codes(root) == ["noRecordsMatch"]:
            return out
        for header in root.iter(f"{OAI}header"):
            out.append((header.findtext(f"{OAI}identifier"), header.findtext(f"{OAI}datestamp"),
                        header.get("status") == "deleted"))
        token = root.find(f".//{OAI}resumptionToken")
        if token is None or not token.text:
            return out
        response, root = oai(url, verb=verb, resumptionToken=token.text)
