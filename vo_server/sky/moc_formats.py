"""MOC 2.0 serialisations (FITS, ASCII, JSON) and how a client picks one."""

from __future__ import annotations

import io

from mocpy import MOC, TimeMOC

FORMATS = {"fits": "application/fits", "ascii": "text/plain; charset=utf-8", "json": "application/json"}
ALIASES = {"fits": "fits", "application/fits": "fits", "ascii": "ascii", "text": "ascii", "txt": "ascii",
           "text/plain": "ascii", "json": "json", "application/json": "json"}


class MocFormatError(ValueError):
    pass


def choose_format(format_param: str | None, accept: str | None) -> str:
    """``format`` parameter first, then the Accept header; FITS by default (MOC 2.0's normative form)."""
    if format_param:
        chosen = ALIASES.get(format_param.strip().lower())
        if chosen is None:
            raise MocFormatError(f"format={format_param!r} is not one of fits, ascii, json")
        return chosen
    for part in (accept or "").split(","):
        media = part.split(";")[0].strip().lower()
        if media in ALIASES:
            return ALIASES[media]
    return "fits"


def serialise(moc: MOC | TimeMOC, fmt: str) -> bytes:
    if fmt == "fits":
        buffer = io.BytesIO()
        if isinstance(moc, MOC):
            # NUNIQ with MOCORDER: MOC 2.0 and readable by MOC 1.x tools (as the IVOA examples are)
            moc.serialize(format="fits", v1_compatible=True).writeto(buffer)
        else:
            moc.serialize(format="fits").writeto(buffer)  # T-MOC 2.0: ORDERING RANGE, TIMESYS TCB
        return buffer.getvalue()
    if fmt == "ascii":
        return (moc.to_string(format="ascii").strip() + "\n").encode()
    return moc.to_string(format="json").encode()
