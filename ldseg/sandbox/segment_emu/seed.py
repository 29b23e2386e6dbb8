"""The ``segment:`` section of a seed: a Segment workspace with Public API tokens and sources.

::

    segment:
      region: us                 # us | eu (EU workspaces cannot connect the LaunchDarkly source)
      workspace: {id: ..., slug: ..., name: ...}            # optional
      tokens: {sgp-admin-token: {source_admin: true}, sgp-member-token: {source_admin: false}}
      sources:
        - {id: src_ld_prod, name: LaunchDarkly (prod), slug: launchdarkly-prod, enabled: true,
           writeKeys: [wk-abc], catalog: launchdarkly, settings: {}, labels: []}

``catalog`` names an entry of ``catalog.CATALOG`` (default ``launchdarkly``) or is a mapping of
metadata fields. A write key belongs to one source only. Tracked messages are state too (the
``messages`` list), but only the tracking API adds them.
"""

from __future__ import annotations

import copy
import re
from typing import Any

from .. import records
from ..seed import SeedError, _expect, _keys, _str_list
from . import catalog

REGIONS = ("us", "eu")
SOURCE_FIELDS = {"id", "name", "slug", "enabled", "writeKeys", "catalog", "settings", "labels"}
_SEGMENT_FIELDS = {"region", "workspace", "tokens", "sources"}


def empty_segment_state(region: str = "us", workspace: dict[str, Any] | None = None) -> dict[str, Any]:
    ws = {"id": records.hex_id("segment-workspace")[:22], "slug": "sandbox", "name": "Sandbox"}
    ws.update(workspace or {})
    return {"region": region, "workspace": ws, "tokens": {}, "sources": {}, "messages": []}


def slugify(name: str) -> str:
    return re.sub(r"[^a-z0-9]+", "-", name.lower()).strip("-") or "source"


def build_source(raw: Any, *, region: str, workspace_id: str, where: str) -> dict[str, Any]:
    """A source record from seed fields (also used by ``Store.add_segment_source``)."""
    _expect(raw, dict, where)
    _keys(raw, SOURCE_FIELDS, where)
    if "name" not in raw:
        raise SeedError(f"{where}: missing name")
    name = _expect(raw["name"], str, f"{where}.name")
    entry = raw.get("catalog", "launchdarkly")
    try:
        metadata, regions = catalog.metadata(_expect(entry, (str, dict), f"{where}.catalog"))
    except KeyError:
        known = ", ".join(sorted(catalog.CATALOG))
        raise SeedError(f"{where}.catalog: unknown catalog entry {entry!r}; known: {known}") from None
    except ValueError as e:
        raise SeedError(f"{where}.catalog: {e}") from None
    if region not in regions:
        raise SeedError(
            f"{where}.catalog: the {metadata['name']} source is not available in {region.upper()} "
            f"workspaces (regions: {', '.join(regions)})"
        )
    labels = _expect(raw.get("labels", []), list, f"{where}.labels")
    return {
        "id": _expect(raw.get("id", records.hex_id("segment-source", name)[:22]), str, f"{where}.id"),
        "slug": _expect(raw.get("slug", slugify(name)), str, f"{where}.slug"),
        "name": name,
        "workspaceId": workspace_id,
        "enabled": _expect(raw.get("enabled", True), bool, f"{where}.enabled"),
        "writeKeys": _str_list(raw.get("writeKeys", []), f"{where}.writeKeys"),
        "settings": copy.deepcopy(_expect(raw.get("settings", {}), dict, f"{where}.settings")),
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


def build_segment_state(raw: Any) -> dict[str, Any]:
    """The ``segment`` part of the state from a seed's ``segment:`` section (``None`` = empty)."""
    if raw is None:
        return empty_segment_state()
    _expect(raw, dict, "segment")
    _keys(raw, _SEGMENT_FIELDS, "segment")
    region = raw.get("region", "us")
    if region not in REGIONS:
        raise SeedError(f"segment.region: must be one of {', '.join(REGIONS)}")
    workspace = _expect(raw.get("workspace", {}), dict, "segment.workspace")
    _keys(workspace, {"id", "slug", "name"}, "segment.workspace")
    for k, v in workspace.items():
        _expect(v, str, f"segment.workspace.{k}")
    state = empty_segment_state(region, workspace)
    tokens = _expect(raw.get("tokens", {}), dict, "segment.tokens")
    for token, spec in tokens.items():
        where = f"segment.tokens.{token}"
        if isinstance(spec, bool):  # shorthand: {token: true}
            spec = {"source_admin": spec}
        _expect(spec, dict, where)
        _keys(spec, {"source_admin"}, where)
        state["tokens"][str(token)] = {
            "source_admin": _expect(spec.get("source_admin", False), bool, f"{where}.source_admin")
        }
    sources = _expect(raw.get("sources", []), list, "segment.sources")
    for i, src in enumerate(sources):
        where = f"segment.sources[{i}]"
        rec = build_source(src, region=region, workspace_id=state["workspace"]["id"], where=where)
        if rec["id"] in state["sources"]:
            raise SeedError(f"{where}.id: duplicate source id {rec['id']}")
        check_unique(state["sources"], rec, where)
        state["sources"][rec["id"]] = rec
    return state
