from __future__ import annotations

import textwrap
from pathlib import Path

import pytest

from ldseg import config
from ldseg.errors import ConfigError
from tests.helpers import write

GOOD = """
version: 1
settings:
  comment: Managed by ldseg
projects:
  web:
    environments:
      production:
        destinations:
          segment-main:
            kind: segment
            config:
              writeKey: ${WK}
              userIDContextKind: user
          off-one:
            kind: google-pubsub
            on: false
            config: {project: p, topic: t}
        ignore_destinations: ["legacy-*"]
      staging: {}
"""


def load(tmp_path: Path, text: str, env: dict[str, str] | None = None, **kw: bool) -> config.LoadResult:
    path = write(tmp_path / "ldseg.yaml", text)
    return config.load([str(path)], env if env is not None else {"WK": "wk-123456"}, **kw)


def messages(res: config.LoadResult) -> list[str]:
    return [f"{p.line}: {p.message}" for p in sorted(res.errors)]


def test_good_config_builds_desired_state(tmp_path: Path) -> None:
    res = load(tmp_path, GOOD)
    assert res.errors == []
    d = res.desired
    assert d is not None
    assert d.settings.comment == "Managed by ldseg"
    prod = d.scopes[("web", "production")]
    assert prod.destinations is not None
    seg = prod.destinations["segment-main"]
    assert (seg.kind, seg.on, dict(seg.config)) == (
        "segment",
        True,
        {"writeKey": "wk-123456", "userIDContextKind": "user"},
    )
    assert seg.location.line == 9
    assert prod.destinations["off-one"].on is False
    assert prod.ignores("legacy-x") and not prod.ignores("segment-main")
    assert d.scopes[("web", "staging")].destinations is None  # not owned


def test_every_problem_is_reported_at_once_with_lines(tmp_path: Path) -> None:
    res = load(
        tmp_path,
        """
        version: 1
        projects:
          web:
            colour: red
            environments:
              production:
                destinations:
                  a:
                    kind: segmnt
                    config: {}
                  b:
                    kind: segment
                    on: yes
                    config: {writeKey: x, bogus: 1}
                  c:
                    kind: kinesis
                    config: {region: eu-west-1}
                  d:
                    kind: google-pubsub
                    config: {project: 1, topic: t}
        """,
    )
    assert messages(res) == [
        "4: projects.web: unknown key 'colour' (allowed: environments)",
        "9: destination web/production/a: kind: 'segmnt' is not one of: segment, kinesis, google-pubsub, "
        "mparticle, azure-event-hubs, snowflake-v2, databricks, bigquery, redshift",
        "13: destination web/production/b: on: expected true or false, got 'yes'",
        "14: destination web/production/b: config: unknown config field 'bogus' "
        "(allowed: writeKey, userIDContextKind, anonymousIDContextKind)",
        "17: destination web/production/c: config: missing required config field 'roleArn'",
        "17: destination web/production/c: config: missing required config field 'streamName'",
        "20: destination web/production/d: config.project: expected a string, got 1",
    ]
    assert res.desired is None


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("projects: {}\n", "1: the top level: missing required key 'version'"),
        ("version: 2\n", "1: version: must be 1, got 2"),
        (
            "version: 1\nprojects:\n  'bad key': {}\n",
            "3: projects: 'bad key' is not a valid LaunchDarkly key",
        ),
        ("version: 1\nprojects: [web]\n", "2: projects: expected a mapping, got a list"),
        ("- just\n- a list\n", "1: a config must be a YAML mapping"),
        ("version: 1\nversion: 1\n", "2: duplicate key 'version' (first defined on line 1)"),
        (
            "version: 1\nprojects:\n  web: {environments: {p: {destinations: {x: {kind: segment}}}}}\n",
            "3: destination web/p/x: missing required key 'config'",
        ),
    ],
)
def test_structural_errors(tmp_path: Path, text: str, expected: str) -> None:
    res = load(tmp_path, text)
    assert any(m.startswith(expected) for m in messages(res)), messages(res)


def test_empty_and_comment_only_files(tmp_path: Path) -> None:
    for text in ("", "# nothing here\n"):
        res = load(tmp_path, text)
        assert messages(res) == ["1: the file is empty (or only comments); a config starts with `version: 1`"]


def test_non_utf8_is_refused_with_line(tmp_path: Path) -> None:
    path = tmp_path / "bad.yaml"
    path.write_bytes(b"version: 1\n# caf\xe9\n")
    res = config.load([str(path)], {})
    assert messages(res) == ["2: the file is not valid UTF-8 (byte 16)"]


def test_missing_file_and_default_path(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    res = config.load([str(tmp_path / "nope.yaml")], {})
    assert res.errors[0].message == "no such file or directory"
    monkeypatch.chdir(tmp_path)
    res = config.load([], {})
    assert res.errors[0].file == "ldseg.yaml"
    assert "pass -c PATH" in res.errors[0].message


def test_missing_variable(tmp_path: Path) -> None:
    text = """
    version: 1
    projects:
      web:
        environments:
          production:
            destinations:
              s:
                kind: segment
                config:
                  writeKey: ${WK}
                  userIDContextKind: ${KIND}
    """
    res = load(tmp_path, text, env={})
    # a non-secret field: error; a secret: deferred to the planner (it may exist already)
    assert messages(res) == ["11: environment variable KIND is not set and has no default"]
    res = load(tmp_path, text, env={"KIND": "user"})
    assert res.errors == []
    assert res.desired is not None
    spec = res.desired.scopes[("web", "production")].destinations["s"]  # type: ignore[index]
    assert list(spec.unresolved_secrets) == ["writeKey"]
    assert spec.unresolved_secrets["writeKey"].variables == ("WK",)
    assert spec.unresolved_secrets["writeKey"].location.line == 10
    res = load(tmp_path, text, env={}, offline=True)
    assert res.errors == []
    assert sorted(p.message for p in res.warnings) == [
        "environment variable KIND is not set",
        "environment variable WK is not set",
    ]


def test_literal_secret_warns(tmp_path: Path) -> None:
    res = load(tmp_path, GOOD.replace("${WK}", "plain-text-key"))
    assert res.errors == []
    assert [p.line for p in res.warnings] == [12]
    assert "secret written as a literal" in res.warnings[0].message


def test_directory_merges_files_and_reports_duplicates_with_both_locations(tmp_path: Path) -> None:
    team = """
    version: 1
    projects:
      web:
        environments:
          production:
            destinations:
              {name}:
                kind: google-pubsub
                config: {{project: p, topic: t}}
    """
    write(tmp_path / "conf" / "a-team.yaml", team.format(name="one"))
    write(tmp_path / "conf" / "b-team.yml", team.format(name="two"))
    write(tmp_path / "conf" / "notes.txt", "ignored")
    res = config.load([str(tmp_path / "conf")], {})
    assert res.errors == []
    assert res.desired is not None
    assert sorted(res.desired.scopes[("web", "production")].destinations or {}) == ["one", "two"]
    assert [Path(f).name for f in res.desired.files] == ["a-team.yaml", "b-team.yml"]

    write(tmp_path / "conf" / "c-team.yaml", team.format(name="one"))
    res = config.load([str(tmp_path / "conf")], {})
    assert len(res.errors) == 1
    err = res.errors[0]
    assert err.file.endswith("c-team.yaml") and err.line == 7
    assert "web/production/one is declared twice: at " in err.message
    assert "a-team.yaml:7" in err.message


def test_conflicting_settings_across_files(tmp_path: Path) -> None:
    write(tmp_path / "a.yaml", "version: 1\nsettings: {comment: one}\n")
    write(tmp_path / "b.yaml", "version: 1\nsettings: {comment: two}\n")
    res = config.load([str(tmp_path / "a.yaml"), str(tmp_path / "b.yaml")], {})
    assert len(res.errors) == 1
    assert "settings.comment is set differently" in res.errors[0].message


def test_declared_destination_matching_ignore_glob_is_an_error(tmp_path: Path) -> None:
    res = load(tmp_path, GOOD.replace('["legacy-*"]', '["segment-*"]'))
    assert len(res.errors) == 1
    assert "also matches ignore_destinations" in res.errors[0].message


def test_open_kinds_accept_any_field(tmp_path: Path) -> None:
    res = load(
        tmp_path,
        """
        version: 1
        projects:
          web:
            environments:
              production:
                destinations:
                  wh: {kind: bigquery, config: {dataset: d, anything: [1, 2]}}
        """,
    )
    assert res.errors == []


def test_load_or_raise(tmp_path: Path) -> None:
    path = write(tmp_path / "x.yaml", "version: 3\n")
    with pytest.raises(ConfigError) as exc:
        config.load_or_raise([str(path)], {})
    assert "x.yaml:1: error: version: must be 1, got 3" in str(exc.value)
    assert exc.value.exit_code == 1


def production(body: str) -> str:
    """A config whose one environment, web/production (line 5), holds ``body`` (from line 6)."""
    header = "version: 1\nprojects:\n  web:\n    environments:\n      production:\n"
    return header + textwrap.indent(textwrap.dedent(body).lstrip("\n"), " " * 8)


MPARTICLE = production(
    """
    destinations:
      mp:
        kind: mparticle
        config: {{apiKey: "${{MP_KEY}}", secret: "${{MP_SECRET}}"{fields}}}
    """
)
MP_ENV = {"MP_KEY": "mp-key-0123456789", "MP_SECRET": "mp-secret-0123456789"}


@pytest.mark.parametrize(
    "fields",
    [
        ", environment: production, userIdentities: [{ldContextKind: user, mparticleUserIdentity: c}]",
        ", environment: development, userIdentity: customer_id",
        ", environment: production, userIdentity: customer_id, anonymousUserIdentity: other",
    ],
)
def test_mparticle_follows_the_terraform_providers_rules(tmp_path: Path, fields: str) -> None:
    """apiKey, secret and environment, and userIdentity or userIdentities: either alone will do."""
    res = load(tmp_path, MPARTICLE.format(fields=fields), env=MP_ENV)
    assert res.errors == [], messages(res)


def test_mparticle_without_environment_or_identity_says_so_without_the_secrets(tmp_path: Path) -> None:
    res = load(tmp_path, MPARTICLE.format(fields=", environment: staging"), env=MP_ENV)
    assert messages(res) == [
        "9: destination web/production/mp: config.environment: 'staging' is not one of: "
        "production, development",
        "9: destination web/production/mp: config: needs at least one config field of 'userIdentity' "
        "or 'userIdentities'",
    ]
    res = load(tmp_path, MPARTICLE.format(fields=", userIdentity: customer_id"), env=MP_ENV)
    assert messages(res) == [
        "9: destination web/production/mp: config: missing required config field 'environment'"
    ]
    assert not any(s in str(p) for p in res.errors for s in MP_ENV.values())


SECRETS = production(
    """
    destinations:
      s:
        kind: segment
        config:
          writeKey: ${WK}
          userIDContextKind: "user "
      literal:
        kind: segment
        config:
          writeKey: |
            wk-literal-0123456789
      mixed:
        kind: databricks
        config: {token: "tok-${PART}", host: h}
    """
)


def test_a_secret_with_surrounding_whitespace_or_control_characters_is_an_error(tmp_path: Path) -> None:
    env = {"WK": "wk-0123456789\n", "PART": "ab\x07cd"}
    for offline in (False, True):
        res = load(tmp_path, SECRETS, env=env, offline=offline)
        why = (
            ": LaunchDarkly would store that as part of the secret. Remove it (surrounding whitespace "
            "and control characters are copy-paste or CI mistakes, such as the newline of `echo`)"
        )
        assert messages(res) == [
            "10: destination web/production/s: config.writeKey is a secret, and the environment variable "
            "WK ends with a newline (U+000A)" + why,
            "15: destination web/production/literal: config.writeKey is a secret, and the value ends with "
            "a newline (U+000A)" + why,
            "19: destination web/production/mixed: config.token is a secret, and the environment variable "
            "PART contains a control character (U+0007)" + why,
        ]
    clean = SECRETS.replace("|\n                wk-literal-0123456789", '"wk-literal-0123456789"')
    assert clean != SECRETS
    res = load(tmp_path, clean, env={"WK": "wk-0123456789", "PART": "abcd"})
    assert res.errors == []  # a non-secret field ("user ") is shown in plans: left as written
    res = load(tmp_path, clean, env={"PART": "abcd"})
    assert res.errors == []  # an unset secret is the planner's business, as before


def test_the_same_file_given_twice_is_read_once(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """-c a.yaml -c a.yaml, -c dir -c dir/a.yaml, ./a.yaml and a.yaml: one file, not duplicates."""
    write(tmp_path / "conf" / "a.yaml", GOOD)
    monkeypatch.chdir(tmp_path)
    for paths in (
        ["conf/a.yaml", "conf/a.yaml"],
        ["conf", "conf/a.yaml"],
        ["conf/a.yaml", "./conf/../conf/a.yaml", str(tmp_path / "conf")],
    ):
        res = config.load(paths, {"WK": "wk-123456"})
        assert res.errors == [], (paths, messages(res))
        assert res.desired is not None and len(res.desired.files) == 1


def test_a_saved_plan_given_as_a_config_is_one_clear_error(tmp_path: Path) -> None:
    plan = write(tmp_path / "plan.json", '{\n  "format_version": 1,\n  "changes": [],\n  "files": []\n}\n')
    res = config.load([str(plan)], {})
    assert [str(p) for p in res.errors] == [
        f"{plan}: error: this is a saved plan, not a config: use `ldseg apply {plan}` to apply it or "
        f"`ldseg show {plan}` to see it"
    ]
    write(tmp_path / "flow.yaml", '{"version": 1, "projects": {}}\n')  # JSON, but a config
    assert config.load([str(tmp_path / "flow.yaml")], {}).errors == []


def test_invalid_globs_are_errors_at_their_line(tmp_path: Path) -> None:
    body = """
    ignore_destinations: ["legacy-*", "old-["]
    export:
      flags:
        keys:
          - checkout-*
          - "[abc"
        except: ["noisy-[z-a]", "odd[*]name"]
    """
    res = load(tmp_path, production(body))
    assert messages(res) == [
        "6: environment web/production: ignore_destinations: 'old-[' is not a valid glob: a '[' is never "
        "closed by a ']' (write [[] for a literal '[')",
        "11: environment web/production: export.flags.keys: '[abc' is not a valid glob: a '[' is never "
        "closed by a ']' (write [[] for a literal '[')",
        "12: environment web/production: export.flags.except: 'noisy-[z-a]' is not a valid glob: the "
        "range z-a in [z-a] is reversed (did you mean a-z?)",
    ]


def test_selector_locations_are_recorded(tmp_path: Path) -> None:
    body = """
    export:
      flags:
        keys: [a, "b-*"]
        tags:
          - analytics
        except:
          - noisy
    """
    res = load(tmp_path, production(body))
    assert res.desired is not None
    export = res.desired.scopes[("web", "production")].export
    assert export is not None and export.flags is not None
    sel = export.flags
    assert {k: v.line for k, v in sel.key_locations.items()} == {"a": 8, "b-*": 8}
    assert {k: v.line for k, v in sel.tag_locations.items()} == {"analytics": 10}
    assert {k: v.line for k, v in sel.except_locations.items()} == {"noisy": 12}
