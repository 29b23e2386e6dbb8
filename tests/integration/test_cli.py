"""Exit codes and bad input, through the real CLI over HTTP to the sandbox."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from click.testing import CliRunner

from ldseg.cli import cli
from ldseg.resources import schema_path
from ldseg.sandbox import DEFAULT_SEGMENT_TOKEN, DEFAULT_TOKEN, Sandbox
from tests.helpers import ONE_DESTINATION, write
from tests.integration.conftest import Runner

ONE = ONE_DESTINATION


def writes(ldseg: Runner) -> list[dict[str, object]]:
    return [r for r in ldseg.sandbox.requests() if r["method"] != "GET"]


def test_help_and_version(ldseg: Runner) -> None:
    assert ldseg("--help").exit_code == 0
    assert "Exit codes" in ldseg("--help").stdout
    assert ldseg("--version").exit_code == 0


@pytest.mark.parametrize(
    "args", [["frobnicate"], ["plan", "--no-such-option"], ["apply", "--parallelism", "0"]]
)
def test_usage_errors_exit_1_not_2(ldseg: Runner, args: list[str]) -> None:
    result = ldseg(*args)
    assert result.exit_code == 1
    assert "Traceback" not in result.output


def test_plan_exit_codes(ldseg: Runner) -> None:
    cfg = ldseg.config(ONE)
    assert ldseg("plan", "-c", cfg).exit_code == 0
    assert ldseg("plan", "-c", cfg, "--detailed-exitcode").exit_code == 2
    assert ldseg("apply", "-c", cfg, "--auto-approve").exit_code == 0
    result = ldseg("plan", "-c", cfg, "--detailed-exitcode")
    assert (result.exit_code, result.stdout) == (0, "No changes. LaunchDarkly matches the configuration.\n")


def test_validate(ldseg: Runner, tmp_path: Path) -> None:
    good = ldseg("validate", "-c", ldseg.config(ONE), env={"SEGMENT_WRITE_KEY": None})
    assert good.exit_code == 0
    assert (
        good.stdout == "The configuration is valid: 1 file, 1 environment, 1 destination, 0 export blocks.\n"
    )
    assert "environment variable SEGMENT_WRITE_KEY is not set" in good.stderr
    bad = ldseg("validate", "-c", ldseg.config(ONE.replace("segment\n", "segmnt\n")))
    assert bad.exit_code == 1
    assert (
        "ldseg.yaml:8: error: destination web/production/segment-main: kind: 'segmnt' is not one of"
        in bad.stderr
    )
    assert ldseg.sandbox.requests() == []  # offline


def test_schema_prints_the_schema_file(ldseg: Runner) -> None:
    result = ldseg("schema")
    assert result.exit_code == 0
    assert json.loads(result.stdout) == json.loads(schema_path("ldseg.schema.json").read_text())


def test_apply_without_terminal_needs_auto_approve(ldseg: Runner) -> None:
    result = ldseg("apply", "-c", ldseg.config(ONE))
    assert result.exit_code == 1
    assert "--auto-approve" in result.stderr
    assert writes(ldseg) == []


def test_apply_interactive_confirmation(ldseg: Runner, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr("ldseg.cli.planning._stdin_is_terminal", lambda: True)
    cfg = ldseg.config(ONE)
    result = ldseg("apply", "-c", cfg, input="no\n")
    assert result.exit_code == 1
    assert "Apply cancelled; nothing was changed." in result.stderr
    assert writes(ldseg) == []
    result = ldseg("apply", "-c", cfg, input="yes\n")
    assert result.exit_code == 0, result.output
    assert "Apply complete!" in result.stdout


def test_token_from_launchdarkly_access_token(ldseg: Runner) -> None:
    token = "api-5a4db0c5-0000-4000-8000-000000000001"
    result = ldseg(
        "plan", "-c", ldseg.config(ONE), env={"LD_ACCESS_TOKEN": None, "LAUNCHDARKLY_ACCESS_TOKEN": token}
    )
    assert result.exit_code == 0, result.output


def test_duplicate_live_names_are_refused(ldseg: Runner) -> None:
    for _ in range(2):
        ldseg.sandbox.store.add_destination(
            project="web",
            environment="production",
            name="segment-main",
            kind="segment",
            on=True,
            config={"writeKey": "x-1234567890"},
        )
    ids = sorted(d["_id"] for d in ldseg.sandbox.store.destinations())
    result = ldseg("plan", "-c", ldseg.config(ONE))
    assert result.exit_code == 1
    assert all(i in result.stderr for i in ids)


def test_debug_shows_the_traceback_without_secrets(ldseg: Runner) -> None:
    token = "api-0b5e55ed-1111-4000-8000-0123456789ab"
    result = ldseg("plan", "--debug", "-c", ldseg.config(ONE), env={"LD_ACCESS_TOKEN": token})
    assert result.exit_code == 1
    assert "Traceback" in result.stderr
    assert "AuthError" in result.stderr
    assert token not in result.output


@pytest.mark.parametrize(
    "command", ["validate", "plan", "apply", "show", "drift", "report", "export", "schema", "sandbox"]
)
def test_every_command_exits_1_on_a_usage_error(ldseg: Runner, command: str) -> None:
    result = ldseg(command, "--no-such-option")
    assert result.exit_code == 1
    assert "No such option" in result.stderr and "--no-such-option" in result.stderr


@pytest.mark.parametrize("command", ["plan", "drift", "report", "export"])
def test_every_reading_command_exits_1_on_a_rejected_token(ldseg: Runner, command: str) -> None:
    args = [command] if command == "export" else [command, "-c", ldseg.config(ONE)]
    result = ldseg(*args, env={"LD_ACCESS_TOKEN": "api-wrong"})
    assert result.exit_code == 1
    assert "rejected the access token" in result.stderr


def test_a_bearer_prefix_is_dropped_with_a_warning(ldseg: Runner) -> None:
    result = ldseg("plan", "-c", ldseg.config(ONE), env={"LD_ACCESS_TOKEN": f"Bearer {DEFAULT_TOKEN}"})
    assert result.exit_code == 0, result.output
    assert "starts with 'Bearer '" in result.stderr


def test_the_sandbox_banner_prints_the_tokens_the_seed_grants(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(Sandbox, "serve_forever", Sandbox.stop)  # print the banner, then stop

    def banner(seed: str) -> str:
        path = write(tmp_path / "seed.yaml", seed)
        result = CliRunner().invoke(
            cli, ["sandbox", "--port", "0", "--seed", str(path)], env={"NO_COLOR": "1"}
        )
        assert result.exit_code == 0, result.output
        return result.stderr

    granted = banner(
        "tokens: {api-reader-0000: reader}\n"
        "segment: {tokens: {sgp-member: {source_admin: false}, sgp-admin: {source_admin: true}}}\n"
    )
    assert f"LD_ACCESS_TOKEN={DEFAULT_TOKEN}" in granted  # the sandbox's admin token
    assert "more LD access tokens: api-reader-0000 (reader)" in granted
    assert "SEGMENT_PUBLIC_API_TOKEN=sgp-admin " in granted and "; Source Admin)" in granted
    assert DEFAULT_SEGMENT_TOKEN not in granted  # not a constant: this seed does not grant it

    member_only = banner("segment: {tokens: {sgp-member: {source_admin: false}}}\n")
    assert "SEGMENT_PUBLIC_API_TOKEN=sgp-member " in member_only and "; no Source Admin)" in member_only
    assert "more LD access tokens" not in member_only

    none = banner("projects: {}\n")
    assert "SEGMENT_PUBLIC_API_TOKEN" not in none
    assert "the seed grants no Public API token" in none


def test_apply_as_json_prints_one_document_and_needs_no_prompt(ldseg: Runner) -> None:
    cfg = ldseg.config(ONE_DESTINATION)
    refused = ldseg("apply", "-c", cfg, "--format", "json")
    assert refused.exit_code == 1 and "add --auto-approve" in refused.stderr
    result = ldseg("apply", "-c", cfg, "--format", "json", "--auto-approve", "--no-smoke-test")
    assert result.exit_code == 0, result.output
    doc = json.loads(result.stdout)  # stdout is the document and nothing else
    assert (doc["kind"], doc["ok"]) == ("apply", True)
    assert doc["summary"]["applied"] == len(doc["results"]) == len(doc["plan"]["changes"]) > 0
    assert {r["status"] for r in doc["results"]} == {"applied"}
