"""IN_UNIT: a constant conversion factor between two units (astropy.units).

ADQL's IN_UNIT(x, 'unit') converts a value from the unit of ``x`` (from the
catalog) to ``unit``.  Only multiplicative conversions exist between VOUnits
of the same dimension, so the translation is ``x * factor``.
"""

from __future__ import annotations

from functools import lru_cache

from adql.errors import AdqlError


@lru_cache(maxsize=256)
def _parse_unit(text: str):  # -> astropy.units.UnitBase
    import astropy.units as u

    for fmt in ("vounit", "cds", "generic"):
        try:
            return u.Unit(text, format=fmt)
        except (ValueError, TypeError):
            continue
    raise AdqlError(f"unknown unit {text!r}")


@lru_cache(maxsize=256)
def conversion_factor(source: str, target: str) -> float:
    """The factor f with value_in_target = value_in_source * f."""
    import astropy.units as u

    source_unit = _parse_unit(source)
    target_unit = _parse_unit(target)
    try:
        factor = source_unit.to(target_unit)
    except u.UnitConversionError:
        raise AdqlError(f"cannot convert {source!r} to {target!r}: the units have different dimensions") from None
    return float(factor)
