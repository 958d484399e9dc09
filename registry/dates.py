"""OAI-PMH dates: UTC, seconds granularity (``YYYY-MM-DDThh:mm:ssZ``)."""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta

SECONDS_GRANULARITY = "YYYY-MM-DDThh:mm:ssZ"
_DAY = re.compile(r"\d{4}-\d{2}-\d{2}")
_SECOND = re.compile(r"\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}Z")


def utc_seconds(value: datetime) -> datetime:
    """``value`` in UTC, truncated to whole seconds (naive values are taken as UTC)."""
    if value.tzinfo is None:
        value = value.replace(tzinfo=UTC)
    return value.astimezone(UTC).replace(microsecond=0)


def format_datestamp(value: datetime) -> str:
    return utc_seconds(value).strftime("%Y-%m-%dT%H:%M:%SZ")


def format_day(value: datetime) -> str:
    return utc_seconds(value).strftime("%Y-%m-%d")


def now_seconds() -> datetime:
    return utc_seconds(datetime.now(UTC))


class DateArgumentError(ValueError):
    """A from/until value is not a legal OAI-PMH date."""


def parse_oai_date(value: str, end_of_day: bool = False) -> tuple[datetime, str]:
    """(UTC datetime, granularity) of a from/until argument.

    Day granularity means the whole day: the start for ``from``, the last
    second for ``until`` (``end_of_day``)."""
    if _SECOND.fullmatch(value):
        try:
            parsed = datetime.strptime(value, "%Y-%m-%dT%H:%M:%SZ").replace(tzinfo=UTC)
        except ValueError as exc:
            raise DateArgumentError(f"{value!r} is not a valid date and time") from exc
        return parsed, "seconds"
    if _DAY.fullmatch(value):
        try:
            parsed = datetime.strptime(value, "%Y-%m-%d").replace(tzinfo=UTC)
        except ValueError as exc:
            raise DateArgumentError(f"{value!r} is not a valid date") from exc
        if end_of_day:
            parsed += timedelta(days=1, seconds=-1)
        return parsed, "day"
    raise DateArgumentError(f"{value!r} is neither YYYY-MM-DD nor YYYY-MM-DDThh:mm:ssZ")


MJD_EPOCH = datetime(1858, 11, 17, tzinfo=UTC)


def mjd_day(mjd: float) -> str:
    """The calendar day (UTC, YYYY-MM-DD) of a Modified Julian Date."""
    return (MJD_EPOCH + timedelta(days=mjd)).strftime("%Y-%m-%d")
