"""Starting the sandbox from a seed of one's own, and the sandbox's own failures, through the CLI.

``--sandbox-seed FILE`` seeds a new state file; a seed given where a state file is expected, a
malformed seed, a state file made from another seed and a port in use are each one paragraph and
exit 1, never an internal error, a traceback or werkzeug's and PyYAML's own several-line messages.
"""

from __future__ import annotations

import json
import socket
from collections.abc import Iterator
from pathlib import Path

import pytest
from click.testing import CliRunner

from ldseg.cli import cli
from ldseg.sandbox import Sandbox, load_seed
from tests.helpers import Result, write

REPO = Path(__file__).resolve().parents[2]
QUICKSTART_SEED = REPO / "examples" / "quickstart" / "seed.yaml"

SEED = """
projects:
  shop:
    environments:
      live: {name: Live}
    flags:
      cart-v2: {tags: [analytics]}
destinations:
  - {project: shop, environment: live, name: old-pubsub, kind: google-pubsub,
     config: {project: p, topic: t}}
"""

CONFIG = """
version: 1
projects:
  shop:
    environments:
      live:
        destinations: {}
        export:
          flags: {tags: [analytics], others: keep}
"""


def run(*args: str) -> Result:
    res = CliRunner().invoke(cli, list(args), env={"NO_COLOR": "1", "LD_BASE_URI": None})
    return Result(res.exit_code, res.stdout, res.stderr)


@pytest.fixture
def here(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Path]:
    """Run in an empty directory, as a new user does (the default state file lands there)."""
    monkeypatch.chdir(tmp_path)
    yield tmp_path


def one_paragraph(result: Result) -> str:
    assert result.exit_code == 1, result.output
    assert "Traceback" not in result.output and "internal error" not in result.output
    assert result.stderr.startswith("Error: ") and result.stderr.count("\n") == 1, result.stderr
    return result.stderr


@pytest.mark.parametrize("name", ["seed.yaml", "seed.json"])
def test_a_seed_given_as_the_state_file_is_refused_and_left_alone(here: Path, name: str) -> None:
    """``--sandbox=seed.yaml``, the obvious guess, is a JSONDecodeError "internal error" no more:
    the message says what the file is not, and which option takes a seed."""
    text = SEED if name.endswith(".yaml") else json.dumps({"projects": {"shop": {}}})
    seed = write(here / name, text)
    error = one_paragraph(run("plan", f"--sandbox={seed}", "-c", str(write(here / "l.yaml", CONFIG))))
    assert f"{seed} is not a sandbox state file" in error
    assert f"use --sandbox-seed {seed}" in error
    assert seed.read_text() == text.lstrip("\n") if name.endswith(".yaml") else seed.read_text() == text
    assert not (here / ".ldseg").exists()


def test_sandbox_seed_seeds_a_new_state_file_then_the_state_carries_on(here: Path) -> None:
    seed = write(here / "my-seed.yaml", SEED)
    cfg = str(write(here / "ldseg.yaml", CONFIG))
    plan = run("plan", "--sandbox-seed", str(seed), "-c", cfg)
    assert plan.exit_code == 0, plan.output
    assert "- destination:shop/live/old-pubsub {" in plan.stdout  # the seed's account, not the quickstart
    assert "+ cart-v2" in plan.stdout
    assert (here / ".ldseg" / "sandbox.json").exists()

    applied = run("--sandbox-seed", str(seed), "apply", "-c", cfg, "--auto-approve")
    assert applied.exit_code == 0, applied.output
    replan = run("plan", "--sandbox-seed", str(seed), "-c", cfg, "--detailed-exitcode")
    assert replan.exit_code == 0 and replan.stdout.startswith("No changes."), replan.output

    # the state file is the account as apply left it; another seed would silently be ignored: refused
    other = write(here / "other-seed.yaml", SEED.replace("cart-v2", "cart-v3"))
    error = one_paragraph(run("plan", "--sandbox-seed", str(other), "-c", cfg))
    assert ".ldseg/sandbox.json already exists and was not made from the seed" in error
    assert "Delete it to start over" in error and "--sandbox=FILE" in error
    elsewhere = here / "other.json"
    fresh = run("plan", f"--sandbox={elsewhere}", "--sandbox-seed", str(other), "-c", cfg)
    assert fresh.exit_code == 0 and "+ cart-v3" in fresh.stdout, fresh.output


def test_the_quickstart_state_accepts_the_quickstart_seed_by_name(here: Path) -> None:
    cfg = str(REPO / "examples" / "quickstart" / "ldseg.yaml")
    assert run("plan", "--sandbox", "-c", cfg).exit_code == 0
    again = run("plan", "--sandbox-seed", str(QUICKSTART_SEED), "-c", cfg)
    assert again.exit_code == 0, again.output


@pytest.mark.parametrize(
    ("text", "needle"),
    [
        ("projects:\n  web: [\n", "bad-seed.yaml:3:1: not valid YAML: expected the node content"),
        ("projects:\n  web: {environments: [prod]}\n", "bad-seed.yaml: projects.web.environments"),
        ("projekts: {}\n", "bad-seed.yaml: seed: unknown field(s) projekts"),
    ],
)
def test_a_malformed_seed_is_one_line_naming_the_file(here: Path, text: str, needle: str) -> None:
    seed = write(here / "bad-seed.yaml", text)
    for args in (
        ["plan", "--sandbox-seed", str(seed), "-c", str(write(here / "l.yaml", CONFIG))],
        ["sandbox", "--port", "0", "--seed", str(seed)],
    ):
        error = one_paragraph(run(*args))
        assert needle in error, error
        assert 'the seed format is in the README, "The sandbox"' in error


def test_a_missing_seed_file_says_so(here: Path) -> None:
    error = one_paragraph(run("sandbox", "--port", "0", "--seed", "nope.yaml"))
    assert "the seed file nope.yaml does not exist" in error


def test_the_sandbox_command_on_a_port_in_use_is_one_paragraph(here: Path) -> None:
    with socket.socket() as busy:
        busy.bind(("127.0.0.1", 0))
        busy.listen()
        port = busy.getsockname()[1]
        error = one_paragraph(run("sandbox", "--port", str(port)))
    assert f"Cannot start the sandbox: 127.0.0.1:{port} is in use by another program." in error
    assert "pick another port with --port (0 takes a free one)" in error


def test_the_sandbox_command_refuses_a_seed_given_as_its_state_file(here: Path) -> None:
    seed = write(here / "seed.yaml", SEED)
    error = one_paragraph(run("sandbox", "--port", "0", "--state", str(seed)))
    assert "is not a sandbox state file" in error and f"use --seed {seed}" in error


def test_an_internal_error_asks_for_debug_only_without_it(
    here: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    def broken(**kwargs: object) -> None:
        raise RuntimeError("boom")

    monkeypatch.setattr("ldseg.cli.app.connect", broken)
    cfg = str(write(here / "ldseg.yaml", CONFIG))
    plain = run("plan", "--sandbox", "-c", cfg)
    assert plain.exit_code == 1 and "Traceback" not in plain.stderr
    assert "unexpected internal error (RuntimeError: boom). Run again with --debug" in plain.stderr
    debug = run("plan", "--sandbox", "--debug", "-c", cfg)
    assert debug.exit_code == 1 and "Traceback (most recent call last)" in debug.stderr
    assert "unexpected internal error (RuntimeError: boom). Report it." in debug.stderr
    assert "Run again with --debug" not in debug.stderr


def test_the_readme_seed_example_starts_a_sandbox(here: Path) -> None:
    readme = (REPO / "README.md").read_text(encoding="utf-8")
    example = readme.split("#### Seeds", 1)[1].split("```yaml\n", 1)[1].split("```", 1)[0]
    seed = write(here / "readme-seed.yaml", example)
    with Sandbox(seed=load_seed(seed)) as sb:  # every field the example shows is a valid one
        assert sb.grants().ld_tokens["api-reviewer-0001"] == "writer"
        assert sb.grants().segment_token() == "sgp-admin-token"
