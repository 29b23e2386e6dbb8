"""Fault specs: what the fault injector should do, parsed from a string, a mapping, a list or a file.

Grammar (one rule)::

    spec     := item ("," item)*
    item     := key "=" value          (a bare item continues the previous value: "methods=POST,PATCH")
    key      := rate | global_rate | quirk | error | drop | drop_after | latency | routes | methods | seed
    rate     := N ["/" DURATION]       (N requests per window; the default window is LD's 10s)
    DURATION := NUMBER ("ms" | "s" | "m")      latency := DURATION | NUMBER (milliseconds)
    error, drop, drop_after := probability 0..1 or a percentage ("5%")
    quirk    := standard | negative | none | retry-after
    routes   := glob ("," | "|") ...   (on the route name "PATCH /api/v2/flags/{projectKey}/...",
                                        or on the template alone when the glob starts with "/")
    methods  := METHOD ("," | " ") ...
    seed     := integer                (no seed: a random one, reported by ``describe()``)

``@path.json`` / ``@path.yaml`` reads a file holding one mapping or a list of mappings (several
rules); a mapping uses the same keys (``-`` and ``_`` interchangeable) with strings, numbers or lists
as values. Every error is a ``ValueError`` naming the key at fault.
"""

from __future__ import annotations

import fnmatch
import json
import re
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any, TypeAlias

import yaml

QUIRKS = ("standard", "negative", "none", "retry-after")
KEYS = ("rate", "global_rate", "quirk", "error", "drop", "drop_after", "latency", "routes", "methods", "seed")
HTTP_METHODS = ("GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS")
LD_WINDOW_S = 10.0  # LD counts its limits in 10-second windows

FaultSpec: TypeAlias = "str | Mapping[str, Any] | list[Any] | None"

_DURATION = re.compile(r"^\s*(\d+(?:\.\d+)?)\s*(ms|s|m)?\s*$")
_UNIT_S = {"ms": 0.001, "s": 1.0, "m": 60.0}


@dataclass(frozen=True)
class Rate:
    limit: int
    period_s: float

    def __str__(self) -> str:
        return f"{self.limit}/{self.period_s:g}s"


@dataclass(frozen=True)
class FaultRule:
    """One rule; its faults apply only to the LD requests it targets (global_rate: to all of them)."""

    rate: Rate | None = None
    global_rate: Rate | None = None
    quirk: str = "standard"
    error: float = 0.0
    drop: float = 0.0
    drop_after: float = 0.0
    latency_ms: float = 0.0
    routes: tuple[str, ...] = ()
    methods: tuple[str, ...] = ()
    seed: int | None = None

    def targets(self, route_name: str, template: str, method: str) -> bool:
        if self.methods and method.upper() not in self.methods:
            return False
        if not self.routes:
            return True
        return any(fnmatch.fnmatchcase(template if g.startswith("/") else route_name, g) for g in self.routes)

    def to_dict(self) -> dict[str, Any]:
        """The rule as a mapping that ``parse_faults`` accepts back (for ``GET /_sandbox/faults``)."""
        return {
            "rate": str(self.rate) if self.rate else None,
            "global_rate": str(self.global_rate) if self.global_rate else None,
            "quirk": self.quirk,
            "error": self.error,
            "drop": self.drop,
            "drop_after": self.drop_after,
            "latency": f"{self.latency_ms:g}ms",
            "routes": list(self.routes),
            "methods": list(self.methods),
            "seed": self.seed,
        }


def _bad(key: str, message: str, value: Any) -> ValueError:
    return ValueError(f"fault spec: {key}: {message}, got {value!r}")


def _seconds(key: str, raw: str, default_unit: str) -> float:
    m = _DURATION.match(raw)
    if not m:
        raise _bad(key, "expected a duration like 10s, 500ms or 1m", raw)
    return float(m.group(1)) * _UNIT_S[m.group(2) or default_unit]


def _rate(key: str, value: Any) -> Rate:
    if isinstance(value, bool) or not isinstance(value, (int, str)):
        raise _bad(key, "expected N or N/DURATION (e.g. 20/10s)", value)
    count, _, window = str(value).partition("/")
    if not count.strip().isdigit():
        raise _bad(key, "expected N or N/DURATION (e.g. 20/10s)", value)
    period = _seconds(key, window, "s") if window.strip() else LD_WINDOW_S
    if period <= 0:
        raise _bad(key, "the window must be longer than 0", value)
    return Rate(int(count), period)


def _probability(key: str, value: Any) -> float:
    try:
        if isinstance(value, bool):
            raise TypeError
        if isinstance(value, str) and value.strip().endswith("%"):
            p = float(value.strip()[:-1]) / 100
        else:
            p = float(value)
    except (TypeError, ValueError):
        raise _bad(key, "expected a probability between 0 and 1", value) from None
    if not 0 <= p <= 1:
        raise _bad(key, "expected a probability between 0 and 1", value)
    return p


def _latency(key: str, value: Any) -> float:
    if isinstance(value, bool):
        raise _bad(key, "expected milliseconds or a duration", value)
    if isinstance(value, (int, float)):
        ms = float(value)
    elif isinstance(value, str):
        ms = _seconds(key, value, "ms") * 1000
    else:
        raise _bad(key, "expected milliseconds or a duration", value)
    if ms < 0:
        raise _bad(key, "must not be negative", value)
    return ms


def _words(key: str, value: Any, seps: str) -> list[str]:
    if isinstance(value, str):
        return [w.strip() for w in re.split(f"[{re.escape(seps)}]", value) if w.strip()]
    if isinstance(value, list) and all(isinstance(v, str) for v in value):
        return [v.strip() for v in value if v.strip()]
    raise _bad(key, "expected a string or a list of strings", value)


def _methods(key: str, value: Any) -> tuple[str, ...]:
    methods = tuple(m.upper() for m in _words(key, value, ", "))
    unknown = [m for m in methods if m not in HTTP_METHODS]
    if unknown:
        raise _bad(key, f"unknown HTTP method(s) {', '.join(unknown)}", value)
    return methods


def _seed(key: str, value: Any) -> int:
    if isinstance(value, bool):
        raise _bad(key, "expected an integer", value)
    try:
        return int(value)
    except (TypeError, ValueError):
        raise _bad(key, "expected an integer", value) from None


def rule_from_mapping(raw: Mapping[str, Any]) -> FaultRule:
    """One rule from a mapping of spec keys (``-``/``_`` interchangeable)."""
    fields: dict[str, Any] = {}
    for raw_key, value in raw.items():
        key = str(raw_key).strip().replace("-", "_")
        if key not in KEYS:
            raise ValueError(f"fault spec: unknown key {raw_key!r}; allowed: {', '.join(KEYS)}")
        if value is None:  # null = the default (``to_dict`` writes unset values so)
            continue
        if key in ("rate", "global_rate"):
            fields[key] = _rate(key, value)
        elif key == "quirk":
            if value not in QUIRKS:
                raise _bad(key, f"expected one of {', '.join(QUIRKS)}", value)
            fields[key] = value
        elif key in ("error", "drop", "drop_after"):
            fields[key] = _probability(key, value)
        elif key == "latency":
            fields["latency_ms"] = _latency(key, value)
        elif key == "routes":
            fields[key] = tuple(_words(key, value, ",|"))
        elif key == "methods":
            fields[key] = _methods(key, value)
        else:
            fields[key] = _seed(key, value)
    return FaultRule(**fields)


def split_spec_string(text: str) -> dict[str, str]:
    """``"rate=20/10s,methods=POST,PATCH"`` -> ``{"rate": "20/10s", "methods": "POST,PATCH"}``."""
    out: dict[str, str] = {}
    last: str | None = None
    for part in text.split(","):
        if not part.strip():
            continue
        key, sep, value = part.partition("=")
        if sep:
            last = key.strip()
            if last in out:
                raise ValueError(f"fault spec: {last}: given twice")
            out[last] = value.strip()
        elif last is None:
            raise ValueError(f"fault spec: expected key=value, got {part.strip()!r}")
        else:
            out[last] += "," + part.strip()
    return out


def _load_file(path: str) -> Any:
    p = Path(path).expanduser()
    try:
        text = p.read_text(encoding="utf-8")
    except OSError as e:
        raise ValueError(f"fault spec: cannot read {p}: {e}") from None
    try:
        return json.loads(text) if p.suffix.lower() == ".json" else yaml.safe_load(text)
    except (json.JSONDecodeError, yaml.YAMLError) as e:
        raise ValueError(f"fault spec: {p}: not valid JSON/YAML: {e}") from None


def parse_faults(spec: FaultSpec) -> list[FaultRule]:
    """The rules ``spec`` describes (``None`` or ``""`` = no faults)."""
    if spec is None:
        return []
    if isinstance(spec, str):
        text = spec.strip()
        if not text:
            return []
        if text.startswith("@"):
            loaded = _load_file(text[1:])
            if isinstance(loaded, str) or loaded is None:
                raise ValueError(f"fault spec: {text[1:]}: expected a mapping or a list of mappings")
            return parse_faults(loaded)
        return [rule_from_mapping(split_spec_string(text))]
    if isinstance(spec, Mapping):
        return [rule_from_mapping(spec)]
    if isinstance(spec, list):
        rules: list[FaultRule] = []
        for i, item in enumerate(spec):
            if not isinstance(item, (str, Mapping)):
                raise ValueError(f"fault spec: rule [{i}]: expected a mapping or a string, got {item!r}")
            rules.extend(parse_faults(item))
        return rules
    raise ValueError(f"fault spec: expected a string, a mapping or a list, got {type(spec).__name__}")
