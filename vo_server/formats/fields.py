"""Column metadata of a result, as VOTable FIELDs need it."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any


@dataclass(frozen=True)
class Field:
    """One result column.  ``datatype`` is a VOTable datatype; ``arraysize``
    and ``xtype`` as in VOTable/DALI (e.g. "*", "2", xtype "timestamp")."""

    name: str
    datatype: str
    arraysize: str | None = None
    xtype: str | None = None
    unit: str | None = None
    ucd: str | None = None
    utype: str | None = None
    description: str | None = None

    @classmethod
    def of(cls, column: Any) -> Field:
        """From anything with these attributes (adql OutputColumn, ColumnMeta, ...)."""
        return cls(**{name: getattr(column, name, None) for name in cls.__dataclass_fields__})
