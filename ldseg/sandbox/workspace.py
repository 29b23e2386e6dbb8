"""The ``segment:`` section of a seed: a Segment workspace with Public API tokens and sources.

::

    segment:
      region: us                 # us | eu (EU workspaces cannot connect the LaunchDarkly source)
      workspace: {id: ..., slug: ..., name: ...}            # optional
      tokens: {sgp-admin-token: {source_admin: true}, sgp-member-token: {source_admin: false}}
      sources:
        - {id: src_ld_prod, name: LaunchDarkly (prod), slug: launchdarkly-prod, enabled: true,
           writeKeys: [wk-abc], catalog: launchdarkly, settings: {}, labels: []}

``catalog`` names an entry of ``source_catalog.CATALOG`` (default ``launchdarkly``) or is a mapping of
metadata fields. A write key belongs to one source only. Tracked messages are state too (the
``messages`` list), but only the tracking API adds them.
"""

from __future__ import annotations

import copy
import re
from typing import Any

from . import records, source_catalog
from .exceptions import SeedError
from .validation import check_keys, expect, str_list

REGIONS = ("us", "eu")
SOURCE_FIELDS = {"id", "name", "slug", "enabled", "writeKeys", "catalog", "settings", "labels"}
_SEGMENT_FIELDS = {"region", "workspace", "tokens", "sources"}


def slugify(name: str) -> str:
    return re.sub(r"[^a-z0-9]+", "-", name.lower()).strip("-") or "source"


def build_source(raw: Any, *, region: str, workspace_id: str, where: str) -> dict[str, Any]:
    """A source record from seed fields (also used by ``Store.add_segment_source``)."""
    expect(raw, dict, where)
    check_keys(raw, SOURCE_FIELDS, where)
    if "name" not in raw:
        raise SeedError(f"{where}: missing name")
    name = expect(raw["name"], str, f"{where}.name")
    entry = raw.get("catalog", "launchdarkly")
    try:
        metadata, regions = source_catalog.metadata(expect(entry, (str, dict), f"{where}.catalog"))
    except KeyError:
        known = ", ".join(sorted(source_catalog.CATALOG))
        raise SeedError(f"{where}.catalog: unknown catalog entry {entry!r}; known: {known}") from None
    except ValueError as e:
        raise SeedError(f"{where}.catalog: {e}") from None
    if region not in regions:
        raise SeedError(
            f"{where}.catalog: the {metadata['name']} source is not available in {region.upper()} "
            f"workspaces (regions: {', '.join(regions)})"
        )
    labels = expect(raw.get("labels", []), list, f"{where}.labels")
    return {
        "id": expect(raw.get("id", records.hex_id("segment-source", name)[:22]), str, f"{where}.id"),
        "slug": expect(raw.get("slug", slugify(name)), str, f"{where}.slug"),
        "name": name,
        "workspaceId": workspace_id,
        "enabled": expect(raw.get("enabled", True), bool, f"{where}.enabled"),
        "writeKeys": str_list(raw.get("writeKeys", []), f"{where}.writeKeys"),
        "settings": copy.deepcopy(expect(raw.get("settings", {}), dict, f"{where}.settings")),
        "labels": copy.deepcopy(labels),
        "metadata": metadata,
    }


def check_unique(sources: dict[str, dict[str, Any]], new: dict[str, Any], where: str) -> None:
    """A new (or changed) source must not reuse another source's id or write keys."""
    for other in sources.values():
        if other["id"] == new["id"]:
            continue
        shared = sorted(set(other["writeKeys"]) & set(new["writeKeys"]))
        if shared:
            raise SeedError(f"{where}.writeKeys: {', '.join(shared)} already belongs to source {other['id']}")


def build_workspace(raw: Any) -> dict[str, Any]:
    """The ``segment`` part of the state from a seed's ``segment:`` section (``None`` = empty)."""
    if raw is None:
        return records.empty_workspace()
    expect(raw, dict, "segment")
    check_keys(raw, _SEGMENT_FIELDS, "segment")
    region = raw.get("region", "us")
    if region not in REGIONS:
        raise SeedError(f"segment.region: must be one of {', '.join(REGIONS)}")
    workspace = expect(raw.get("workspace", {}), dict, "segment.workspace")
    check_keys(workspace, {"id", "slug", "name"}, "segment.workspace")
    for k, v in workspace.items():
        expect(v, str, f"segment.workspace.{k}")
    state = records.empty_workspace(region, workspace)
    tokens = expect(raw.get("tokens", {}), dict, "segment.tokens")
    for token, spec in tokens.items():
        where = f"segment.tokens.{token}"
        if isinstance(spec, bool):  # shorthand: {token: true}
            spec = {"source_admin": spec}
        expect(spec, dict, where)
        check_keys(spec, {"source_admin"}, where)
        state["tokens"][str(token)] = {
            "source_admin": expect(spec.get("source_admin", False), bool, f"{where}.source_admin")
        }
    sources = expect(raw.get("sources", []), list, "segment.sources")
    for i, src in enumerate(sources):
        where = f"segment.sources[{i}]"
        rec = build_source(src, region=region, workspace_id=state["workspace"]["id"], where=where)
        if rec["id"] in state["sources"]:
            raise SeedError(f"{where}.id: duplicate source id {rec['id']}")
        check_unique(state["sources"], rec, where)
        state["sources"][rec["id"]] = rec
    return state
