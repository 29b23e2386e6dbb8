"""Seed documents: parse them (YAML or JSON) and turn them into sandbox state.

A seed describes an account: settings, extra tokens, projects with environments and flags (listed, or
generated deterministically by the thousand for benchmarks), existing destinations, and the Segment
workspace those destinations send to (``segment:``, see ``workspace``). See the
package docstring for the format. Anything unexpected is a :class:`SeedError` naming where it is, so
a typo in a test seed fails loudly instead of silently seeding less.
"""

from __future__ import annotations

import copy
import hashlib
import json
import random
import re
from pathlib import Path
from typing import Any

import yaml

from . import approval_rules, records
from .exceptions import SeedError
from .masking import MASK_STYLES
from .validation import check_keys, expect, str_list
from .workspace import build_workspace


class _SeedLoader(yaml.SafeLoader):
    """SafeLoader with YAML 1.2 booleans: ``on``/``off``/``yes``/``no`` stay strings (``on:`` keys!)."""


_SeedLoader.yaml_implicit_resolvers = {
    first: [r for r in resolvers if r[0] != "tag:yaml.org,2002:bool"]
    for first, resolvers in yaml.SafeLoader.yaml_implicit_resolvers.items()
}
_SeedLoader.add_implicit_resolver(
    "tag:yaml.org,2002:bool", re.compile(r"^(?:true|True|TRUE|false|False|FALSE)$"), list("tTfF")
)


def load_seed(path: str | Path) -> dict[str, Any]:
    """Parse a seed file (``.json``, or YAML for anything else) into a seed document. Every failure
    is a one-line :class:`SeedError` naming the file (and the line, for a syntax error)."""
    p = Path(path)
    try:
        text = p.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise SeedError(f"{p}: no such file") from None
    except (OSError, UnicodeDecodeError) as e:
        raise SeedError(f"{p}: cannot be read ({getattr(e, 'strerror', None) or e})") from None
    try:
        doc = json.loads(text) if p.suffix.lower() == ".json" else yaml.load(text, Loader=_SeedLoader)
    except json.JSONDecodeError as e:
        raise SeedError(f"{p}:{e.lineno}:{e.colno}: not valid JSON: {e.msg}") from None
    except yaml.YAMLError as e:
        raise SeedError(_yaml_problem(p, e)) from None
    if doc is None:
        doc = {}
    if not isinstance(doc, dict):
        raise SeedError(f"{p}: a seed must be a mapping at the top level")
    return doc


def _yaml_problem(path: Path, e: yaml.YAMLError) -> str:
    """PyYAML's several-line message as one line: ``file:line:column: problem (context)``."""
    mark = getattr(e, "problem_mark", None)
    where = f"{path}:{mark.line + 1}:{mark.column + 1}" if mark is not None else str(path)
    problem = getattr(e, "problem", None) or str(e).splitlines()[0]
    context = getattr(e, "context", None)
    return f"{where}: not valid YAML: {problem}" + (f" ({context})" if context else "")


def seed_digest(seed: dict[str, Any] | None) -> str:
    """A fingerprint of a seed document, which the state records (``seed_digest``): whether a
    state file was made from a given seed can be told later without keeping the seed."""
    canonical = json.dumps(seed or {}, sort_keys=True, separators=(",", ":"), default=str)
    return hashlib.sha256(canonical.encode()).hexdigest()


def normalize_settings(raw: Any, where: str = "settings") -> dict[str, Any]:
    """Default settings overlaid with ``raw``, validated."""
    settings = dict(records.DEFAULT_SETTINGS)
    if raw is None:
        return settings
    expect(raw, dict, where)
    check_keys(raw, set(records.DEFAULT_SETTINGS), where)
    for k, v in raw.items():
        default = records.DEFAULT_SETTINGS[k]
        if isinstance(default, float):  # a whole number is a fine float setting ("delay: 2")
            settings[k] = float(expect(v, (int, float), f"{where}.{k}"))
            continue
        expect(v, type(default), f"{where}.{k}")
        settings[k] = v
    if settings["mask_style"] not in MASK_STYLES:
        raise SeedError(f"{where}.mask_style: must be one of {', '.join(MASK_STYLES)}")
    if settings["segment_volume_delay_s"] < 0:
        raise SeedError(f"{where}.segment_volume_delay_s: must not be negative")
    if settings["segment_volume_rate_per_minute"] < 1:
        raise SeedError(f"{where}.segment_volume_rate_per_minute: must be at least 1")
    return settings


def _env_bools(value: Any, envs: dict[str, Any], where: str) -> dict[str, bool]:
    """``{env: bool}``; a bare bool means every environment."""
    if isinstance(value, bool):
        return dict.fromkeys(envs, value)
    expect(value, dict, where)
    for env, flag in value.items():
        if env not in envs:
            raise SeedError(f"{where}: unknown environment {env!r}")
        expect(flag, bool, f"{where}.{env}")
    return dict(value)


_ENV_SEED_FIELDS = set(records.ENV_FIELDS)
_FLAG_SEED_FIELDS = {
    "name",
    "description",
    "tags",
    "temporary",
    "archived",
    "deprecated",
    "creationDate",
    "trackEvents",
    "trackEventsFallthrough",
    "on",
}
_GEN_FIELDS = {"count", "prefix", "tags", "track_events", "archived", "seed", "name_prefix"}
_PROJECT_FIELDS = {"name", "tags", "includeInSnippetByDefault", "environments", "flags", "generate_flags"}
_DEST_FIELDS = {"project", "environment", "name", "kind", "on", "config", "_id", "version"}


def _build_env(project: str, key: str, raw: Any, index: int, where: str) -> dict[str, Any]:
    raw = {} if raw is None else expect(raw, dict, where)
    check_keys(raw, _ENV_SEED_FIELDS, where)
    for field, typ in records.ENV_FIELDS.items():
        if field in raw:
            expect(raw[field], typ, f"{where}.{field}")
    if "tags" in raw:
        str_list(raw["tags"], f"{where}.tags")
    settings = dict(raw.get("approvalSettings", {}))
    if "approvalRequired" in raw:
        if settings.get("required", raw["approvalRequired"]) != raw["approvalRequired"]:
            raise SeedError(f"{where}: approvalRequired and approvalSettings.required disagree")
        settings["required"] = raw["approvalRequired"]
    problem = approval_rules.settings_problem(settings)
    if problem:
        raise SeedError(f"{where}.approvalSettings: {problem}")
    fields = {k: v for k, v in raw.items() if k not in ("approvalRequired", "approvalSettings")}
    return records.new_environment(
        project, key, creation_ms=records.BASE_TIME_MS + index * 1000, approvalSettings=settings, **fields
    )


def _attach_envs(
    project: str,
    flag: dict[str, Any],
    envs: dict[str, Any],
    *,
    track: dict[str, bool],
    fallthrough: dict[str, bool],
    on: dict[str, bool],
) -> None:
    for env in envs:
        flag["environments"][env] = records.new_flag_env(
            project,
            flag["key"],
            env,
            track_events=track.get(env, False),
            track_fallthrough=fallthrough.get(env, False),
            on=on.get(env, False),
            modified_ms=flag["creationDate"],
        )


def _build_flag(
    project: str, key: str, raw: Any, envs: dict[str, Any], index: int, where: str
) -> dict[str, Any]:
    raw = {} if raw is None else expect(raw, dict, where)
    check_keys(raw, _FLAG_SEED_FIELDS, where)
    flag = records.new_flag(
        project,
        key,
        name=expect(raw.get("name", key), str, f"{where}.name"),
        description=expect(raw.get("description", ""), str, f"{where}.description"),
        tags=str_list(raw.get("tags", []), f"{where}.tags"),
        temporary=expect(raw.get("temporary", True), bool, f"{where}.temporary"),
        archived=expect(raw.get("archived", False), bool, f"{where}.archived"),
        deprecated=expect(raw.get("deprecated", False), bool, f"{where}.deprecated"),
        creation_ms=expect(
            raw.get("creationDate", records.BASE_TIME_MS + index * 60_000), int, f"{where}.creationDate"
        ),
    )
    _attach_envs(
        project,
        flag,
        envs,
        track=_env_bools(raw.get("trackEvents", {}), envs, f"{where}.trackEvents"),
        fallthrough=_env_bools(
            raw.get("trackEventsFallthrough", {}), envs, f"{where}.trackEventsFallthrough"
        ),
        on=_env_bools(raw.get("on", {}), envs, f"{where}.on"),
    )
    return flag


def _fraction(value: Any, where: str) -> float:
    expect(value, (int, float), where)
    if not 0 <= value <= 1:
        raise SeedError(f"{where}: must be a fraction between 0 and 1")
    return float(value)


def generate_flags(project: str, spec: Any, envs: dict[str, Any], where: str) -> list[dict[str, Any]]:
    """Deterministic bulk flags: the same spec always gives the same keys, tags and toggles."""
    expect(spec, dict, where)
    check_keys(spec, _GEN_FIELDS, where)
    count = expect(spec.get("count", 0), int, f"{where}.count")
    prefix = expect(spec.get("prefix", "flag-"), str, f"{where}.prefix")
    name_prefix = expect(spec.get("name_prefix", "Flag "), str, f"{where}.name_prefix")
    pool = str_list(spec.get("tags", []), f"{where}.tags")
    track_raw = expect(spec.get("track_events", {}), dict, f"{where}.track_events")
    track = {env: _fraction(f, f"{where}.track_events.{env}") for env, f in sorted(track_raw.items())}
    for env in track:
        if env not in envs:
            raise SeedError(f"{where}.track_events: unknown environment {env!r}")
    archived = _fraction(spec.get("archived", 0), f"{where}.archived")
    rng = random.Random(expect(spec.get("seed", 0), int, f"{where}.seed"))
    width = max(4, len(str(max(count - 1, 0))))
    flags = []
    for i in range(count):
        key = f"{prefix}{i:0{width}d}"
        n_tags = 1 if rng.random() < 0.5 else 2
        tags = sorted(rng.sample(pool, min(n_tags, len(pool)))) if pool else []
        is_archived = rng.random() < archived
        tracked = {env: rng.random() < frac for env, frac in track.items()}
        flag = records.new_flag(
            project,
            key,
            name=f"{name_prefix}{i:0{width}d}",
            tags=tags,
            archived=is_archived,
            temporary=bool(i % 3),
            creation_ms=records.BASE_TIME_MS + 86_400_000 + i * 1000,
        )
        _attach_envs(project, flag, envs, track=tracked, fallthrough={}, on={})
        flags.append(flag)
    return flags


def build_state(seed: dict[str, Any] | None) -> dict[str, Any]:
    """The full sandbox state described by ``seed`` (``None`` = an empty account)."""
    seed = copy.deepcopy(seed or {})  # the state must share nothing with the caller's document
    expect(seed, dict, "seed")
    check_keys(seed, {"settings", "tokens", "projects", "destinations", "segment"}, "seed")
    state = records.empty_state(normalize_settings(seed.get("settings")))
    state["seed_digest"] = seed_digest(seed)
    state["segment"] = build_workspace(seed.get("segment"))
    tokens = seed.get("tokens") or {}
    expect(tokens, dict, "tokens")
    for token, role in tokens.items():
        expect(token, str, "tokens")
        if role not in records.TOKEN_ROLES:
            raise SeedError(f"tokens.{token}: role must be one of {', '.join(records.TOKEN_ROLES)}")
        state["tokens"][token] = role

    projects = seed.get("projects") or {}
    expect(projects, dict, "projects")
    for p_index, (pkey, praw) in enumerate(projects.items()):
        where = f"projects.{pkey}"
        praw = {} if praw is None else expect(praw, dict, where)
        check_keys(praw, _PROJECT_FIELDS, where)
        project = records.new_project(
            str(pkey),
            name=expect(praw.get("name", str(pkey)), str, f"{where}.name"),
            tags=str_list(praw.get("tags", []), f"{where}.tags"),
            include_in_snippet=expect(
                praw.get("includeInSnippetByDefault", False), bool, f"{where}.includeInSnippetByDefault"
            ),
            creation_ms=records.BASE_TIME_MS + p_index * 1000,
        )
        envs_raw = praw.get("environments") or {}
        expect(envs_raw, dict, f"{where}.environments")
        for e_index, (ekey, eraw) in enumerate(envs_raw.items()):
            project["environments"][str(ekey)] = _build_env(
                str(pkey), str(ekey), eraw, e_index, f"{where}.environments.{ekey}"
            )
        envs = project["environments"]
        flags_raw = praw.get("flags") or {}
        expect(flags_raw, dict, f"{where}.flags")
        for f_index, (fkey, fraw) in enumerate(flags_raw.items()):
            project["flags"][str(fkey)] = _build_flag(
                str(pkey), str(fkey), fraw, envs, f_index, f"{where}.flags.{fkey}"
            )
        gens = praw.get("generate_flags") or []
        for g_index, gen in enumerate(gens if isinstance(gens, list) else [gens]):
            for flag in generate_flags(str(pkey), gen, envs, f"{where}.generate_flags[{g_index}]"):
                if flag["key"] in project["flags"]:
                    raise SeedError(f"{where}.generate_flags[{g_index}]: flag {flag['key']!r} already exists")
                project["flags"][flag["key"]] = flag
        state["projects"][str(pkey)] = project

    dests = seed.get("destinations") or []
    expect(dests, list, "destinations")
    for i, raw in enumerate(dests):
        where = f"destinations[{i}]"
        expect(raw, dict, where)
        check_keys(raw, _DEST_FIELDS, where)
        for field in ("project", "environment", "name", "kind"):
            if field not in raw:
                raise SeedError(f"{where}: missing {field}")
            expect(raw[field], str, f"{where}.{field}")
        proj = state["projects"].get(raw["project"])
        if proj is None:
            raise SeedError(f"{where}.project: unknown project {raw['project']!r}")
        if raw["environment"] not in proj["environments"]:
            raise SeedError(f"{where}.environment: unknown environment {raw['environment']!r}")
        if raw["kind"] not in records.DESTINATION_KINDS:
            raise SeedError(f"{where}.kind: must be one of {', '.join(records.DESTINATION_KINDS)}")
        config = raw.get("config", {})
        if isinstance(config, str):
            try:
                config = json.loads(config)
            except json.JSONDecodeError as e:
                raise SeedError(f"{where}.config: not JSON: {e}") from e
        expect(config, dict, f"{where}.config")
        dest_id = expect(
            raw.get(
                "_id",
                records.hex_id("destination", "seed", i, raw["project"], raw["environment"], raw["name"]),
            ),
            str,
            f"{where}._id",
        )
        if dest_id in state["destinations"]:
            raise SeedError(f"{where}._id: duplicate id {dest_id}")
        state["destinations"][dest_id] = records.new_destination(
            dest_id,
            raw["project"],
            raw["environment"],
            name=raw["name"],
            kind=raw["kind"],
            config=config,
            on=expect(raw.get("on", False), bool, f"{where}.on"),
            version=expect(raw.get("version", 1), int, f"{where}.version"),
            creation_ms=records.BASE_TIME_MS + i * 1000,
        )
    return state
