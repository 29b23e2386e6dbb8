"""The Segment half of the store: sources, Public API tokens and the tracked messages.

Mixed into ``Store`` (same lock, same state document under ``state["segment"]``), so tests arrange
and inspect Segment exactly like LD::

    store.segment_messages(write_key=None)      # every recorded message (dropped ones included)
    store.segment_nonconforming                 # LD-looking messages that fail their schema
    store.add_segment_source(name, **fields)    # fields as in the seed (id, slug, enabled, writeKeys,
    store.update_segment_source(id, **fields)   #   catalog, settings, labels)
    store.delete_segment_source(id), store.segment_sources(), store.segment_source(id)
    store.add_segment_token(token, source_admin), store.segment_tokens, store.segment_region
    store.clear_segment_messages()

A message record: ``seq, received_at, received_ms, write_key, auth, path, type, event, messageId,
userId, anonymousId, properties, body, source_id, dropped`` (``None`` or Segment's reason),
``schema`` (the LD event schema it was checked against, or ``None``) and ``schema_errors``.
"""

from __future__ import annotations

import copy
import threading
from contextlib import AbstractContextManager
from typing import TYPE_CHECKING, Any

from ..seed import SeedError
from .seed import build_source, check_unique

MESSAGES_LIMIT = 100_000
EDITABLE_FIELDS = ("id", "name", "slug", "enabled", "writeKeys", "settings", "labels")
DEDUP_WINDOW_MS = 24 * 3600 * 1000  # Segment de-duplicates messageIds over about 24 hours


class SegmentStoreMixin:
    """Segment state access for ``Store``; see the module docstring."""

    lock: threading.RLock
    _state: dict[str, Any]
    _segment_seen: dict[str, int] | None = None  # messageId -> received_ms of accepted messages

    if TYPE_CHECKING:

        def mutate(self) -> AbstractContextManager[dict[str, Any]]: ...

    def _segment(self) -> dict[str, Any]:
        seg: dict[str, Any] = self._state["segment"]
        return seg

    def _segment_reset(self) -> None:
        """Called when the whole state is replaced: the dedup index is rebuilt on next use."""
        self._segment_seen = None

    # --- messages ------------------------------------------------------------------------------

    def segment_messages(self, write_key: str | None = None) -> list[dict[str, Any]]:
        """Recorded messages, oldest first, optionally only those sent with ``write_key``."""
        with self.lock:
            return [
                copy.deepcopy(m)
                for m in self._segment()["messages"]
                if write_key is None or m["write_key"] == write_key
            ]

    @property
    def segment_nonconforming(self) -> list[dict[str, Any]]:
        """Messages that look like LD events but do not match the LD schema (``schema_errors``)."""
        with self.lock:
            return [copy.deepcopy(m) for m in self._segment()["messages"] if m["schema_errors"]]

    def clear_segment_messages(self) -> None:
        with self.mutate() as s:
            s["segment"]["messages"] = []
            self._segment_seen = None

    def segment_seen(self, now_ms: int) -> dict[str, int]:
        """The live dedup index (hold ``lock``), rebuilt from the messages after a load."""
        if self._segment_seen is None:
            self._segment_seen = {
                m["messageId"]: m["received_ms"]
                for m in self._segment()["messages"]
                if m["dropped"] is None and now_ms - m["received_ms"] < DEDUP_WINDOW_MS
            }
        return self._segment_seen

    def append_segment_messages(self, records: list[dict[str, Any]]) -> None:
        """Store records made by the intake (which holds the lock while deciding drops)."""
        with self.mutate() as s:
            messages = s["segment"]["messages"]
            seq = messages[-1]["seq"] if messages else 0
            for rec in records:
                seq += 1
                rec["seq"] = seq
                messages.append(rec)
            if len(messages) > MESSAGES_LIMIT:
                del messages[: len(messages) - MESSAGES_LIMIT]

    # --- sources -------------------------------------------------------------------------------

    def _segment_source(self, source_id: str) -> dict[str, Any]:
        from ..store import StoreError  # late import: store.py imports this module

        try:
            src: dict[str, Any] = self._segment()["sources"][source_id]
        except KeyError:
            raise StoreError(f"no Segment source {source_id!r}") from None
        return src

    def segment_sources(self) -> list[dict[str, Any]]:
        with self.lock:
            return copy.deepcopy(list(self._segment()["sources"].values()))

    def segment_source(self, source_id: str) -> dict[str, Any]:
        with self.lock:
            return copy.deepcopy(self._segment_source(source_id))

    def segment_source_for_key(self, write_key: str) -> dict[str, Any] | None:
        """The live source holding ``write_key`` (hold ``lock``), or ``None``."""
        for src in self._segment()["sources"].values():
            if write_key in src["writeKeys"]:
                found: dict[str, Any] = src
                return found
        return None

    def add_segment_source(self, name: str, **fields: Any) -> dict[str, Any]:
        """Create a source as the seed would (``SeedError`` for bad fields, ``StoreError`` if it exists)."""
        from ..store import StoreError

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
            raw = {k: current[k] for k in EDITABLE_FIELDS}
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

    # --- workspace -----------------------------------------------------------------------------

    @property
    def segment_tokens(self) -> dict[str, dict[str, bool]]:
        with self.lock:
            return copy.deepcopy(self._segment()["tokens"])

    def add_segment_token(self, token: str, source_admin: bool = False) -> None:
        """A Public API token; only ``source_admin`` tokens see sources' write keys."""
        with self.mutate() as s:
            s["segment"]["tokens"][token] = {"source_admin": bool(source_admin)}

    @property
    def segment_region(self) -> str:
        with self.lock:
            region: str = self._segment()["region"]
            return region
