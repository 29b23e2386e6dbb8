from __future__ import annotations

from ldseg.model import Address
from ldseg.plan import Action, DestinationChange, DestinationGuard, FieldDiff, Plan
from ldseg.render.text import render_plan


def addr(name: str) -> Address:
    return Address("destination", "web", "production", name)


def test_render_all_actions() -> None:
    p = Plan(
        (
            DestinationChange(
                address=addr("new"),
                action=Action.CREATE,
                diffs=(
                    FieldDiff("kind", None, "segment"),
                    FieldDiff("on", None, True),
                    FieldDiff("config.writeKey", sensitive=True),
                ),
                kind="segment",
                guard=DestinationGuard(absent=True),
            ),
            DestinationChange(
                address=addr("upd"),
                action=Action.UPDATE,
                diffs=(
                    FieldDiff("on", False, True, op="replace"),
                    FieldDiff("config.writeKey", sensitive=True, reason="--rotate-secrets", op="replace"),
                    FieldDiff("config.userIDContextKind", None, "user", op="add"),
                ),
                kind="segment",
                live_id="abc",
                guard=DestinationGuard("abc", 1, "sha256:0"),
            ),
            DestinationChange(
                address=addr("old"),
                action=Action.DELETE,
                diffs=(FieldDiff("kind", "kinesis", None), FieldDiff("config.region", "eu", None)),
                kind="kinesis",
                live_id="def",
                guard=DestinationGuard("def", 1, "sha256:1"),
            ),
        )
    )
    assert render_plan(p) == (
        "ldseg will perform the following actions:\n"
        "\n"
        "  # destination:web/production/new will be created\n"
        "  + destination:web/production/new {\n"
        '      + kind            = "segment"\n'
        "      + on              = true\n"
        "      + config.writeKey = (sensitive)\n"
        "    }\n"
        "\n"
        "  # destination:web/production/old will be destroyed\n"
        "  - destination:web/production/old {\n"
        '        id            = "def"\n'
        '      - kind          = "kinesis"\n'
        '      - config.region = "eu"\n'
        "    }\n"
        "\n"
        "  # destination:web/production/upd will be updated in place\n"
        "  ~ destination:web/production/upd {\n"
        '        id                       = "abc"\n'
        "      ~ on                       = false -> true\n"
        "      ~ config.writeKey          = (sensitive)  # --rotate-secrets\n"
        '      + config.userIDContextKind = "user"\n'
        "    }\n"
        "\n"
        "Plan: 1 to add, 1 to change, 1 to destroy.\n"
    )


def test_render_empty_plan() -> None:
    assert render_plan(Plan(())) == "No changes. LaunchDarkly matches the configuration.\n"


def test_color_only_when_asked() -> None:
    p = Plan(
        (
            DestinationChange(
                address=addr("new"),
                action=Action.CREATE,
                diffs=(FieldDiff("on", None, True),),
                kind="segment",
                guard=DestinationGuard(absent=True),
            ),
        )
    )
    assert "\x1b[" not in render_plan(p)
    assert "\x1b[32m" in render_plan(p, color=True)


def test_a_replacement_shows_the_old_config_going_and_terraforms_marker() -> None:
    from tests.helpers import live_dest
    from tests.unit.test_planner import desired, live, plan, spec

    old = live_dest("s", "kinesis", config={"region": "eu", "secret": "ab****yz"})
    text = render_plan(plan(desired(spec("s")), live(old)))
    assert "  -/+ destination:web/production/s {" in text
    assert '      ~ kind            = "kinesis" -> "segment"  # forces replacement' in text
    assert '      - config.region   = "eu"' in text
    assert "      - config.secret   = (sensitive)" in text  # the old one's secret goes too
    assert "      + config.writeKey = (sensitive)" in text
