"""Fixtures: sandboxes on free ports and httpx clients that check every response against the spec."""

from __future__ import annotations

import copy
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from ldseg.sandbox import DEFAULT_TOKEN
from ldseg.sandbox.testing import SandboxForTests

from .spec_check import ContractChecker, check_httpx

READER = "api-reader-0000"
NOACCESS = "api-noaccess-0000"
WRITER = "api-writer-0000"
WRITE_KEY = "seg-wk-0123456789abcdef"

SEED: dict[str, Any] = {
    "tokens": {READER: "reader", NOACCESS: "none", WRITER: "writer"},
    "projects": {
        "web": {
            "name": "Web shop",
            "tags": ["shop"],
            "environments": {
                "production": {"name": "Production"},
                "staging": {"name": "Staging"},
                "test": {"name": "Test"},
                "gated": {"name": "Gated", "approvalRequired": True},
            },
            "flags": {
                "checkout-v2": {
                    "name": "Checkout v2",
                    "tags": ["analytics", "checkout"],
                    "trackEvents": {"production": True},
                },
                "dark-mode": {"name": "Dark mode"},
                "pricing-banner": {"name": "Pricing banner", "tags": ["growth"]},
                "search": {"name": "Search", "tags": ["analytics"]},
                "old-cart": {"name": "Old cart", "tags": ["checkout"], "archived": True},
            },
        },
        "mobile": {
            "name": "Mobile",
            "environments": {"production": {"name": "Production"}, "staging": {"name": "Staging"}},
            "generate_flags": {"count": 45, "prefix": "m-", "tags": ["analytics", "growth"], "seed": 7},
        },
    },
    "destinations": [
        {
            "project": "web",
            "environment": "production",
            "name": "segment-main",
            "kind": "segment",
            "on": False,
            "config": {"writeKey": WRITE_KEY, "userIDContextKind": "user"},
        },
        {
            "project": "web",
            "environment": "staging",
            "name": "old-kinesis",
            "kind": "kinesis",
            "on": True,
            "config": {"region": "us-east-1", "roleArn": "arn:aws:iam::1:role/x", "streamName": "s"},
        },
        {
            "project": "mobile",
            "environment": "production",
            "name": "mp",
            "kind": "mparticle",
            "on": True,
            "config": {
                "apiKey": "mp-api-key-0000000001",
                "secret": "mp-secret-0000000002",
                "userIdentity": "customer_id",
                "anonymousUserIdentity": "other",
            },
        },
    ],
}

QUICKSTART_SEED = Path(__file__).resolve().parents[2] / "examples" / "quickstart" / "seed.yaml"


def seed(**settings: Any) -> dict[str, Any]:
    """A copy of ``SEED``, optionally with settings."""
    doc = copy.deepcopy(SEED)
    if settings:
        doc["settings"] = settings
    return doc


def make_client(
    sb: SandboxForTests,
    token: str | None = DEFAULT_TOKEN,
    version: str | None = "20240415",
    check: bool = True,
) -> httpx.Client:
    headers = {}
    if token is not None:
        headers["Authorization"] = token
    if version is not None:
        headers["LD-API-Version"] = version
    hooks = {"response": [check_httpx]} if check else {}
    return httpx.Client(base_url=sb.url, headers=headers, event_hooks=hooks, timeout=10)


@pytest.fixture
def make_sandbox() -> Iterator[Callable[..., SandboxForTests]]:
    """Sandboxes whose every LD response is checked against LD's spec, whoever sent the request.

    Responses only: these tests send malformed requests on purpose, to see the sandbox refuse them.
    """
    started: list[SandboxForTests] = []
    checker = ContractChecker(requests=False)

    def factory(*args: Any, **kwargs: Any) -> SandboxForTests:
        sb = SandboxForTests(*args, **kwargs).start()
        sb.app.observers.append(checker.observe)
        started.append(sb)
        return sb

    yield factory
    for sb in started:
        sb.stop()
    checker.assert_clean()


@pytest.fixture
def sb(make_sandbox: Callable[..., SandboxForTests]) -> SandboxForTests:
    return make_sandbox(seed())


@pytest.fixture
def client(sb: SandboxForTests) -> Iterator[httpx.Client]:
    with make_client(sb) as c:
        yield c


# --- Segment ------------------------------------------------------------------------------------

SEG_ADMIN = "sgp-admin-token"
SEG_MEMBER = "sgp-member-token"
LD_WRITE_KEY = "wk-ld-prod"
SEGMENT: dict[str, Any] = {
    "region": "us",
    "tokens": {SEG_ADMIN: {"source_admin": True}, SEG_MEMBER: {"source_admin": False}},
    "sources": [
        {
            "id": "src_ld_prod",
            "name": "LaunchDarkly (prod)",
            "slug": "launchdarkly-prod",
            "enabled": True,
            "writeKeys": [LD_WRITE_KEY, WRITE_KEY],
            "catalog": "launchdarkly",
        },
        {"id": "src_web", "name": "Website", "writeKeys": ["wk-web"], "catalog": "javascript"},
        {"id": "src_off", "name": "Old LD", "enabled": False, "writeKeys": ["wk-off"]},
    ],
}


def segment_seed(**segment: Any) -> dict[str, Any]:
    """``SEED`` plus the Segment workspace, optionally with ``segment:`` fields replaced."""
    doc = seed()
    doc["segment"] = {**copy.deepcopy(SEGMENT), **segment}
    return doc


@pytest.fixture
def ssb(make_sandbox: Callable[..., SandboxForTests]) -> SandboxForTests:
    """A sandbox whose account also has a Segment workspace."""
    return make_sandbox(segment_seed())


@pytest.fixture
def seg(ssb: SandboxForTests) -> Iterator[httpx.Client]:
    """A plain client for Segment's APIs (no LD token, no LD spec check)."""
    with httpx.Client(base_url=ssb.url, timeout=10) as c:
        yield c
