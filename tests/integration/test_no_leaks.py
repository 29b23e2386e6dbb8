"""Secrets stay out of every output even with the redactor switched off.

Every line ldseg prints also passes through a redactor that knows the token and the configured
secrets; that is a last line of defence. These tests turn it off, so that a secret reaching an
output at its source fails here instead of being papered over.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from ldseg.sandbox import DEFAULT_SEGMENT_TOKEN
from tests.helpers import CANARY_WRITE_KEY
from tests.integration.conftest import CANARY_STAGING_KEY, Runner

TOKEN = "api-1eaf1eaf-2222-4000-8000-0123456789ab"
WAREHOUSE_PASSWORD = "canary-dbx-pass-4e8a2c6b0d1f3a5c"

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
          warehouse:
            kind: databricks
            config: {host: dbc.example.com, password: "${DBX_PASSWORD}"}
        export:
          flags: {tags: [analytics]}
      staging:
        destinations:
          segment-staging:
            kind: segment
            config: {writeKey: "${SEGMENT_WRITE_KEY_STAGING}"}
"""


@pytest.fixture(autouse=True)
def no_redaction(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr("ldseg.console.redact", lambda text, secrets: text)


@pytest.fixture
def seed(seed: dict[str, Any]) -> dict[str, Any]:
    seed["tokens"] = {TOKEN: "admin", "api-reader-9999": "reader"}
    seed["segment"] = {
        "tokens": {DEFAULT_SEGMENT_TOKEN: {"source_admin": True}},
        "sources": [
            {"name": "LD", "writeKeys": [CANARY_WRITE_KEY, CANARY_STAGING_KEY], "catalog": "launchdarkly"}
        ],
    }
    return seed


def test_no_secret_reaches_any_output_or_file(ldseg: Runner, tmp_path: Path) -> None:
    env: dict[str, str | None] = {
        "LD_ACCESS_TOKEN": TOKEN,
        "DBX_PASSWORD": WAREHOUSE_PASSWORD,
        "SEGMENT_PUBLIC_API_TOKEN": DEFAULT_SEGMENT_TOKEN,
    }
    cfg = ldseg.config(CONFIG)
    plan_file = str(tmp_path / "plan.json")
    runs = [
        ldseg("validate", "-c", cfg, env=env),
        ldseg("plan", "-c", cfg, "--out", plan_file, env=env),
        ldseg("plan", "-c", cfg, "--format", "markdown", env=env),
        ldseg("plan", "-c", cfg, "--format", "json", "--rotate-secrets", env=env),
        ldseg("show", plan_file, "--format", "markdown", env=env),
        ldseg("apply", plan_file, "--send-test-event", "--poll-interval", "0.05", env=env),
        ldseg("drift", "-c", cfg, "--format", "json", env=env),
        ldseg("export", "-o", str(tmp_path / "exported") + "/", env=env),
        ldseg("test", "-c", cfg, "--send-test-event", "--poll-interval", "0.05", env=env),
        ldseg("plan", "-c", cfg, "--debug", env={**env, "LD_ACCESS_TOKEN": "api-reader-9999"}),
        ldseg(
            "apply",
            "-c",
            cfg,
            "--auto-approve",
            "--debug",
            "--rotate-secrets",
            env={**env, "LD_ACCESS_TOKEN": "api-reader-9999"},
        ),
        ldseg("plan", "-c", cfg, "--debug", env={**env, "LD_ACCESS_TOKEN": "api-wrong-canary-777"}),
    ]
    files = [Path(plan_file), *sorted((tmp_path / "exported").glob("*.yaml"))]
    secrets = (
        CANARY_WRITE_KEY,
        CANARY_STAGING_KEY,
        WAREHOUSE_PASSWORD,
        TOKEN,
        DEFAULT_SEGMENT_TOKEN,
        "api-reader-9999",
        "api-wrong-canary-777",
    )
    for result in runs:
        for secret in secrets:
            assert secret not in result.output, (secret, result.output[-2000:])
    for path in files:
        text = path.read_text()
        for secret in secrets:
            assert secret not in text, (secret, path)
    assert runs[5].exit_code == 0, runs[5].output  # the apply did happen, with the real secrets
    stored = {d["name"]: d["config"] for d in ldseg.sandbox.store.destinations()}
    assert stored["warehouse"]["password"] == WAREHOUSE_PASSWORD
    assert stored["segment-main"]["writeKey"] == CANARY_WRITE_KEY
