"""The quirk table: one test per LaunchDarkly quirk ldseg depends on or defends against.

Each test states the quirk (LaunchDarkly's docs and OpenAPI spec, or what other tools met), runs the real CLI
against the sandbox over HTTP *and* replays it from its cassette (``mode`` parameter: the same
steps and assertions on both grounds), and asserts what **ldseg** does with the quirk: its output,
exit code and the requests it sent, not only what the sandbox answered. Where LD's behaviour is
UNCONFIRMED, both readings are exercised (a ``variant`` parameter) and ldseg must be right under
each. Re-record: ``LDSEG_RECORD=1 pytest tests/cassettes tests/contract/test_quirks.py``.
"""

from __future__ import annotations

import json
import re
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from werkzeug.wrappers import Response

from ldseg.sandbox.exchange import SandboxRequest
from ldseg.sandbox.testing import SandboxForTests
from tests.contract.checker import Violation
from tests.contract.harness import MODES, Mode, Session, session
from tests.contract.scenarios import (
    OLD_KINESIS,
    PROD_WRITE_KEY,
    ROTATED_WRITE_KEY,
    SEGMENT_MAIN,
    SEGMENT_MAIN_OFF,
    STREAM_KINESIS,
    config,
    scope,
    seed,
)

APPLY = ("apply", "--auto-approve", "--no-smoke-test")
Next = Callable[[SandboxRequest], Response]
Middleware = Callable[[SandboxRequest, Next], Response]

mode_param = pytest.mark.parametrize("mode", MODES)


def destinations(*lines: str) -> str:
    return "destinations:\n" + "".join(f"  {line}\n" for line in lines)


def ld_error(status: int, code: str, message: str, headers: dict[str, str] | None = None) -> Response:
    body = json.dumps({"code": code, "message": message, "id": "quirk-0000"})
    response = Response(body, status=status, mimetype="application/json")
    for k, v in (headers or {}).items():
        response.headers[k] = v
    return response


def answer_once(method: str, path: str, response: Callable[[], Response], times: int = 1) -> Middleware:
    """A middleware answering ``times`` matching requests itself (``path`` is a regex)."""
    left = [times]

    def middleware(request: SandboxRequest, nxt: Next) -> Response:
        if request.method == method and re.fullmatch(path, request.path) and left[0] > 0:
            left[0] -= 1
            return response()
        return nxt(request)

    return middleware


def rewrite_json(method: str, path: str, edit: Callable[[Any, SandboxRequest], None]) -> Middleware:
    """A middleware editing the JSON body of matching responses: LD answering differently."""

    def middleware(request: SandboxRequest, nxt: Next) -> Response:
        response = nxt(request)
        if request.method == method and re.fullmatch(path, request.path) and response.status_code == 200:
            body = json.loads(response.get_data())
            edit(body, request)
            response.set_data(json.dumps(body, separators=(",", ":")))
        return response

    return middleware


def add_middleware(*middleware: Middleware) -> Callable[[SandboxForTests], None]:
    def setup(sb: SandboxForTests) -> None:
        sb.app.middleware.extend(middleware)

    return setup


def patches(s: Session, path: str) -> list[Any]:
    return [r.body for r in s.requests("PATCH", path)]


# --- destinations --------------------------------------------------------------------------------


@mode_param
@pytest.mark.parametrize("variant", ["edges", "stars", "last4"])
def test_masked_secrets(mode: Mode, variant: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Destination secrets: GET returns writeKey obfuscated, in
    an UNCONFIRMED format. ldseg never writes the mask back (updates patch ``/on`` and
    ``/config/<field>`` only), treats a secret as unchanged unless the mask visibly contradicts
    the configured one (``edges``/``last4`` show characters, ``stars`` shows none), and sends a
    secret only when asked to rotate it."""
    with session(
        f"quirk-masked-secrets-{variant}", mode, tmp_path, monkeypatch, seed=seed(mask_style=variant)
    ) as s:
        cfg = s.config(config(scope("production", destinations(SEGMENT_MAIN, OLD_KINESIS))))
        applied = s(*APPLY, "-c", cfg)
        assert applied.exit_code == 0, applied.output
        assert "segment-main: updated (on)" in applied.stdout
        (body,) = patches(s, r"/api/v2/destinations/web/production/\w+")
        assert body == [{"op": "replace", "path": "/on", "value": True}]  # never /config, never the mask

        rotated = s("plan", "-c", cfg, "--detailed-exitcode", env={"SEG_PROD": ROTATED_WRITE_KEY})
        if variant == "stars":  # nothing to compare with: unchanged, never a perpetual diff
            assert rotated.exit_code == 0, rotated.output
            assert "No changes." in rotated.stdout
        else:  # the visible characters contradict the new key
            assert rotated.exit_code == 2, rotated.output
            assert "config.writeKey" in rotated.stdout and "(sensitive)" in rotated.stdout

        forced = s(*APPLY, "-c", cfg, "--rotate-secrets", env={"SEG_PROD": ROTATED_WRITE_KEY})
        assert forced.exit_code == 0, forced.output
        writes = [op for b in patches(s, r"/api/v2/destinations/.*") for op in b if op["path"] != "/on"]
        assert [op["path"] for op in writes] == ["/config/writeKey"]
        assert "****" not in str(writes[0]["value"])  # the real secret (scrubbed in the cassette)
    assert all(PROD_WRITE_KEY not in r.output and ROTATED_WRITE_KEY not in r.output for r in s.results)


@mode_param
def test_destination_scope_from_self_link(
    mode: Mode, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Destination scope: the only list is the global
    ``GET /api/v2/destinations``, and its items carry no project or environment field. ldseg
    places each destination by ``_links.self.href``: a same-named destination in another
    environment is neither changed nor deleted, and one global read serves every scope."""

    def twin(sb: SandboxForTests) -> None:
        sb.store.add_destination("web", "staging", "segment-main", "segment", {"writeKey": "x" * 20}, on=True)

    with session("quirk-destination-scope", mode, tmp_path, monkeypatch, seed=seed(), setup=twin) as s:
        cfg = s.config(
            config(scope("production", destinations(SEGMENT_MAIN_OFF))),
        )
        result = s("plan", "-c", cfg)
        assert result.exit_code == 0, result.output
        assert "destination:web/production/old-kinesis will be destroyed" in result.stdout
        assert "staging" not in result.stdout  # the twin in staging belongs to another scope
        assert "Plan: 0 to add, 0 to change, 1 to destroy." in result.stdout
        (listing,) = s.requests("GET", "/api/v2/destinations")
        assert listing.query == ()  # no per-scope filter exists


@mode_param
@pytest.mark.parametrize("variant", ["with-self", "without-self"])
def test_destination_without_self_link(
    mode: Mode, variant: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Destination scope: that every item carries ``_links.self`` is UNCONFIRMED.
    With it, an undeclared destination in an owned scope is deleted; without it ldseg cannot tell
    the scope, so it warns and leaves the destination alone, never deleting what it cannot place."""

    def drop_self(body: Any, request: SandboxRequest) -> None:
        for item in body["items"]:
            if item["name"] == "old-kinesis":
                del item["_links"]["self"]

    setup = add_middleware(rewrite_json("GET", "/api/v2/destinations", drop_self))
    name = f"quirk-destination-{variant}"
    with session(
        name, mode, tmp_path, monkeypatch, seed=seed(), setup=setup if variant == "without-self" else None
    ) as s:
        cfg = s.config(config(scope("production", destinations(SEGMENT_MAIN_OFF))))
        result = s(*APPLY, "-c", cfg)
        assert result.exit_code == 0, result.output
        if variant == "with-self":
            assert "- destination:web/production/old-kinesis: deleted" in result.stdout
            assert len(s.requests("DELETE")) == 1
        else:
            assert "No changes." in result.stdout
            assert "_links.self" in result.stderr and "leaves them alone" in result.stderr
            assert s.requests("DELETE") == []


@mode_param
def test_created_201_deleted_204(mode: Mode, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Destination writes: create answers **201** with the Destination (its ``_id``
    is how ldseg reports and later addresses it), delete answers **204** with no body. ldseg
    counts both as success and reports the id from the 201 body."""
    with session("quirk-201-204", mode, tmp_path, monkeypatch, seed=seed()) as s:
        cfg = s.config(
            config(
                scope(
                    "production", destinations(SEGMENT_MAIN_OFF, STREAM_KINESIS.replace("stream:", "new:", 1))
                )
            )
        )
        result = s(*APPLY, "-c", cfg)
        assert result.exit_code == 0, result.output
        (post,) = s.requests("POST")
        (delete,) = s.requests("DELETE")
        assert (post.status, delete.status) == (201, 204)
        created_id = re.search(r"new: created \(id (\w+)\)", result.stdout)
        assert created_id, result.stdout
        assert "old-kinesis: deleted (id " in result.stdout
        replan = s("plan", "-c", cfg)
        assert "No changes." in replan.stdout


@mode_param
@pytest.mark.parametrize("variant", ["integer", "float"])
def test_destination_version_is_a_json_number(
    mode: Mode, variant: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Destination ``version`` is a JSON *number* in LD's spec
    (the Go client's type is float32), so ``3.0`` is as valid as ``3``. ldseg guards saved plans
    with it: a plan made from either form must apply (not "stale"), and re-plan clean."""

    def version_3(sb: SandboxForTests) -> None:
        (main,) = sb.store.find_destinations("web", "production", "segment-main")
        sb.store.update_destination(main["_id"], version=3.0 if variant == "float" else 3, bump=False)

    with session(f"quirk-version-{variant}", mode, tmp_path, monkeypatch, seed=seed(), setup=version_3) as s:
        cfg = s.config(config(scope("production", destinations(SEGMENT_MAIN, OLD_KINESIS))))
        plan_file = tmp_path / "plan.json"
        planned = s("plan", "-c", cfg, "--out", str(plan_file))
        assert planned.exit_code == 0, planned.output
        guards = [c.get("guard") or {} for c in json.loads(plan_file.read_text())["changes"]]
        assert [g.get("version") for g in guards] == [3]
        applied = s("apply", str(plan_file), "--no-smoke-test")
        assert applied.exit_code == 0, applied.output
        assert "segment-main: updated (on)" in applied.stdout
        assert "No changes." in s("plan", "-c", cfg).stdout


@mode_param
@pytest.mark.parametrize("variant", ["object", "json-string"])
def test_config_as_object_or_json_string(
    mode: Mode, variant: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Destination ``config`` is untyped in LD's spec; the spec's example is a JSON
    *string*, real payloads are objects (UNCONFIRMED which LD returns). ldseg reads both the same
    way: no perpetual diff, real differences found, and export writes the same config."""
    settings = {"config_as_string": variant == "json-string"}
    with session(f"quirk-config-{variant}", mode, tmp_path, monkeypatch, seed=seed(**settings)) as s:
        same = s.config(config(scope("staging", destinations(STREAM_KINESIS))))
        result = s("plan", "-c", same, "--detailed-exitcode")
        assert result.exit_code == 0, result.output
        assert "No changes." in result.stdout
        changed = s.config(config(scope("staging", destinations(STREAM_KINESIS.replace("ld}", "ld-2}")))))
        result = s("plan", "-c", changed)
        assert '~ config.streamName = "ld" -> "ld-2"' in result.stdout, result.stdout
        exported = s("export", "--project", "web", "--env", "staging")
        assert exported.exit_code == 0, exported.output
        assert 'streamName: "ld"' in exported.stdout and 'region: "us-east-1"' in exported.stdout


# --- flags ---------------------------------------------------------------------------------------


def _flags_of(s: Session, project: str = "web") -> list[Any]:
    return s.requests("GET", f"/api/v2/flags/{project}")


@mode_param
def test_environments_only_with_env(mode: Mode, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Flag lists (API version 20240415): flags carry their
    per-environment ``environments`` (and so ``trackEvents``) only when the list is filtered with
    ``env=``. ldseg passes ``env`` on every flag read, and plans from the per-environment values."""
    with session("quirk-environments-with-env", mode, tmp_path, monkeypatch, seed=seed()) as s:
        cfg = s.config(config(scope("production", "export:\n  flags: {tags: [analytics], others: 'off'}")))
        result = s("plan", "-c", cfg)
        assert result.exit_code == 0, result.output
        assert "+ search" in result.stdout and "- dark-mode" in result.stdout
        assert "checkout-v2" not in result.stdout  # already exporting in production
        reads = _flags_of(s)
        assert reads and all(r.param("env") == ["production"] for r in reads)


@mode_param
@pytest.mark.parametrize("variant", ["present", "missing"])
def test_track_events_in_summary_mode(
    mode: Mode, variant: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Flag lists: whether ``trackEvents`` appears in summary
    mode is UNCONFIRMED (the schema requires it). Present: one summary read per page. Missing:
    ldseg notices, says so, and re-reads that page with ``summary=0`` instead of guessing."""

    def strip(body: Any, request: SandboxRequest) -> None:
        if request.args.get("summary") != "0":
            for item in body["items"]:
                for cfg in item.get("environments", {}).values():
                    cfg.pop("trackEvents", None)

    setup = add_middleware(rewrite_json("GET", "/api/v2/flags/web", strip)) if variant == "missing" else None

    def provoked(v: Violation) -> bool:  # LD breaking its own schema is what this variant is about
        return (
            v.side == "response" and "trackEvents" in v.message and v.where.startswith("GET /api/v2/flags/")
        )

    with session(
        f"quirk-summary-trackevents-{variant}",
        mode,
        tmp_path,
        monkeypatch,
        seed=seed(),
        setup=setup,
        allow=provoked,
    ) as s:
        cfg = s.config(config(scope("production", "export:\n  flags: {tags: [analytics], others: 'off'}")))
        result = s("plan", "-c", cfg)
        assert result.exit_code == 0, result.output
        assert "+ search" in result.stdout and "- dark-mode" in result.stdout
        summaries = [r for r in _flags_of(s) if r.param("summary") != ["0"]]
        full = [r for r in _flags_of(s) if r.param("summary") == ["0"]]
        assert len(summaries) == 1
        if variant == "present":
            assert full == []
        else:
            assert len(full) == 1
            assert "left trackEvents out" in result.stderr


@mode_param
@pytest.mark.parametrize(
    "variant",
    [
        "cap-100",
        "cap-1000",
        "clamps-to-50",
    ],
)
def test_flag_list_limit_cap(
    mode: Mode, variant: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Flag lists: LD's maximum ``limit`` is UNCONFIRMED (reported 100
    under 20240415). ldseg asks for 100: with a cap of 100 (a larger limit is a 400) or of 1000 it
    reads every flag in pages of 100; if LD silently answered smaller pages, ldseg must still see
    every flag (following ``_links.next``), not skip some."""
    settings = {"max_flag_limit": 1000 if variant == "cap-1000" else 100}

    def clamp(request: SandboxRequest, nxt: Next) -> Response:
        if request.method == "GET" and request.path == "/api/v2/flags/big":
            request.query_string = re.sub(rb"limit=\d+", b"limit=50", request.query_string)
            request.__dict__.pop("args", None)
        return nxt(request)

    doc = {
        "settings": settings,
        "projects": {
            "big": {
                "environments": {"production": {}},
                "generate_flags": {
                    "count": 150,
                    "prefix": "f-",
                    "track_events": {"production": 0.0},
                    "seed": 5,
                },
            }
        },
    }
    setup = add_middleware(clamp) if variant == "clamps-to-50" else None
    with session(f"quirk-limit-{variant}", mode, tmp_path, monkeypatch, seed=doc, setup=setup) as s:
        cfg = s.config(
            "version: 1\nprojects:\n  big:\n    environments:\n      production:\n"
            "        export:\n          flags: {all: true}\n"
        )
        result = s("plan", "-c", cfg)
        assert result.exit_code == 0, result.output
        assert all(r.param("limit") == ["100"] for r in _flags_of(s, "big"))
        assert "flags: 150 to export" in result.stdout, result.stdout[-300:]


@mode_param
@pytest.mark.parametrize("variant", ["max-3", "max-10"])
def test_at_most_three_env_values(
    mode: Mode, variant: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Flag lists: at most 3 ``env`` values per flag list request (as reported; the
    official limit is UNCONFIRMED). ldseg groups environments by three, so five environments cost
    two listings, and works the same whether LD enforces 3 (more is a 400) or allows more."""
    envs = ("production", "staging", "qa", "dev", "perf")
    doc = seed(max_flag_envs=3 if variant == "max-3" else 10)
    doc["projects"]["web"]["environments"].update({"dev": {}, "perf": {}})
    with session(f"quirk-env-values-{variant}", mode, tmp_path, monkeypatch, seed=doc) as s:
        cfg = s.config(config(*(scope(e, "export:\n  flags: {keys: [search], others: 'off'}") for e in envs)))
        result = s("plan", "-c", cfg)
        assert result.exit_code == 0, result.output
        reads = _flags_of(s)
        assert sorted(len(r.param("env")) for r in reads) == [2, 3]
        assert sorted(e for r in reads for e in r.param("env")) == sorted(envs)
        assert result.stdout.count("+ search") == 5


@mode_param
@pytest.mark.parametrize(
    ("status", "code"),
    [(400, "patch_failed"), (409, "optimistic_locking_error"), (422, "unprocessable_entity")],
)
def test_json_patch_failure_codes(
    mode: Mode, status: int, code: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Flag updates (optimistic concurrency by JSON Patch ``test``) and LD's error codes: a patch LD
    cannot apply answers 400 ``patch_failed``, 409 or 422, which one is
    UNCONFIRMED. ldseg reports that flag as failed with LD's code, applies the others, sends the
    failed patch once (a refused patch is not retried), and exits 1."""
    refuse = answer_once(
        "PATCH", "/api/v2/flags/web/search", lambda: ld_error(status, code, "test operation failed")
    )
    with session(
        f"quirk-patch-{status}", mode, tmp_path, monkeypatch, seed=seed(), setup=add_middleware(refuse)
    ) as s:
        cfg = s.config(config(scope("production", "export:\n  flags: {keys: [search, pricing-banner]}")))
        result = s(*APPLY, "-c", cfg)
        assert result.exit_code == 1, result.output
        assert "! flag:web/production/*: 1 flag failed: search" in result.stdout
        assert "1 change failed; 1 change was applied (see above)." in result.stderr
        assert f"{status} {code}" in result.stdout
        assert len(s.requests("PATCH", "/api/v2/flags/web/search")) == 1
        assert [r.status for r in s.requests("PATCH", "/api/v2/flags/web/pricing-banner")] == [200]
        # the `test` op's path for a flag's version is UNCONFIRMED: ldseg guards by re-reading instead
        assert all(op["op"] != "test" for r in s.requests("PATCH") for op in r.body["patch"])


@mode_param
def test_approval_required_405(mode: Mode, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Flag updates: a flag change in an environment that requires approval answers **405**
    ``method_not_allowed`` unless the token may bypass approvals. ldseg reads the environment's
    ``approvalSettings``, writes the gated environment's change on its own (the flag's other
    environments in their own PATCH, never held back), and on the 405 opens one approval request
    with an ``updateTrackEvents`` instruction instead of failing: exit 0, the change awaits review."""
    doc = seed()
    doc["projects"]["web"]["environments"]["qa"]["approvalRequired"] = True
    with session("quirk-approval-405", mode, tmp_path, monkeypatch, seed=doc) as s:
        cfg = s.config(
            config(
                scope("production", "export:\n  flags: {keys: [search, pricing-banner]}"),
                scope("qa", "export:\n  flags: {keys: [search]}"),
            )
        )
        result = s(*APPLY, "-c", cfg)
        assert result.exit_code == 0, result.output
        assert "? flag:web/qa/*: 1 flag awaits approval: search" in result.stdout
        bodies = patches(s, "/api/v2/flags/web/search")
        assert sorted(op["path"] for body in bodies for op in body["patch"]) == [
            "/environments/production/trackEvents",
            "/environments/qa/trackEvents",
        ]
        assert sorted(r.status or 0 for r in s.requests("PATCH", "/api/v2/flags/web/search")) == [200, 405]
        (opened,) = s.requests("POST", "/api/v2/projects/web/flags/search/environments/qa/approval-requests")
        assert opened.status == 201
        assert opened.body["instructions"] == [{"kind": "updateTrackEvents", "trackEvents": True}]
        assert "! flag:" not in result.stdout
        assert [r.status for r in s.requests("PATCH", "/api/v2/flags/web/pricing-banner")] == [200]


BYPASS_TOKEN = "api-5a4db0c5-0000-4000-8000-0000000b7a55"


@mode_param
def test_approval_bypass_200(mode: Mode, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """LD's custom-role action ``bypassRequiredApproval``: a token whose role has it changes flags in
    an environment that requires approvals directly, and LD answers the PATCH with **200**. ldseg,
    given such a token, simply applies (the gated environment's change in its own PATCH, which
    LD accepts), opens no approval request, exit 0."""
    doc = seed()
    doc["projects"]["web"]["environments"]["qa"]["approvalRequired"] = True
    doc["tokens"] = {BYPASS_TOKEN: "bypass"}
    with session("quirk-approval-bypass", mode, tmp_path, monkeypatch, seed=doc) as s:
        cfg = s.config(config(scope("production", "export:\n  flags: {keys: [search]}"),
                              scope("qa", "export:\n  flags: {keys: [search]}")))  # fmt: skip
        result = s(*APPLY, "-c", cfg, env={"LD_ACCESS_TOKEN": BYPASS_TOKEN})
        assert result.exit_code == 0, result.output
        bodies = patches(s, "/api/v2/flags/web/search")
        assert sorted(op["path"] for body in bodies for op in body["patch"]) == [
            "/environments/production/trackEvents",
            "/environments/qa/trackEvents",
        ]
        assert [r.status for r in s.requests("PATCH", "/api/v2/flags/web/search")] == [200, 200]
        assert s.requests("POST") == []  # no approval request
        replan = s("plan", "-c", cfg, "--detailed-exitcode", env={"LD_ACCESS_TOKEN": BYPASS_TOKEN})
        assert replan.exit_code == 0, replan.output


@mode_param
def test_approval_required_tags_405(mode: Mode, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """LD's ``approvalSettings.requiredApprovalTags``: approval is required only for flags carrying
    one of the tags ("Otherwise all flags will require approval"), so in the same environment a
    tagged flag's change answers **405** and an untagged one's **200**. ldseg reads the tags from
    the settings, opens an approval request for the tagged flag only, applies the rest, exit 0."""
    doc = seed()
    doc["projects"]["web"]["environments"]["qa"]["approvalSettings"] = {"requiredApprovalTags": ["analytics"]}
    with session("quirk-approval-required-tags", mode, tmp_path, monkeypatch, seed=doc) as s:
        cfg = s.config(config(scope("qa", "export:\n  flags: {keys: [search, pricing-banner]}")))
        result = s(*APPLY, "-c", cfg)
        assert result.exit_code == 0, result.output
        assert "? flag:web/qa/*: 1 flag awaits approval: search" in result.stdout
        assert "      + search  # needs approval: apply opens a request" in result.stdout
        assert "! flag:" not in result.stdout
        (opened,) = s.requests("POST", "/api/v2/projects/web/flags/search/environments/qa/approval-requests")
        assert opened.status == 201
        assert [r.status for r in s.requests("PATCH", "/api/v2/flags/web/search")] == [405]
        assert [r.status for r in s.requests("PATCH", "/api/v2/flags/web/pricing-banner")] == [200]


@mode_param
def test_conflict_409(mode: Mode, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """LD's error codes: 409 ``optimistic_locking_error`` means a concurrent change
    ("Retry your request"). ldseg reports the destination update as failed with the code, leaves
    nothing half-done, and running apply again converges."""
    conflict = answer_once(
        "PATCH",
        r"/api/v2/destinations/web/production/\w+",
        lambda: ld_error(
            409, "optimistic_locking_error", "Conflict. Optimistic lock error. Try again later."
        ),
    )
    with session(
        "quirk-conflict-409", mode, tmp_path, monkeypatch, seed=seed(), setup=add_middleware(conflict)
    ) as s:
        cfg = s.config(config(scope("production", destinations(SEGMENT_MAIN, OLD_KINESIS))))
        first = s(*APPLY, "-c", cfg)
        assert first.exit_code == 1, first.output
        assert "409 optimistic_locking_error" in first.stdout
        second = s(*APPLY, "-c", cfg)
        assert second.exit_code == 0, second.output
        assert "segment-main: updated (on)" in second.stdout
        assert "No changes." in s("plan", "-c", cfg).stdout


# --- rate limits ---------------------------------------------------------------------------------


@mode_param
@pytest.mark.parametrize("variant", ["retry-after", "negative", "none"])
def test_rate_limit_header_variants(
    mode: Mode, variant: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Rate limiting: a 429 may carry ``Retry-After`` only, an
    ``X-Ratelimit-Reset`` already in the past (Terraform saw negative sleeps), or no header at all
    (Flagsmith). ldseg retries each time and succeeds, waiting a positive, bounded time: the
    Retry-After when given; never a negative (or zero, hammering) wait otherwise."""
    faults = f"rate=2/1s,latency=300ms,quirk={variant},routes=GET /api/v2/projects/*/environments/*"
    with session(
        f"quirk-429-{variant}", mode, tmp_path, monkeypatch, seed=seed(), faults=faults, sleep_cap=1.1
    ) as s:
        cfg = s.config(
            config(*(scope(e, "export: {new_flags: true}") for e in ("production", "staging", "qa")))
        )
        started = time.monotonic()
        result = s("plan", "-c", cfg)
        assert result.exit_code == 0, result.output
        assert "environments: 3 to change" in result.stdout
        limited = [r for r in s.sent if r.status == 429]
        assert limited
        assert all(any(x.status == 200 for x in s.requests("GET", r.path)) for r in limited)
        assert s.waits and all(0 < w <= 60 for w in s.waits), s.waits
        if variant == "retry-after":
            assert max(s.waits) >= 1.0  # the server's Retry-After (1 s), honoured
        if s.replaying:
            assert time.monotonic() - started < 5, "replay slept for the Retry-After"
