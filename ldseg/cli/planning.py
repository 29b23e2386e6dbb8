"""``ldseg plan``, ``apply``, ``show`` and ``drift``: one plan, read and rendered four ways."""

from __future__ import annotations

import signal
import sys
from pathlib import Path

import click

from ldseg.applier import APPROVAL_DECLINED, ApplyReport, ChangeResult, Status
from ldseg.audit import audit_comment
from ldseg.cli.app import open_connection
from ldseg.cli.options import (
    EXIT_CHANGES,
    EXIT_OK,
    Settings,
    SmokeSettings,
    config_option,
    format_option,
    global_options,
    pass_settings,
    scoping_options,
    smoke_options,
)
from ldseg.cli.smoke_cmd import after_apply
from ldseg.console import console
from ldseg.errors import ApplyFailed, ApplyInterrupted, OutputError, UsageError
from ldseg.ld.client import DEFAULT_PARALLELISM
from ldseg.plan import Plan
from ldseg.planfile import build_document, dumps
from ldseg.render.report import apply_document, result_line, summary_lines, totals_line
from ldseg.render.smoke import smoke_document
from ldseg.render.table import DRIFT, PLAN, TEST, Context, Format, PlanOutput
from ldseg.render.text import render_plan
from ldseg.scoping import Scoping
from ldseg.workflow.planning import (
    apply_plan,
    check_saved_plan,
    load_desired,
    load_saved_plan,
    read_and_plan,
    refuse_if_unsafe,
)

detailed_option = click.option(
    "--detailed-exitcode", is_flag=True, help="Exit 2 when there are changes (0: none, 1: error)."
)
rotate_option = click.option(
    "--rotate-secrets", is_flag=True, help="Re-send every declared secret (LaunchDarkly cannot show them)."
)


@click.command()
@config_option
@click.option(
    "--out", "out_path", metavar="FILE", help="Save the plan, to apply exactly it with `ldseg apply FILE`."
)
@format_option
@detailed_option
@rotate_option
@scoping_options
@global_options
@pass_settings
def plan(
    settings: Settings,
    config_paths: tuple[str, ...],
    out_path: str | None,
    output_format: Format,
    detailed_exitcode: bool,
    rotate_secrets: bool,
    scoping: Scoping,
) -> int:
    """Show what apply would change in LaunchDarkly."""
    desired = load_desired(config_paths)
    with open_connection(settings) as conn:
        the_plan = read_and_plan(conn, desired, scoping=scoping, rotate_secrets=rotate_secrets)
        doc = build_document(
            the_plan,
            desired,
            base_uri=conn.base_uri,
            scoping=scoping.to_dict(),
            rotate_secrets=rotate_secrets,
        )
        context = Context(desired.files, conn.base_uri, console.color)
    if out_path:
        try:
            Path(out_path).write_text(dumps(doc), encoding="utf-8")
        except OSError as exc:
            raise OutputError(f"Cannot write the plan to {out_path}: {exc.strerror or exc}.") from None
        console.info(f"Saved the plan to {out_path}; `ldseg apply {out_path}` applies exactly it.")
    console.out(PLAN.render(output_format, PlanOutput(the_plan, doc), context), nl=False)
    return EXIT_CHANGES if detailed_exitcode and not the_plan.empty else EXIT_OK


@click.command()
@click.argument("planfile", required=False)
@config_option
@click.option("--auto-approve", is_flag=True, help="Apply without asking for confirmation.")
@click.option("--force", is_flag=True, help="Apply even what the safety rails (settings.safety) refuse.")
@click.option(
    "--parallelism",
    type=click.IntRange(1, 64),
    default=DEFAULT_PARALLELISM,
    show_default=True,
    help="Concurrent writes (reads, plain GETs, run twice as many).",
)
@click.option(
    "--comment",
    metavar="TEXT",
    help="Audit-log comment (also LDSEG_COMMENT, settings.comment; default: ldseg version + git commit).",
)
@rotate_option
@click.option(
    "--format",
    "output_format",
    type=click.Choice(("text", "json")),
    default="text",
    show_default=True,
    help="text as changes land; json: one document at the end (the plan and every change's result).",
)
@click.option("--verbose", is_flag=True, help="List every change as it lands, flag exports and skips too.")
@smoke_options
@scoping_options
@global_options
@pass_settings
def apply(
    settings: Settings,
    planfile: str | None,
    config_paths: tuple[str, ...],
    auto_approve: bool,
    force: bool,
    parallelism: int,
    comment: str | None,
    rotate_secrets: bool,
    output_format: str,
    verbose: bool,
    smoke: SmokeSettings,
    scoping: Scoping,
) -> int:
    """Apply the changes: plan, confirm and apply; or apply a saved PLANFILE exactly as reviewed."""
    as_json = output_format == "json"
    if as_json and not (auto_approve or planfile):
        raise UsageError(
            "apply --format json shows no plan to confirm: add --auto-approve, or apply a saved plan "
            "(`ldseg plan --out plan.json`, reviewed, then `ldseg apply plan.json --format json`)."
        )
    saved = load_saved_plan(planfile) if planfile else None
    if saved is not None and (scoping.active or rotate_secrets):
        raise UsageError(
            "A saved plan is applied exactly as planned: --target, --project, --env and --rotate-secrets "
            "belong to `ldseg plan --out`."
        )
    if saved is not None and not config_paths:
        missing = [f for f in saved.files if not Path(f).exists()]
        if missing:
            raise UsageError(
                f"The saved plan was made from {', '.join(saved.files)} (paths as given to `ldseg plan`), "
                f"and {', '.join(missing)} is not there from this directory. Run apply where plan ran, or "
                "pass the config with -c."
            )
    desired = load_desired(config_paths or (saved.files if saved else ()))
    text = console.out if not as_json else _silent
    with open_connection(settings) as conn:
        if saved is not None:
            _warn_saved(saved.plan)
            the_plan = saved.plan
            if not the_plan.empty:  # apply what a plan made now says, if it is what was reviewed
                the_plan = check_saved_plan(saved, desired, conn, parallelism)
        else:
            the_plan = read_and_plan(
                conn, desired, scoping=scoping, rotate_secrets=rotate_secrets, parallelism=parallelism
            )
        text(render_plan(the_plan, color=console.color), nl=False)
        document = (
            saved.doc
            if saved is not None
            else build_document(
                the_plan,
                desired,
                base_uri=conn.base_uri,
                scoping=scoping.to_dict(),
                rotate_secrets=rotate_secrets,
            )
        )
        if the_plan.empty:
            if as_json:
                console.out(
                    dumps(apply_document(ApplyReport(), document, desired.files, conn.base_uri)), nl=False
                )
            return EXIT_OK
        refuse_if_unsafe(the_plan, force, planfile)
        if saved is None:
            _confirm(auto_approve)
        text("")

        def on_result(result: ChangeResult) -> None:
            line = result_line(result, verbose=verbose)
            if line is not None:
                text(line)

        note = audit_comment(comment, desired.settings.comment)
        report = apply_plan(
            conn, desired, the_plan, comment=note, parallelism=parallelism, on_result=on_result, force=force
        )
        for line in summary_lines(report):
            text(line)
        text("\n" + totals_line(report))
        results, smoke_exit = after_apply(conn, desired, report, smoke)
        if results is not None:
            text("")
            text(TEST.render("text", results, Context(color=console.color)), nl=False)
        if as_json:
            tests = smoke_document(results, desired.files, conn.base_uri) if results is not None else None
            doc = apply_document(report, document, desired.files, conn.base_uri, tests)
            console.out(dumps(doc), nl=False)
    _raise_if_incomplete(report)
    return EXIT_OK if smoke_exit is None else smoke_exit


def _silent(text: str = "", nl: bool = True) -> None:
    """``apply --format json`` prints one document and nothing else on stdout."""


def _stdin_is_terminal() -> bool:
    return sys.stdin.isatty()


def _confirm(auto_approve: bool) -> None:
    if auto_approve:
        return
    if not _stdin_is_terminal():
        raise UsageError(
            "apply needs a confirmation, and there is no terminal to ask on. Review the plan above and "
            "run again with --auto-approve, or save it with `plan --out` and apply the file "
            "(nothing was changed)."
        )
    answer = click.prompt(
        "\nDo you want to apply these changes? Only 'yes' will be accepted", default="", show_default=False
    )
    if answer.strip() != "yes":
        raise UsageError("Apply cancelled; nothing was changed.")


def _raise_if_incomplete(report: ApplyReport) -> None:
    if report.ok:
        return
    failed, skipped = report.count(Status.FAILED), report.count(Status.SKIPPED)
    applied = report.count(Status.APPLIED)
    done = f"{_changes(applied)} {'was' if applied == 1 else 'were'} applied"
    if report.interrupted_by is not None:
        raise ApplyInterrupted(
            f"Apply interrupted by {signal.Signals(report.interrupted_by).name}: {done}, "
            f"{skipped:,} not started, {failed:,} failed (see above). Run apply again to finish: it only "
            "does what is still missing.",
            report.interrupted_by,
        )
    what = [
        f"{_changes(failed)} failed" if failed else "",
        f"{_changes(skipped)} not applied" if skipped else "",
    ]
    declined = sum(1 for r in report.results if r.code == APPROVAL_DECLINED)
    advice = "Fix the cause and run apply again: it only does what is still missing."
    if declined and declined == failed and not skipped:
        advice = (
            "A reviewer declined them in LaunchDarkly; apply will not ask again. Change the config, or "
            "settle it with the reviewers and open a new request in LaunchDarkly."
        )
    elif declined:
        advice += f" ({declined:,} of them a reviewer declined: apply will not ask again.)"
    raise ApplyFailed(f"{' and '.join(w for w in what if w)}; {done} (see above). {advice}")


def _changes(n: int) -> str:
    return "1 change" if n == 1 else f"{n:,} changes"


@click.command()
@click.argument("planfile")
@format_option
@global_options
@pass_settings
def show(settings: Settings, planfile: str, output_format: Format) -> int:
    """Render a saved plan (offline)."""
    saved = load_saved_plan(planfile)
    _warn_saved(saved.plan)
    context = Context(saved.files, str(saved.doc.get("base_uri", "")), console.color)
    console.out(PLAN.render(output_format, PlanOutput(saved.plan, saved.doc), context), nl=False)
    return EXIT_OK


def _warn_saved(plan: Plan) -> None:
    """What the plan said when it was made (partial, safety rails), said again."""
    for w in [*plan.warnings, *(i.message for i in plan.safety)]:
        console.warn(w)


@click.command()
@config_option
@format_option
@scoping_options
@global_options
@pass_settings
def drift(settings: Settings, config_paths: tuple[str, ...], output_format: Format, scoping: Scoping) -> int:
    """Report where LaunchDarkly differs from the config (exit 2 when it does)."""
    desired = load_desired(config_paths)
    with open_connection(settings) as conn:
        the_plan = read_and_plan(conn, desired, scoping=scoping)
        context = Context(desired.files, conn.base_uri, console.color)
    console.out(DRIFT.render(output_format, the_plan, context), nl=False)
    return EXIT_CHANGES if the_plan.changes else EXIT_OK
