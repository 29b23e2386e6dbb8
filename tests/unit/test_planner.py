from __future__ import annotations

from typing import Any

import pytest

from ldseg.errors import ConfigError, PlanError
from ldseg.model import (
    DesiredState,
    DestinationSpec,
    LiveDestination,
    LiveState,
    Location,
    ScopeSpec,
    Unresolved,
)
from ldseg.plan import Action, FieldDiff, Plan
from ldseg.planner import PlanOptions, make_plan
from tests.helpers import live_dest

LOC = Location("ldseg.yaml", 1)


def spec(
    name: str,
    kind: str = "segment",
    *,
    on: bool = True,
    config: dict[str, Any] | None = None,
    unresolved: dict[str, Unresolved] | None = None,
) -> DestinationSpec:
    return DestinationSpec(
        "web",
        "production",
        name,
        kind,
        on,
        config if config is not None else {"writeKey": "wk-0123456789"},
        LOC,
        unresolved or {},
    )


def desired(*specs: DestinationSpec, ignore: tuple[str, ...] = (), owned: bool = True) -> DesiredState:
    scope = ScopeSpec("web", "production", LOC, {s.name: s for s in specs} if owned else None, ignore)
    return DesiredState({("web", "production"): scope})


def live(*items: LiveDestination) -> LiveState:
    return LiveState(environments={}, destinations={("web", "production"): tuple(items)})


def plan(d: DesiredState, lv: LiveState, **opts: bool) -> Plan:
    return make_plan(d, lv, options=PlanOptions(**opts))


def test_create_update_delete() -> None:
    p = plan(
        desired(
            spec("new"),
            spec("changed", on=True, config={"writeKey": "wk-0123456789", "userIDContextKind": "user"}),
        ),
        live(
            live_dest(
                "changed", on=False, config={"writeKey": "wk-******6789", "userIDContextKind": "account"}
            ),
            live_dest("gone", "kinesis", config={"region": "r", "roleArn": "a", "streamName": "s"}),
        ),
    )
    assert [(str(c.address), c.action) for c in p.changes] == [
        ("destination:web/production/changed", Action.UPDATE),
        ("destination:web/production/gone", Action.DELETE),
        ("destination:web/production/new", Action.CREATE),
    ]
    update = p.destinations[0]
    assert update.diffs == (
        FieldDiff("on", False, True, op="replace"),
        FieldDiff("config.userIDContextKind", "account", "user", op="replace"),
    )
    assert update.live_id == "id-changed"
    assert update.guard.version == 1 and update.guard.id == "id-changed"
    create = p.changes[2]
    assert create.diffs == (
        FieldDiff("kind", None, "segment"),
        FieldDiff("on", None, True),
        FieldDiff("config.writeKey", sensitive=True),
    )
    assert p.summary().line() == "Plan: 1 to add, 1 to change, 1 to destroy."


def test_no_changes_when_mask_is_consistent() -> None:
    p = plan(desired(spec("s")), live(live_dest("s", config={"writeKey": "wk-******6789"})))
    assert p.empty
    assert p.summary().line().startswith("No changes.")


@pytest.mark.parametrize(
    ("masked", "planned", "reason"),
    [
        ("********", False, None),
        ("wk-****6789", False, None),
        ("wk-****0000", True, "the masked value in LaunchDarkly does not match the configured secret"),
        (None, True, "LaunchDarkly has no value for it"),
    ],
)
def test_secret_is_only_planned_on_visible_contradiction(
    masked: str | None, planned: bool, reason: str | None
) -> None:
    cfg = {} if masked is None else {"writeKey": masked}
    p = plan(desired(spec("s")), live(live_dest("s", config=cfg)))
    if not planned:
        assert p.empty
        return
    (change,) = p.changes
    (d,) = change.diffs
    assert (d.path, d.sensitive, d.reason, d.before, d.after) == ("config.writeKey", True, reason, None, None)
    assert d.op == ("add" if masked is None else "replace")


def test_rotate_secrets_plans_every_secret() -> None:
    p = plan(desired(spec("s")), live(live_dest("s", config={"writeKey": "********"})), rotate_secrets=True)
    (change,) = p.changes
    assert change.diffs == (
        FieldDiff("config.writeKey", sensitive=True, reason="--rotate-secrets", op="replace"),
    )


def test_unreadable_mask_warns_instead_of_diffing() -> None:
    p = plan(desired(spec("s")), live(live_dest("s", config={"writeKey": "d41d8cd98f00"})))
    assert p.empty
    assert "cannot compare" in p.warnings[0]


def test_optional_field_removed_and_unknown_live_fields_left_alone() -> None:
    p = plan(
        desired(spec("s")),
        live(live_dest("s", config={"writeKey": "****", "anonymousIDContextKind": "anon", "serverSide": 1})),
    )
    (change,) = p.changes
    assert change.diffs == (FieldDiff("config.anonymousIDContextKind", "anon", None, op="remove"),)


def test_kind_change_is_a_replacement() -> None:
    p = plan(desired(spec("s")), live(live_dest("s", "kinesis", config={"region": "r"})))
    (change,) = p.destinations
    assert change.action is Action.REPLACE
    assert (change.old_kind, change.kind, change.live_id) == ("kinesis", "segment", "id-s")
    assert change.diffs[0] == FieldDiff("kind", "kinesis", "segment")
    assert p.summary().line() == "Plan: 1 to add, 0 to change, 1 to destroy."


def test_ignored_and_unowned_scopes_are_left_alone() -> None:
    assert plan(desired(ignore=("legacy-*",)), live(live_dest("legacy-1"))).empty
    assert plan(desired(owned=False), live(live_dest("anything"))).empty


def test_duplicate_live_names_are_an_error_naming_both_ids() -> None:
    with pytest.raises(PlanError) as exc:
        plan(desired(spec("s")), live(live_dest("s", id="aaa"), live_dest("s", id="bbb")))
    assert "'s': ids aaa, bbb" in str(exc.value)


def test_interrupted_replacement_is_completed() -> None:
    p = plan(
        desired(spec("s")),
        live(
            live_dest("s", id="new", config={"writeKey": "****"}),
            live_dest("s", "kinesis", id="old", config={}),
        ),
    )
    (change,) = p.destinations
    assert (change.action, change.live_id) == (Action.DELETE, "old")


def test_unresolved_secret() -> None:
    missing = {"writeKey": Unresolved(("WK",), Location("ldseg.yaml", 7))}
    unresolved = spec("s", config={"writeKey": None}, unresolved=missing)
    # existing destination: allowed, with a warning
    p = plan(desired(unresolved), live(live_dest("s")))
    assert p.empty and p.warnings == (
        "ldseg.yaml:7: destination:web/production/s config.writeKey: environment variable WK is not set; "
        "the secret in LaunchDarkly is left as it is.",
    )
    # new destination: an error
    with pytest.raises(ConfigError) as exc:
        plan(desired(unresolved), live())
    assert (
        "ldseg.yaml:7: error: destination web/production/s: config.writeKey: environment variable WK "
        "is not set, and the plan must create this destination; set it"
    ) in str(exc.value)


def test_numbers_compare_by_value() -> None:
    d = desired(spec("w", "bigquery", config={"rows": 1}))
    assert plan(d, live(live_dest("w", "bigquery", config={"rows": 1.0}))).empty


def test_plan_is_sorted() -> None:
    p = plan(desired(spec("b"), spec("a")), live())
    assert [c.address.name for c in p.changes] == ["a", "b"]


def test_no_create_when_a_destination_of_that_name_has_no_known_scope() -> None:
    lv = LiveState(environments={}, destinations={}, unplaced_destinations=frozenset({"s"}))
    with pytest.raises(PlanError) as exc:
        plan(desired(spec("s")), lv)
    assert "without a _links.self.href" in str(exc.value)


def test_credential_like_fields_of_undocumented_kinds_are_secrets() -> None:
    d = desired(
        spec("wh", "databricks", config={"host": "h", "password": "hunter2hunter2", "accessToken": "t-1"})
    )
    p = plan(d, live())
    (create,) = p.changes
    shown = {x.path: x for x in create.diffs}
    assert shown["config.password"].sensitive and shown["config.accessToken"].sensitive
    assert not shown["config.host"].sensitive and shown["config.host"].after == "h"
