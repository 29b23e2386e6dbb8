"""Markdown plans render as GitHub would show them (checked with a CommonMark parser)."""

from __future__ import annotations

from markdown_it import MarkdownIt

from ldseg.model import Address
from ldseg.plan import Action, DestinationChange, DestinationGuard, FieldDiff, FlagChange, FlagGuard, Plan
from ldseg.render.markdown import render_markdown, to_diff_markers


def flag_changes(n: int) -> tuple[FlagChange, ...]:
    return tuple(
        FlagChange.of(Address("flag", "web", f"env-{i // 1000}", f"flag-{i:05d}"), True, FlagGuard(1, 1))
        for i in range(n)
    )


def html(text: str) -> str:
    rendered: str = MarkdownIt("commonmark").render(text)
    return rendered


def test_layout_summary_outside_the_fold_diff_inside() -> None:
    plan = Plan(
        (
            DestinationChange(
                address=Address("destination", "web", "production", "seg"),
                action=Action.CREATE,
                diffs=(FieldDiff("kind", None, "segment"), FieldDiff("config.writeKey", sensitive=True)),
                kind="segment",
                guard=DestinationGuard(absent=True),
            ),
            *flag_changes(2),
        )
    )
    text = render_markdown(plan, ["ldseg.yaml"])
    out = html(text)
    assert out.startswith("<h3>ldseg plan for <code>ldseg.yaml</code></h3>")
    summary = "Plan: 1 to add, 0 to change, 0 to destroy; flags: 2 to export, 0 to stop exporting."
    assert f"<p><strong>{summary}</strong></p>" in out
    assert out.index(summary) < out.index("<details>")
    assert '<pre><code class="language-diff">' in out
    assert out.index("<details>") < out.index('<code class="language-diff">') < out.index("</details>")
    assert "+       config.writeKey = (sensitive)" in text  # marker moved to column 0
    assert "+       flag-00001" in text


def test_empty_plan() -> None:
    assert render_markdown(Plan(()), ["a.yaml", "b.yaml"]) == (
        "### ldseg plan for `a.yaml`, `b.yaml`\n\n**No changes. LaunchDarkly matches the configuration.**\n"
    )


def test_one_change_is_shown_in_the_singular() -> None:
    assert "<summary>Show the change</summary>" in render_markdown(Plan(flag_changes(1)), ["ldseg.yaml"])


def test_long_plans_are_cut_with_a_note_on_what_is_left_out() -> None:
    plan = Plan(flag_changes(9000))  # 9 scopes of 1,000 flags
    text = render_markdown(plan, ["ldseg.yaml"])
    assert len(text) <= 60_000
    shown = text.count("\n+       flag-")
    assert 0 < shown < 9000
    assert f"_Too long for a comment: {9000 - shown:,} of the 9,000 changes are not shown." in text
    assert "<summary>Show the 9,000 changes</summary>" in text
    assert "**Plan: 0 to add, 0 to change, 0 to destroy; flags: 9000 to export" in text
    assert html(text).rstrip().endswith("</details>")  # the fold is still closed


def test_warnings_are_quoted() -> None:
    text = render_markdown(Plan(flag_changes(1), warnings=("This plan is partial",)), ["x.yaml"])
    assert "> **Warning:** This plan is partial\n" in text


def test_markers_move_to_column_zero() -> None:
    assert to_diff_markers("      ~ on = false -> true") == "~       on = false -> true"
    assert to_diff_markers("    }") == "    }"
    assert to_diff_markers("  # a comment") == "  # a comment"
