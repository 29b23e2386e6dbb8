"""Saved plans, output formats, drift and scoping, as pipelines use them."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import jsonschema
import pytest

from ldseg.resources import load_schema
from tests.helpers import CANARY_WRITE_KEY
from tests.integration.conftest import CANARY_STAGING_KEY, Runner

CONFIG = """
version: 1
projects:
  web:
    environments:
      production:
        destinations:
          segment-main:
            kind: segment
            config: {writeKey: "${SEGMENT_WRITE_KEY}", userIDContextKind: user}
        export:
          flags: {tags: [analytics]}
      staging:
        destinations:
          pubsub:
            kind: google-pubsub
            config: {project: p, topic: t}
"""


@pytest.fixture
def seed(seed: dict[str, Any]) -> dict[str, Any]:
    seed["projects"]["web"]["flags"] = {
        "checkout-v2": {"tags": ["analytics"]},
        "search": {"tags": ["analytics"]},
        "other": {},
    }
    seed["destinations"] = [
        {
            "project": "web",
            "environment": "production",
            "name": "segment-main",
            "kind": "segment",
            "on": False,
            "config": {"writeKey": CANARY_WRITE_KEY, "userIDContextKind": "user"},
        },
        {
            "project": "web",
            "environment": "staging",
            "name": "old",
            "kind": "kinesis",
            "on": True,
            "config": {"region": "r", "roleArn": "a", "streamName": "s"},
        },
    ]
    return seed


def writes(ldseg: Runner) -> list[dict[str, Any]]:
    return [r for r in ldseg.sandbox.requests() if r["method"] != "GET"]


def saved_plan(ldseg: Runner, name: str = "plan.json") -> tuple[str, dict[str, Any]]:
    path = str(ldseg.tmp_path / name)
    result = ldseg("plan", "-c", ldseg.config(CONFIG), "--out", path)
    assert result.exit_code == 0, result.output
    return path, json.loads(Path(path).read_text())


def test_saved_plan_document(ldseg: Runner) -> None:
    path, doc = saved_plan(ldseg)
    jsonschema.validate(doc, load_schema("plan.schema.json"))
    assert doc["format_version"] == 1
    assert doc["summary"]["line"].startswith("Plan: 1 to add, 1 to change, 1 to destroy; flags: 2 to export")
    assert [c["address"] for c in doc["changes"]] == [
        "destination:web/production/segment-main",
        "destination:web/staging/old",
        "destination:web/staging/pubsub",
        "flag:web/production/checkout-v2",
        "flag:web/production/search",
    ]
    update = doc["changes"][0]
    assert update["guard"]["version"] == 1 and update["guard"]["fingerprint"].startswith("sha256:")
    assert doc["changes"][3]["guard"] == {"_version": 1, "version": 1}
    (fp,) = doc["secrets"]["fingerprints"].values()
    assert fp.startswith("hmac-sha256:")
    text = Path(path).read_text()
    assert CANARY_WRITE_KEY not in text and CANARY_WRITE_KEY[:12] not in text
    # show renders it like plan; --format json prints the document itself
    shown = ldseg("show", path)
    assert shown.exit_code == 0
    assert shown.stdout == ldseg("plan", "-c", ldseg.config(CONFIG)).stdout
    assert json.loads(ldseg("show", path, "--format", "json").stdout) == doc


def test_format_json_is_the_saved_plan_document(ldseg: Runner) -> None:
    path = str(ldseg.tmp_path / "p.json")
    result = ldseg("plan", "-c", ldseg.config(CONFIG), "--out", path, "--format", "json")
    assert json.loads(result.stdout) == json.loads(Path(path).read_text())


def test_apply_saved_plan_then_it_is_stale(ldseg: Runner) -> None:
    path, _ = saved_plan(ldseg)
    applied = ldseg("apply", path)  # a saved plan needs no confirmation: it was reviewed
    assert applied.exit_code == 0, applied.output
    assert "Apply complete!" in applied.stdout
    assert ldseg("plan", "-c", ldseg.config(CONFIG), "--detailed-exitcode").exit_code == 0
    ldseg.sandbox.clear_requests()
    again = ldseg("apply", path)
    assert again.exit_code == 1
    # one sentence, not every object of the plan listed as "stale"
    assert again.stderr == (
        "Error: This plan was already applied: LaunchDarkly has all 5 of its changes, and a plan made "
        "now from the same config changes none of them; nothing was changed. There is nothing left to "
        'do (`ldseg plan` says "No changes.").\n'
    )
    assert writes(ldseg) == []


def test_an_applied_plan_undone_in_part_by_hand_is_stale_as_usual(ldseg: Runner) -> None:
    path, _ = saved_plan(ldseg)
    assert ldseg("apply", path).exit_code == 0
    (pubsub,) = ldseg.sandbox.store.find_destinations("web", "staging", "pubsub")
    ldseg.sandbox.store.update_destination(pubsub["_id"], on=False)  # by hand, after the apply
    again = ldseg("apply", path)
    assert again.exit_code == 1
    assert "This plan was already applied" not in again.stderr  # pubsub's change is not in LD now
    assert "The saved plan is stale; nothing was changed:" in again.stderr
    assert "destination:web/staging/pubsub" in again.stderr


def test_an_applied_plan_with_something_new_since_says_both(ldseg: Runner) -> None:
    path, _ = saved_plan(ldseg)
    assert ldseg("apply", path).exit_code == 0
    ldseg.sandbox.store.add_flag("web", "new-flag", tags=["analytics"])  # after the apply
    again = ldseg("apply", path)
    assert again.exit_code == 1
    assert again.stderr.startswith("Error: This plan was already applied:")
    assert "A plan made now has 1 other change: run `ldseg plan --out` again" in again.stderr


def test_a_plan_applied_in_part_lists_what_is_stale(ldseg: Runner) -> None:
    path, _ = saved_plan(ldseg)
    ldseg.sandbox.store.set_track_events("web", "search", "production", True)  # one change, by hand
    again = ldseg("apply", path)
    assert again.exit_code == 1 and "already applied" not in again.stderr
    assert "flag:web/production/search changed in LaunchDarkly" in again.stderr


def test_a_change_by_hand_makes_the_plan_stale_naming_it(ldseg: Runner) -> None:
    path, _ = saved_plan(ldseg)
    (old,) = ldseg.sandbox.store.find_destinations("web", "staging", "old")
    ldseg.sandbox.store.update_destination(old["_id"], on=False)
    ldseg.sandbox.store.set_track_events("web", "search", "production", True)
    ldseg.sandbox.clear_requests()
    result = ldseg("apply", path)
    assert result.exit_code == 1
    assert "destination:web/staging/old changed in LaunchDarkly (version 1 -> 2)" in result.stderr
    assert "flag:web/production/search changed in LaunchDarkly (version 1 -> 2)" in result.stderr
    assert "segment-main" not in result.stderr  # untouched objects are not blamed
    assert writes(ldseg) == []


@pytest.mark.parametrize(
    ("edit", "message"),
    [
        (lambda doc: doc["changes"].pop(), "was edited after ldseg wrote it"),
        (lambda doc: doc.update(format_version=2), "plan format_version 2"),
    ],
)
def test_edited_plan_files_are_refused(ldseg: Runner, edit: Any, message: str) -> None:
    path, doc = saved_plan(ldseg)
    edit(doc)
    Path(path).write_text(json.dumps(doc))
    result = ldseg("apply", path)
    assert (result.exit_code, message in result.stderr) == (1, True), result.stderr
    assert writes(ldseg) == []


@pytest.mark.parametrize(
    ("content", "message"),
    [
        ("", "invalid or truncated JSON"),
        ('{"format_version": 1, "chan', "invalid or truncated JSON"),
        ("[1, 2]", "no format_version"),
        ("\x89PNG", "invalid or truncated JSON"),
    ],
)
def test_corrupt_plan_files(ldseg: Runner, content: str, message: str) -> None:
    path = ldseg.tmp_path / "bad.json"
    path.write_text(content)
    for command in (["apply", str(path)], ["show", str(path)]):
        result = ldseg(*command)
        assert result.exit_code == 1
        assert message in result.stderr
        assert "Traceback" not in result.output


def test_missing_plan_file(ldseg: Runner) -> None:
    result = ldseg("apply", str(ldseg.tmp_path / "nope.json"))
    assert (result.exit_code, "No plan file" in result.stderr) == (1, True)


def test_plan_from_another_config_or_secret_is_refused(ldseg: Runner) -> None:
    path, _ = saved_plan(ldseg)
    other = ldseg.config(CONFIG.replace("topic: t", "topic: u"), "other.yaml")
    result = ldseg("apply", path, "-c", other)
    assert result.exit_code == 1
    assert "the configuration changed since the plan was made" in result.stderr
    result = ldseg("apply", path, env={"SEGMENT_WRITE_KEY": CANARY_STAGING_KEY})
    assert result.exit_code == 1
    assert "the secret config.writeKey of destination:web/production/segment-main differs" in result.stderr
    assert writes(ldseg) == []


def test_saved_plan_cannot_be_rescoped(ldseg: Runner) -> None:
    path, _ = saved_plan(ldseg)
    result = ldseg("apply", path, "--target", "flag:*")
    assert result.exit_code == 1
    assert "applied exactly as planned" in result.stderr


def test_drift(ldseg: Runner) -> None:
    cfg = ldseg.config(CONFIG)
    assert ldseg("apply", "-c", cfg, "--auto-approve").exit_code == 0
    clean = ldseg("drift", "-c", cfg)
    assert (clean.exit_code, clean.stdout) == (0, "No drift: LaunchDarkly matches the configuration.\n")
    (main,) = ldseg.sandbox.store.find_destinations("web", "production", "segment-main")
    ldseg.sandbox.store.update_destination(main["_id"], on=False)
    ldseg.sandbox.store.set_track_events("web", "search", "production", False)
    ldseg.sandbox.store.add_destination(
        project="web", environment="staging", name="by-hand", kind="segment", config={"writeKey": "x" * 20}
    )
    drifted = ldseg("drift", "-c", cfg)
    assert drifted.exit_code == 2
    assert drifted.stdout.startswith("Drift: 3 differences between LaunchDarkly and the configuration;")
    assert "! destination:web/production/segment-main differs from the config" in drifted.stdout
    assert "on: LaunchDarkly has false, the config says true" in drifted.stdout
    assert "destination:web/staging/by-hand is in LaunchDarkly but not in the config" in drifted.stdout
    assert "flag:web/production/search differs from the config" in drifted.stdout
    assert "outside ldseg" not in drifted.stdout  # true whether or not the config was ever applied
    doc = json.loads(ldseg("drift", "-c", cfg, "--format", "json").stdout)
    assert (doc["drift"], doc["count"]) == (True, 3)
    item = next(i for i in doc["items"] if i["address"] == "destination:web/production/segment-main")
    assert item["fields"] == [{"path": "on", "launchdarkly": False, "config": True}]
    md = ldseg("drift", "-c", cfg, "--format", "markdown")
    assert md.exit_code == 2 and "**Drift: 3 differences" in md.stdout


def test_drift_of_a_config_never_applied_claims_no_history(ldseg: Runner) -> None:
    """Before any apply every difference is the config's own news, not a change made by hand: the
    wording must be true either way."""
    one = ldseg("drift", "-c", ldseg.config(CONFIG), "--target", "destination:web/staging/pubsub")
    assert one.exit_code == 2
    assert "\nDrift: 1 difference between LaunchDarkly and the configuration;" in one.stdout
    assert "destination:web/staging/pubsub is in the config but not in LaunchDarkly" in one.stdout


def test_scoping(ldseg: Runner) -> None:
    cfg = ldseg.config(CONFIG)
    ldseg.sandbox.clear_requests()
    result = ldseg("plan", "-c", cfg, "--target", "destination:web/staging/*")
    assert result.exit_code == 0
    assert "destination:web/staging/old" in result.stdout and "pubsub" in result.stdout
    assert "segment-main" not in result.stdout and "flag:" not in result.stdout
    assert "This plan is partial (--target destination:web/staging/*)" in result.stderr
    routes = {r["route"] for r in ldseg.sandbox.requests()}
    assert "GET /api/v2/flags/{projectKey}" not in routes  # flags were not targeted: not read
    assert (
        "GET /api/v2/projects/{projectKey}/environments/{environmentKey}",
        "/api/v2/projects/web/environments/production",
    ) not in {
        (r["route"], r["path"]) for r in ldseg.sandbox.requests()
    }  # production was not in scope: not read

    by_env = ldseg("plan", "-c", cfg, "--env", "production")
    assert "staging" not in by_env.stdout and "segment-main" in by_env.stdout
    applied = ldseg("apply", "-c", cfg, "--auto-approve", "--target", "flag:web/production/search")
    assert applied.exit_code == 0
    full = ldseg("plan", "-c", cfg)
    assert "flags: 1 to export" in full.stdout  # only search was applied; checkout-v2 is still to do
    bad = ldseg("plan", "-c", cfg, "--target", "web/production")
    assert (bad.exit_code, "is not an address" in bad.stderr) == (1, True)
    nothing = ldseg("plan", "-c", cfg, "--target", "destination:mobile/*")
    assert nothing.exit_code == 1
    assert "--target destination:mobile/* matches nothing in the configuration" in nothing.stderr
    typo = ldseg("plan", "-c", cfg, "--project", "wbe", "--env", "prod", "--detailed-exitcode")
    assert typo.exit_code == 1
    assert "--project wbe matches no project of the configuration (web)" in typo.stderr
    assert "--env prod matches no environment of the configuration (production, staging)" in typo.stderr


def test_a_partial_plan_says_so_on_stdout_in_every_format(ldseg: Runner) -> None:
    cfg = ldseg.config(CONFIG)
    note = "This plan is partial (--env staging): only matching resources were read and planned"
    path = str(ldseg.tmp_path / "partial.json")
    text = ldseg("plan", "-c", cfg, "--env", "staging", "--out", path)
    assert text.exit_code == 0 and text.stdout.startswith(note)
    markdown = ldseg("plan", "-c", cfg, "--env", "staging", "--format", "markdown")
    assert f"> **Warning:** {note}" in markdown.stdout
    doc = json.loads(ldseg("plan", "-c", cfg, "--env", "staging", "--format", "json").stdout)
    assert doc["partial"] is True and doc["warnings"][0].startswith(note)
    for fmt in ("text", "markdown"):  # a saved partial plan says so when shown, too
        shown = ldseg("show", path, "--format", fmt)
        assert shown.exit_code == 0 and note in shown.stdout
    drift = ldseg("drift", "-c", cfg, "--env", "staging")
    assert drift.stdout.startswith(note)


def test_a_target_that_matches_nothing_is_an_error(ldseg: Runner) -> None:
    """A glob inside a declared scope that matches no declared or live object is a typo, like
    --project nope: it must not plan nothing and say "No changes." (exit 0)."""
    cfg = ldseg.config(CONFIG)
    result = ldseg("plan", "-c", cfg, "--target", "flag:web/production/serch*", "--detailed-exitcode")
    assert result.exit_code == 1
    assert "--target flag:web/production/serch* matches nothing the configuration declares" in result.stderr
    # a target matching an object that is in sync is fine: nothing to change there
    synced = ldseg("plan", "-c", cfg, "--target", "environment:web/production")
    assert synced.exit_code == 0, synced.output


def test_quiet_and_color(ldseg: Runner) -> None:
    cfg = ldseg.config(CONFIG)
    quiet = ldseg("plan", "-c", cfg, "--quiet", "--target", "flag:*")
    assert quiet.stderr == ""
    for result in (ldseg("plan", "-c", cfg), ldseg("plan", "-c", cfg, "--no-color")):
        assert "\x1b[" not in result.output  # not a terminal: never colour


def _rewrite(path: str, edit: Any) -> None:
    """Edit a saved plan and recompute its checksum, as anyone with the file could."""
    from ldseg.planfile import checksum

    doc = json.loads(Path(path).read_text())
    edit(doc)
    doc["checksum"] = checksum(doc)
    Path(path).write_text(json.dumps(doc))


def test_a_tampered_plan_with_a_valid_checksum_is_still_refused(ldseg: Runner) -> None:
    """The file is never trusted for what to write: apply compares it with a plan made now."""
    path, _ = saved_plan(ldseg)

    def turn_other_on(doc: dict[str, Any]) -> None:
        doc["changes"].append(
            {
                "address": "flag:web/production/other",
                "type": "flag",
                "action": "update",
                "diff": [{"path": "trackEvents", "before": False, "after": True, "op": "replace"}],
                "guard": {"_version": 1, "version": 1},
            }
        )

    _rewrite(path, turn_other_on)
    result = ldseg("apply", path)
    assert result.exit_code == 1
    assert "flag:web/production/other: the saved plan changes it, a plan made now does not" in result.stderr
    assert ldseg.sandbox.store.audit_log == []


def test_a_safety_rail_removed_from_the_file_still_holds(ldseg: Runner) -> None:
    cfg = ldseg.config(
        CONFIG.replace("        destinations:\n          pubsub:", "        destinations: {}\n          #")
    )
    path = str(ldseg.tmp_path / "deletes.json")
    text = CONFIG.replace(
        "      staging:\n        destinations:\n          pubsub:\n            kind: google-pubsub\n"
        "            config: {project: p, topic: t}\n",
        "      staging:\n        destinations: {}\n",
    ).replace("version: 1\n", "version: 1\nsettings: {safety: {max_destination_deletes: 0}}\n")
    cfg = ldseg.config(text)
    assert ldseg("plan", "-c", cfg, "--out", path).exit_code == 0
    _rewrite(path, lambda doc: doc.update(safety=[]))
    result = ldseg("apply", path)
    assert result.exit_code == 3
    assert "max_destination_deletes allows 0" in result.stderr


def test_a_replacement_applied_halfway_is_not_created_twice(ldseg: Runner) -> None:
    text = CONFIG.replace(
        "          pubsub:\n            kind: google-pubsub\n            config: {project: p, topic: t}",
        "          old:\n            kind: google-pubsub\n            config: {project: p, topic: t}",
    )
    cfg = ldseg.config(text)
    path = str(ldseg.tmp_path / "replace.json")
    assert ldseg("plan", "-c", cfg, "--out", path, "--target", "destination:web/staging/*").exit_code == 0
    # the create half happened (say the job was killed before the delete)
    ldseg.sandbox.store.add_destination(
        project="web",
        environment="staging",
        name="old",
        kind="google-pubsub",
        config={"project": "p", "topic": "t"},
    )
    result = ldseg("apply", path)
    assert result.exit_code == 1
    assert "destination:web/staging/old (google-pubsub) now exists in LaunchDarkly" in result.stderr
    assert len(ldseg.sandbox.store.find_destinations("web", "staging", "old")) == 2  # nothing added
    fixed = ldseg("apply", "-c", cfg, "--auto-approve", "--target", "destination:web/staging/*")
    assert fixed.exit_code == 0, fixed.output  # a fresh plan finishes the replacement
    assert [d["kind"] for d in ldseg.sandbox.store.find_destinations("web", "staging", "old")] == [
        "google-pubsub"
    ]


def test_show_and_apply_say_a_saved_plan_is_partial(ldseg: Runner) -> None:
    path = str(ldseg.tmp_path / "partial.json")
    assert ldseg("plan", "-c", ldseg.config(CONFIG), "--out", path, "--target", "flag:*").exit_code == 0
    assert "This plan is partial (--target flag:*)" in ldseg("show", path).stderr
    applied = ldseg("apply", path)
    assert applied.exit_code == 0, applied.output
    assert "This plan is partial" in applied.stderr


def test_config_warnings_reach_every_output_and_the_saved_plan(ldseg: Runner) -> None:
    """A warning from loading the config (a secret written as a literal) is not only printed: the
    pull-request comment and the saved plan carry it too."""
    cfg = ldseg.config(CONFIG.replace('"${SEGMENT_WRITE_KEY}"', '"literal-key-0123456789"'))
    warning = "is a secret written as a literal; use ${VAR} so it stays out of version control"
    path = str(ldseg.tmp_path / "plan.json")
    text = ldseg("plan", "-c", cfg, "--out", path)
    assert text.exit_code == 0 and warning in text.stderr
    assert f"ldseg.yaml:9: config.writeKey of web/production/segment-main {warning}" in text.stderr
    assert any(warning in w for w in json.loads(Path(path).read_text())["warnings"])
    assert warning in ldseg("plan", "-c", cfg, "--format", "markdown").stdout
    assert warning in ldseg("show", path, "--format", "markdown").stdout
    drift = ldseg("drift", "-c", cfg, "--format", "json")
    assert any(warning in w for w in json.loads(drift.stdout)["warnings"])
    assert warning in ldseg("drift", "-c", cfg, "--format", "markdown").stdout
    assert any(
        warning in w for w in json.loads(ldseg("test", "-c", cfg, "--format", "json").stdout)["warnings"]
    )
    assert warning in ldseg("test", "-c", cfg, "--format", "markdown").stdout
