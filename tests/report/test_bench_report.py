"""The report of the benchmark account (5 projects x 4 environments x 2,000 flags, the config
exporting the flags tagged ``analytics`` with ``others: off``): right cell by cell against the
sandbox's store, valid against its schema, and made with exactly the requests of ``ldseg plan``."""

from __future__ import annotations

from tests.bench.org import SELECTED_TAG, generate_org, minimum_plan_requests
from tests.report.conftest import BENCH, Made
from tests.report.support import (
    assert_cells_match_store,
    assert_destinations_match_store,
    pending_cells,
    validate,
    wants,
)


def test_it_costs_exactly_what_plan_costs(bench: Made) -> None:
    assert bench.report_requests == bench.plan_requests
    assert sum(bench.report_requests.values()) == minimum_plan_requests(BENCH, generate_org(BENCH)) == 221


def test_every_cell_matches_the_sandbox(bench: Made) -> None:
    doc = bench.doc
    validate(doc)
    assert [p["key"] for p in doc["projects"]] == BENCH.project_keys
    compared = assert_cells_match_store(doc, bench.sandbox.store)
    flags = sum(len(p["flags"]) for p in doc["projects"])
    assert flags > 9_800 and compared == flags * BENCH.envs  # every flag LaunchDarkly lists (not archived)
    assert_destinations_match_store(doc, bench.sandbox.store)


def test_what_the_config_wants_and_what_apply_would_change(bench: Made) -> None:
    doc = bench.doc
    for p in doc["projects"]:
        tags = {f["key"]: f["tags"] for f in p["flags"]}
        for key, by_env in wants(p).items():
            assert set(by_env.values()) == {SELECTED_TAG in tags[key]}  # others: off everywhere
    org = generate_org(BENCH)
    expected = {
        f"flag:{p}/{e}/{f.key}"
        for p, flags in org.items()
        for f in flags
        if not f.archived
        for e in BENCH.env_keys
        if f.tracked[e] != f.selected
    }
    assert pending_cells(doc) == expected
    assert doc["totals"]["pending_changes"] == len(expected)
    assert doc["totals"]["going_nowhere"] == [] and doc["totals"]["idle_destinations"] == []


def test_the_page_stays_small(bench: Made) -> None:
    assert bench.html.stat().st_size < 1_300_000  # about 120 bytes per flag
