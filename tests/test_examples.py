"""The examples are part of the product: valid YAML, documented flags only, configs that validate."""

from __future__ import annotations

import re
import shlex
import textwrap
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import click
import pytest
import yaml
from click.testing import CliRunner

from ldseg.cli import cli
from ldseg.yamlsource import load_yaml

REPO = Path(__file__).resolve().parents[1]
PIPELINES = [
    *sorted((REPO / "examples" / "github-actions").glob("*.yml")),
    REPO / "examples" / "gitlab-ci" / ".gitlab-ci.yml",
]


def scripts(node: Any) -> Iterator[str]:
    """Every shell script in a workflow: GitHub's ``run:`` and GitLab's ``script:`` entries."""
    if isinstance(node, dict):
        for key, value in node.items():
            if key in ("run", "script", "before_script") and isinstance(value, (str, list)):
                items = [value] if isinstance(value, str) else value
                for item in items:  # a ": " in an unquoted line makes YAML read a mapping, not a command
                    assert isinstance(item, str), f"not a shell line (quote it): {item!r}"
                    yield item
            else:
                yield from scripts(value)
    elif isinstance(node, list):
        for item in node:
            yield from scripts(item)


def invocations(script: str) -> Iterator[list[str]]:
    for match in re.finditer(r"(?:^|[;&|(]\s*|\s)ldseg\s+([^;&|>\n]+)", script.replace("\\\n", " ")):
        yield shlex.split(match.group(1))


def known_options(command: click.Command) -> set[str]:
    return {opt for p in command.params if isinstance(p, click.Option) for opt in p.opts + p.secondary_opts}


@pytest.mark.parametrize("path", PIPELINES, ids=lambda p: p.name)
def test_pipelines_are_valid_yaml_using_documented_flags(path: Path) -> None:
    doc = yaml.safe_load(path.read_text())
    assert isinstance(doc, dict)
    found = 0
    for script in scripts(doc):
        for args in invocations(script):
            found += 1
            command = cli.get_command(click.Context(cli), args[0])
            assert command is not None, f"{path.name}: unknown command ldseg {args[0]}"
            options = known_options(command)
            for arg in args[1:]:
                if arg.startswith("-") and arg != "-":
                    assert arg.split("=", 1)[0] in options, (
                        f"{path.name}: ldseg {args[0]} has no option {arg}"
                    )
    assert found >= 2


def test_github_workflows_have_their_jobs() -> None:
    for name in ("ldseg-plan.yml", "ldseg-apply.yml", "ldseg-drift.yml"):
        doc = yaml.safe_load((REPO / "examples" / "github-actions" / name).read_text())
        assert doc["jobs"] and doc["name"].startswith("ldseg")
        assert True in doc or "on" in doc  # PyYAML reads the key `on` as True (YAML 1.1)


def test_multi_file_example_validates() -> None:
    result = CliRunner().invoke(cli, ["validate", "-c", str(REPO / "examples" / "multi-file")])
    assert result.exit_code == 0, result.output
    assert (
        result.stdout
        == "The configuration is valid: 3 files, 2 environments, 2 destinations, 2 export blocks.\n"
    )


def test_quickstart_validates() -> None:
    result = CliRunner().invoke(cli, ["validate", "-c", str(REPO / "examples" / "quickstart" / "ldseg.yaml")])
    assert result.exit_code == 0, result.output


def configs_users_copy() -> Iterator[tuple[str, str]]:
    for path in [
        REPO / "examples" / "quickstart" / "ldseg.yaml",
        *(REPO / "examples" / "multi-file").glob("*.yaml"),
    ]:
        yield path.name, path.read_text(encoding="utf-8")
    readme = (REPO / "README.md").read_text(encoding="utf-8")
    for i, block in enumerate(re.findall(r"```yaml\n(.*?)```", readme, re.DOTALL)):
        yield f"README.md yaml block {i + 1}", textwrap.dedent(block)


@pytest.mark.parametrize(("name", "text"), list(configs_users_copy()), ids=lambda v: str(v)[:30])
def test_configs_users_copy_mean_the_same_to_yaml_1_1_tools(name: str, text: str) -> None:
    """yamllint and PyYAML's safe_load read these as ldseg does (no bare `on:` or `others: off`)."""
    ours, problems = load_yaml(text, name)
    assert problems == [] and ours is not None
    assert yaml.safe_load(text) == ours.data, name


def test_pre_commit_hook() -> None:
    (hook,) = yaml.safe_load((REPO / ".pre-commit-hooks.yaml").read_text())
    assert hook["id"] == "ldseg-validate"
    assert hook["entry"] == "ldseg validate"
    assert hook["language"] == "python"
    assert hook["pass_filenames"] is False
