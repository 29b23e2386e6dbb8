"""The contract checker can fail: malformed requests, sent over HTTP to a sandbox with the checker
attached, produce violations; the documented alternative forms do not; bad responses are caught.

A checker that never fails proves nothing, so each rule it enforces has a request here that breaks
it, sent with plain httpx (not ldseg's client, which would refuse to send most of them).
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any

import httpx
import pytest
from werkzeug.wrappers import Response

from ldseg.sandbox import DEFAULT_TOKEN
from ldseg.sandbox.exchange import SandboxRequest
from ldseg.sandbox.testing import SandboxForTests
from tests.contract.checker import (
    ContractChecker,
    SpecMismatch,
    check_response,
    json_patch_errors,
    template_for,
)
from tests.contract.scenarios import seed

FLAG = "/api/v2/flags/web/search"
DEST_LIST = "/api/v2/destinations"
ENV = "/api/v2/projects/web/environments/production"
HEADERS = {"Authorization": DEFAULT_TOKEN, "LD-API-Version": "20240415"}
JSON_HEADERS = {**HEADERS, "Content-Type": "application/json"}
SEMANTIC = "application/json; domain-model=launchdarkly.semanticpatch"
GOOD_PATCH = {
    "comment": "c",
    "patch": [{"op": "replace", "path": "/environments/qa/trackEvents", "value": True}],
}


@pytest.fixture(scope="module")
def sandbox() -> Iterator[SandboxForTests]:
    with SandboxForTests(seed=seed()) as sb:
        yield sb


@pytest.fixture
def checker(sandbox: SandboxForTests) -> Iterator[ContractChecker]:
    """The "ld" profile: what LaunchDarkly accepts from any client."""
    checker = ContractChecker(profile="ld")
    sandbox.app.observers.append(checker.observe)
    yield checker
    sandbox.app.observers.remove(checker.observe)


@pytest.fixture
def http(sandbox: SandboxForTests) -> Iterator[httpx.Client]:
    with httpx.Client(base_url=sandbox.url, timeout=10) as c:
        yield c


def rules(checker: ContractChecker) -> set[tuple[str, str]]:
    return {(v.side, v.rule) for v in checker.violations}


# --- the check can fail --------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("request_kwargs", "rule", "fragment"),
    [
        pytest.param(
            {
                "method": "GET",
                "url": DEST_LIST,
                "headers": {**HEADERS, "Authorization": "Bearer " + DEFAULT_TOKEN},
            },
            "auth",
            "'Bearer' scheme prefix",
            id="bearer-token",
        ),
        pytest.param(
            {"method": "GET", "url": DEST_LIST, "headers": {"LD-API-Version": "20240415"}},
            "auth",
            "no Authorization header",
            id="no-token",
        ),
        pytest.param(
            {"method": "GET", "url": DEST_LIST, "headers": {"Authorization": DEFAULT_TOKEN}},
            "api-version",
            "LD-API-Version must be 20240415",
            id="no-api-version",
        ),
        pytest.param(
            {
                "method": "PATCH",
                "url": FLAG,
                "headers": JSON_HEADERS,
                "json": {"comment": "c", "op": "replace"},
            },
            "body",
            "'patch' is a required property",
            id="patch-without-json-patch-shape",
        ),
        pytest.param(
            {"method": "PATCH", "url": FLAG, "headers": JSON_HEADERS, "json": {"patch": [{"path": "/x"}]}},
            "body",
            "'op' is a required property",
            id="patch-op-without-op",
        ),
        pytest.param(
            {
                "method": "PATCH",
                "url": FLAG,
                "headers": JSON_HEADERS,
                "json": {"patch": [{"op": "replace", "path": "environments/qa/trackEvents"}]},
            },
            "body",
            "is not a JSON pointer",
            id="patch-bad-pointer-and-no-value",
        ),
        pytest.param(
            {
                "method": "GET",
                "url": "/api/v2/flags/web",
                "params": {"envs": "production"},
                "headers": HEADERS,
            },
            "query",
            "unknown query parameter 'envs'",
            id="unknown-query-parameter",
        ),
        pytest.param(
            {"method": "GET", "url": "/api/v2/flags/web", "params": {"limit": "ten"}, "headers": HEADERS},
            "query",
            "limit must be an integer",
            id="integer-query-parameter",
        ),
        pytest.param(
            {"method": "GET", "url": "/api/v2/flags/web", "params": {"summary": "maybe"}, "headers": HEADERS},
            "query",
            "summary must be a boolean",
            id="boolean-query-parameter",
        ),
        pytest.param(
            {
                "method": "GET",
                "url": "/api/v2/flags/web",
                "params": [("limit", "5"), ("limit", "6")],
                "headers": HEADERS,
            },
            "query",
            "only env may repeat",
            id="repeated-query-parameter",
        ),
        pytest.param(
            {
                "method": "GET",
                "url": "/api/v2/flags/web",
                "params": [("env", e) for e in ("production", "staging", "qa", "production")],
                "headers": HEADERS,
            },
            "query",
            "at most 3",
            id="four-env-values",
        ),
        pytest.param(
            {"method": "GET", "url": "/api/v2/flags/web", "params": {"limit": "500"}, "headers": HEADERS},
            "query",
            "caps it at 100",
            id="limit-above-cap",
        ),
        pytest.param(
            {"method": "GET", "url": "/api/v2/flags/web", "params": {"compare": "true"}, "headers": HEADERS},
            "query",
            "unavailable in API version 20240415",
            id="removed-parameter",
        ),
        pytest.param(
            {
                "method": "PATCH",
                "url": FLAG,
                "headers": {**HEADERS, "Content-Type": "text/plain"},
                "content": json.dumps(GOOD_PATCH),
            },
            "content-type",
            "Content-Type must be application/json",
            id="wrong-content-type",
        ),
        pytest.param(
            {
                "method": "PATCH",
                "url": ENV,
                "headers": {**HEADERS, "Content-Type": SEMANTIC},
                "content": "[]",
            },
            "content-type",
            "for flags only",
            id="semantic-patch-on-environment",
        ),
        pytest.param(
            {
                "method": "PATCH",
                "url": FLAG,
                "headers": JSON_HEADERS,
                "json": {
                    "environmentKey": "qa",
                    "instructions": [{"kind": "updateTrackEvents", "trackEvents": True}],
                },
            },
            "body",
            "needs Content-Type: application/json; domain-model",
            id="semantic-patch-without-content-type",
        ),
        pytest.param(
            {"method": "PATCH", "url": ENV, "headers": JSON_HEADERS, "json": GOOD_PATCH},
            "body",
            "is not of type 'array'",
            id="comment-wrapper-on-environment",
        ),
        pytest.param(
            {"method": "PATCH", "url": FLAG, "headers": JSON_HEADERS, "content": "{not json"},
            "body",
            "not valid JSON",
            id="invalid-json",
        ),
        pytest.param(
            {"method": "PATCH", "url": FLAG, "headers": JSON_HEADERS},
            "body",
            "the request body is required",
            id="missing-body",
        ),
        pytest.param(
            {"method": "GET", "url": DEST_LIST, "headers": JSON_HEADERS, "content": "{}"},
            "body",
            "takes no body",
            id="body-on-get",
        ),
        pytest.param(
            {
                "method": "POST",
                "url": "/api/v2/destinations/web/production",
                "headers": JSON_HEADERS,
                "json": {"name": "x", "kind": "segment", "enabled": True, "config": {"writeKey": "k" * 20}},
            },
            "body",
            "Additional properties are not allowed ('enabled'",
            id="destination-post-unknown-field",
        ),
        pytest.param(
            {"method": "PUT", "url": DEST_LIST, "headers": HEADERS},
            "operation",
            "PUT is not an operation on /api/v2/destinations",
            id="undocumented-method",
        ),
        pytest.param(
            {"method": "GET", "url": "/api/v2/segments/web", "headers": HEADERS},
            "operation",
            "no operation in the spec",
            id="undocumented-path",
        ),
    ],
)
def test_a_malformed_request_is_a_violation(
    http: httpx.Client, checker: ContractChecker, request_kwargs: dict[str, Any], rule: str, fragment: str
) -> None:
    http.request(**request_kwargs)
    found = [v for v in checker.violations if v.side == "request" and v.rule == rule]
    assert any(fragment in v.message for v in found), checker.report()
    assert fragment in checker.report()  # the report is what a failing test shows


def test_the_integration_fixture_fails_the_test_that_caused_a_violation(sandbox: SandboxForTests) -> None:
    """What tests/integration's ``sandbox`` fixture does at teardown, shown failing."""
    checker = ContractChecker(profile="ldseg")
    sandbox.app.observers.append(checker.observe)
    try:
        httpx.get(sandbox.url + DEST_LIST, headers={**HEADERS, "Authorization": "Bearer x"})
    finally:
        sandbox.app.observers.remove(checker.observe)
    with pytest.raises(
        AssertionError, match=r"1 contract violation.*\n  - GET /api/v2/destinations \[request auth\]"
    ):
        checker.assert_clean()


# --- what counts as conformant -------------------------------------------------------------------


OP = [{"op": "replace", "path": "/environments/qa/trackEvents", "value": True}]
FLAG_FORMS = {
    "json-patch-with-comment": ("application/json", {"comment": "why", "patch": OP}),
    "json-patch-without-comment": ("application/json", {"patch": OP}),
    "bare-json-patch": ("application/json", OP),
    "merge-patch-with-comment": ("application/json", {"comment": "why", "merge": {"description": "d"}}),
    "semantic-patch": (
        SEMANTIC,
        {"environmentKey": "qa", "instructions": [{"kind": "updateTrackEvents", "trackEvents": True}]},
    ),
}


@pytest.mark.parametrize("form", sorted(FLAG_FORMS))
def test_documented_flag_patch_forms_conform(
    http: httpx.Client, checker: ContractChecker, sandbox: SandboxForTests, form: str
) -> None:
    content_type, body = FLAG_FORMS[form]
    response = http.patch(FLAG, headers={**HEADERS, "Content-Type": content_type}, content=json.dumps(body))
    assert response.status_code == 200, response.text
    assert checker.violations == []
    ldseg = ContractChecker(profile="ldseg")
    ldseg.check_request(
        "PATCH", FLAG, [], {**HEADERS, "Content-Type": content_type}, json.dumps(body).encode()
    )
    if form == "json-patch-with-comment":
        assert ldseg.violations == []  # the one form ldseg sends
    else:
        assert {v.rule for v in ldseg.violations} == {"ldseg"}, ldseg.report()


def test_bare_merge_patch_on_flags_is_not_counted_conformant(
    http: httpx.Client, checker: ContractChecker
) -> None:
    """LD's docs mention a bare merge object, but it is indistinguishable from a malformed
    {comment, patch}: the checker refuses it (and nobody here needs it)."""
    http.patch(FLAG, headers=JSON_HEADERS, json={"description": "bare merge"})
    assert ("request", "body") in rules(checker)


def test_destination_patch_forms(
    http: httpx.Client, checker: ContractChecker, sandbox: SandboxForTests
) -> None:
    (dest,) = sandbox.store.find_destinations("web", "production", "old-kinesis")
    path = f"/api/v2/destinations/web/production/{dest['_id']}"
    assert http.patch(
        path, headers=JSON_HEADERS, json=[{"op": "replace", "path": "/on", "value": False}]
    ).is_success
    assert http.patch(
        path, headers=JSON_HEADERS, json={"on": True}
    ).is_success  # RFC 7386, per the description
    assert checker.violations == []
    http.patch(path, headers=JSON_HEADERS, json={"comment": "c", "patch": []})  # UNCONFIRMED wrapper
    assert any("wrapper is not documented" in v.message for v in checker.violations), checker.report()
    checker.clear()
    ldseg = ContractChecker(profile="ldseg")
    whole_config = [{"op": "replace", "path": "/config", "value": {"writeKey": "abc****xyz"}}]
    ldseg.check_request("PATCH", path, [], JSON_HEADERS, json.dumps(whole_config).encode())
    assert any("never the whole /config" in v.message for v in ldseg.violations), ldseg.report()


def test_repeated_env_and_zero_as_boolean_conform(http: httpx.Client, checker: ContractChecker) -> None:
    params: list[tuple[str, str | int | float | bool | None]] = [
        ("env", "production"),
        ("env", "staging"),
        ("summary", "0"),
        ("limit", "100"),
        ("offset", "0"),
    ]
    assert http.get("/api/v2/flags/web", params=params, headers=HEADERS).is_success
    assert http.get(FLAG, params=[("env", "production"), ("env", "qa")], headers=HEADERS).is_success
    assert checker.violations == []


def test_rfc6902_rules() -> None:
    assert json_patch_errors([{"op": "move", "path": "/a"}]) == ["0/from: is not a string"]
    assert json_patch_errors([{"op": "remove", "path": "/a~2"}]) == [
        "0/path: '/a~2' has an invalid '~' escape (RFC 6901)"
    ]
    assert json_patch_errors([{"op": "test", "path": "/_version", "value": 3}]) == []
    assert json_patch_errors({"op": "add"}) == ["a JSON Patch must be an array of operations"]


# --- responses -----------------------------------------------------------------------------------


def _corrupt(status: int, body: Any, content_type: str = "application/json") -> Any:
    def middleware(request: SandboxRequest, nxt: Any) -> Response:
        nxt(request)
        return Response(
            json.dumps(body) if content_type == "application/json" else body, status, mimetype=content_type
        )

    return middleware


@pytest.mark.parametrize(
    ("status", "body", "content_type", "fragment"),
    [
        pytest.param(
            200, {"items": [{"projectKey": "web"}]}, "application/json", "projectKey", id="invented-field"
        ),
        pytest.param(
            200, {"items": [{"version": "1"}]}, "application/json", "is not of type 'number'", id="type"
        ),
        pytest.param(
            201, {"items": []}, "application/json", "status not documented", id="undocumented-success"
        ),
        pytest.param(
            418, {"error": "teapot"}, "application/json", "'code' is a required property", id="non-ld-error"
        ),
        pytest.param(502, "<html>bad gateway</html>", "text/html", "not JSON", id="html-not-injected"),
    ],
)
def test_a_bad_response_is_a_violation(
    http: httpx.Client,
    sandbox: SandboxForTests,
    checker: ContractChecker,
    status: int,
    body: Any,
    content_type: str,
    fragment: str,
) -> None:
    middleware = _corrupt(status, body, content_type)
    sandbox.app.middleware.append(middleware)
    try:
        http.get(DEST_LIST, headers=HEADERS)
    finally:
        sandbox.app.middleware.remove(middleware)
    found = [v for v in checker.violations if v.side == "response"]
    assert any(fragment in v.message for v in found), checker.report()


def test_injected_load_balancer_pages_are_judged_as_faults() -> None:
    with SandboxForTests(seed=seed(), faults="error=100%,seed=1") as sb:
        checker = ContractChecker(profile="ld")
        sb.app.observers.append(checker.observe)
        for _ in range(6):  # 500/502/503, JSON or HTML, depending on the seeded draws
            httpx.get(sb.url + DEST_LIST, headers=HEADERS)
        assert sb.fault_stats()["error"] == 6
    assert checker.violations == [], checker.report()


def test_check_response_api() -> None:
    """The single-response API tests/sandbox uses as an httpx hook (``spec_check``)."""
    assert template_for("/api/v2/destinations/generate-warehouse-destination-key-pair").endswith("key-pair")
    assert check_response("DELETE", "/api/v2/destinations/p/e/i", 204, None) == (
        "/api/v2/destinations/{projectKey}/{environmentKey}/{id}"
    )
    with pytest.raises(SpecMismatch, match="status not documented"):
        check_response("DELETE", "/api/v2/destinations/p/e/i", 200, None)
    with pytest.raises(SpecMismatch, match="documents no body"):
        check_response("DELETE", "/api/v2/destinations/p/e/i", 204, {"x": 1})
    check_response("PATCH", FLAG, 403, {"code": "forbidden", "message": "no"})  # undocumented error, LD body


APPROVALS = "/api/v2/projects/web/flags/checkout-v2/environments/production/approval-requests"
ONE_UPDATE = [{"kind": "updateTrackEvents", "trackEvents": True}]


@pytest.mark.parametrize(
    ("body", "said"),
    [
        ({"description": "d", "comment": "c", "instructions": ONE_UPDATE}, None),  # what ldseg sends
        ({"description": "d", "instructions": ONE_UPDATE}, "with a description, its audit comment"),
        (
            {"description": "d", "comment": " ", "instructions": ONE_UPDATE},
            "always sends an audit-log comment",
        ),
        (
            {"description": "d", "comment": "c", "instructions": ONE_UPDATE * 2},
            "only for one updateTrackEvents",
        ),
        (
            {"description": "d", "comment": "c", "instructions": [{"kind": "turnFlagOn"}]},
            "only for one updateTrackEvents",
        ),
    ],
)
def test_the_ldseg_profile_pins_the_approval_requests_ldseg_opens(
    body: dict[str, Any], said: str | None
) -> None:
    ldseg = ContractChecker(profile="ldseg")
    ldseg.check_request("POST", APPROVALS, [], JSON_HEADERS, json.dumps(body).encode())
    if said is None:
        assert ldseg.violations == [], ldseg.report()
    else:
        assert any(v.rule == "ldseg" and said in v.message for v in ldseg.violations), ldseg.report()
