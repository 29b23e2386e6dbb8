"""The destination-kind registry: required, optional and secret config fields per LD kind.

It is read from ``schemas/ldseg.schema.json`` (``$defs/kinds``) so that the schema stays the single
source of structural truth: ``required`` lists required fields, ``writeOnly: true`` marks secrets
(LaunchDarkly returns them masked), ``x-ldseg-open: true`` marks kinds whose config LaunchDarkly
does not document, where any field is accepted.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import cache

from ldseg.resources import load_schema

#: Field names LaunchDarkly masks on read, whatever the kind.
KNOWN_SECRET_FIELDS = frozenset({"writeKey", "apiKey", "secret", "policyKey"})

#: In kinds whose config LD does not document, a field named like a credential is treated as a
#: secret (never shown, never saved, compared only through the mask): better one field too
#: careful than a warehouse password in a pull-request comment.
SECRET_LIKE = re.compile(r"key|secret|token|password|passwd|credential|private|auth", re.IGNORECASE)


@dataclass(frozen=True)
class KindSpec:
    """What ldseg knows about one destination kind's ``config``."""

    name: str
    required: tuple[str, ...]
    optional: tuple[str, ...]
    secrets: frozenset[str]
    open: bool  # config undocumented by LD: any field accepted, never removed by ldseg

    @property
    def fields(self) -> tuple[str, ...]:
        return self.required + self.optional

    def is_secret(self, field: str) -> bool:
        if field in self.secrets or field in KNOWN_SECRET_FIELDS:
            return True
        return self.open and SECRET_LIKE.search(field) is not None


@cache
def registry() -> dict[str, KindSpec]:
    """All nine LaunchDarkly destination kinds, keyed by kind name."""
    kinds = load_schema("ldseg.schema.json")["$defs"]["kinds"]
    out: dict[str, KindSpec] = {}
    for name, schema in kinds.items():
        props: dict[str, dict[str, object]] = schema.get("properties", {})
        required = tuple(schema.get("required", ()))
        optional = tuple(f for f in props if f not in required)
        secrets = frozenset(f for f, p in props.items() if p.get("writeOnly") is True)
        out[name] = KindSpec(name, required, optional, secrets, bool(schema.get("x-ldseg-open")))
    return out


def kind(name: str) -> KindSpec:
    """The spec for ``name``; unknown kinds (from live data) are treated as open kinds."""
    spec = registry().get(name)
    if spec is None:
        return KindSpec(name, (), (), frozenset(), True)
    return spec
