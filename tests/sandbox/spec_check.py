"""The sandbox tests' view of the contract checker (kept so their imports stay short).

The one checker lives in ``tests/contract/checker.py``; it validates responses against the spec
vendored at ``tests/contract/ld-openapi-subset.json`` (``LDSEG_OPENAPI_SPEC`` points elsewhere).
"""

from __future__ import annotations

from tests.contract.checker import (
    ERROR_SCHEMA,
    SPEC_PATH,
    ContractChecker,
    SpecMismatch,
    check_httpx,
    check_response,
    spec,
    template_for,
)

__all__ = [
    "ERROR_SCHEMA",
    "SPEC_PATH",
    "ContractChecker",
    "SpecMismatch",
    "check_httpx",
    "check_response",
    "spec",
    "template_for",
]
