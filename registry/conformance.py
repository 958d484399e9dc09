"""``vo-server registry validate``: every verb's response, every record in
every format and every error case, validated against the bundled XSDs.

The requests go through the same ``OaiProvider`` the ``/oai`` endpoint uses
(in process, on the configured database), so what is checked is exactly
what harvesters receive.  The tests run the same check over real HTTP.
"""

from __future__ import annotations

import asyncio
from dataclasses import dataclass, field

from lxml import etree
from starlette.applications import Starlette

from registry.oai_pmh import METADATA_FORMATS, OAI_NS, OaiProvider
from registry.routes import oai_provider
from registry.xsd_validation import validate_xml

Arguments = list[tuple[str, str]]

# Bad requests and the error code OAI-PMH prescribes for each.
ERROR_CASES: tuple[tuple[str, Arguments, str], ...] = (
    ("missing verb", [], "badVerb"),
    ("unknown verb", [("verb", "Harvest")], "badVerb"),
    ("two verbs", [("verb", "Identify"), ("verb", "ListSets")], "badVerb"),
    ("unknown argument", [("verb", "Identify"), ("color", "red")], "badArgument"),
    ("repeated argument", [("verb", "ListRecords"), ("metadataPrefix", "oai_dc"), ("metadataPrefix", "oai_dc")],
     "badArgument"),
    ("missing metadataPrefix", [("verb", "ListRecords")], "badArgument"),
    ("GetRecord without identifier", [("verb", "GetRecord"), ("metadataPrefix", "oai_dc")], "badArgument"),
    ("from after until", [("verb", "ListRecords"), ("metadataPrefix", "oai_dc"), ("from", "2030-01-02"),
                          ("until", "2030-01-01")], "badArgument"),
    ("mixed granularities", [("verb", "ListIdentifiers"), ("metadataPrefix", "oai_dc"), ("from", "2020-01-01"),
                             ("until", "2030-01-01T00:00:00Z")], "badArgument"),
    ("wrong date format", [("verb", "ListRecords"), ("metadataPrefix", "oai_dc"), ("from", "2020-01-01T00:00Z")],
     "badArgument"),
    ("impossible date", [("verb", "ListRecords"), ("metadataPrefix", "oai_dc"), ("until", "2020-02-30")],
     "badArgument"),
    ("resumptionToken with other arguments", [("verb", "ListRecords"), ("metadataPrefix", "oai_dc"),
                                              ("resumptionToken", "x")], "badArgument"),
    ("forged resumptionToken", [("verb", "ListRecords"), ("resumptionToken", "eyJ2ZXJiIjoiTGlzdFJlY29yZHMifQ.AAAA")],
     "badResumptionToken"),
    ("resumptionToken for ListSets", [("verb", "ListSets"), ("resumptionToken", "x")], "badResumptionToken"),
    ("control character in an argument", [("verb", "GetRecord"), ("identifier", "ivo://x/\x01"),
                                          ("metadataPrefix", "oai_dc")], "badArgument"),
    ("lone surrogate in the verb", [("verb", "Identify\ud800")], "badVerb"),
    ("unknown metadataPrefix", [("verb", "ListRecords"), ("metadataPrefix", "marc21")], "cannotDisseminateFormat"),
    ("unknown identifier", [("verb", "GetRecord"), ("identifier", "ivo://nowhere.invalid/x"),
                            ("metadataPrefix", "oai_dc")], "idDoesNotExist"),
    ("formats of unknown identifier", [("verb", "ListMetadataFormats"), ("identifier", "ivo://nowhere.invalid/x")],
     "idDoesNotExist"),
    ("nothing in range", [("verb", "ListIdentifiers"), ("metadataPrefix", "ivo_vor"), ("until", "1990-01-01")],
     "noRecordsMatch"),
    ("unknown set", [("verb", "ListRecords"), ("metadataPrefix", "ivo_vor"), ("set", "no_such_set")],
     "noRecordsMatch"),
)


@dataclass
class ConformanceReport:
    responses: int = 0
    records: dict[str, int] = field(default_factory=dict)
    identifiers: int = 0
    problems: list[str] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not self.problems

    def summary(self) -> str:
        formats = ", ".join(f"{n} {prefix}" for prefix, n in self.records.items())
        head = (f"{self.responses} responses checked ({len(ERROR_CASES)} error cases), {self.identifiers} records "
                f"({formats}): ")
        return head + ("all valid" if self.ok else f"{len(self.problems)} problem(s)\n" + "\n".join(self.problems))


def response_errors(document: bytes) -> list[str]:
    """The error codes of an OAI-PMH response."""
    root = etree.fromstring(document)
    return [e.get("code") for e in root.findall(f"{{{OAI_NS}}}error")]


class _Checker:
    def __init__(self, provider: OaiProvider, report: ConformanceReport):
        self.provider = provider
        self.report = report

    async def request(self, label: str, arguments: Arguments) -> etree._Element:
        document = "".join(await self.provider.respond(arguments)).encode()
        self.report.responses += 1
        result = validate_xml(document)
        if not result.valid:
            self.report.problems.append(f"{label}: invalid response: {'; '.join(result.errors[:5])}")
        return etree.fromstring(document)

    async def harvest(self, verb: str, prefix: str) -> list[str]:
        identifiers: list[str] = []
        arguments: Arguments = [("verb", verb), ("metadataPrefix", prefix)]
        while True:
            root = await self.request(f"{verb} {prefix}", arguments)
            identifiers += [h.findtext(f"{{{OAI_NS}}}identifier") for h in root.iter(f"{{{OAI_NS}}}header")]
            token = root.find(f".//{{{OAI_NS}}}resumptionToken")
            if token is None or not token.text:
                return identifiers
            arguments = [("verb", verb), ("resumptionToken", token.text)]


async def check_provider(provider: OaiProvider) -> ConformanceReport:
    report = ConformanceReport()
    check = _Checker(provider, report)
    for verb in ("Identify", "ListMetadataFormats", "ListSets"):
        await check.request(verb, [("verb", verb)])
    identifiers: list[str] = []
    for prefix in METADATA_FORMATS:
        listed = await check.harvest("ListRecords", prefix)
        report.records[prefix] = len(listed)
        if len(set(listed)) != len(listed):
            report.problems.append(f"ListRecords {prefix}: an identifier was listed twice")
        headers = await check.harvest("ListIdentifiers", prefix)
        if sorted(headers) != sorted(listed):
            report.problems.append(f"ListIdentifiers {prefix} and ListRecords disagree")
        identifiers = listed
    report.identifiers = len(identifiers)
    for identifier in identifiers:
        await check.request(f"ListMetadataFormats {identifier}",
                            [("verb", "ListMetadataFormats"), ("identifier", identifier)])
        for prefix in METADATA_FORMATS:
            await check.request(f"GetRecord {identifier} {prefix}",
                                [("verb", "GetRecord"), ("identifier", identifier), ("metadataPrefix", prefix)])
    for label, arguments, expected in ERROR_CASES:
        root = await check.request(label, arguments)
        codes = [e.get("code") for e in root.findall(f"{{{OAI_NS}}}error")]
        if codes != [expected]:
            report.problems.append(f"{label}: expected error {expected}, got {codes or 'no error'}")
    return report


async def check_app(app: Starlette) -> ConformanceReport:
    """Open the app's database pools and check its registry."""
    db = app.state.db
    await db.open()
    try:
        return await check_provider(oai_provider(app))
    finally:
        await db.close()


def run_conformance(app: Starlette) -> ConformanceReport:
    return asyncio.run(check_app(app))
