"""The taplint line about /tap/capabilities that is right on our side, shared
by every test running taplint's CAP stage (reasons in docs/tap.md,
"Validation status")."""

from __future__ import annotations

import re

CAPABILITY_DEVIATIONS = (
    # MOC() is beyond ADQL 2.1: declared under a feature type of the service's own authority
    re.compile(r'W-CAP-CULF-\d+ Custom feature type "ivo://[^"/]+/tap#features-adql-extension" '
               r"for language ADQL$"),
)


def capability_deviation(line: str) -> bool:
    return any(pattern.match(line) for pattern in CAPABILITY_DEVIATIONS)
