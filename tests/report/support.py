"""What the report tests share: the schema check, the embedded document, the cell-by-cell comparison
with the sandbox's store, and the requests a command made."""

from __future__ import annotations

import json
import re
from collections import Counter
from collections.abc import Iterable, Mapping
from typing import Any

from click.testing import CliRunner
from jsonschema import Draft202012Validator

from ldseg.cli import cli
from ldseg.resources import load_schema, quickstart_seed_path
from ldseg.sandbox import DEFAULT_TOKEN, load_seed
from ldseg.sandbox.testing import SandboxForTests, StoreForTests
from tests.helpers import Result

Doc = dict[str, Any]
_EMBEDDED = re.compile(r'<script type="application/json" id="ldseg-report-data">(.*?)</script>', re.S)


def validate(doc: Doc) -> None:
    """The document is valid against ``schemas/report.schema.json`` (all errors at once)."""
    validator = Draft202012Validator(load_schema("report.schema.json"))
    errors = [f"{'/'.join(map(str, e.absolute_path))}: {e.message}" for e in validator.iter_errors(doc)]
    assert not errors, errors[:10]


def embedded(page: str) -> Doc:
    """The document an HTML report embeds."""
    found = _EMBEDDED.search(page)
    assert found is not None, "no embedded report document"
    doc: Doc = json.loads(found.group(1))  # tojson escapes <, >, & and ' as JSON escapes: plain JSON
    return doc


def project(doc: Doc, key: str) -> Doc:
    found: Doc = next(p for p in doc["projects"] if p["key"] == key)
    return found


def envs(p: Doc) -> list[str]:
    return [e["key"] for e in p["environments"]]


def cells(p: Doc) -> dict[str, dict[str, str]]:
    """flag key -> environment -> cell."""
    keys = envs(p)
    return {f["key"]: dict(zip(keys, f["cells"], strict=True)) for f in p["flags"]}


def wants(p: Doc) -> dict[str, dict[str, bool | None]]:
    keys = envs(p)
    return {f["key"]: dict(zip(keys, f["config"], strict=True)) for f in p["flags"]}


def pending_cells(doc: Doc) -> set[str]:
    """``flag:p/e/key`` of every cell the report marks as a pending change."""
    out: set[str] = set()
    for p in doc["projects"]:
        wanted = wants(p)
        for key, by_env in cells(p).items():
            for env, cell in by_env.items():
                want = wanted[key][env]
                if want is not None and cell in ("on", "off") and want != (cell == "on"):
                    out.add(f"flag:{p['key']}/{env}/{key}")
    return out


def store_cells(
    store: StoreForTests, project_key: str, environments: Iterable[str]
) -> dict[str, dict[str, str]]:
    """What the sandbox holds, as cells: every flag LaunchDarkly lists (archived ones are not)."""
    return {
        f["key"]: {e: "on" if f["environments"][e]["trackEvents"] else "off" for e in environments}
        for f in store.flags(project_key, include_archived=False)
    }


def assert_cells_match_store(doc: Doc, store: StoreForTests) -> int:
    """Every cell of every project equals the sandbox's trackEvents; returns the cells compared."""
    compared = 0
    for p in doc["projects"]:
        expected = store_cells(store, p["key"], envs(p))
        got = {k: v for k, v in cells(p).items() if "archived" not in v.values()}
        assert got == expected, f"{p['key']}: {sorted(set(got) ^ set(expected))[:5]}"
        for e in p["environments"]:
            live = store.environment(p["key"], e["key"])
            assert e["new_flags"]["launchdarkly"] == live["defaultTrackEvents"]
            exporting = sum(1 for by_env in expected.values() if by_env[e["key"]] == "on")
            assert e["counts"]["exporting"] == exporting and e["counts"]["flags"] == len(expected)
        compared += len(expected) * len(p["environments"])
    return compared


def assert_destinations_match_store(doc: Doc, store: StoreForTests) -> None:
    """Each environment lists exactly the sandbox's destinations (name, kind, on), plus the
    declared ones apply would create (``on`` null)."""
    for p in doc["projects"]:
        for e in p["environments"]:
            live = {(d["name"], d["kind"], d["on"]) for d in store.destinations(p["key"], e["key"])}
            shown = {(d["name"], d["kind"], d["on"]) for d in e["destinations"] if d["on"] is not None}
            assert shown == live, (p["key"], e["key"])


def signature(
    log: Iterable[Mapping[str, Any]],
) -> Counter[tuple[str, str, tuple[tuple[str, tuple[str, ...]], ...]]]:
    """The requests made, as a multiset of (method, path, query): what a command costs."""
    return Counter(
        (str(e["method"]), str(e["path"]), tuple(sorted((k, tuple(v)) for k, v in e["query"].items())))
        for e in log
        if not str(e["route"]).startswith("ADMIN ")
    )


def run_ldseg(sandbox: SandboxForTests, *args: str, env: Mapping[str, str | None] | None = None) -> Result:
    """``ldseg ARGS`` in this process, against ``sandbox`` over HTTP, in a clean environment."""
    full: dict[str, str | None] = {
        "LD_ACCESS_TOKEN": DEFAULT_TOKEN,
        "LAUNCHDARKLY_ACCESS_TOKEN": None,
        "LD_BASE_URI": sandbox.url,
        "NO_COLOR": "1",
        **{
            v: None
            for v in ("SEGMENT_WRITE_KEY_PROD", "SEGMENT_WRITE_KEY_STAGING", "SEGMENT_PUBLIC_API_TOKEN")
        },
        "SEGMENT_API_URL": sandbox.url,
        "SEGMENT_PUBLIC_API_URL": sandbox.url,
        **(env or {}),
    }
    res = CliRunner().invoke(cli, list(args), env=full, catch_exceptions=False)
    return Result(res.exit_code, res.stdout, res.stderr)


def quickstart_sandbox() -> SandboxForTests:
    """A sandbox holding the quickstart's account, as `ldseg --sandbox` starts it."""
    return SandboxForTests(seed=load_seed(quickstart_seed_path()))
