"""The cassettes themselves: no token or secret in any file here, and LD's contract on every exchange.

Cassettes are committed and read by anyone with the repository, so scrubbing is not trusted
blindly: every file in this directory (cassettes, and these test modules too) is scanned for the
access token, every canary secret the scenarios use and anything shaped like an LD access token,
SDK key or mobile key. Then every recorded exchange is checked again against LD's OpenAPI spec:
a cassette edited by hand, or recorded before a checker rule existed, cannot pin a wire format LD
would refuse.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any
from urllib.parse import parse_qsl, urlsplit

import pytest
import yaml
from vcr.request import Request  # type: ignore[import-untyped]

from ldseg.sandbox import DEFAULT_TOKEN
from tests.contract.checker import ContractChecker, Violation
from tests.contract.harness import (
    CASSETTE_DIR,
    KEY_PLACEHOLDER,
    SECRET_FIELDS,
    SECRET_PLACEHOLDER,
    WriteRefused,
    refuse_writes,
    scrub_request,
    scrub_response_factory,
    scrub_secrets,
)
from tests.contract.scenarios import SECRETS
from tests.helpers import CANARY_WRITE_KEY
from tests.integration.conftest import CANARY_STAGING_KEY

KNOWN = (DEFAULT_TOKEN, CANARY_WRITE_KEY, CANARY_STAGING_KEY, *SECRETS)
#: an LD access token, SDK key or mobile key (uuid-shaped, as LD and the sandbox make them)
KEY_SHAPES = re.compile(r"\b(api|sdk|mob)-[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}\b")
#: responses a quirk test provokes on purpose (LD breaking its own schema), by cassette
PROVOKED = {"quirk-summary-trackevents-missing.yaml": "trackEvents"}


def cassettes() -> list[Path]:
    return sorted(CASSETTE_DIR.rglob("*.yaml"))


def interactions(path: Path) -> Iterator[tuple[dict[str, Any], dict[str, Any]]]:
    doc = yaml.safe_load(path.read_text(encoding="utf-8"))
    for item in doc["interactions"]:
        yield item["request"], item["response"]


def test_there_are_cassettes() -> None:
    names = {p.name for p in cassettes()}
    assert {"plan.yaml", "export.yaml", "flag-paging.yaml", "rate-limit-429.yaml"} <= names


def test_no_file_holds_a_token_or_a_secret() -> None:
    files = [p for p in CASSETTE_DIR.rglob("*") if p.is_file() and "__pycache__" not in p.parts]
    assert len(files) > len(cassettes())
    for path in files:
        text = path.read_bytes().decode("utf-8", errors="replace")
        for secret in KNOWN:
            assert secret not in text, f"{path.name} holds a known secret or the token"
        shaped = KEY_SHAPES.search(text)
        assert shaped is None, f"{path.name} holds something shaped like an LD key: {shaped.group(0)[:8]}..."


def _secret_values(node: Any) -> Iterator[tuple[str, Any]]:
    if isinstance(node, dict):
        for key, value in node.items():
            if key in SECRET_FIELDS or key == "mobileKey":
                yield key, value
            if key == "config" and isinstance(value, str):
                yield from _secret_values(json.loads(value))
            yield from _secret_values(value)
    elif isinstance(node, list):
        for value in node:
            if isinstance(value, dict) and str(value.get("path", "")).rsplit("/", 1)[-1] in SECRET_FIELDS:
                yield "patch " + str(value["path"]), value.get("value")
            yield from _secret_values(value)


@pytest.mark.parametrize("path", cassettes(), ids=lambda p: p.name)
def test_every_secret_field_is_scrubbed_or_masked(path: Path) -> None:
    for request, response in interactions(path):
        assert request["headers"].get("authorization") == ["<token>"], request["uri"]
        for raw in (request.get("body"), response["body"].get("string")):
            if not raw:
                continue
            for field, value in _secret_values(json.loads(raw)):
                ok = value in (SECRET_PLACEHOLDER, KEY_PLACEHOLDER, None) or "****" in str(value)
                assert ok, f"{path.name}: {field} is neither scrubbed nor masked"


@pytest.mark.parametrize("path", cassettes(), ids=lambda p: p.name)
def test_recorded_exchanges_keep_the_contract(path: Path) -> None:
    checker = ContractChecker(profile="ldseg")
    for request, response in interactions(path):
        url = urlsplit(request["uri"])
        headers = {k: v[0] for k, v in request["headers"].items()}
        headers["authorization"] = "api-recorded-token"  # scrubbed; its shape is checked above
        body = (request.get("body") or "").encode()
        checker.check_request(request["method"], url.path, parse_qsl(url.query), headers, body)
        content_type = (response["headers"].get("content-type") or [None])[0]
        raw = (response["body"].get("string") or "").encode()
        checker.check_response(request["method"], url.path, response["status"]["code"], content_type, raw)
    provoked = PROVOKED.get(path.name)

    def expected(v: Violation) -> bool:
        return provoked is not None and v.side == "response" and provoked in v.message

    assert [v for v in checker.violations if not expected(v)] == [], checker.report()


# --- the scrubber, on its own --------------------------------------------------------------------


def _vcr_request(body: Any, auth: str) -> Any:
    return Request(
        "POST",
        "http://127.0.0.1:5555/api/v2/destinations/web/production?x=1",
        json.dumps(body).encode(),
        {
            "Authorization": auth,
            "Content-Type": "application/json",
            "User-Agent": "ldseg/0",
            "LD-API-Version": "1",
        },
    )


def test_scrub_request_replaces_the_token_host_and_secrets() -> None:
    body = {"name": "n", "kind": "segment", "config": {"writeKey": "real-secret-value", "other": "kept"}}
    scrubbed = scrub_request(_vcr_request(body, "api-123"))
    assert scrubbed.uri == "http://ld.sandbox.invalid/api/v2/destinations/web/production?x=1"
    assert scrubbed.headers["authorization"] == "<token>" and "user-agent" not in scrubbed.headers
    assert json.loads(scrubbed.body)["config"] == {"writeKey": SECRET_PLACEHOLDER, "other": "kept"}
    # the scheme prefix survives, so a client that starts sending "Bearer" no longer matches
    assert scrub_request(_vcr_request(body, "Bearer api-123")).headers["authorization"] == "Bearer <token>"


def test_scrub_secrets_in_patches_masks_and_strings() -> None:
    ops = [
        {"op": "replace", "path": "/config/writeKey", "value": "real"},
        {"op": "replace", "path": "/config/writeKey", "value": "abc********xyz"},  # a mask: kept
        {"op": "replace", "path": "/on", "value": True},
    ]
    assert [op["value"] for op in scrub_secrets(ops)] == [SECRET_PLACEHOLDER, "abc********xyz", True]
    as_string = {"config": json.dumps({"apiKey": "real", "secret": "s********t"})}
    assert json.loads(scrub_secrets(as_string)["config"]) == {
        "apiKey": SECRET_PLACEHOLDER,
        "secret": "s********t",
    }
    env = {"key": "production", "defaultTrackEvents": False, "apiKey": "sdk-1", "mobileKey": "mob-1"}
    assert scrub_secrets(env, env_keys=True)["apiKey"] == KEY_PLACEHOLDER
    strict = scrub_secrets({"config": {"writeKey": "abc********xyz"}}, strict=True)
    assert strict["config"]["writeKey"] == "********"  # live recordings keep no visible characters


def test_scrub_response_drops_volatile_headers_and_keeps_json() -> None:
    response = {
        "status": {"code": 200, "message": "OK"},
        "headers": {"Content-Type": ["application/json"], "Date": ["now"], "Retry-After": ["1"]},
        "body": {"string": json.dumps({"items": [{"config": {"writeKey": "plain"}}]}).encode()},
    }
    out = scrub_response_factory(False)(response)
    assert set(out["headers"]) == {"content-type", "retry-after"}
    assert json.loads(out["body"]["string"]) == {"items": [{"config": {"writeKey": SECRET_PLACEHOLDER}}]}


def test_live_recordings_refuse_writes_before_sending() -> None:
    with pytest.raises(WriteRefused, match="refused POST /api/v2/destinations/web/production"):
        refuse_writes(_vcr_request({}, "api-1"))
    get = Request("GET", "https://app.launchdarkly.com/api/v2/destinations", b"", {"Authorization": "api-1"})
    assert refuse_writes(get).headers["authorization"] == "<token>"
