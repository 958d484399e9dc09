"""Harvesting with real OAI-PMH clients over HTTP: full harvests with
resumption tokens (page size 2), incremental harvests after a re-ingest,
tombstones, and tokens across a restart and past their expiry."""

from __future__ import annotations

import time
from collections.abc import Iterator

import psycopg
import pytest
from oaipmh_scythe import Scythe
from sickle import Sickle

from registry.xsd_validation import validate_xml
from tests.registry.support import OAI, error_codes, harvest_identifiers, live_registry, load_table, oai
from vo_server.ingest.loader import drop_table

FORMATS = ("ivo_vor", "oai_dc", "oai_datacite")


@pytest.fixture(scope="module")
def data_dir(tmp_path_factory):
    return tmp_path_factory.mktemp("harvest")


@pytest.fixture(scope="module")
def server(db_target, data_dir) -> Iterator:
    for i, name in enumerate(("cat.stars", "cat.other", "survey.a", "survey.b")):
        load_table(db_target, data_dir, name, rows=20 + i, seed=i + 1, description=f"Table number {i}")
    with live_registry(db_target, data_dir, oai_page_size=2) as live:
        yield live


def stored_identifiers(db_target, deleted: bool = False) -> set[str]:
    with psycopg.connect(db_target.owner_dsn) as conn:
        return {r[0] for r in conn.execute(
            "SELECT identifier FROM vo_internal.registry_records WHERE deleted = %s", (deleted,))}


def expected_identifiers() -> set[str]:
    tables = {f"ivo://example.org/{t.replace('.', '/')}" for t in ("cat.stars", "cat.other", "survey.a", "survey.b")}
    services = {"ivo://example.org/archive", "ivo://example.org/scs/cat.stars", "ivo://example.org/sia/cat.stars"}
    return tables | services | {"ivo://example.org", "ivo://example.org/registry"}


def test_sickle_full_harvest_in_every_format_returns_each_resource_once(server, db_target):
    for prefix in FORMATS:
        records = list(Sickle(server.url + "/oai").ListRecords(metadataPrefix=prefix))
        identifiers = [r.header.identifier for r in records]
        assert len(identifiers) == len(set(identifiers)), prefix
        assert set(identifiers) == expected_identifiers() == stored_identifiers(db_target), prefix
        assert all(not r.deleted and r.raw for r in records)
    post = list(Sickle(server.url + "/oai", http_method="POST").ListIdentifiers(metadataPrefix="oai_dc"))
    assert sorted(h.identifier for h in post) == sorted(expected_identifiers())


def test_scythe_harvests_dublin_core(server):
    with Scythe(server.url + "/oai") as scythe:
        records = list(scythe.list_records(metadata_prefix="oai_dc"))
        titles = {r.header.identifier: r.metadata["title"][0] for r in records}
        assert set(titles) == expected_identifiers()
        assert titles["ivo://example.org/survey/a"] == "Table number 2 (survey.a)"
        assert scythe.identify().baseURL == server.url + "/oai"


def test_resumption_tokens_count_and_validate(server):
    response, root = oai(server.url, verb="ListIdentifiers", metadataPrefix="ivo_vor")
    token = root.find(f".//{OAI}resumptionToken")
    assert token.get("cursor") == "0" and token.get("completeListSize") == str(len(expected_identifiers()))
    assert token.get("expirationDate").endswith("Z")
    cursors = []
    while token is not None and token.text:
        response, root = oai(server.url, verb="ListIdentifiers", resumptionToken=token.text)
        assert validate_xml(response.content).valid
        token = root.find(f".//{OAI}resumptionToken")
        cursors.append(int(token.get("cursor")))
    assert cursors == list(range(2, len(expected_identifiers()), 2))
    assert token.text is None  # the last page ends the list with an empty token


def test_sets_select_records(server):
    collections = harvest_identifiers(server.url, metadataPrefix="oai_dc", set="collections")
    assert {i for i, _, _ in collections} == {f"ivo://example.org/{t}" for t in ("cat/stars", "cat/other",
                                                                                "survey/a", "survey/b")}
    services = harvest_identifiers(server.url, metadataPrefix="oai_dc", set="services")
    assert len(services) == 3


def test_tampered_and_cross_verb_tokens_are_rejected(server):
    _, root = oai(server.url, verb="ListRecords", metadataPrefix="oai_dc")
    token = root.find(f".//{OAI}resumptionToken").text
    payload, signature = token.split(".")
    forged = payload[:-2] + ("AA" if payload[-2:] != "AA" else "BB") + "." + signature
    for bad in (forged, token + "x", "garbage", token.replace(".", "")):
        _, root = oai(server.url, verb="ListRecords", resumptionToken=bad)
        assert error_codes(root) == ["badResumptionToken"], bad
    _, root = oai(server.url, verb="ListIdentifiers", resumptionToken=token)
    assert error_codes(root) == ["badResumptionToken"]


def test_tokens_survive_a_restart_and_expire(db_target, data_dir, server):
    with live_registry(db_target, data_dir, oai_page_size=2) as first:
        _, root = oai(first.url, verb="ListIdentifiers", metadataPrefix="ivo_vor")
        token = root.find(f".//{OAI}resumptionToken").text
        seen = [h.findtext(f"{OAI}identifier") for h in root.iter(f"{OAI}header")]
    with live_registry(db_target, data_dir, oai_page_size=2) as second:  # a new process would do the same
        while token:
            response, root = oai(second.url, verb="ListIdentifiers", resumptionToken=token)
            assert error_codes(root) == []
            seen += [h.findtext(f"{OAI}identifier") for h in root.iter(f"{OAI}header")]
            token = root.find(f".//{OAI}resumptionToken").text
    assert sorted(seen) == sorted(expected_identifiers())
    with live_registry(db_target, data_dir, oai_page_size=2, oai_token_lifetime=1) as short:
        _, root = oai(short.url, verb="ListIdentifiers", metadataPrefix="ivo_vor")
        token = root.find(f".//{OAI}resumptionToken").text
        time.sleep(2.1)
        _, root = oai(short.url, verb="ListIdentifiers", resumptionToken=token)
        assert error_codes(root) == ["badResumptionToken"]
        assert "expired" in root.findtext(f"{OAI}error")


def _datestamps(url: str) -> dict[str, str]:
    return {i: d for i, d, _ in harvest_identifiers(url, metadataPrefix="ivo_vor")}


def test_incremental_harvest_returns_only_what_changed(server, db_target, data_dir):
    before = _datestamps(server.url)
    time.sleep(1.1)
    assert _datestamps(server.url) == before  # nothing changed: no datestamp moves
    _, root = oai(server.url, verb="Identify")
    last_harvest = root.findtext(f"{OAI}responseDate")
    time.sleep(1.1)
    load_table(db_target, data_dir, "survey.b", rows=30, seed=9, description="Table number 3, reprocessed",
               mode="replace")
    changed = harvest_identifiers(server.url, metadataPrefix="oai_dc", **{"from": last_harvest})
    # the table itself, and the TAP service whose tableset lists it (its description and row count changed)
    assert {i for i, _, _ in changed} == {"ivo://example.org/survey/b", "ivo://example.org/archive"}
    after = _datestamps(server.url)
    assert after["ivo://example.org/survey/b"] > before["ivo://example.org/survey/b"]
    assert after["ivo://example.org/survey/a"] == before["ivo://example.org/survey/a"]
    response, root = oai(server.url, verb="GetRecord", identifier="ivo://example.org/survey/b", metadataPrefix="ivo_vor")
    resource = root.find(f".//{OAI}metadata")[0]
    assert resource.get("updated") == after["ivo://example.org/survey/b"]
    assert resource.findtext("content/description") == "Table number 3, reprocessed"
    assert resource.findtext("tableset/schema/table/nrows") == "30"


def test_dropped_table_becomes_a_persistent_tombstone(server, db_target):
    time.sleep(1.1)
    _, root = oai(server.url, verb="Identify")
    mark = root.findtext(f"{OAI}responseDate")
    time.sleep(1.1)
    drop_table(db_target, "cat.other")
    changed = harvest_identifiers(server.url, verb="ListRecords", metadataPrefix="ivo_vor", **{"from": mark})
    assert ("ivo://example.org/cat/other", True) in {(i, d) for i, _, d in changed}
    response, root = oai(server.url, verb="GetRecord", identifier="ivo://example.org/cat/other", metadataPrefix="oai_dc")
    assert validate_xml(response.content).valid
    header = root.find(f".//{OAI}header")
    assert header.get("status") == "deleted" and root.find(f".//{OAI}metadata") is None
    records = list(Sickle(server.url + "/oai").ListRecords(metadataPrefix="oai_datacite", ignore_deleted=False))
    deleted = [r.header.identifier for r in records if r.header.deleted]
    assert deleted == ["ivo://example.org/cat/other"]
    assert stored_identifiers(db_target, deleted=True) == {"ivo://example.org/cat/other"}
    time.sleep(1.1)  # the tombstone keeps its datestamp: a later incremental harvest sees the same list
    assert harvest_identifiers(server.url, metadataPrefix="oai_dc", **{"from": mark}) == changed
