"""The pure parts: OAI dates, resumption tokens, auxiliary standard ids, inline MOCs."""

from __future__ import annotations

import time
from datetime import UTC, datetime

import numpy as np
import pytest
from mocpy import MOC

from registry.capabilities import aux_standard_id
from registry.dates import DateArgumentError, format_datestamp, parse_oai_date
from registry.resumption import BadResumptionToken, ListPosition, decode_token, encode_token
from registry.sources import MAX_INLINE_MOC_CHARS, inline_moc


def test_oai_dates():
    assert parse_oai_date("2026-11-22") == (datetime(2026, 11, 22, tzinfo=UTC), "day")
    assert parse_oai_date("2026-11-22", end_of_day=True)[0] == datetime(2026, 11, 22, 23, 59, 59, tzinfo=UTC)
    assert parse_oai_date("2026-11-22T10:11:12Z") == (datetime(2026, 11, 22, 10, 11, 12, tzinfo=UTC), "seconds")
    for bad in ("2026-11-22T10:11Z", "2026-11-22T10:11:12", "2026-11-22T10:11:12.5Z", "2026-02-30", "22-11-2026",
                "2026-11-22T25:00:00Z", " 2026-11-22", "2026-11-22T10:11:12+01:00"):
        with pytest.raises(DateArgumentError):
            parse_oai_date(bad)
    assert format_datestamp(datetime(2026, 1, 2, 3, 4, 5, 999_999, tzinfo=UTC)) == "2026-01-02T03:04:05Z"


def test_tokens_round_trip_and_reject_forgery_and_expiry():
    secret = b"k" * 32
    position = ListPosition("ListRecords", "oai_dc", "collections", "2026-01-01", None, "ivo://a/b", 4,
                            int(time.time()) + 60)
    token = encode_token(position, secret)
    assert decode_token(token, secret, time.time()) == position
    with pytest.raises(BadResumptionToken):
        decode_token(token, b"x" * 32, time.time())  # another repository's key
    with pytest.raises(BadResumptionToken, match="expired"):
        decode_token(token, secret, time.time() + 61)
    forged = encode_token(ListPosition(**{**position.__dict__, "cursor": 0}), b"guess")
    with pytest.raises(BadResumptionToken):
        decode_token(forged, secret, time.time())


def test_auxiliary_standard_ids():
    assert aux_standard_id("ivo://ivoa.net/std/TAP") == "ivo://ivoa.net/std/TAP#aux"
    assert aux_standard_id("ivo://ivoa.net/std/SIA#query-2.0") == "ivo://ivoa.net/std/SIA#query-aux-2.0"
    assert aux_standard_id("ivo://ivoa.net/std/ConeSearch") == "ivo://ivoa.net/std/ConeSearch#aux"


def test_large_mocs_are_degraded_but_not_below_order_6():
    small = "3/1-5 9"
    assert inline_moc(small) == small
    cells = list(range(0, 12 * 4**9, 7))  # a sparse order-9 MOC: far too long to inline
    big = MOC.from_healpix_cells(np.array(cells, dtype="uint64"), 9, 9).to_string(format="ascii")
    assert len(big) > MAX_INLINE_MOC_CHARS
    text = inline_moc(big)
    inlined = MOC.from_string(text, format="ascii")
    assert len(text) <= MAX_INLINE_MOC_CHARS and 6 <= inlined.max_order < 9
    covered = inlined.union(MOC.from_string(big, format="ascii"))  # degrading only ever grows a MOC
    assert covered.sky_fraction == pytest.approx(inlined.sky_fraction)
