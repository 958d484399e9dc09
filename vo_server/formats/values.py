"""Plain-text rendering of result values, shared by the text-based writers
(CSV, TSV, JSON) so every format shows a value the same way."""

from __future__ import annotations

import datetime as dt
import math
from decimal import Decimal
from typing import Any


def text_value(value: Any) -> str:
    """DALI text form: ISO timestamps, arrays (points, polygons) as
    space-separated numbers, booleans as true/false, NULL as ''."""
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, float):
        return repr(value) if math.isfinite(value) else ("NaN" if value != value else ("+Inf" if value > 0 else "-Inf"))
    if isinstance(value, dt.datetime | dt.date):
        return value.isoformat()
    if isinstance(value, list | tuple):
        return " ".join(text_value(v) if v is not None else "NaN" for v in value)
    return str(value)


def json_value(value: Any) -> Any:
    """A JSON-representable value: NaN/inf become null, timestamps ISO
    strings, decimals floats."""
    if value is None or isinstance(value, bool | int | str):
        return value
    if isinstance(value, float):
        return value if math.isfinite(value) else None
    if isinstance(value, Decimal):
        return float(value)
    if isinstance(value, dt.datetime | dt.date):
        return value.isoformat()
    if isinstance(value, list | tuple):
        return [json_value(v) for v in value]
    return str(value)
