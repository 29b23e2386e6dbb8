"""``scripts/refresh-openapi-subset``: idempotent on the vendored subset, and it drops what ldseg
does not use from a bigger spec while keeping everything it keeps byte-for-byte.

There is no full LD spec in this repository (it is megabytes), so the "full" spec here is the
vendored subset plus synthetic extra paths, operations, components and tags that must vanish.
The script is also linted and type-checked here: the repository's quality tests only see ``*.py``.
"""

from __future__ import annotations

import copy
import json
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

REPO = Path(__file__).resolve().parents[2]
SCRIPT = REPO / "scripts" / "refresh-openapi-subset"
VENDORED = REPO / "tests" / "contract" / "ld-openapi-subset.json"


def run(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, str(SCRIPT), *args], capture_output=True, text=True, timeout=60, cwd=REPO
    )


def source_args(source: dict[str, str]) -> list[str]:
    args = [
        "--commit", source["commit"],
        "--blob", source["blob"],
        "--commit-note", source["commit_note"],
        "--repository", source["repository"],
        "--path", source["path"],
        "--upstream", source["upstream"],
        "--trimmed", source["trimmed"],
    ]  # fmt: skip
    if "supplement" in source:
        args += ["--supplement", source["supplement"]]
    return args


@pytest.fixture(scope="module")
def vendored() -> dict[str, Any]:
    doc: dict[str, Any] = json.loads(VENDORED.read_text(encoding="utf-8"))
    return doc


def test_vendored_subset_keeps_its_source_and_licence(vendored: dict[str, Any]) -> None:
    info = vendored["info"]
    assert info["license"]["name"] == "Apache 2.0"
    assert info["x-source"]["repository"] == "launchdarkly/ldcli"
    assert info["x-source"]["commit"] == "5126f6875f056e89d28c1e35cb839413b938f72c"
    notice = (VENDORED.parent / "README.md").read_text(encoding="utf-8")
    assert "Apache" in notice and info["x-source"]["commit"] in notice
    # the approval-request operations came from another copy of the spec: both say which
    older = "d434397dcd2cc0b8bc635a5c489f859b48c6020f"
    assert older in info["x-source"]["supplement"] and older in notice
    assert older in (VENDORED.parent / "NOTICE").read_text(encoding="utf-8")


def test_idempotent_on_the_vendored_subset(vendored: dict[str, Any], tmp_path: Path) -> None:
    out = tmp_path / "subset.json"
    result = run(str(VENDORED), "-o", str(out), *source_args(vendored["info"]["x-source"]))
    assert result.returncode == 0, result.stderr
    assert out.read_bytes() == VENDORED.read_bytes()


def bigger_spec(vendored: dict[str, Any]) -> dict[str, Any]:
    doc = copy.deepcopy(vendored)
    schemas = doc["components"]["schemas"]
    schemas["Segment"] = {
        "type": "object",
        "properties": {"rules": {"$ref": "#/components/schemas/SegmentRule"}},
    }
    schemas["SegmentRule"] = {
        "type": "object",
        "properties": {"clauses": {"$ref": "#/components/schemas/Clause"}},
    }
    schemas["Orphan"] = {"type": "string"}
    doc["components"]["parameters"] = {"Unused": {"name": "x", "in": "query", "schema": {"type": "string"}}}
    doc["paths"]["/api/v2/segments/{projectKey}"] = {
        "get": {
            "operationId": "getSegments",
            "tags": ["Segments"],
            "parameters": [{"$ref": "#/components/parameters/Unused"}],
            "responses": {
                "200": {"content": {"application/json": {"schema": {"$ref": "#/components/schemas/Segment"}}}}
            },
        }
    }
    doc["paths"]["/api/v2/flags/{projectKey}/{featureFlagKey}"]["delete"] = {
        "operationId": "deleteFeatureFlag",
        "tags": ["Feature flags"],
        "responses": {"204": {"description": "Action succeeded"}},
    }
    doc["tags"].append({"name": "Segments", "description": "not used by ldseg"})
    return doc


def test_drops_what_ldseg_does_not_use(vendored: dict[str, Any], tmp_path: Path) -> None:
    full = tmp_path / "full.json"
    full.write_text(json.dumps(bigger_spec(vendored)), encoding="utf-8")
    out = tmp_path / "subset.json"
    result = run(str(full), "-o", str(out), "--commit", "0" * 40, "--blob", "1" * 40)
    assert result.returncode == 0, result.stderr
    assert "24 operations" in result.stdout
    doc = json.loads(out.read_text(encoding="utf-8"))
    assert "/api/v2/segments/{projectKey}" not in doc["paths"]
    assert "delete" not in doc["paths"]["/api/v2/flags/{projectKey}/{featureFlagKey}"]
    assert not {"Segment", "SegmentRule", "Orphan"} & set(doc["components"]["schemas"])
    assert "parameters" not in doc["components"]
    assert [t["name"] for t in doc["tags"]] == [t["name"] for t in vendored["tags"]]
    source = doc["info"].pop("x-source")
    assert source["commit"] == "0" * 40 and source["blob"] == "1" * 40
    assert source["repository"] == "launchdarkly/ldcli"
    expected = copy.deepcopy(vendored)
    del expected["info"]["x-source"]
    assert doc == expected  # everything kept is kept unmodified


def test_refuses_a_spec_without_an_operation_ldseg_uses(vendored: dict[str, Any], tmp_path: Path) -> None:
    doc = copy.deepcopy(vendored)
    del doc["paths"]["/api/v2/destinations"]
    full = tmp_path / "full.json"
    full.write_text(json.dumps(doc), encoding="utf-8")
    result = run(str(full), "-o", str(tmp_path / "out.json"), "--commit", "abc")
    assert result.returncode == 1
    assert "no operation getDestinations" in result.stderr
    assert not (tmp_path / "out.json").exists()


@pytest.mark.parametrize(
    "tool",
    [
        ("ruff", "check"),
        ("ruff", "format", "--check"),
        ("mypy", "--strict", "--python-version", "3.10"),
    ],
    ids=["ruff", "ruff-format", "mypy"],
)
def test_script_quality(tool: tuple[str, ...]) -> None:
    result = subprocess.run(
        [sys.executable, "-m", *tool, str(SCRIPT)], capture_output=True, text=True, timeout=300, cwd=REPO
    )
    assert result.returncode == 0, result.stdout + result.stderr
