"""Resumption tokens: stateless, HMAC-signed, with an expiry.

A token carries where the list stopped (the last identifier sent, records
are listed in identifier order) and the request it continues.  The signing
key lives in ``vo_internal.registry_state``, so tokens stay valid across a
server restart and across several server processes; a forged, altered or
expired token fails the signature or expiry check (badResumptionToken).
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
from dataclasses import asdict, dataclass


class BadResumptionToken(ValueError):
    """The token was not issued by us, was altered, or has expired."""


@dataclass(frozen=True)
class ListPosition:
    verb: str
    metadata_prefix: str
    set_spec: str | None
    from_: str | None      # the original arguments, as given
    until: str | None
    after: str             # last identifier already sent
    cursor: int            # records already sent
    expires: int           # unix time


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def _unb64(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


def encode_token(position: ListPosition, secret: bytes) -> str:
    payload = json.dumps(asdict(position), separators=(",", ":"), sort_keys=True).encode()
    signature = hmac.new(secret, payload, hashlib.sha256).digest()[:18]
    return f"{_b64(payload)}.{_b64(signature)}"


def decode_token(token: str, secret: bytes, now: float) -> ListPosition:
    try:
        payload_text, signature_text = token.split(".")
        payload, signature = _unb64(payload_text), _unb64(signature_text)
    except (ValueError, TypeError) as exc:
        raise BadResumptionToken("the resumptionToken is not one this repository issued") from exc
    expected = hmac.new(secret, payload, hashlib.sha256).digest()[:18]
    if not hmac.compare_digest(signature, expected):
        raise BadResumptionToken("the resumptionToken is not one this repository issued")
    try:
        position = ListPosition(**json.loads(payload))
    except (ValueError, TypeError) as exc:
        raise BadResumptionToken("the resumptionToken is not one this repository issued") from exc
    if position.expires < now:
        raise BadResumptionToken("the resumptionToken has expired; restart the list request")
    return position
