"""Load ``ldseg.yaml`` files into a DesiredState, reporting every problem at once with file:line.

Steps: read bytes (UTF-8 only, size-capped) -> YAML with line numbers (yamlsource) -> ``${VAR}``
interpolation -> JSON Schema validation against ``schemas/ldseg.schema.json`` (config_schema) ->
semantic checks and merging of several files (duplicates across files name both locations).
"""

from __future__ import annotations

import json
import os
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

from ldseg import kinds, secrets
from ldseg.config_schema import schema_problems, where
from ldseg.errors import ConfigError, Problem
from ldseg.interpolate import interpolate
from ldseg.model import (
    DesiredState,
    DestinationSpec,
    ExportSpec,
    FlagSelection,
    Location,
    Patterns,
    Reviewers,
    Scope,
    ScopeSpec,
    Settings,
    Unresolved,
    glob_problem,
)
from ldseg.yamlsource import YamlDocument, load_yaml

DEFAULT_CONFIG = "ldseg.yaml"
MAX_FILE_BYTES = 10 * 1024 * 1024


@dataclass
class LoadResult:
    desired: DesiredState | None
    errors: list[Problem] = field(default_factory=list)
    warnings: list[Problem] = field(default_factory=list)


def config_files(paths: Sequence[str | os.PathLike[str]]) -> tuple[list[Path], list[Problem]]:
    """Expand ``-c`` arguments: files as given, directories to their sorted ``*.yaml``/``*.yml``."""
    out: dict[Path, Path] = {}  # resolved path -> as given: a file named twice is read once
    problems: list[Problem] = []
    for raw in paths or [DEFAULT_CONFIG]:
        p = Path(raw)
        if p.is_dir():
            found = sorted(q for q in p.iterdir() if q.suffix in (".yaml", ".yml") and q.is_file())
            if not found:
                problems.append(Problem(str(p), 0, "the directory holds no *.yaml or *.yml files"))
            for q in found:
                out.setdefault(q.resolve(), q)
        elif p.is_file():
            out.setdefault(p.resolve(), p)
        else:
            hint = " (create one, or pass -c PATH)" if not paths else ""
            problems.append(Problem(str(p), 0, f"no such file or directory{hint}"))
    return list(out.values()), problems


def load(
    paths: Sequence[str | os.PathLike[str]],
    env: Mapping[str, str] | None = None,
    *,
    offline: bool = False,
) -> LoadResult:
    """Load and validate config files.

    ``offline`` (``ldseg validate``): unset ``${VAR}`` are warnings, not errors. Otherwise an unset
    variable is an error, except in a destination secret, where it is recorded on the
    DestinationSpec and only becomes an error if the plan needs to write that secret.
    """
    env = os.environ if env is None else env
    files, problems = config_files(paths)
    result = LoadResult(None, list(problems))
    docs: list[tuple[YamlDocument, dict[str, Any]]] = []
    for f in files:
        doc = _read(f, result)
        if doc is None:
            continue
        data = _interpolate_tree(doc, env, offline, result)
        problems = schema_problems(doc, data)
        result.errors.extend(problems)
        if not problems:
            docs.append((doc, data))
    if result.errors:
        return result
    desired = _merge(docs, result)
    if not result.errors:
        result.desired = replace(desired, warnings=tuple(p.located() for p in result.warnings))
    return result


def load_or_raise(
    paths: Sequence[str | os.PathLike[str]], env: Mapping[str, str] | None = None
) -> tuple[DesiredState, list[Problem]]:
    """Load for plan/apply: raise ConfigError on any error; return warnings alongside."""
    res = load(paths, env)
    if res.errors or res.desired is None:
        raise ConfigError(res.errors)
    return res.desired, res.warnings


# --- reading ---------------------------------------------------------------------------------


def _read(path: Path, result: LoadResult) -> YamlDocument | None:
    name = str(path)
    try:
        size = path.stat().st_size
        if size > MAX_FILE_BYTES:
            result.errors.append(
                Problem(name, 0, f"the file is {size:,} bytes; configs over {MAX_FILE_BYTES:,} are refused")
            )
            return None
        raw = path.read_bytes()
    except OSError as exc:
        result.errors.append(Problem(name, 0, f"cannot read the file: {exc.strerror or exc}"))
        return None
    try:
        text = raw.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        line = raw.count(b"\n", 0, exc.start) + 1
        result.errors.append(Problem(name, line, f"the file is not valid UTF-8 (byte {exc.start})"))
        return None
    if _is_saved_plan(text):
        result.errors.append(
            Problem(
                name,
                0,
                f"this is a saved plan, not a config: use `ldseg apply {name}` to apply it or "
                f"`ldseg show {name}` to see it",
            )
        )
        return None
    doc, problems = load_yaml(text, name)
    result.errors.extend(problems)
    if doc is None or problems:
        return None
    if doc.data is None:
        result.errors.append(
            Problem(name, 1, "the file is empty (or only comments); a config starts with `version: 1`")
        )
        return None
    if not isinstance(doc.data, dict):
        result.errors.append(Problem(name, 1, "a config must be a YAML mapping starting with `version: 1`"))
        return None
    return doc


def _is_saved_plan(text: str) -> bool:
    """A JSON document with ``format_version`` and ``changes``: what ``plan --out`` writes, given
    where a config is expected (``plan -c plan.json``)."""
    if not text.lstrip().startswith("{"):
        return False
    try:
        doc = json.loads(text)
    except ValueError:
        return False
    return isinstance(doc, dict) and "format_version" in doc and "changes" in doc


def _interpolate_tree(
    doc: YamlDocument, env: Mapping[str, str], offline: bool, result: LoadResult
) -> dict[str, Any]:
    """Interpolate every string value; returns the new tree (the document keeps the raw one)."""

    def walk(value: Any, path: tuple[str | int, ...]) -> Any:
        if isinstance(value, dict):
            return {k: walk(v, (*path, k)) for k, v in value.items()}
        if isinstance(value, list):
            return [walk(v, (*path, i)) for i, v in enumerate(value)]
        if not isinstance(value, str):
            return value
        secret = _is_secret_path(doc.data, path)
        if "$" not in value:
            if secret:
                _check_secret(doc, path, value, (), env, result)
            return value
        res = interpolate(value, env)
        line = doc.line_of(path)
        for frag in res.malformed:
            result.errors.append(
                Problem(
                    doc.file, line, f"{frag!r} is not a valid reference; use ${{NAME}} or $${{ for a literal"
                )
            )
        for var in res.missing:
            if offline:
                result.warnings.append(
                    Problem(doc.file, line, f"environment variable {var} is not set", "warning")
                )
            elif not secret:
                result.errors.append(
                    Problem(doc.file, line, f"environment variable {var} is not set and has no default")
                )
        if res.missing:
            return _Unresolved(value, res.missing)
        if secret:
            _check_secret(doc, path, res.value, res.used, env, result)
        return res.value

    out: dict[str, Any] = walk(doc.data, ())
    return out


def _check_secret(
    doc: YamlDocument,
    path: tuple[str | int, ...],
    value: str,
    variables: Sequence[str],
    env: Mapping[str, str],
    result: LoadResult,
) -> None:
    """A secret with surrounding whitespace or control characters is an error naming the variable
    it came from: it is almost always a mistake (a trailing newline from ``echo`` or a copied CI
    secret), and it would be sent to LaunchDarkly as part of the secret. The value is never shown."""
    what = secrets.flaw(value)
    if what is None:
        return
    blamed = next(((v, f) for v in variables if (f := secrets.flaw(env[v]))), None)
    source = f"the environment variable {blamed[0]} {blamed[1]}" if blamed else f"the value {what}"
    result.errors.append(
        Problem(
            doc.file,
            doc.line_of(path),
            f"{where(path)} is a secret, and {source}: LaunchDarkly would store that as part of the "
            "secret. Remove it (surrounding whitespace and control characters are copy-paste or CI "
            "mistakes, such as the newline of `echo`)",
        )
    )


class _Unresolved(str):
    """A string whose ``${VAR}`` could not be resolved; kept as its raw text."""

    missing: tuple[str, ...]

    def __new__(cls, raw: str, missing: tuple[str, ...]) -> _Unresolved:
        obj = super().__new__(cls, raw)
        obj.missing = missing
        return obj


def _is_secret_path(data: Any, path: tuple[str | int, ...]) -> bool:
    """Is ``path`` projects.<p>.environments.<e>.destinations.<n>.config.<secret field>?"""
    if len(path) != 8 or path[0] != "projects" or path[2] != "environments" or path[4] != "destinations":
        return False
    if path[6] != "config" or not isinstance(path[7], str):
        return False
    try:
        kind_name = data["projects"][path[1]]["environments"][path[3]]["destinations"][path[5]]["kind"]
    except (KeyError, TypeError):
        return False
    return isinstance(kind_name, str) and kinds.kind(kind_name).is_secret(path[7])


# --- merging ---------------------------------------------------------------------------------


@dataclass
class _ScopeBuilder:
    project: str
    environment: str
    location: Location
    destinations: dict[str, DestinationSpec] | None = None
    ignore: dict[str, None] = field(default_factory=dict)  # an ordered set
    export: ExportSpec | None = None
    reviewers: Reviewers | None = None
    reviewers_at: Location | None = None

    def build(self) -> ScopeSpec:
        return ScopeSpec(
            self.project,
            self.environment,
            self.location,
            None if self.destinations is None else dict(self.destinations),
            tuple(self.ignore),
            self.export,
            self.reviewers,
        )


def _merge(docs: list[tuple[YamlDocument, dict[str, Any]]], result: LoadResult) -> DesiredState:
    scopes: dict[Scope, _ScopeBuilder] = {}
    settings: dict[str, tuple[Any, Location]] = {}
    for doc, data in docs:
        loc = _locator(doc)
        for key, value in _flatten_settings(data.get("settings") or {}).items():
            here = loc(("settings", *key.split(".")))
            if key in settings and settings[key][0] != value:
                first = settings[key][1]
                result.errors.append(
                    Problem(doc.file, here.line, f"settings.{key} is set differently in {first} and here")
                )
            settings.setdefault(key, (value, here))
        for pkey, project in (data.get("projects") or {}).items():
            for ekey, env in (project.get("environments") or {}).items():
                base = ("projects", pkey, "environments", ekey)
                scope = scopes.setdefault((pkey, ekey), _ScopeBuilder(pkey, ekey, loc(base)))
                _merge_scope(scope, env or {}, base, doc, loc, result)
    for scope in scopes.values():
        ignored = Patterns(tuple(scope.ignore))
        for name, spec in (scope.destinations or {}).items():
            if ignored.matches(name):
                result.errors.append(
                    Problem(
                        spec.location.file,
                        spec.location.line,
                        f"destination {name!r} is declared but also matches ignore_destinations in "
                        f"{scope.project}/{scope.environment}; remove one of them",
                    )
                )
    return DesiredState(
        scopes={k: b.build() for k, b in sorted(scopes.items())},
        settings=Settings(
            comment=settings.get("comment", (None, None))[0],
            max_destination_deletes=settings.get("safety.max_destination_deletes", (1, None))[0],
            max_export_off_percent=float(settings.get("safety.max_export_off_percent", (30, None))[0]),
            max_approval_requests=settings.get("safety.max_approval_requests", (25, None))[0],
            reviewers=_reviewers(
                {k: v for (k, (v, _)) in settings.items() if k.startswith("approvals.")}, "approvals."
            ),
        ),
        files=tuple(doc.file for doc, _ in docs),
    )


def _reviewers(raw: Mapping[str, Any], prefix: str = "") -> Reviewers:
    return Reviewers(
        tuple(raw.get(f"{prefix}notify_members") or ()), tuple(raw.get(f"{prefix}notify_teams") or ())
    )


def _merge_scope(
    scope: _ScopeBuilder,
    env: dict[str, Any],
    base: tuple[str, ...],
    doc: YamlDocument,
    loc: Locator,
    result: LoadResult,
) -> None:
    where = f"{scope.project}/{scope.environment}"
    if "approvals" in env:
        here = loc((*base, "approvals"))
        if scope.reviewers_at is not None:
            result.errors.append(_twice(here, f"the approvals of {where} are", scope.reviewers_at))
        else:
            scope.reviewers, scope.reviewers_at = _reviewers(env["approvals"] or {}), here
    ignore = env.get("ignore_destinations") or []
    _check_globs(ignore, (*base, "ignore_destinations"), loc, result)
    scope.ignore.update(dict.fromkeys(ignore))
    if "export" in env:
        here = loc((*base, "export"))
        if scope.export is not None:
            result.errors.append(_twice(here, f"the export block of {where} is", scope.export.location))
        else:
            scope.export = _export(env["export"] or {}, (*base, "export"), loc, result)
    if "destinations" not in env:
        return
    if scope.destinations is None:
        scope.destinations = {}
    for name, raw in (env.get("destinations") or {}).items():
        here = loc((*base, "destinations", name))
        if name in scope.destinations:
            first = scope.destinations[name].location
            result.errors.append(_twice(here, f"destination {where}/{name} is", first))
            continue
        spec = _destination(scope, name, raw, here, (*base, "destinations", name), doc, result)
        scope.destinations[name] = spec


def _twice(here: Location, what: str, first: Location) -> Problem:
    """The same thing declared in two places (files merge): both places named."""
    return Problem(here.file, here.line, f"{what} declared twice: at {first} and here")


def _destination(
    scope: _ScopeBuilder,
    name: str,
    raw: dict[str, Any],
    here: Location,
    path: tuple[str, ...],
    doc: YamlDocument,
    result: LoadResult,
) -> DestinationSpec:
    spec = kinds.kind(raw["kind"])
    config: dict[str, Any] = {}
    unresolved: dict[str, Unresolved] = {}
    for fname, value in (raw.get("config") or {}).items():
        if isinstance(value, _Unresolved):
            line = doc.line_of((*path, "config", fname))
            unresolved[fname] = Unresolved(value.missing, Location(doc.file, line))
            config[fname] = None
            continue
        config[fname] = value
        raw_value = _raw_at(doc.data, (*path, "config", fname))
        if spec.is_secret(fname) and isinstance(raw_value, str) and "${" not in raw_value:
            result.warnings.append(
                Problem(
                    doc.file,
                    doc.line_of((*path, "config", fname)),
                    f"config.{fname} of {scope.project}/{scope.environment}/{name} is a secret written "
                    "as a literal; use ${VAR} so it stays out of version control",
                    "warning",
                )
            )
    return DestinationSpec(
        project=scope.project,
        environment=scope.environment,
        name=name,
        kind=raw["kind"],
        on=bool(raw.get("on", True)),
        config=config,
        location=here,
        unresolved_secrets=unresolved,
    )


def _export(raw: dict[str, Any], path: tuple[str, ...], loc: Locator, result: LoadResult) -> ExportSpec:
    flags = raw.get("flags")
    selection = None
    if flags is not None:
        lists = {name: tuple(flags.get(name) or ()) for name in ("keys", "tags", "except")}
        where = {
            name: {item: loc((*path, "flags", name, i)) for i, item in enumerate(items)}
            for name, items in lists.items()
        }
        _check_globs(lists["keys"], (*path, "flags", "keys"), loc, result)
        _check_globs(lists["except"], (*path, "flags", "except"), loc, result)
        selection = FlagSelection(
            all=bool(flags.get("all", False)),
            keys=lists["keys"],
            tags=lists["tags"],
            except_=lists["except"],
            others=flags.get("others", "keep"),
            location=loc((*path, "flags")),
            key_locations=where["keys"],
            tag_locations=where["tags"],
            except_locations=where["except"],
        )
    return ExportSpec(location=loc(path), new_flags=raw.get("new_flags"), flags=selection)


def _check_globs(patterns: Sequence[str], path: tuple[str, ...], loc: Locator, result: LoadResult) -> None:
    """A glob fnmatch would read as something else than meant (an unclosed ``[``, a reversed
    range) is an error at its line."""
    for i, pattern in enumerate(patterns):
        why = glob_problem(pattern)
        if why is not None:
            here = loc((*path, i))
            result.errors.append(
                Problem(here.file, here.line, f"{where(path)}: {pattern!r} is not a valid glob: {why}")
            )


def _raw_at(data: Any, path: tuple[str, ...]) -> Any:
    for key in path:
        if not isinstance(data, dict):
            return None
        data = data.get(key)
    return data


def _flatten_settings(settings: dict[str, Any], prefix: str = "") -> dict[str, Any]:
    out: dict[str, Any] = {}
    for k, v in settings.items():
        if isinstance(v, dict):
            out.update(_flatten_settings(v, f"{prefix}{k}."))
        else:
            out[f"{prefix}{k}"] = v
    return out


Locator = Callable[[tuple[str | int, ...]], Location]


def _locator(doc: YamlDocument) -> Locator:
    def loc(path: tuple[str | int, ...]) -> Location:
        return Location(doc.file, doc.line_of(path))

    return loc
