"""Exported YAML reads the same under YAML 1.1 (PyYAML's safe_load, yamllint) and ldseg's loader."""

from __future__ import annotations

from typing import Any

import yaml
from hypothesis import given, settings
from hypothesis import strategies as st

from ldseg.exporter import export_config
from ldseg.ld.account import Account
from ldseg.model import LiveDestination, LiveEnvironment, LiveFlag, LiveFlagEnv
from ldseg.yamlsource import load_yaml, plain_is_string

#: words and numbers YAML 1.1 (or some YAML 1.1 reader) does not read as these strings
TRICKY = [
    "on", "On", "ON", "off", "Off", "OFF", "yes", "Yes", "YES", "no", "No", "NO", "y", "Y", "n", "N",
    "true", "False", "null", "Null", "NULL", "~", "123", "0x1F", "017", "0b101", "1_000", "1.5", "1e5",
    "2024-01-01", "1:20", ".inf", "-.5", "+1", "<<", "=",
]  # fmt: skip


def account(names: list[str], values: list[Any]) -> Account:
    """Destinations, flags and environments named ``names``, open-kind config ``values``."""
    envs = [n for n in names if n[:1].isalnum()] or ["production"]
    acct = Account(projects=["web"])
    for e in envs:
        acct.environments[("web", e)] = LiveEnvironment("web", e, e, default_track_events=False)
    config = {f"f{i}": v for i, v in enumerate(values)} | {"on": True, "yes": "no"}
    acct.destinations[("web", envs[0])] = [
        LiveDestination(f"id{i}", "web", envs[0], n, "databricks", True, config, 1)
        for i, n in enumerate(names)
    ]
    flags = {
        n: LiveFlag(n, ("on",), 1, {e: LiveFlagEnv(i % 2 == 0, 1) for e in envs}) for i, n in enumerate(names)
    }
    acct.flags["web"] = flags | {
        "zz-off": LiveFlag("zz-off", (), 1, {e: LiveFlagEnv(False, 1) for e in envs})
    }
    return acct


def assert_same_under_both_loaders(text: str) -> Any:
    ours, problems = load_yaml(text, "exported.yaml")
    assert problems == [] and ours is not None
    assert yaml.safe_load(text) == ours.data
    return ours.data


def test_tricky_names_and_words_read_the_same_under_yaml_1_1() -> None:
    exported = export_config(account(TRICKY, [1e20, 1e-7, "yes", "a\u2028b\x85c\x7f"]), include_all=True,
                             per_project=False, source="test")  # fmt: skip
    text = exported.files["ldseg.yaml"]
    data = assert_same_under_both_loaders(text)
    env = data["projects"]["web"]["environments"]["on"]
    assert sorted(env["destinations"]) == sorted(TRICKY)
    assert env["destinations"]["on"]["on"] is True
    assert env["destinations"]["on"]["config"]["f0"] == 1e20
    assert env["destinations"]["on"]["config"]["f3"] == "a\u2028b\x85c\x7f"
    assert env["export"]["flags"]["others"] == "off"
    assert sorted(env["export"]["flags"]["keys"]) == sorted(TRICKY[::2])
    assert '"on": true' in text and 'others: "off"' in text and "\n      on:" not in text


@settings(max_examples=60, deadline=None)
@given(
    names=st.lists(st.text(min_size=1, max_size=8), min_size=1, max_size=4, unique=True),
    values=st.lists(
        st.one_of(st.text(max_size=8), st.floats(allow_nan=False, allow_infinity=False), st.integers()),
        max_size=4,
    ),
)
def test_any_names_and_values_read_the_same_under_yaml_1_1(names: list[str], values: list[Any]) -> None:
    exported = export_config(account(names, values), include_all=True, per_project=True, source="test")
    data = assert_same_under_both_loaders(exported.files["web.yaml"])
    envs = data["projects"]["web"]["environments"]
    dests = next(e["destinations"] for e in envs.values() if "destinations" in e)
    assert sorted(dests) == sorted(names)
    config = dests[names[0]]["config"]
    assert [config[f"f{i}"] for i in range(len(values))] == [
        v.replace("$${", "${") if isinstance(v, str) else v for v in values
    ] or not values


def test_plain_is_string() -> None:
    assert [t for t in TRICKY if plain_is_string(t)] == []
    assert all(plain_is_string(t) for t in ("web", "checkout-v2", "production", "_x", "a.b", "2fa-login"))
