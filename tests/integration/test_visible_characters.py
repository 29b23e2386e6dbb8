"""Control and bidirectional characters in names, keys and values are shown as escapes in every text
and Markdown rendering (a reviewer must read what will be written), and kept exact in JSON."""

from __future__ import annotations

import json

import pytest

from ldseg.model import Address
from ldseg.plan import Action, DestinationChange, DestinationGuard, FieldDiff, Plan
from ldseg.render.common import visible
from ldseg.render.text import render_plan
from tests.helpers import in_production
from tests.integration.conftest import Runner

RLO = "\u202e"  # RIGHT-TO-LEFT OVERRIDE: "abc\u202edef" displays as "abcfed"
NAME = "main\tpubsub"
TOPIC = f"events{RLO}gnp.exe"
FLAG = f"promo{RLO}banner"
RAW = ("\t", RLO)

CONFIG = in_production(
    """
    destinations:
      "main\\tpubsub": {kind: google-pubsub, config: {project: p, topic: "events\\u202egnp.exe"}}
    export:
      flags: {tags: [analytics], others: keep}
    """
)


def shows_escaped(text: str) -> None:
    assert not any(ch in text for ch in RAW), repr(text)
    assert "main\\tpubsub" in text


@pytest.fixture
def cfg(ldseg: Runner) -> str:
    ldseg.sandbox.store.add_flag("web", FLAG, tags=["analytics"])
    ldseg.sandbox.store.add_destination(
        "web", "production", NAME, "google-pubsub", {"project": "p", "topic": f"old{RLO}topic"}
    )
    return ldseg.config(CONFIG)


def test_the_helper_escapes_controls_and_bidi_characters_only() -> None:
    assert visible(f"a\tb{RLO}c\u200bd\x1b[0m\u2028é👍") == "a\\tb\\u202ec\\u200bd\\u001b[0m\\u2028é👍"
    assert visible("line one\nline two", keep="\n") == "line one\nline two"
    assert visible("plain text") == "plain text"


@pytest.mark.parametrize("fmt", ["text", "markdown"])
def test_plan_and_drift_show_escapes(ldseg: Runner, cfg: str, fmt: str) -> None:
    for command in ("plan", "drift"):
        result = ldseg(command, "-c", cfg, "--format", fmt)
        assert result.exit_code in (0, 2), result.output
        shows_escaped(result.stdout)
        assert "events\\u202egnp.exe" in result.stdout and "promo\\u202ebanner" in result.stdout
        assert "old\\u202etopic" in result.stdout


def test_colour_codes_survive_the_escaping() -> None:
    change = DestinationChange(
        address=Address("destination", "web", "production", NAME),
        action=Action.UPDATE,
        diffs=(FieldDiff("config.topic", f"old{RLO}topic", TOPIC, op="replace"),),
        kind="google-pubsub",
        live_id="abc",
        guard=DestinationGuard("abc", 1, "sha256:0"),
    )
    text = render_plan(Plan((change,)), color=True)
    assert "\x1b[33m" in text  # yellow, a real escape code: styled after the escaping
    assert "\\u001b" not in text and not any(ch in text for ch in RAW)
    assert '"old\\u202etopic" -> "events\\u202egnp.exe"' in text


def test_json_keeps_the_data_exact(ldseg: Runner, cfg: str) -> None:
    doc = json.loads(ldseg("plan", "-c", cfg, "--format", "json").stdout)
    text = json.dumps(doc, ensure_ascii=False)
    assert NAME in {c.get("address", "").rsplit("/", 1)[-1] for c in doc["changes"]}
    assert TOPIC in text and FLAG in text


def test_the_apply_report_and_the_smoke_test_show_escapes(ldseg: Runner, cfg: str) -> None:
    applied = ldseg("apply", "-c", cfg, "--auto-approve", "--verbose")
    assert applied.exit_code == 0, applied.output
    shows_escaped(applied.stdout)
    assert "promo\\u202ebanner" in applied.stdout
    for fmt in ("text", "markdown"):
        tested = ldseg("test", "-c", cfg, "--format", fmt)
        shows_escaped(tested.stdout)


def test_warnings_and_errors_quoting_them_show_escapes(ldseg: Runner) -> None:
    text = CONFIG.replace("kind: google-pubsub", "kind: google-pubsub, bogus: 1")
    result = ldseg("plan", "-c", ldseg.config(text))
    assert result.exit_code == 1
    assert not any(ch in result.stderr for ch in RAW), result.stderr
