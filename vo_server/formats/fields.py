"""Column metadata of a result, as VOTable FIELDs need it."""

from __future__ import annotations

from typing import Any

from adql.catalog import ColumnInfo


class Field(ColumnInfo):
    """One result column (name, VOTable datatype, arraysize, xtype, unit, UCD,
    utype, description): the translator's column shape, buildable from any
    object carrying those attributes."""

    @classmethod
    def of(cls, column: Any) -> Field:
        """From anything with these attributes (adql OutputColumn, ColumnMeta, ...)."""
        return cls(**{name: getattr(column, name, None) for name in cls.__dataclass_fields__})
