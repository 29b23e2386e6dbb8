"""Flag and environment export toggles over HTTP against the sandbox."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from tests.integration.conftest import Runner

FLAGS_ROUTE = "GET /api/v2/flags/{projectKey}"
FLAG_ROUTE = "GET /api/v2/flags/{projectKey}/{featureFlagKey}"
PATCH_FLAG = "PATCH /api/v2/flags/{projectKey}/{featureFlagKey}"


@pytest.fixture
def seed() -> dict[str, Any]:
    return {
        "projects": {
            "web": {
                "environments": {
                    "production": {"name": "Production"},
                    "staging": {"name": "Staging"},
                    "dev": {"name": "Dev"},
                    "qa": {"name": "QA", "approvalRequired": True},
                },
                "flags": {
                    "checkout-v2": {"tags": ["analytics", "checkout"]},
                    "pricing-banner": {"tags": ["growth"]},
                    "pricing-annual": {"tags": ["growth", "analytics"], "trackEvents": {"production": True}},
                    "dark-mode": {"trackEvents": {"production": True, "staging": True}},
                    "search": {"tags": ["analytics"]},
                    "legacy-cart": {"tags": ["analytics"], "archived": True},
                },
            },
            "big": {
                "environments": {"production": {}, "staging": {}, "dev": {}},
                "generate_flags": {"count": 2000, "prefix": "flag-", "tags": ["a", "b", "c", "d"], "seed": 1},
            },
        }
    }


def scope(env: str, body: str, project: str = "web") -> str:
    indented = "\n".join("        " + line for line in body.strip().splitlines())
    return f"      {env}:\n{indented}\n"


def config(*scopes: str, project: str = "web") -> str:
    return f"version: 1\nprojects:\n  {project}:\n    environments:\n" + "".join(scopes)


def track_events(ldseg: Runner, env: str, project: str = "web") -> dict[str, bool]:
    return {
        f["key"]: f["environments"][env]["trackEvents"]
        for f in ldseg.sandbox.store.flags(project)
        if not f.get("archived")
    }


def apply_and_replan(ldseg: Runner, cfg: str, *extra: str) -> None:
    applied = ldseg("apply", "-c", cfg, "--auto-approve", *extra)
    assert applied.exit_code == 0, applied.output
    replanned = ldseg("plan", "-c", cfg, "--detailed-exitcode")
    assert (replanned.exit_code, replanned.stdout.splitlines()[0]) == (
        0,
        "No changes. LaunchDarkly matches the configuration.",
    ), replanned.output


def test_steps_by_tag_then_others_off_then_all_then_back(ldseg: Runner) -> None:
    by_tag = ldseg.config(config(scope("production", "export:\n  flags: {tags: [analytics]}")))
    planned = ldseg("plan", "-c", by_tag)
    assert "+ checkout-v2" in planned.stdout and "+ search" in planned.stdout
    assert "dark-mode" not in planned.stdout  # others: keep -> not even shown
    assert "legacy-cart" not in planned.stdout  # archived
    apply_and_replan(ldseg, by_tag)
    assert track_events(ldseg, "production") == {
        "checkout-v2": True,
        "pricing-banner": False,
        "pricing-annual": True,
        "dark-mode": True,
        "search": True,
    }

    others_off = ldseg.config(
        config(scope("production", "export:\n  flags: {tags: [analytics], others: off}"))
    )
    planned = ldseg("plan", "-c", others_off)
    assert "- dark-mode" in planned.stdout
    apply_and_replan(ldseg, others_off)
    assert track_events(ldseg, "production")["dark-mode"] is False

    everything = ldseg.config(
        config(scope("production", "export:\n  flags: {all: true, except: [pricing-banner]}"))
    )
    planned = ldseg("plan", "-c", everything)
    assert "~ defaultTrackEvents = false -> true" in planned.stdout
    apply_and_replan(ldseg, everything)
    assert ldseg.sandbox.store.environment("web", "production")["defaultTrackEvents"] is True
    assert track_events(ldseg, "production")["dark-mode"] is True
    assert track_events(ldseg, "production")["pricing-banner"] is False

    back = ldseg.config(
        config(
            scope("production", "export:\n  new_flags: false\n  flags: {keys: [checkout-v2], others: off}")
        )
    )
    apply_and_replan(ldseg, back)
    assert track_events(ldseg, "production") == {
        "checkout-v2": True,
        "pricing-banner": False,
        "pricing-annual": False,
        "dark-mode": False,
        "search": False,
    }
    assert track_events(ldseg, "staging")["dark-mode"] is True  # another scope: untouched


def test_one_patch_per_flag_covers_all_its_environments_with_the_comment(ldseg: Runner) -> None:
    body = "export:\n  flags: {keys: [checkout-v2, search]}"
    cfg = ldseg.config(config(scope("production", body), scope("staging", body), scope("dev", body)))
    ldseg.sandbox.clear_requests()
    apply_and_replan(ldseg, cfg, "--comment", "PR #42")
    patches = [r for r in ldseg.sandbox.requests() if r["route"] == PATCH_FLAG]
    assert sorted(r["path"] for r in patches) == ["/api/v2/flags/web/checkout-v2", "/api/v2/flags/web/search"]
    comments = {e["comment"] for e in ldseg.sandbox.store.audit_log if e["method"] == "PATCH"}
    assert comments == {"PR #42"}
    for env in ("production", "staging", "dev"):
        assert track_events(ldseg, env)["search"] is True


@pytest.mark.parametrize(
    ("args", "env", "settings", "expected"),
    [
        (["--comment", "from option"], {"LDSEG_COMMENT": "from env"}, "from settings", "from option"),
        ([], {"LDSEG_COMMENT": "from env"}, "from settings", "from env"),
        ([], {}, "from settings", "from settings"),
        ([], {}, None, "ldseg 0.1.0"),
    ],
)
def test_audit_comment_precedence(
    ldseg: Runner, args: list[str], env: dict[str, str | None], settings: str | None, expected: str
) -> None:
    header = f"version: 1\nsettings: {{comment: {settings}}}\n" if settings else "version: 1\n"
    text = config(scope("production", "export:\n  flags: {keys: [search]}")).replace("version: 1\n", header)
    result = ldseg(
        "apply", "-c", ldseg.config(text), "--auto-approve", *args, env={"LDSEG_COMMENT": None, **env}
    )
    assert result.exit_code == 0, result.output
    (entry,) = [e for e in ldseg.sandbox.store.audit_log if e["method"] == "PATCH"]
    assert entry["comment"].startswith(expected)


def test_reading_2000_flags_in_3_environments_takes_20_list_requests(ldseg: Runner) -> None:
    body = "export:\n  flags: {tags: [a]}"
    cfg = ldseg.config(
        config(scope("production", body), scope("staging", body), scope("dev", body), project="big")
    )
    ldseg.sandbox.clear_requests()
    result = ldseg("plan", "-c", cfg)
    assert result.exit_code == 0, result.output
    routes = [r["route"] for r in ldseg.sandbox.requests()]
    assert routes.count(FLAGS_ROUTE) == 20
    assert all(len(r["query"]["env"]) == 3 for r in ldseg.sandbox.requests() if r["route"] == FLAGS_ROUTE)
    assert all(r["query"]["limit"] == ["100"] for r in ldseg.sandbox.requests() if r["route"] == FLAGS_ROUTE)
    assert FLAG_ROUTE not in routes


def test_a_fourth_environment_needs_a_second_request_per_page(ldseg: Runner) -> None:
    body = "export:\n  flags: {tags: [analytics]}"
    cfg = ldseg.config(config(*(scope(e, body) for e in ("production", "staging", "dev", "qa"))))
    ldseg.sandbox.clear_requests()
    assert ldseg("plan", "-c", cfg).exit_code == 0
    lists = [r for r in ldseg.sandbox.requests() if r["route"] == FLAGS_ROUTE]
    assert sorted(len(r["query"]["env"]) for r in lists) == [1, 3]


def test_three_exact_keys_take_three_requests_in_a_big_project(ldseg: Runner) -> None:
    body = "export:\n  flags: {keys: [flag-0001, flag-0500, flag-1999]}"
    cfg = ldseg.config(config(scope("production", body), project="big"))
    ldseg.sandbox.clear_requests()
    assert ldseg("plan", "-c", cfg).exit_code == 0
    flag_requests = [r["path"] for r in ldseg.sandbox.requests() if "/flags/" in r["path"]]
    assert sorted(flag_requests) == [
        "/api/v2/flags/big/flag-0001",
        "/api/v2/flags/big/flag-0500",
        "/api/v2/flags/big/flag-1999",
    ]
    apply_and_replan(ldseg, cfg)


@pytest.mark.parametrize("others", ["keep", "off"])
def test_missing_exact_key_is_an_error_with_its_line(ldseg: Runner, others: str) -> None:
    body = f"export:\n  flags:\n    keys: [checkout-v2, no-such-flag]\n    others: {others}"
    cfg = ldseg.config(config(scope("production", body)))
    result = ldseg("plan", "-c", cfg)
    assert result.exit_code == 1
    assert (
        "ldseg.yaml:8: error: export.flags.keys of web/production: flag 'no-such-flag' does not exist "
        "in project 'web'"
    ) in result.stderr


def test_exact_key_of_an_archived_flag_is_left_alone(ldseg: Runner) -> None:
    """The warning names the key's file:line, and reaches every output: stderr, the Markdown for the
    pull request and the saved plan."""
    cfg = ldseg.config(config(scope("production", "export:\n  flags: {keys: [legacy-cart], others: off}")))
    out = str(ldseg.tmp_path / "plan.json")
    result = ldseg("plan", "-c", cfg, "--out", out)
    assert result.exit_code == 0, result.output
    warning = (
        "ldseg.yaml:7: export.flags.keys of web/production: flag 'legacy-cart' is archived; ldseg leaves "
        "archived flags alone (remove it from keys)."
    )
    assert warning in result.stderr
    assert "legacy-cart" not in result.stdout
    assert any(w.endswith(warning) for w in json.loads(Path(out).read_text())["warnings"])
    markdown = ldseg("plan", "-c", cfg, "--format", "markdown")
    assert warning in markdown.stdout


def test_approval_required_fails_only_that_environment(ldseg: Runner) -> None:
    """qa needs approvals: its change fails, the same flags still export in the other environments
    (one PATCH per flag first; refused with 405, one PATCH per environment)."""
    body = "export:\n  flags: {keys: [search, dark-mode]}"
    cfg = ldseg.config(config(scope("production", body), scope("staging", body), scope("qa", body)))
    result = ldseg("apply", "-c", cfg, "--auto-approve")
    assert result.exit_code == 1
    assert "! flag:web/qa/*: 2 flags failed: dark-mode, search" in result.stdout  # grouped, counted
    assert "405 method_not_allowed" in result.stdout
    assert "2 failed" in result.stdout
    assert "2 changes failed; 2 changes were applied (see above)." in result.stderr
    for env in ("production", "staging"):
        assert track_events(ldseg, env)["search"] is True
        assert track_events(ldseg, env)["dark-mode"] is True
    assert "Fix the cause and run apply again" in result.stderr
    again = ldseg("apply", "-c", cfg, "--auto-approve")
    assert "Plan: 0 to add, 0 to change, 0 to destroy; flags: 2 to export" in again.stdout  # only qa is left


def test_schema_errors_for_export(ldseg: Runner) -> None:
    cfg = ldseg.config(
        config(scope("production", "export:\n  new_flags: yes\n  flags: {others: none, tag: [x]}"))
    )
    result = ldseg("validate", "-c", cfg)
    assert result.exit_code == 1
    assert "export.new_flags: expected true or false, got 'yes'" in result.stderr
    assert "export.flags: unknown key 'tag'" in result.stderr
    assert "export.flags.others: 'none' is not one of: keep, off" in result.stderr


def test_export_block_declared_twice(ldseg: Runner) -> None:
    ldseg.config(config(scope("production", "export: {new_flags: true}")), "a.yaml")
    ldseg.config(config(scope("production", "export: {new_flags: false}")), "b.yaml")
    result = ldseg("plan", "-c", str(ldseg.tmp_path))
    assert result.exit_code == 1
    assert "the export block of web/production is declared twice" in result.stderr


def test_conflict_on_one_flag_is_reported_and_the_rest_applies(ldseg: Runner) -> None:
    from werkzeug.wrappers import Response

    def conflict(request: Any, nxt: Any) -> Any:
        if request.method == "PATCH" and request.path == "/api/v2/flags/web/search":
            body = '{"code":"optimistic_locking_error","message":"Conflict. Optimistic lock error.","id":"x"}'
            return Response(body, status=409, mimetype="application/json")
        return nxt(request)

    ldseg.sandbox.app.middleware.append(conflict)
    cfg = ldseg.config(config(scope("production", "export:\n  flags: {keys: [search, checkout-v2]}")))
    result = ldseg("apply", "-c", cfg, "--auto-approve")
    assert result.exit_code == 1
    assert "! flag:web/production/*: 1 flag failed: search" in result.stdout
    assert "409 optimistic_locking_error" in result.stdout
    assert track_events(ldseg, "production")["checkout-v2"] is True
    ldseg.sandbox.app.middleware.remove(conflict)
    apply_and_replan(ldseg, cfg)  # running apply again converges


def test_selectors_matching_no_flag_are_warned_about_in_every_output(ldseg: Runner) -> None:
    body = """
export:
  flags:
    tags: [analytics, nosuchtag]
    keys: ["pricing-*", "zzz-*"]
    except: [search, "nothing-*"]
"""
    cfg = ldseg.config(config(scope("production", body)))
    expected = [
        f"{cfg}:8: export.flags.tags of web/production: no flag carries the tag 'nosuchtag', so it "
        "selects nothing (check the spelling).",
        f"{cfg}:9: export.flags.keys of web/production: 'zzz-*' matches no flag, so it selects nothing.",
        f"{cfg}:10: export.flags.except of web/production: 'nothing-*' matches no flag the selection "
        "would export, so it takes nothing out.",
    ]
    text = ldseg("plan", "-c", cfg)
    assert text.exit_code == 0, text.output
    assert [line.removeprefix("Warning: ") for line in text.stderr.splitlines()[-3:]] == expected
    markdown = ldseg("plan", "-c", cfg, "--format", "markdown").stdout
    assert all(f"> **Warning:** {w}" in markdown for w in expected)
    saved = ldseg.tmp_path / "plan.json"
    assert ldseg("plan", "-c", cfg, "--out", str(saved)).exit_code == 0
    assert json.loads(saved.read_text())["warnings"] == expected


def test_no_warning_where_a_few_exact_keys_are_read_one_by_one(ldseg: Runner) -> None:
    body = "export:\n  flags: {keys: [checkout-v2], except: [nope]}"
    result = ldseg("plan", "-c", ldseg.config(config(scope("production", body))))
    assert result.exit_code == 0, result.output
    assert "Warning" not in result.stderr
    assert FLAGS_ROUTE not in {r["route"] for r in ldseg.sandbox.requests()}  # read by key
