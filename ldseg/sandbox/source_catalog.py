"""Segment's source catalog, the few entries a seed can name (``catalog: launchdarkly``).

A source's ``metadata`` in the Public API is its catalog entry (``SourceMetadataV1``). Ids, slugs and
categories are the ones Segment's public documentation gives (LaunchDarkly ``cODRw1GgIP``, Analytics.js
``IqDTy1TpoU``, HTTP API ``iUM16Md8P2``). Descriptions are abridged, and the logo URLs are invented
(``.invalid``): nothing should ever fetch them. ``regions`` is not part of the API: it says which
workspaces may connect the source (the LaunchDarkly source is US-only).
"""

from __future__ import annotations

import copy
from typing import Any

CATALOG: dict[str, dict[str, Any]] = {
    "launchdarkly": {
        "id": "cODRw1GgIP",
        "slug": "launchdarkly",
        "name": "LaunchDarkly",
        "description": "LaunchDarkly is a feature management platform that empowers development teams "
        "to safely deliver and control software through feature flags.",
        "categories": ["Feature Flagging", "A/B Testing"],
        "isCloudEventSource": True,
        "status": "PUBLIC",
        "partnerOwned": True,
        "regions": ["us"],
    },
    "javascript": {
        "id": "IqDTy1TpoU",
        "slug": "javascript",
        "name": "Javascript",
        "description": "Analytics.js, Segment's website library.",
        "categories": ["Website"],
        "isCloudEventSource": False,
        "status": "PUBLIC",
        "partnerOwned": False,
        "regions": ["us", "eu"],
    },
    "http-api": {
        "id": "iUM16Md8P2",
        "slug": "http-api",
        "name": "HTTP API",
        "description": "Send data to Segment's HTTP Tracking API from any application.",
        "categories": ["Server"],
        "isCloudEventSource": False,
        "status": "PUBLIC",
        "partnerOwned": False,
        "regions": ["us", "eu"],
    },
}

METADATA_FIELDS = (
    "id",
    "slug",
    "name",
    "description",
    "logos",
    "options",
    "categories",
    "isCloudEventSource",
    "status",
    "partnerOwned",
)


def metadata(entry: str | dict[str, Any]) -> tuple[dict[str, Any], list[str]]:
    """``(SourceMetadataV1, regions)`` for a catalog name, or for a mapping of metadata fields.

    Raises ``KeyError`` for an unknown name and ``ValueError`` for unknown fields in a mapping.
    """
    if isinstance(entry, str):
        base = copy.deepcopy(CATALOG[entry])
    else:
        unknown = sorted(set(entry) - set(METADATA_FIELDS) - {"regions"})
        if unknown:
            raise ValueError(f"unknown metadata field(s) {', '.join(unknown)}")
        slug = str(entry.get("slug", "custom"))
        base = {
            "id": slug,
            "slug": slug,
            "name": slug,
            "description": "",
            "categories": [],
            "isCloudEventSource": False,
            "status": "PUBLIC",
            "partnerOwned": False,
            "regions": ["us", "eu"],
            **copy.deepcopy(entry),
        }
    regions = list(base.pop("regions"))
    base.setdefault("logos", {"default": f"https://logos.segment.invalid/{base['slug']}.svg"})
    base.setdefault("options", [])
    return {k: base[k] for k in METADATA_FIELDS}, regions
