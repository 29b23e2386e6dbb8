"""The sandbox's account state: one lock around one JSON-able state document.

The store is the single source of truth behind the HTTP routes (LaunchDarkly's and Segment's). The
routes hold ``lock`` while they read or change ``state`` (``mutate()`` also tells the listeners,
e.g. the persister); what the store hands out of the lock is a copy, so nobody shares mutable state
with the server threads. Tests and benchmarks arrange and inspect state through the direct-access
API of ``testing.StoreForTests``, a subclass of this class.

The state document (``records.empty_state``): ``format``, ``settings``, ``tokens`` (LD access token
-> role), ``counter`` (for ids), ``projects`` (each with ``environments`` and ``flags``),
``destinations`` (by id), ``approval_requests`` (by id), ``audit_log`` (one entry per successful
API write), ``violations`` (things a real client must never do, e.g. writing a masked secret back)
and ``segment`` (the Segment workspace: ``region``, ``workspace``, ``tokens``, ``sources`` and the
tracked ``messages``).
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
from .exceptions import StateError

AUDIT_LOG_LIMIT = 100_000
VIOLATIONS_LIMIT = 10_000
MESSAGES_LIMIT = 100_000  # tracked Segment messages kept
DEDUP_WINDOW_MS = 24 * 3600 * 1000  # Segment de-duplicates messageIds over about 24 hours


class Store:
    """Thread-safe account state; see the module docstring."""

    def __init__(self, state: dict[str, Any] | None = None) -> None:
        self.lock = threading.RLock()
        self._listeners: list[Callable[[], None]] = []
        self._state: dict[str, Any] = records.empty_state()
        self._flag_keys: dict[str, list[str]] = {}
        self._flag_gen: dict[str, int] = {}
        self._segment_seen: dict[str, int] | None = None  # messageId -> received_ms of accepted messages
        self.query_cache: dict[tuple[Any, ...], list[str]] = {}
        #: project -> flag key -> rendered JSON by (envs, summary, env names): list pages are
        #: assembled from these, so the sandbox serves a page in well under a millisecond
        self.flag_json: dict[str, dict[str, dict[tuple[Any, ...], str]]] = {}
        self.load(state if state is not None else records.empty_state())

    # --- the whole state -----------------------------------------------------------------------

    def load(self, state: dict[str, Any]) -> None:
        """Replace the whole account (audit log, violations and Segment messages too) with ``state``."""
        if state.get("format") != records.STATE_FORMAT:
            raise StateError(f"not a sandbox state document (format {state.get('format')!r})")
        fresh = records.empty_state()
        fresh.update(state)
        fresh["settings"] = {**records.DEFAULT_SETTINGS, **state.get("settings", {})}
        with self.lock:
            self._state = fresh
            self._flag_keys = {p: sorted(proj["flags"]) for p, proj in fresh["projects"].items()}
            self._flag_gen = dict.fromkeys(fresh["projects"], 0)
            self._segment_seen = None  # rebuilt from the messages on next use
            self.query_cache.clear()
            self.flag_json.clear()
        self.changed()

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
        """A deep copy of the whole state document."""
        with self.lock:
            return copy.deepcopy(self._state)

    @contextmanager
    def mutate(self) -> Iterator[dict[str, Any]]:
        """Hold the lock over a change to the raw state and notify listeners afterwards."""
        with self.lock:
            yield self._state
        self.changed()

    @property
    def state(self) -> dict[str, Any]:
        """The live state (hold ``lock``; never hand it out)."""
        return self._state

    @property
    def settings(self) -> dict[str, Any]:
        with self.lock:
            return dict(self._state["settings"])

    # --- flags: the sorted key index and what is derived from the flags ------------------------

    def flag_keys(self, project: str) -> list[str]:
        """Sorted flag keys of ``project`` (live list: hold ``lock``, do not mutate)."""
        return self._flag_keys.get(project, [])

    def flag_generation(self, project: str) -> int:
        """Bumped on every flag change in ``project``; keys the list-query cache."""
        return self._flag_gen.get(project, 0)

    def flags_touched(self, project: str, key: str | None = None) -> None:
        """Flag ``key`` of ``project`` was added, changed or removed (no ``key``: any of its flags, or
        the project itself): keep the sorted key index and drop what was derived from the flags."""
        with self.lock:
            self._flag_gen[project] = self._flag_gen.get(project, 0) + 1
            proj = self._state["projects"].get(project)
            if proj is None:
                self._flag_keys.pop(project, None)
                self.flag_json.pop(project, None)
            elif key is None:
                self._flag_keys[project] = sorted(proj["flags"])
                self.flag_json.pop(project, None)
            else:
                keys = self._flag_keys.setdefault(project, [])
                i = bisect.bisect_left(keys, key)
                indexed = i < len(keys) and keys[i] == key
                if key in proj["flags"] and not indexed:
                    keys.insert(i, key)
                elif key not in proj["flags"] and indexed:
                    del keys[i]
                self.flag_json.get(project, {}).pop(key, None)
            if len(self.query_cache) > 256:
                self.query_cache.clear()

    # --- what the routes record ----------------------------------------------------------------

    def next_id(self, *parts: object) -> str:
        with self.lock:
            self._state["counter"] += 1
            return records.hex_id(*parts, self._state["counter"])

    def record_write(self, entry: dict[str, Any]) -> None:
        """Append ``entry`` to the audit log (``seq`` and ``time`` added)."""
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

    @property
    def violations(self) -> list[str]:
        with self.lock:
            return list(self._state["violations"])

    # --- Segment: tracked messages -------------------------------------------------------------

    def segment_messages(self, write_key: str | None = None) -> list[dict[str, Any]]:
        """Recorded messages, oldest first, optionally only those sent with ``write_key``.

        A message record: ``seq, received_at, received_ms, write_key, auth, path, batch, type, event,
        messageId, messageId_assigned, userId, anonymousId, properties, body, source_id, dropped``
        (``None`` or Segment's reason), ``schema`` (the LD event schema it was checked against, or
        ``None``) and ``schema_errors``.
        """
        with self.lock:
            return [
                copy.deepcopy(m)
                for m in self._state["segment"]["messages"]
                if write_key is None or m["write_key"] == write_key
            ]

    def clear_segment_messages(self) -> None:
        with self.mutate() as s:
            s["segment"]["messages"] = []
            self._segment_seen = None

    def segment_seen(self, now_ms: int) -> dict[str, int]:
        """The live dedup index (hold ``lock``), rebuilt from the messages after a load."""
        if self._segment_seen is None:
            self._segment_seen = {
                m["messageId"]: m["received_ms"]
                for m in self._state["segment"]["messages"]
                if m["dropped"] is None and now_ms - m["received_ms"] < DEDUP_WINDOW_MS
            }
        return self._segment_seen

    def append_segment_messages(self, messages: list[dict[str, Any]]) -> None:
        """Store message records made by the intake (which holds the lock while deciding drops)."""
        with self.mutate() as s:
            stored = s["segment"]["messages"]
            seq = stored[-1]["seq"] if stored else 0
            for rec in messages:
                seq += 1
                rec["seq"] = seq
                stored.append(rec)
            if len(stored) > MESSAGES_LIMIT:
                del stored[: len(stored) - MESSAGES_LIMIT]

    def segment_source_for_key(self, write_key: str) -> dict[str, Any] | None:
        """The live source holding ``write_key`` (hold ``lock``), or ``None``."""
        for src in self._state["segment"]["sources"].values():
            if write_key in src["writeKeys"]:
                found: dict[str, Any] = src
                return found
        return None
