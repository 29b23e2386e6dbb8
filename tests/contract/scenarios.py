"""Seeds, configs and secrets the cassette workflows and the quirk table share.

They live here, outside ``tests/cassettes/``, so that the test proving no cassette holds a secret
can scan every file in that directory: the secrets' values are written down only in this module.
"""

from __future__ import annotations

import copy
from typing import Any

#: canary secrets: each must only ever be seen by the sandbox (never in a cassette or an output)
PROD_WRITE_KEY = "canary-ct-prod-wk-5d1f9b3a7c2e"
STAGING_WRITE_KEY = "canary-ct-stg-wk-8e4a2c6f0b1d"
QA_WRITE_KEY = "canary-ct-qa-wk-3b7d1f5a9c0e"
MP_API_KEY = "canary-ct-mp-api-6c0e4a8d2f1b"
MP_SECRET = "canary-ct-mp-secret-1a5c9e3b7d0f"
ROTATED_WRITE_KEY = "rotated-ct-prod-wk-2f6b0d4e8a3c"
SECRETS = (PROD_WRITE_KEY, STAGING_WRITE_KEY, QA_WRITE_KEY, MP_API_KEY, MP_SECRET, ROTATED_WRITE_KEY)

#: the environment variables the configs read their secrets from
SECRET_ENV = {
    "SEG_PROD": PROD_WRITE_KEY,
    "SEG_STAGING": STAGING_WRITE_KEY,
    "SEG_QA": QA_WRITE_KEY,
    "MP_API_KEY": MP_API_KEY,
    "MP_SECRET": MP_SECRET,
}

KINESIS = {"region": "us-east-1", "roleArn": "arn:aws:iam::123456789012:role/ld-export", "streamName": "ld"}

_SEED: dict[str, Any] = {
    "settings": {"mask_style": "edges"},
    "projects": {
        "web": {
            "name": "Web shop",
            "environments": {
                "production": {"name": "Production"},
                "staging": {"name": "Staging"},
                "qa": {"name": "QA"},
            },
            "flags": {
                "checkout-v2": {"tags": ["analytics"], "trackEvents": {"production": True}},
                "search": {"tags": ["analytics"]},
                "dark-mode": {"trackEvents": {"production": True}},
                "pricing-banner": {"tags": ["growth"]},
            },
        },
    },
    "destinations": [
        {
            "project": "web",
            "environment": "production",
            "name": "segment-main",
            "kind": "segment",
            "on": False,
            "config": {"writeKey": PROD_WRITE_KEY, "userIDContextKind": "user"},
        },
        {
            "project": "web",
            "environment": "production",
            "name": "old-kinesis",
            "kind": "kinesis",
            "on": True,
            "config": dict(KINESIS),
        },
        {
            "project": "web",
            "environment": "staging",
            "name": "stream",
            "kind": "kinesis",
            "on": True,
            "config": dict(KINESIS),
        },
    ],
}


def seed(**settings: Any) -> dict[str, Any]:
    """A fresh copy of the account the workflows start from (``settings`` overlaid)."""
    doc = copy.deepcopy(_SEED)
    doc["settings"].update(settings)
    return doc


def paging_seed(flags: int = 230) -> dict[str, Any]:
    """A project with several pages of flags in four environments (3 env per request: 2 groups)."""
    envs = ("production", "staging", "qa", "dev")
    return {
        "projects": {
            "big": {
                "name": "Big",
                "environments": {e: {"name": e.title()} for e in envs},
                "generate_flags": {
                    "count": flags,
                    "prefix": "flag-",
                    "tags": ["analytics", "growth"],
                    "track_events": {"production": 0.97, "staging": 0.97, "qa": 0.97, "dev": 0.97},
                    "archived": 0.02,
                    "seed": 11,
                },
            }
        },
        "destinations": [],
    }


def config(*scopes: str, comment: str | None = None) -> str:
    """An ``ldseg.yaml`` for project ``web`` with the given environment blocks (already indented)."""
    settings = f"settings: {{comment: {comment!r}}}\n" if comment else ""
    body = "".join(scopes)
    return f"version: 1\n{settings}projects:\n  web:\n    environments:\n{body}"


def scope(env: str, body: str) -> str:
    """One environment block; ``body`` is YAML at the environment's level."""
    lines = body.strip("\n").splitlines()
    return f"      {env}:\n" + "".join(f"        {line}\n" for line in lines)


SEGMENT_MAIN = (
    'segment-main: {kind: segment, on: true, config: {writeKey: "${SEG_PROD}", userIDContextKind: user}}'
)
SEGMENT_MAIN_OFF = (
    'segment-main: {kind: segment, on: false, config: {writeKey: "${SEG_PROD}", userIDContextKind: user}}'
)
OLD_KINESIS = (
    "old-kinesis: {kind: kinesis, config: {region: us-east-1, "
    "roleArn: 'arn:aws:iam::123456789012:role/ld-export', streamName: ld}}"
)
STREAM_KINESIS = OLD_KINESIS.replace("old-kinesis", "stream")
STREAM_PUBSUB = "stream: {kind: google-pubsub, config: {project: web-analytics, topic: ld-events}}"
