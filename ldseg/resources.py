"""Find files that ship with ldseg: the JSON schemas and the quickstart seed.

In a wheel they are copied into ``ldseg/_data`` (see ``[tool.hatch.build]`` in pyproject.toml);
in an editable install or a source checkout they are read from the repository itself, so the
top-level ``schemas/`` directory stays the one copy that is edited.
"""

from __future__ import annotations

import json
from functools import cache
from pathlib import Path
from typing import Any

_PACKAGE_DIR = Path(__file__).resolve().parent
_DATA_DIR = _PACKAGE_DIR / "_data"
_REPO_DIR = _PACKAGE_DIR.parent


def resource_path(packaged: str, in_repo: str) -> Path:
    """Return the packaged copy of a resource if present, else the repository copy."""
    candidate = _DATA_DIR / packaged
    if candidate.exists():
        return candidate
    return _REPO_DIR / in_repo


def schema_path(name: str) -> Path:
    return resource_path(f"schemas/{name}", f"schemas/{name}")


@cache
def load_schema(name: str) -> dict[str, Any]:
    """Load one of the JSON schemas in ``schemas/`` (cached: schemas never change at run time)."""
    with schema_path(name).open(encoding="utf-8") as fh:
        data: dict[str, Any] = json.load(fh)
    return data


def quickstart_seed_path() -> Path:
    return resource_path("quickstart-seed.yaml", "examples/quickstart/seed.yaml")
