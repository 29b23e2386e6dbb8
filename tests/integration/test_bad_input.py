"""The bad-input catalogue: every way a user can get the input wrong, through the real CLI.

Each case: exit code as documented (1 for every error), one clear message (checked by a
fragment), no traceback, and nothing changed in LaunchDarkly. Property-based tests at the end
feed random configs and bytes to the loader: they validate or fail with ConfigError, nothing else.
"""

from __future__ import annotations

import json
import string
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest
import yaml
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from ldseg import config
from ldseg.config import MAX_FILE_BYTES
from ldseg.errors import ConfigError
from ldseg.sandbox.testing import SandboxForTests
from tests.helpers import CANARY_WRITE_KEY, ONE_DESTINATION
from tests.integration.conftest import Runner

ONE = ONE_DESTINATION

BOMB = "\n".join(
    ['a: &a ["x","x","x","x","x","x","x","x","x","x"]']
    + [f"{n}: &{n} [" + ",".join([f"*{p}"] * 10) + "]" for p, n in zip("abcdefg", "bcdefgh", strict=True)]
)


@dataclass
class Case:
    files: dict[str, str | bytes]
    message: str
    args: tuple[str, ...] = ("plan", "-c", "{dir}/ldseg.yaml")
    env: dict[str, str | None] = field(default_factory=dict)
    setup: Callable[[SandboxForTests], None] | None = None
    exit_code: int = 1


def edited(text: str, old: str, new: str) -> str:
    assert old in text
    return text.replace(old, new)


CASES: dict[str, Case] = {
    "malformed YAML": Case({"ldseg.yaml": "version: 1\nprojects: [\n"}, "invalid YAML"),
    "unknown key": Case(
        {"ldseg.yaml": edited(ONE, "kind: segment", "kind: segment\n            colour: red")},
        "ldseg.yaml:9: error: destination web/production/segment-main: unknown key 'colour'",
    ),
    "wrong type": Case(
        {"ldseg.yaml": edited(ONE, "kind: segment", "kind: segment\n            on: 'yes'")},
        "on: expected true or false, got 'yes'",
    ),
    "unknown kind": Case(
        {"ldseg.yaml": edited(ONE, "kind: segment", "kind: segmnt")}, "'segmnt' is not one of"
    ),
    "missing required config field": Case(
        {"ldseg.yaml": edited(ONE, '{writeKey: "${SEGMENT_WRITE_KEY}"}', "{userIDContextKind: user}")},
        "missing required config field 'writeKey'",
    ),
    "unknown config field": Case(
        {"ldseg.yaml": edited(ONE, '"${SEGMENT_WRITE_KEY}"}', '"${SEGMENT_WRITE_KEY}", writekey: x}')},
        "unknown config field 'writekey'",
    ),
    "duplicate destination across files": Case(
        {"a.yaml": ONE, "b.yaml": ONE},
        "destination web/production/segment-main is declared twice: at ",
        args=("plan", "-c", "{dir}"),
    ),
    "missing variable": Case(
        {"ldseg.yaml": edited(ONE, "SEGMENT_WRITE_KEY", "NOT_SET_ANYWHERE")},
        "config.writeKey: environment variable NOT_SET_ANYWHERE is not set",
    ),
    "secret with a trailing newline": Case(
        {"ldseg.yaml": ONE},
        "ldseg.yaml:9: error: destination web/production/segment-main: config.writeKey is a secret, and "
        "the environment variable SEGMENT_WRITE_KEY ends with a newline (U+000A)",
        env={"SEGMENT_WRITE_KEY": CANARY_WRITE_KEY + "\n"},
    ),
    "access token with a control character": Case(
        {"ldseg.yaml": ONE},
        "The access token in LD_ACCESS_TOKEN contains a control character (U+0007)",
        env={"LD_ACCESS_TOKEN": "api-wrong\x07-0000"},
    ),
    "project not in LaunchDarkly": Case(
        {"ldseg.yaml": edited(ONE, "  web:", "  nope:")}, "project 'nope' does not exist in LaunchDarkly"
    ),
    "environment not in LaunchDarkly": Case(
        {"ldseg.yaml": edited(ONE, "production:", "prod:")},
        "environment 'prod' does not exist in project 'web'",
    ),
    "rejected token (401)": Case(
        {"ldseg.yaml": ONE},
        "rejected the access token (401 unauthorized",
        env={"LD_ACCESS_TOKEN": "api-wrong-0000"},
    ),
    "no token": Case({"ldseg.yaml": ONE}, "No LaunchDarkly access token", env={"LD_ACCESS_TOKEN": None}),
    "token without the scope to read (403)": Case(
        {"ldseg.yaml": ONE},
        "not allowed to read this resource (403 forbidden",
        env={"LD_ACCESS_TOKEN": "api-noaccess-0000"},
        setup=lambda sb: sb.store.add_token("api-noaccess-0000", "none"),
    ),
    "token without the scope to write (403)": Case(
        {"ldseg.yaml": ONE},
        "not allowed to write this resource (403 forbidden",
        args=("apply", "-c", "{dir}/ldseg.yaml", "--auto-approve"),
        env={"LD_ACCESS_TOKEN": "api-reader-0000"},
        setup=lambda sb: sb.store.add_token("api-reader-0000", "reader"),
    ),
    "unreachable base URI": Case(
        {"ldseg.yaml": ONE},
        "Could not reach LaunchDarkly at http://127.0.0.1:9",
        env={"LD_BASE_URI": "http://127.0.0.1:9"},
    ),
    "base URI that is not a URL": Case(
        {"ldseg.yaml": ONE}, "is not an http(s) URL", env={"LD_BASE_URI": "ftp://x"}
    ),
    "empty config": Case({"ldseg.yaml": ""}, "the file is empty (or only comments)"),
    "config with only comments": Case(
        {"ldseg.yaml": "# nothing\n# here\n"}, "the file is empty (or only comments)"
    ),
    "YAML alias bomb": Case({"ldseg.yaml": BOMB}, "an alias bomb?); refusing to load it"),
    "very large file": Case(
        {"ldseg.yaml": "version: 1\n" + "# padding\n" * (MAX_FILE_BYTES // 10)},
        f"configs over {MAX_FILE_BYTES:,} are refused",
    ),
    "non-UTF-8 bytes": Case({"ldseg.yaml": b"version: 1\nprojects: {caf\xe9: {}}\n"}, "is not valid UTF-8"),
    "several YAML documents": Case({"ldseg.yaml": "version: 1\n---\nversion: 1\n"}, "several YAML documents"),
    "duplicate key": Case({"ldseg.yaml": "version: 1\nversion: 1\n"}, "duplicate key 'version'"),
    "missing config file": Case({}, "no such file or directory"),
    "directory without configs": Case(
        {"notes.txt": "hi"}, "holds no *.yaml or *.yml files", args=("plan", "-c", "{dir}")
    ),
    "truncated plan file": Case(
        {"plan.json": '{"format_version": 1, "chan'},
        "invalid or truncated JSON",
        args=("apply", "{dir}/plan.json"),
    ),
    "plan file that is not a plan": Case(
        {"plan.json": "[1, 2, 3]"}, "is not a saved ldseg plan", args=("apply", "{dir}/plan.json")
    ),
    "binary plan file": Case(
        {"plan.json": b"\x89PNG\r\n\x1a\n\x00"}, "Cannot read the plan file", args=("show", "{dir}/plan.json")
    ),
    "plan file from an unknown format version": Case(
        {"plan.json": json.dumps({"format_version": 9})},
        "plan format_version 9",
        args=("show", "{dir}/plan.json"),
    ),
    "bad --target": Case(
        {"ldseg.yaml": ONE}, "is not an address", args=("plan", "-c", "{dir}/ldseg.yaml", "--target", "web")
    ),
    "usage error": Case({}, "No such option", args=("plan", "--frobnicate")),
    "bad fault spec": Case(
        {}, "Cannot start the sandbox: fault spec", args=("sandbox", "--port", "0", "--faults", "x=1")
    ),
}


@pytest.mark.parametrize("name", sorted(CASES))
def test_bad_input(ldseg: Runner, tmp_path: Path, name: str) -> None:
    case = CASES[name]
    folder = tmp_path / "in"
    folder.mkdir()
    for fname, content in case.files.items():
        target = folder / fname
        if isinstance(content, bytes):
            target.write_bytes(content)
        else:
            target.write_text(content.lstrip("\n"), encoding="utf-8")
    if case.setup:
        case.setup(ldseg.sandbox)
    args = [a.replace("{dir}", str(folder)) for a in case.args]
    result = ldseg(*args, env=case.env)
    assert result.exit_code == case.exit_code, (name, result.output)
    assert case.message in result.output, (name, result.output)
    assert result.stderr.startswith("Error: ") or "Usage:" in result.stderr, result.stderr
    assert "Traceback" not in result.output
    assert ldseg.sandbox.store.audit_log == []  # nothing changed in LaunchDarkly
    for secret in ("api-wrong-0000", "api-noaccess-0000", "api-reader-0000"):
        assert secret not in result.output


@pytest.mark.parametrize("command", ["plan", "apply", "drift", "test"])
def test_a_secret_with_a_trailing_newline_stops_before_anything_is_read(ldseg: Runner, command: str) -> None:
    """`SEGMENT_WRITE_KEY=$'...\\n'` would be planned as a write-key change and written."""
    cfg = ldseg.config(ONE)
    args = [command, "-c", cfg] + (["--auto-approve"] if command == "apply" else [])
    result = ldseg(*args, env={"SEGMENT_WRITE_KEY": CANARY_WRITE_KEY + "\n"})
    assert result.exit_code == 1
    assert "SEGMENT_WRITE_KEY ends with a newline" in result.stderr
    assert ldseg.sandbox.requests() == []  # not even read


def test_a_config_given_twice_and_a_saved_plan_given_as_a_config(ldseg: Runner) -> None:
    cfg = ldseg.config(ONE)
    twice = ldseg("plan", "-c", cfg, "-c", cfg, "-c", str(ldseg.tmp_path))
    assert twice.exit_code == 0, twice.output  # one file, read once: nothing "declared twice"
    plan = str(ldseg.tmp_path / "plan.json")
    assert ldseg("plan", "-c", cfg, "--out", plan).exit_code == 0
    for command in ("plan", "apply", "validate"):
        result = ldseg(command, "-c", plan)
        assert result.exit_code == 1
        assert result.stderr == (
            f"Error: The configuration has 1 problem:\n  {plan}: error: this is a saved plan, not a config: "
            f"use `ldseg apply {plan}` to apply it or `ldseg show {plan}` to see it\n"
        )


# --- property-based: random configs validate or fail with ConfigError, never anything else ----

WORDS = [
    "version",
    "settings",
    "comment",
    "safety",
    "projects",
    "environments",
    "destinations",
    "kind",
    "on",
    "config",
    "writeKey",
    "export",
    "flags",
    "keys",
    "tags",
    "all",
    "others",
    "new_flags",
    "ignore_destinations",
    "web",
    "production",
    "segment",
    "kinesis",
    "region",
    "x",
]
scalars = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(-3, 3),
    st.floats(allow_nan=False, width=16),
    st.sampled_from(WORDS),
    st.text(string.printable, max_size=12),
    st.sampled_from(["${X}", "${X:-d}", "$${", "${bad var}", "off", "yes", "1"]),
)
trees = st.recursive(
    scalars,
    lambda inner: st.one_of(
        st.lists(inner, max_size=4),
        st.dictionaries(
            st.one_of(st.sampled_from(WORDS), st.text(string.ascii_letters, max_size=6)), inner, max_size=5
        ),
    ),
    max_leaves=30,
)


def _load(tmp: Path, text: str | bytes) -> None:
    path = tmp / "c.yaml"
    if isinstance(text, bytes):
        path.write_bytes(text)
    else:
        path.write_text(text, encoding="utf-8")
    result = config.load([str(path)], {"X": "v"})
    assert (result.desired is None) == bool(result.errors)
    try:
        config.load_or_raise([str(path)], {"X": "v"})
    except ConfigError as exc:
        assert exc.problems and exc.exit_code == 1


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(tree=trees, versioned=st.booleans())
def test_random_configs_validate_or_fail_with_config_error(
    tmp_path: Path, tree: Any, versioned: bool
) -> None:
    if versioned and isinstance(tree, dict):
        tree = {"version": 1, **tree}
    _load(tmp_path, yaml.safe_dump(tree, allow_unicode=True))


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(data=st.one_of(st.binary(max_size=200), st.text(max_size=200)))
def test_random_bytes_and_text_fail_cleanly(tmp_path: Path, data: str | bytes) -> None:
    _load(tmp_path, data)


# Configs shaped like real ones (projects, environments, destinations, export blocks) with random
# leaves: they reach the deep validation paths that random trees rarely do.
leaf = st.one_of(scalars, st.lists(scalars, max_size=3))
config_fields = st.dictionaries(
    st.sampled_from(
        [
            "writeKey",
            "userIDContextKind",
            "region",
            "roleArn",
            "streamName",
            "project",
            "topic",
            "apiKey",
            "secret",
            "password",
            "x",
        ]
    ),
    leaf,
    max_size=4,
)
destination = st.fixed_dictionaries(
    {},
    optional={
        "kind": st.one_of(
            st.sampled_from(["segment", "kinesis", "google-pubsub", "databricks", "nope"]), leaf
        ),
        "on": leaf,
        "config": st.one_of(config_fields, leaf),
        "extra": leaf,
    },
)
export = st.fixed_dictionaries(
    {},
    optional={
        "new_flags": leaf,
        "flags": st.one_of(
            st.fixed_dictionaries(
                {}, optional={"all": leaf, "keys": leaf, "tags": leaf, "except": leaf, "others": leaf}
            ),
            leaf,
        ),
    },
)
environment = st.fixed_dictionaries(
    {},
    optional={
        "destinations": st.one_of(
            st.dictionaries(
                st.text(string.printable, min_size=1, max_size=8), st.one_of(destination, leaf), max_size=3
            ),
            leaf,
        ),
        "ignore_destinations": leaf,
        "export": st.one_of(export, leaf),
    },
)
structured = st.fixed_dictionaries(
    {"version": st.one_of(st.just(1), leaf)},
    optional={
        "settings": st.one_of(st.fixed_dictionaries({}, optional={"comment": leaf, "safety": leaf}), leaf),
        "projects": st.dictionaries(
            st.sampled_from(["web", "mobile", "bad key", ""]),
            st.one_of(
                st.fixed_dictionaries(
                    {},
                    optional={
                        "environments": st.dictionaries(
                            st.sampled_from(["production", "staging", "x y"]),
                            st.one_of(environment, leaf),
                            max_size=2,
                        )
                    },
                ),
                leaf,
            ),
            max_size=2,
        ),
    },
)


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(tree=structured)
def test_structured_random_configs_validate_or_fail_with_config_error(tmp_path: Path, tree: Any) -> None:
    _load(tmp_path, yaml.safe_dump(tree, allow_unicode=True))
