"""``ldseg export``: live state -> ldseg.yaml that plans clean, on any live state."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
import yaml

from ldseg.exporter import variable_name
from ldseg.resources import quickstart_seed_path
from ldseg.sandbox import load_seed
from ldseg.sandbox.testing import SandboxForTests
from ldseg.yamlsource import load_yaml
from tests.helpers import ONE_DESTINATION
from tests.integration.conftest import Runner

REPO = Path(__file__).resolve().parents[2]

EVERY_KIND: list[dict[str, Any]] = [
    {"kind": "segment", "config": {"writeKey": "wk-abcdef123456", "userIDContextKind": "user"}},
    {
        "kind": "kinesis",
        "config": {"region": "eu-west-1", "roleArn": "arn:aws:iam::1:role/r", "streamName": "s"},
    },
    {"kind": "google-pubsub", "config": {"project": "p", "topic": "t-${not-a-var}"}},
    {
        "kind": "mparticle",
        "config": {
            "apiKey": "mp-key-123456789",
            "secret": "mp-secret-123456789",
            "userIdentity": "customer_id",
            "anonymousUserIdentity": "other",
            "environment": "production",
            "userIdentities": [{"ldContextKind": "user", "mparticleUserIdentity": "customer_id"}],
        },
    },
    {
        "kind": "azure-event-hubs",
        "config": {"namespace": "ns", "name": "hub", "policyName": "send", "policyKey": "az-key-1234567890"},
    },
    {
        "kind": "snowflake-v2",
        "config": {"publicKey": "-----BEGIN PUBLIC KEY-----", "snowflakeHostAddress": "h"},
    },
    {"kind": "databricks", "config": {"host": "dbc.example.com", "catalog": "ld"}},
    {"kind": "bigquery", "config": {"dataset": "ld", "rows": 3}},
    {"kind": "redshift", "config": {"cluster": "c"}},
]


#: flag keys YAML 1.1 readers take for booleans, null, numbers or dates when they are written plain
YAML_11_WORDS = ("on", "yes", "N", "null", "123", "0x1F", "1_000", "1.5", "2024-01-01")


def edge_seed() -> dict[str, Any]:
    dests: list[dict[str, Any]] = [
        {"project": "web", "environment": "production", "name": f"every {d['kind']}", **d} for d in EVERY_KIND
    ]
    dests += [
        {
            "project": "web",
            "environment": "production",
            "name": "Segment – prod ✓",
            "kind": "segment",
            "on": True,
            "config": {"writeKey": "wk-unicode-0123456789"},
        },
        {  # the Terraform provider's acceptance tests create mParticle destinations like this one
            "project": "web",
            "environment": "production",
            "name": "mparticle identities only",
            "kind": "mparticle",
            "on": True,
            "config": {
                "apiKey": "mp-key-identities-0123",
                "secret": "mp-secret-identities-0123",
                "environment": "development",
                "userIdentities": [{"ldContextKind": "device", "mparticleUserIdentity": "google"}],
            },
        },
        {
            "project": "web",
            "environment": "staging",
            "name": "twin",
            "kind": "segment",
            "config": {"writeKey": "a" * 16},
        },
        {
            "project": "web",
            "environment": "staging",
            "name": "twin",
            "kind": "kinesis",
            "config": {"region": "r", "roleArn": "a", "streamName": "s"},
        },
        {  # words and values YAML 1.1 readers (PyYAML's safe_load, yamllint) would read otherwise
            "project": "web",
            "environment": "staging",
            "name": "on",
            "kind": "databricks",
            "config": {"big": 1e20, "word": "yes", "odd": "a\u2028b\x85c", "on": True, "off": "no"},
        },
        {
            "project": "web",
            "environment": "staging",
            "name": "odd*name?",
            "kind": "segment",
            "config": {"writeKey": "b" * 16, "futureField": "x"},
        },
    ]
    return {
        "projects": {
            "web": {
                "environments": {
                    "production": {"defaultTrackEvents": True},
                    "staging": {},
                    "empty": {},
                },
                "flags": {
                    "on-everywhere": {"trackEvents": True},
                    "on-in-prod": {"trackEvents": {"production": True}},
                    "off": {},
                    "archived-on": {"archived": True, "trackEvents": True},
                    **{k: {"trackEvents": {"production": True}} for k in YAML_11_WORDS},
                },
            },
            "all-on": {
                "environments": {"production": {}},
                "flags": {"a": {"trackEvents": True}, "b": {"trackEvents": True}},
            },
            "quiet": {"environments": {"production": {}}, "flags": {"x": {}}},
        },
        "destinations": dests,
    }


def big_seed() -> dict[str, Any]:
    projects = {
        f"p{i}": {
            "environments": {
                e: {"defaultTrackEvents": e == "production"} for e in ("production", "staging", "dev", "qa")
            },
            "generate_flags": {
                "count": 300,
                "prefix": "f-",
                "tags": ["a", "b"],
                "track_events": {"production": 0.5, "staging": 1.0, "qa": 0.1},
                "archived": 0.05,
                "seed": i,
            },
        }
        for i in range(4)
    }
    dests = [
        {
            "project": p,
            "environment": e,
            "name": f"seg-{e}",
            "kind": "segment",
            "on": e != "dev",
            "config": {"writeKey": f"wk-{p}-{e}-0123456789"},
        }
        for p in projects
        for e in ("production", "staging", "dev", "qa")
    ]
    return {"projects": projects, "destinations": dests}


def export_then_plan(ldseg: Runner, *export_args: str) -> tuple[str, str]:
    out = ldseg.tmp_path / "exported"
    exported = ldseg("export", "-o", f"{out}/", *export_args)
    assert exported.exit_code == 0, exported.output
    planned = ldseg("plan", "-c", str(out), "--detailed-exitcode")
    assert planned.exit_code == 0, planned.output
    assert planned.stdout == "No changes. LaunchDarkly matches the configuration.\n"
    single = ldseg("export")
    assert single.exit_code == 0
    again = ldseg("export")
    assert single.stdout == again.stdout  # deterministic
    for text in [single.stdout, *(p.read_text(encoding="utf-8") for p in sorted(out.iterdir()))]:
        assert_same_under_yaml_1_1(text)
    cfg = ldseg.config(single.stdout, "single.yaml")
    replanned = ldseg("plan", "-c", cfg, "--detailed-exitcode")
    assert replanned.exit_code == 0, replanned.output
    return single.stdout, exported.stderr + single.stderr


def assert_same_under_yaml_1_1(text: str) -> None:
    """YAML 1.1 readers (PyYAML's safe_load, yamllint) load an exported file as ldseg does."""
    ours, problems = load_yaml(text, "exported.yaml")
    assert problems == [] and ours is not None
    assert yaml.safe_load(text) == ours.data


class TestQuickstart:
    @pytest.fixture
    def seed(self) -> dict[str, Any]:
        return load_seed(quickstart_seed_path())

    def test_round_trip(self, ldseg: Runner) -> None:
        text, stderr = export_then_plan(ldseg)
        assert "segment-main:" in text and "old-kinesis:" in text
        assert "LDSEG_WEB_PRODUCTION_SEGMENT_MAIN_WRITEKEY" in stderr
        assert "qs-prod-4f9c2a7e51b3d860" not in text

    def test_an_unset_secret_variable_is_named_with_its_line_in_every_output(self, ldseg: Runner) -> None:
        cfg = ldseg.config(ldseg("export").stdout, "exported.yaml")
        line = next(
            i
            for i, text in enumerate(Path(cfg).read_text().splitlines(), 1)
            if "SEGMENT_MAIN_WRITEKEY" in text
        )
        warning = (
            f"exported.yaml:{line}: destination:web/production/segment-main config.writeKey: environment "
            "variable LDSEG_WEB_PRODUCTION_SEGMENT_MAIN_WRITEKEY is not set; the secret in LaunchDarkly is "
            "left as it is."
        )
        out = str(ldseg.tmp_path / "plan.json")
        plan = ldseg("plan", "-c", cfg, "--out", out)
        assert plan.exit_code == 0 and warning in plan.stderr
        assert any(w.endswith(warning) for w in json.loads(Path(out).read_text())["warnings"])
        assert warning in ldseg("plan", "-c", cfg, "--format", "markdown").stdout


class TestLarge:
    @pytest.fixture
    def seed(self) -> dict[str, Any]:
        return big_seed()

    def test_round_trip(self, ldseg: Runner) -> None:
        text, _ = export_then_plan(ldseg)
        assert text.count("kind: segment") == 16
        assert "flags: {all: true}" in text  # staging: every flag exports


class TestEdgeCases:
    @pytest.fixture
    def seed(self) -> dict[str, Any]:
        return edge_seed()

    def test_round_trip(self, ldseg: Runner) -> None:
        text, stderr = export_then_plan(ldseg)
        for d in EVERY_KIND:
            assert f'"every {d["kind"]}":' in text
        assert '"Segment – prod ✓":' in text
        assert '"mparticle identities only":' in text and '"mparticleUserIdentity": "google"' in text
        # duplicates are reported, and ignored so that the plan stays clean
        assert "web/staging/twin: 2 destinations share this name" in stderr
        assert '  - "twin"  # 2 destinations share this name (ids ' in text
        assert '  - "odd[*]name[?]"' not in text  # it is unique: exported normally
        assert "# not exported (unknown to ldseg, left as they are): futureField" in text
        assert '"t-$${not-a-var}"' in text  # a literal ${ survives interpolation
        # no destinations: no destinations block, so ldseg does not own that environment
        empty = text.split("      empty:\n", 1)[1].split("\n      ", 1)[0]
        assert "destinations" not in empty
        assert "archived-on" not in text
        for word in YAML_11_WORDS:
            assert f'      - "{word}"\n' in text
        assert '  "on":\n' in text and "big: 1.0e+20" in text and 'others: "off"' in text
        assert "  all-on:" in text and "flags: {all: true}" in text
        assert "  quiet:" not in text  # no destination, no exporting flag
        for name in ("WRITEKEY", "APIKEY", "SECRET", "POLICYKEY"):
            assert f"_{name}}}" in text
        for secret in (
            "wk-abcdef123456",
            "mp-key-123456789",
            "az-key-1234567890",
            "wk-unicode-0123456789",
            "mp-secret-identities-0123",
        ):
            assert secret not in text + stderr

    def test_secrets_once_set_are_compared_with_the_mask(self, ldseg: Runner) -> None:
        text = ldseg("export", "--project", "web", "--env", "production").stdout
        cfg = ldseg.config(text)
        var = variable_name("web", "production", "every segment", "writeKey")
        assert var == "LDSEG_WEB_PRODUCTION_EVERY_SEGMENT_WRITEKEY"
        assert ldseg("plan", "-c", cfg, "--detailed-exitcode", env={var: "wk-abcdef123456"}).exit_code == 0
        wrong = ldseg("plan", "-c", cfg, env={var: "wk-zzzzzz999999"})
        assert "~ config.writeKey" in wrong.stdout

    def test_project_and_env_filters(self, ldseg: Runner) -> None:
        quiet = ldseg("export", "--project", "quiet")
        assert quiet.exit_code == 0
        assert "  quiet:" in quiet.stdout  # asked for explicitly: exported even with nothing to export
        only = ldseg("export", "--project", "web", "--env", "staging").stdout
        assert "staging:" in only and "production:" not in only
        missing = ldseg("export", "--project", "nope")
        assert missing.exit_code == 1
        assert "Project 'nope' does not exist" in missing.stderr
        bad_env = ldseg("export", "--env", "nope")
        assert bad_env.exit_code == 1
        assert "No environment 'nope'" in bad_env.stderr


def test_export_overwrites_only_files_it_generated(ldseg: Runner) -> None:
    """A hand-written ldseg.yaml is never lost to `export -o`: that needs --force."""
    hand = ldseg.config(ONE_DESTINATION)
    refused = ldseg("export", "-o", hand)
    assert refused.exit_code == 1
    assert refused.stderr == (
        f"Error: Not overwriting {hand}: it was not generated by `ldseg export` (an exported file starts "
        "with '# Generated by `ldseg export`'), so it may hold hand-written config. Nothing was written. "
        "Pass --force to overwrite, or choose another path with -o.\n"
    )
    assert Path(hand).read_text() == ONE_DESTINATION.lstrip("\n")
    assert ldseg.sandbox.requests() == []  # refused before reading the account
    assert ldseg("export", "-o", hand, "--force").exit_code == 0
    assert Path(hand).read_text().startswith("# Generated by `ldseg export`")
    again = ldseg("export", "-o", hand)  # its own file: replaced without --force
    assert again.exit_code == 0, again.output


def test_export_to_a_directory_writes_nothing_if_one_file_is_hand_written(ldseg: Runner) -> None:
    out = ldseg.tmp_path / "out"
    assert ldseg("export", "--project", "web", "-o", f"{out}/").exit_code == 0
    assert sorted(p.name for p in out.iterdir()) == ["web.yaml"]
    assert ldseg("export", "--project", "web", "-o", f"{out}/").exit_code == 0  # its own files
    (out / "web.yaml").write_text("# my own notes\nversion: 1\n")
    refused = ldseg("export", "--project", "web", "--project", "mobile", "-o", str(out))
    assert refused.exit_code == 1
    assert f"Not overwriting {out / 'web.yaml'}: it was not generated by `ldseg export`" in refused.stderr
    assert (out / "web.yaml").read_text() == "# my own notes\nversion: 1\n"
    assert not (out / "mobile.yaml").exists()  # all or nothing
    assert ldseg("export", "--project", "web", "-o", str(out), "--force").exit_code == 0
    assert (out / "web.yaml").read_text().startswith("# Generated by `ldseg export`")


def test_done_when_export_then_plan_in_separate_processes(tmp_path: Path) -> None:
    """The issue's acceptance: `ldseg export --sandbox -o out/ && ldseg plan --sandbox -c out/`."""
    seed = tmp_path / "seed.json"

    seed.write_text(
        json.dumps(big_seed() | {"projects": {**big_seed()["projects"], **edge_seed()["projects"]}})
    )
    env = {k: v for k, v in os.environ.items() if not k.startswith(("LD_", "LAUNCHDARKLY_", "LDSEG_"))}
    # start the state from the seed, then run the two documented commands
    SandboxForTests(seed=seed, state_path=tmp_path / ".ldseg" / "sandbox.json").start().stop()
    cmd = (
        f"{sys.executable} -m ldseg export --sandbox -o out/ && "
        f"{sys.executable} -m ldseg plan --sandbox -c out/ --detailed-exitcode"
    )
    run = subprocess.run(cmd, shell=True, cwd=tmp_path, env=env, capture_output=True, text=True, timeout=120)
    assert run.returncode == 0, run.stderr
    assert run.stdout.endswith("No changes. LaunchDarkly matches the configuration.\n")
    names = sorted(p.name for p in (tmp_path / "out").iterdir())
    assert names == ["all-on.yaml", "p0.yaml", "p1.yaml", "p2.yaml", "p3.yaml", "web.yaml"]  # not "quiet"
