"""The sandbox's account state: one lock, plain dict records, and direct access for tests.

The store is the single source of truth behind the HTTP routes; tests use it to arrange and inspect
state without going through HTTP (e.g. to make an out-of-band change and check that ldseg notices).
Every method takes the store's ``RLock`` and returns copies, so callers never share mutable state
with the server threads.

Direct-access API (raw records: secrets unmasked, destinations keep ``project``/``environment``):

- projects: ``projects()``, ``project(key)``, ``add_project(key, **fields)``,
  ``update_project(key, **fields)``, ``delete_project(key)``
- environments: ``environments(project)``, ``environment(project, env)``,
  ``add_environment(project, key, **fields)``, ``update_environment(project, env, **fields)``,
  ``delete_environment(project, env)``; fields as in the seed (``defaultTrackEvents``,
  ``approvalRequired``, ``name``, ...)
- flags: ``flags(project, include_archived=True)``, ``flag(project, key)`` (with every
  environment's config under ``environments``), ``flag_env(project, key, env)``,
  ``add_flag(project, key, **fields)`` (``trackEvents`` defaults to each environment's
  ``defaultTrackEvents``, as for a flag created in LD), ``update_flag(project, key, **fields)``,
  ``set_track_events(project, key, env, value, *, fallthrough=None)``,
  ``set_flag_env(project, key, env, **fields)``, ``delete_flag(project, key)``. Updates bump
  ``_version`` (and the environment's ``version``) like a change made in LD's UI.
- destinations: ``destinations(project=None, env=None)``, ``destination(id)``,
  ``find_destinations(project, env, name)``, ``add_destination(project, environment, name, kind,
  config, on=False)``, ``update_destination(id, **fields)`` (bumps ``version``), ``delete_destination(id)``
- ``audit_log``: list of ``{seq, time, method, path, route, resource, comment, changed}``, one per
  successful API write (dry runs excluded); ``clear_audit_log()``
- ``violations``: list of strings, things a real client must never do (e.g. writing a masked
  secret back); ``clear_violations()``
- ``settings`` (copy), ``set_setting(name, value)``; ``tokens`` (copy), ``add_token(token, role)``
- ``snapshot()`` (deep copy of the whole state), ``to_json()``, ``reset(seed)``
- Segment (sources, tokens, tracked messages): see ``segment/store.py``, e.g.
  ``segment_messages(write_key=None)``, ``segment_nonconforming``, ``add_segment_source(name, ...)``,
  ``update_segment_source(id, ...)``, ``add_segment_token(token, source_admin)``
"""

from __future__ import annotations

import bisect
import copy
import json
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any

from . import records
from .seed import STATE_FORMAT, SeedError, build_state, empty_state, normalize_settings
from .segment_emu.store import SegmentStoreMixin

AUDIT_LOG_LIMIT = 100_000
VIOLATIONS_LIMIT = 10_000


class StoreError(KeyError):
    """A direct-access call named something that does not exist (or already exists)."""

    def __str__(self) -> str:
        return str(self.args[0]) if self.args else "store error"


class Store(SegmentStoreMixin):
    """Thread-safe account state; see the module docstring for the direct-access API."""

    def __init__(self, state: dict[str, Any] | None = None) -> None:
        self.lock = threading.RLock()
        self._listeners: list[Callable[[], None]] = []
        self._state: dict[str, Any] = empty_state()
        self._flag_keys: dict[str, list[str]] = {}
        self._flag_gen: dict[str, int] = {}
        self.query_cache: dict[tuple[Any, ...], list[str]] = {}
        #: project -> flag key -> rendered JSON by (envs, summary, env names): list pages are
        #: assembled from these, so the sandbox serves a page in well under a millisecond
        self.flag_json: dict[str, dict[str, dict[tuple[Any, ...], str]]] = {}
        self._load(state if state is not None else empty_state())

    # --- construction, persistence hooks -------------------------------------------------------

    @classmethod
    def from_seed(cls, seed: dict[str, Any] | None) -> Store:
        return cls(build_state(seed))

    def _load(self, state: dict[str, Any]) -> None:
        if state.get("format") != STATE_FORMAT:
            raise SeedError(f"not a sandbox state document (format {state.get('format')!r})")
        fresh = empty_state()
        fresh.update(state)
        fresh["settings"] = {**records.DEFAULT_SETTINGS, **state.get("settings", {})}
        with self.lock:
            self._state = fresh
            self._flag_keys = {p: sorted(proj["flags"]) for p, proj in fresh["projects"].items()}
            self._flag_gen = dict.fromkeys(fresh["projects"], 0)
            self.query_cache.clear()
            self.flag_json.clear()
            self._segment_reset()
        self.changed()

    def reset(self, seed: dict[str, Any] | None) -> None:
        """Replace the whole account with the one ``seed`` describes (audit log and violations too)."""
        self._load(build_state(seed))

    def add_listener(self, fn: Callable[[], None]) -> None:
        """``fn()`` is called after every mutation (the persister marks itself dirty)."""
        self._listeners.append(fn)

    def changed(self) -> None:
        for fn in self._listeners:
            fn()

    def to_json(self) -> str:
        with self.lock:
            return json.dumps(self._state, separators=(",", ":"))

    def snapshot(self) -> dict[str, Any]:
        with self.lock:
            return copy.deepcopy(self._state)

    @contextmanager
    def mutate(self) -> Iterator[dict[str, Any]]:
        """Hold the lock over a change to the raw state and notify listeners afterwards."""
        with self.lock:
            yield self._state
        self.changed()

    # --- internals shared with the routes ------------------------------------------------------

    @property
    def state(self) -> dict[str, Any]:
        """The live state (hold ``lock``; never hand it out)."""
        return self._state

    def flag_keys(self, project: str) -> list[str]:
        """Sorted flag keys of ``project`` (live list: hold ``lock``, do not mutate)."""
        return self._flag_keys.get(project, [])

    def flag_generation(self, project: str) -> int:
        """Bumped on every flag change in ``project``; keys the list-query cache."""
        return self._flag_gen.get(project, 0)

    def flags_touched(self, project: str, key: str | None = None) -> None:
        """A flag (``key``) or every flag of ``project`` changed: drop what was derived from them."""
        with self.lock:
            self._flag_gen[project] = self._flag_gen.get(project, 0) + 1
            if key is None:
                self.flag_json.pop(project, None)
            else:
                self.flag_json.get(project, {}).pop(key, None)
            if len(self.query_cache) > 256:
                self.query_cache.clear()

    def next_id(self, *parts: object) -> str:
        with self.lock:
            self._state["counter"] += 1
            return records.hex_id(*parts, self._state["counter"])

    def record_write(self, entry: dict[str, Any]) -> None:
        with self.lock:
            log = self._state["audit_log"]
            entry = {"seq": (log[-1]["seq"] + 1) if log else 1, "time": records.now_ms(), **entry}
            log.append(entry)
            if len(log) > AUDIT_LOG_LIMIT:
                del log[: len(log) - AUDIT_LOG_LIMIT]

    def record_violation(self, message: str) -> None:
        with self.lock:
            v = self._state["violations"]
            v.append(message)
            if len(v) > VIOLATIONS_LIMIT:
                del v[: len(v) - VIOLATIONS_LIMIT]

    # --- helpers -------------------------------------------------------------------------------

    def _project(self, key: str) -> dict[str, Any]:
        try:
            p: dict[str, Any] = self._state["projects"][key]
        except KeyError:
            raise StoreError(f"no project {key!r}") from None
        return p

    def _env(self, project: str, env: str) -> dict[str, Any]:
        try:
            e: dict[str, Any] = self._project(project)["environments"][env]
        except KeyError:
            raise StoreError(f"no environment {project}/{env}") from None
        return e

    def _flag(self, project: str, key: str) -> dict[str, Any]:
        try:
            f: dict[str, Any] = self._project(project)["flags"][key]
        except KeyError:
            raise StoreError(f"no flag {project}/{key}") from None
        return f

    def _dest(self, dest_id: str) -> dict[str, Any]:
        try:
            d: dict[str, Any] = self._state["destinations"][dest_id]
        except KeyError:
            raise StoreError(f"no destination {dest_id}") from None
        return d

    # --- settings, tokens, logs ----------------------------------------------------------------

    @property
    def settings(self) -> dict[str, Any]:
        with self.lock:
            return dict(self._state["settings"])

    def set_setting(self, name: str, value: Any) -> None:
        with self.mutate() as s:
            merged = normalize_settings({**s["settings"], name: value})
            s["settings"] = merged

    @property
    def tokens(self) -> dict[str, str]:
        with self.lock:
            return dict(self._state["tokens"])

    def add_token(self, token: str, role: str) -> None:
        if role not in records.TOKEN_ROLES:
            raise ValueError(f"role must be one of {', '.join(records.TOKEN_ROLES)}")
        with self.mutate() as s:
            s["tokens"][token] = role

    @property
    def audit_log(self) -> list[dict[str, Any]]:
        with self.lock:
            return copy.deepcopy(self._state["audit_log"])

    def clear_audit_log(self) -> None:
        with self.mutate() as s:
            s["audit_log"] = []

    @property
    def violations(self) -> list[str]:
        with self.lock:
            return list(self._state["violations"])

    def clear_violations(self) -> None:
        with self.mutate() as s:
            s["violations"] = []

    # --- projects ------------------------------------------------------------------------------

    @staticmethod
    def _project_view(p: dict[str, Any]) -> dict[str, Any]:
        view = {k: copy.deepcopy(v) for k, v in p.items() if k != "flags"}
        return view

    def projects(self) -> list[dict[str, Any]]:
        """Every project (with its environments, without its flags)."""
        with self.lock:
            return [self._project_view(p) for p in self._state["projects"].values()]

    def project(self, key: str) -> dict[str, Any]:
        with self.lock:
            return self._project_view(self._project(key))

    def add_project(self, key: str, **fields: Any) -> dict[str, Any]:
        with self.mutate() as s:
            if key in s["projects"]:
                raise StoreError(f"project {key!r} exists")
            p = records.new_project(key, creation_ms=records.now_ms())
            p.update(fields)
            s["projects"][key] = p
            self._flag_keys[key] = sorted(p["flags"])
            self._flag_gen[key] = 0
            return self._project_view(p)

    def update_project(self, key: str, **fields: Any) -> dict[str, Any]:
        with self.mutate():
            p = self._project(key)
            bad = {"key", "environments", "flags", "_id"} & set(fields)
            if bad:
                raise ValueError(f"cannot update {', '.join(sorted(bad))} with update_project")
            p.update(copy.deepcopy(fields))
            return self._project_view(p)

    def delete_project(self, key: str) -> None:
        with self.mutate() as s:
            self._project(key)
            del s["projects"][key]
            self._flag_keys.pop(key, None)
            self.flags_touched(key)
            for dest_id in [d for d, r in s["destinations"].items() if r["project"] == key]:
                del s["destinations"][dest_id]

    # --- environments --------------------------------------------------------------------------

    def environments(self, project: str) -> list[dict[str, Any]]:
        with self.lock:
            return copy.deepcopy(list(self._project(project)["environments"].values()))

    def environment(self, project: str, env: str) -> dict[str, Any]:
        with self.lock:
            return copy.deepcopy(self._env(project, env))

    def add_environment(self, project: str, key: str, **fields: Any) -> dict[str, Any]:
        with self.mutate():
            p = self._project(project)
            if key in p["environments"]:
                raise StoreError(f"environment {project}/{key} exists")
            env = records.new_environment(project, key, creation_ms=records.now_ms(), **fields)
            p["environments"][key] = env
            for flag in p["flags"].values():
                flag["environments"][key] = records.new_flag_env(
                    project, flag["key"], key, modified_ms=records.now_ms()
                )
            self.flags_touched(project)
            return copy.deepcopy(env)

    def update_environment(self, project: str, env: str, **fields: Any) -> dict[str, Any]:
        with self.mutate():
            e = self._env(project, env)
            bad = {"key", "_id"} & set(fields)
            if bad:
                raise ValueError(f"cannot update {', '.join(sorted(bad))} with update_environment")
            e.update(copy.deepcopy(fields))
            return copy.deepcopy(e)

    def delete_environment(self, project: str, env: str) -> None:
        with self.mutate() as s:
            p = self._project(project)
            self._env(project, env)
            del p["environments"][env]
            for flag in p["flags"].values():
                flag["environments"].pop(env, None)
            self.flags_touched(project)
            for dest_id in [
                d for d, r in s["destinations"].items() if r["project"] == project and r["environment"] == env
            ]:
                del s["destinations"][dest_id]

    # --- flags ---------------------------------------------------------------------------------

    def flags(self, project: str, include_archived: bool = True) -> list[dict[str, Any]]:
        """Every flag of ``project`` in key order (deep copies: slow for huge projects)."""
        with self.lock:
            flags = self._project(project)["flags"]
            return [
                copy.deepcopy(flags[k])
                for k in self.flag_keys(project)
                if include_archived or not flags[k]["archived"]
            ]

    def flag(self, project: str, key: str) -> dict[str, Any]:
        with self.lock:
            return copy.deepcopy(self._flag(project, key))

    def flag_env(self, project: str, key: str, env: str) -> dict[str, Any]:
        with self.lock:
            try:
                return copy.deepcopy(self._flag(project, key)["environments"][env])
            except KeyError:
                raise StoreError(f"no environment {env!r} on flag {project}/{key}") from None

    def add_flag(
        self, project: str, key: str, *, track_events: dict[str, bool] | None = None, **fields: Any
    ) -> dict[str, Any]:
        """Create a flag as LD would: each environment's ``trackEvents`` starts at its ``defaultTrackEvents``.

        ``track_events`` overrides that per environment; other fields as ``records.new_flag``
        (``name``, ``description``, ``tags``, ``temporary``, ``archived``, ``deprecated``).
        """
        with self.mutate():
            p = self._project(project)
            if key in p["flags"]:
                raise StoreError(f"flag {project}/{key} exists")
            now = records.now_ms()
            flag = records.new_flag(project, key, creation_ms=fields.pop("creation_ms", now), **fields)
            for env_key, env in p["environments"].items():
                te = (track_events or {}).get(env_key, env["defaultTrackEvents"])
                flag["environments"][env_key] = records.new_flag_env(
                    project, key, env_key, track_events=te, modified_ms=now
                )
            p["flags"][key] = flag
            bisect.insort(self._flag_keys.setdefault(project, []), key)
            self.flags_touched(project, key)
            return copy.deepcopy(flag)

    def update_flag(self, project: str, key: str, *, bump: bool = True, **fields: Any) -> dict[str, Any]:
        """Change flag-level fields (``name``, ``tags``, ``archived``...), as an out-of-band edit."""
        with self.mutate():
            flag = self._flag(project, key)
            bad = {"key", "environments", "variations"} & set(fields)
            if bad:
                raise ValueError(f"cannot update {', '.join(sorted(bad))} with update_flag")
            flag.update(copy.deepcopy(fields))
            if bump and "_version" not in fields:
                flag["_version"] += 1
            self.flags_touched(project, key)
            return copy.deepcopy(flag)

    def set_flag_env(
        self, project: str, key: str, env: str, *, bump: bool = True, **fields: Any
    ) -> dict[str, Any]:
        """Change one environment's flag config (``trackEvents``, ``trackEventsFallthrough``, ``on``)."""
        with self.mutate():
            flag = self._flag(project, key)
            if env not in flag["environments"]:
                raise StoreError(f"no environment {env!r} on flag {project}/{key}")
            cfg = flag["environments"][env]
            cfg.update(fields)
            if bump:
                flag["_version"] += 1
                if "version" not in fields:
                    cfg["version"] += 1
                cfg["lastModified"] = records.now_ms()
            self.flags_touched(project, key)
            return copy.deepcopy(flag)

    def set_track_events(
        self, project: str, key: str, env: str, value: bool, *, fallthrough: bool | None = None
    ) -> dict[str, Any]:
        fields: dict[str, Any] = {"trackEvents": value}
        if fallthrough is not None:
            fields["trackEventsFallthrough"] = fallthrough
        return self.set_flag_env(project, key, env, **fields)

    def delete_flag(self, project: str, key: str) -> None:
        with self.mutate():
            p = self._project(project)
            self._flag(project, key)
            del p["flags"][key]
            keys = self._flag_keys[project]
            del keys[bisect.bisect_left(keys, key)]
            self.flags_touched(project, key)

    # --- destinations --------------------------------------------------------------------------

    def destinations(self, project: str | None = None, env: str | None = None) -> list[dict[str, Any]]:
        """Raw destination records (unmasked), in creation order, optionally of one project/env."""
        with self.lock:
            return [
                copy.deepcopy(d)
                for d in self._state["destinations"].values()
                if (project is None or d["project"] == project) and (env is None or d["environment"] == env)
            ]

    def destination(self, dest_id: str) -> dict[str, Any]:
        with self.lock:
            return copy.deepcopy(self._dest(dest_id))

    def find_destinations(self, project: str, env: str, name: str) -> list[dict[str, Any]]:
        return [d for d in self.destinations(project, env) if d["name"] == name]

    def add_destination(
        self,
        project: str,
        environment: str,
        name: str,
        kind: str,
        config: dict[str, Any] | None = None,
        on: bool = False,
    ) -> dict[str, Any]:
        """Create a destination directly (no validation of config, no audit entry)."""
        if kind not in records.DESTINATION_KINDS:
            raise ValueError(f"kind must be one of {', '.join(records.DESTINATION_KINDS)}")
        with self.mutate() as s:
            self._env(project, environment)
            dest_id = self.next_id("destination", project, environment, name)
            rec = records.new_destination(
                dest_id,
                project,
                environment,
                name=name,
                kind=kind,
                config=copy.deepcopy(config or {}),
                on=on,
                creation_ms=records.now_ms(),
            )
            s["destinations"][dest_id] = rec
            return copy.deepcopy(rec)

    def update_destination(self, dest_id: str, *, bump: bool = True, **fields: Any) -> dict[str, Any]:
        """Change ``name``, ``on``, ``config``, ``kind``... directly (an out-of-band edit)."""
        with self.mutate():
            d = self._dest(dest_id)
            if "_id" in fields:
                raise ValueError("cannot change _id")
            d.update(copy.deepcopy(fields))
            if bump and "version" not in fields:
                d["version"] += 1
            return copy.deepcopy(d)

    def delete_destination(self, dest_id: str) -> None:
        with self.mutate() as s:
            self._dest(dest_id)
            del s["destinations"][dest_id]
