"""Helpers for tests and benchmarks, not used by the server: direct access to a sandbox's state.

``SandboxForTests`` is a :class:`~.server.Sandbox` whose ``store`` is a :class:`StoreForTests`: the
store the server runs on, plus a direct-access API that arranges and inspects the account without
going through HTTP (e.g. to make an out-of-band change and check that ldseg notices), and the
sandbox's request log and fault injector at hand::

    from ldseg.sandbox.testing import SandboxForTests

    with SandboxForTests(seed="examples/quickstart/seed.yaml") as sb:
        sb.store.destinations("web", "production")   # raw records, secrets unmasked
        sb.store.set_track_events("web", "checkout-v2", "production", True)
        sb.requests(), sb.set_faults("error=100%"), sb.fault_stats()

Every method takes the store's lock and returns copies. Raw records: secrets unmasked, destinations
keep ``project``/``environment``. Unknown names raise :class:`~.exceptions.StoreError`.

- projects: ``projects()``, ``project(key)``, ``update_project(key, **fields)``, ``delete_project(key)``
- environments: ``environments(project)``, ``environment(project, env)``,
  ``add_environment(project, key, **fields)``, ``update_environment(project, env, **fields)``,
  ``delete_environment(project, env)``; fields as in the seed (``defaultTrackEvents``,
  ``approvalRequired``, ``approvalSettings`` (merged into the current ones), ``name``, ...)
- flags: ``flags(project, include_archived=True)``, ``flag(project, key)`` (with every
  environment's config under ``environments``), ``flag_env(project, key, env)``,
  ``add_flag(project, key, **fields)`` (``trackEvents`` defaults to each environment's
  ``defaultTrackEvents``, as for a flag created in LD), ``set_track_events(project, key, env, value,
  *, fallthrough=None)``, ``set_flag_env(project, key, env, **fields)``, ``delete_flag(project, key)``.
  Changes bump ``_version`` (and the environment's ``version``) like a change made in LD's UI.
- approval requests: ``approval_requests()``, ``approval_request(id)`` (raw records)
- destinations: ``destinations(project=None, env=None)``, ``destination(id)``,
  ``find_destinations(project, env, name)``, ``add_destination(project, environment, name, kind,
  config, on=False)``, ``update_destination(id, **fields)`` (bumps ``version``), ``delete_destination(id)``
- ``audit_log``: list of ``{seq, time, method, path, route, resource, comment, changed}``, one per
  successful API write (dry runs excluded); ``violations`` (the server's own)
- ``set_setting(name, value)``, ``add_token(token, role)``, ``reset(seed)`` (the whole account)
- Segment: ``segment_messages(write_key=None)`` (the server's own), ``segment_nonconforming``,
  ``segment_sources()``, ``add_segment_source(name, **fields)`` / ``update_segment_source(id,
  **fields)`` (fields as in the seed: ``id``, ``slug``, ``enabled``, ``writeKeys``, ``catalog``,
  ``settings``, ``labels``), ``delete_segment_source(id)``, ``segment_tokens``,
  ``add_segment_token(token, source_admin)``, ``segment_region``
"""

from __future__ import annotations

import copy
from typing import Any, ClassVar

from . import approval_rules, records
from .exceptions import SeedError, StoreError
from .faultspec import FaultSpec
from .seed import build_state, normalize_settings
from .server import Sandbox
from .store import Store
from .workspace import build_source, check_unique

SOURCE_EDITABLE_FIELDS = ("id", "name", "slug", "enabled", "writeKeys", "settings", "labels")


class StoreForTests(Store):
    """The server's store plus the direct-access API (see the module docstring)."""

    # --- lookups of live records (hold the lock) -----------------------------------------------

    @staticmethod
    def _lookup(table: dict[str, Any], key: str, missing: str) -> dict[str, Any]:
        """``table[key]``, or ``StoreError(missing)``."""
        try:
            found: dict[str, Any] = table[key]
        except KeyError:
            raise StoreError(missing) from None
        return found

    def _project(self, key: str) -> dict[str, Any]:
        return self._lookup(self.state["projects"], key, f"no project {key!r}")

    def _env(self, project: str, env: str) -> dict[str, Any]:
        return self._lookup(self._project(project)["environments"], env, f"no environment {project}/{env}")

    def _flag(self, project: str, key: str) -> dict[str, Any]:
        return self._lookup(self._project(project)["flags"], key, f"no flag {project}/{key}")

    def _dest(self, dest_id: str) -> dict[str, Any]:
        return self._lookup(self.state["destinations"], dest_id, f"no destination {dest_id}")

    def _segment_source(self, source_id: str) -> dict[str, Any]:
        return self._lookup(self.state["segment"]["sources"], source_id, f"no Segment source {source_id!r}")

    # --- the account, settings, tokens, logs ---------------------------------------------------

    def reset(self, seed: dict[str, Any] | None) -> None:
        """Replace the whole account with the one ``seed`` describes (audit log and violations too)."""
        self.load(build_state(seed))

    def set_setting(self, name: str, value: Any) -> None:
        with self.mutate() as s:
            s["settings"] = normalize_settings({**s["settings"], name: value})

    def add_token(self, token: str, role: str) -> None:
        if role not in records.TOKEN_ROLES:
            raise ValueError(f"role must be one of {', '.join(records.TOKEN_ROLES)}")
        with self.mutate() as s:
            s["tokens"][token] = role

    @property
    def audit_log(self) -> list[dict[str, Any]]:
        with self.lock:
            return copy.deepcopy(self.state["audit_log"])

    # --- projects ------------------------------------------------------------------------------

    @staticmethod
    def _project_view(p: dict[str, Any]) -> dict[str, Any]:
        return {k: copy.deepcopy(v) for k, v in p.items() if k != "flags"}

    def projects(self) -> list[dict[str, Any]]:
        """Every project (with its environments, without its flags)."""
        with self.lock:
            return [self._project_view(p) for p in self.state["projects"].values()]

    def project(self, key: str) -> dict[str, Any]:
        with self.lock:
            return self._project_view(self._project(key))

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
        """Change fields as the seed names them; ``approvalSettings`` merges into the current ones,
        ``approvalRequired`` sets their ``required`` (``SeedError`` for settings LD refuses)."""
        with self.mutate():
            e = self._env(project, env)
            bad = {"key", "_id"} & set(fields)
            if bad:
                raise ValueError(f"cannot update {', '.join(sorted(bad))} with update_environment")
            fields = copy.deepcopy(fields)
            settings = {**approval_rules.settings_of(e), **fields.pop("approvalSettings", {})}
            if "approvalRequired" in fields:
                settings["required"] = fields.pop("approvalRequired")
            problem = approval_rules.settings_problem(settings)
            if problem:
                raise SeedError(problem)
            e.update(fields)
            e["approvalSettings"] = settings
            e.pop("approvalRequired", None)
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
            self.flags_touched(project, key)

    # --- approval requests -----------------------------------------------------------------------

    def approval_requests(self) -> list[dict[str, Any]]:
        """Raw approval-request records, oldest first (with ``baseline``: what their fields were)."""
        with self.lock:
            return copy.deepcopy(list(self.state["approval_requests"].values()))

    def approval_request(self, request_id: str) -> dict[str, Any]:
        with self.lock:
            return copy.deepcopy(
                self._lookup(self.state["approval_requests"], request_id, f"no approval request {request_id}")
            )

    # --- destinations --------------------------------------------------------------------------

    def destinations(self, project: str | None = None, env: str | None = None) -> list[dict[str, Any]]:
        """Raw destination records (unmasked), in creation order, optionally of one project/env."""
        with self.lock:
            return [
                copy.deepcopy(d)
                for d in self.state["destinations"].values()
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

    # --- Segment -------------------------------------------------------------------------------

    @property
    def segment_nonconforming(self) -> list[dict[str, Any]]:
        """Messages that look like LD events but do not match the LD schema (``schema_errors``)."""
        with self.lock:
            return [copy.deepcopy(m) for m in self.state["segment"]["messages"] if m["schema_errors"]]

    def segment_sources(self) -> list[dict[str, Any]]:
        with self.lock:
            return copy.deepcopy(list(self.state["segment"]["sources"].values()))

    def add_segment_source(self, name: str, **fields: Any) -> dict[str, Any]:
        """Create a source as the seed would (``SeedError`` for bad fields, ``StoreError`` if it exists)."""
        with self.mutate() as s:
            seg = s["segment"]
            rec = build_source(
                {"name": name, **fields},
                region=seg["region"],
                workspace_id=seg["workspace"]["id"],
                where="segment source",
            )
            if rec["id"] in seg["sources"]:
                raise StoreError(f"Segment source {rec['id']!r} exists")
            check_unique(seg["sources"], rec, "segment source")
            seg["sources"][rec["id"]] = rec
            return copy.deepcopy(rec)

    def update_segment_source(self, source_id: str, **fields: Any) -> dict[str, Any]:
        """Change ``name``, ``slug``, ``enabled``, ``writeKeys``, ``settings``, ``labels`` or ``catalog``."""
        with self.mutate() as s:
            seg = s["segment"]
            current = self._segment_source(source_id)
            if "id" in fields:
                raise SeedError("cannot change a Segment source's id")
            raw = {k: current[k] for k in SOURCE_EDITABLE_FIELDS}
            raw["catalog"] = current["metadata"]
            raw.update(fields)
            rec = build_source(
                raw, region=seg["region"], workspace_id=seg["workspace"]["id"], where="segment source"
            )
            check_unique(seg["sources"], rec, "segment source")
            seg["sources"][source_id] = rec
            return copy.deepcopy(rec)

    def delete_segment_source(self, source_id: str) -> None:
        with self.mutate() as s:
            self._segment_source(source_id)
            del s["segment"]["sources"][source_id]

    @property
    def segment_tokens(self) -> dict[str, dict[str, bool]]:
        with self.lock:
            return copy.deepcopy(self.state["segment"]["tokens"])

    def add_segment_token(self, token: str, source_admin: bool = False) -> None:
        """A Public API token; only ``source_admin`` tokens see sources' write keys."""
        with self.mutate() as s:
            s["segment"]["tokens"][token] = {"source_admin": bool(source_admin)}

    @property
    def segment_region(self) -> str:
        with self.lock:
            region: str = self.state["segment"]["region"]
            return region


class SandboxForTests(Sandbox):
    """A :class:`~.server.Sandbox` with a :class:`StoreForTests`, its request log and fault injector."""

    store_type: ClassVar[type[Store]] = StoreForTests
    store: StoreForTests

    def requests(self) -> list[dict[str, Any]]:
        """The request log, oldest first (see ``reqlog``)."""
        return self.app.request_log.entries()

    def clear_requests(self) -> None:
        self.app.request_log.clear()

    def set_faults(self, spec: FaultSpec) -> None:
        """Arm the fault injector with ``spec`` (see ``faultspec``); ``None`` turns faults off.

        Counters, RNGs and ``fault_stats()`` start afresh; an invalid spec raises ``ValueError`` and
        leaves the current rules in place.
        """
        self.app.faults.configure(spec)

    def fault_stats(self) -> dict[str, int]:
        """Injected faults by type: rate_limited, error (and error_500/502/503), drop, drop_after, latency."""
        return self.app.faults.stats()
