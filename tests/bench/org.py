"""The benchmark organisation: its seed, its configs, and the request counts it implies.

One description (``OrgSize``) drives everything, so the numbers the targets are checked against are
computed from the seed, never hard-coded: the flags are generated with the sandbox's own
``generate_flags`` (deterministic per seed), which gives the harness the exact keys, tags and archived
flags the sandbox will serve. From them come the minimum request count of a plan, the per-object
strategy's count (the Terraform provider's 2 GETs per managed flag-environment + 1 per destination),
and the flag-environments the drift scenarios change.
"""

from __future__ import annotations

import math
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from typing import Any

from ldseg.sandbox.seed import generate_flags

#: The first environments get familiar names; more are numbered.
ENV_NAMES = ("production", "staging", "qa", "dev")
#: The tag pool flags draw 1 or 2 tags from (so about a quarter carry the selected tag).
TAGS = ("analytics", "growth", "checkout", "search", "mobile", "infra")
SELECTED_TAG = "analytics"
#: Before the converging apply, a few flags already export (so it also turns some off).
TRACKED_FRACTION = 0.02
ARCHIVED_FRACTION = 0.01
#: LD's flag list cap under API 20240415, and ldseg's environments per list request.
PAGE_LIMIT = 100
ENVS_PER_REQUEST = 3
DESTINATIONS_PER_ENV = 2
#: The Segment write key: in the seed (so the destinations start converged) and in the config's env.
WRITE_KEY_VAR = "BENCH_SEGMENT_WRITE_KEY"
WRITE_KEY = "bench-wk-5d41402abc4b2a76b9719d91"
COMMENT = "ldseg benchmark"


@dataclass(frozen=True)
class OrgSize:
    """``projects`` x ``envs`` environments x ``flags`` flags per project."""

    projects: int
    envs: int
    flags: int

    @classmethod
    def parse(cls, text: str) -> OrgSize:
        """``"5x4x2000"`` -> OrgSize(5, 4, 2000); ValueError with the expected shape otherwise."""
        parts = text.lower().replace("×", "x").split("x")
        try:
            p, e, f = (int(x) for x in parts)
        except ValueError:
            raise ValueError(f"expected PROJECTSxENVSxFLAGS such as 5x4x2000, got {text!r}") from None
        if p < 1 or e < 1 or f < 1:
            raise ValueError(f"every size must be at least 1, got {text!r}")
        return cls(p, e, f)

    def __str__(self) -> str:
        return f"{self.projects}x{self.envs}x{self.flags}"

    @property
    def flag_envs(self) -> int:
        return self.projects * self.envs * self.flags

    @property
    def project_keys(self) -> list[str]:
        return [f"bench-{i}" for i in range(self.projects)]

    @property
    def env_keys(self) -> list[str]:
        return [ENV_NAMES[i] if i < len(ENV_NAMES) else f"env-{i}" for i in range(self.envs)]


@dataclass(frozen=True)
class Flag:
    """A generated flag, as the harness needs it (the sandbox holds the full record)."""

    key: str
    tags: tuple[str, ...]
    archived: bool
    tracked: dict[str, bool]

    @property
    def selected(self) -> bool:
        return SELECTED_TAG in self.tags


def generator_spec(size: OrgSize, project_index: int) -> dict[str, Any]:
    """The seed's ``generate_flags`` entry for one project (its own RNG seed, so projects differ)."""
    return {
        "count": size.flags,
        "prefix": "flag-",
        "name_prefix": "Flag ",
        "tags": list(TAGS),
        "track_events": dict.fromkeys(size.env_keys, TRACKED_FRACTION),
        "archived": ARCHIVED_FRACTION,
        "seed": 1000 + project_index,
    }


def iter_project_flags(size: OrgSize) -> Iterator[tuple[str, list[dict[str, Any]]]]:
    """(project, its flags as sandbox records), one project at a time to bound memory."""
    envs: dict[str, Any] = {e: {} for e in size.env_keys}  # only the keys matter
    for i, project in enumerate(size.project_keys):
        yield project, generate_flags(project, generator_spec(size, i), envs, f"bench.{project}")


def generate_org(size: OrgSize) -> dict[str, list[Flag]]:
    """Project -> its flags in key order, exactly as the sandbox seeded with ``seed_document`` has them."""
    out: dict[str, list[Flag]] = {}
    for project, records in iter_project_flags(size):
        out[project] = [
            Flag(
                key=r["key"],
                tags=tuple(r["tags"]),
                archived=bool(r["archived"]),
                tracked={e: bool(c["trackEvents"]) for e, c in r["environments"].items()},
            )
            for r in records
        ]
    return out


def seed_document(size: OrgSize) -> dict[str, Any]:
    """The sandbox seed: generated flags, and the two destinations of every environment, already as the
    config declares them (so only the flags need converging)."""
    projects: dict[str, Any] = {}
    destinations: list[dict[str, Any]] = []
    for i, p in enumerate(size.project_keys):
        projects[p] = {
            "name": f"Benchmark {i}",
            "environments": {e: {"name": e.title()} for e in size.env_keys},
            "generate_flags": generator_spec(size, i),
        }
        for e in size.env_keys:
            destinations += [
                {
                    "project": p,
                    "environment": e,
                    "name": "segment-main",
                    "kind": "segment",
                    "on": True,
                    "config": {"writeKey": WRITE_KEY, "userIDContextKind": "user"},
                },
                {
                    "project": p,
                    "environment": e,
                    "name": "kinesis-archive",
                    "kind": "kinesis",
                    "on": True,
                    "config": kinesis_config(p, e),
                },
            ]
    return {"settings": {"mask_style": "edges"}, "projects": projects, "destinations": destinations}


def kinesis_config(project: str, env: str) -> dict[str, str]:
    return {
        "region": "us-east-1",
        "roleArn": "arn:aws:iam::123456789012:role/ld-data-export",
        "streamName": f"ld-{project}-{env}",
    }


# --- configs ------------------------------------------------------------------------------------


def _settings() -> list[str]:
    """The audit comment (so ldseg does not ask git), and the safety rail on export-off percentages
    opened up: converging the synthetic organisation turns off most of its few stray exports, which
    the default 30% rail would (rightly, for a real account) refuse."""
    return ["settings:", f"  comment: {COMMENT!r}", "  safety:", "    max_export_off_percent: 100"]


def full_config(size: OrgSize) -> str:
    """Every environment: both destinations owned, and export for the flags tagged ``analytics``
    with ``others: off`` (so every flag-environment is managed: the 40,000 of the issue)."""
    lines = ["version: 1", *_settings(), "projects:"]
    for p in size.project_keys:
        lines += [f"  {p}:", "    environments:"]
        for e in size.env_keys:
            k = kinesis_config(p, e)
            lines += [
                f"      {e}:",
                "        destinations:",
                "          segment-main:",
                "            kind: segment",
                "            config:",
                f"              writeKey: ${{{WRITE_KEY_VAR}}}",
                "              userIDContextKind: user",
                "          kinesis-archive:",
                "            kind: kinesis",
                "            config:",
                *(f"              {f}: {v!r}" for f, v in k.items()),
                "        export:",
                f"          flags: {{tags: [{SELECTED_TAG}], others: 'off'}}",
            ]
    return "\n".join(lines) + "\n"


def keys_config(project: str, env: str, keys: Sequence[str]) -> str:
    """One environment exporting a few exact keys, other flags kept: reading must not list the project."""
    lines = ["version: 1", *_settings(), "projects:", f"  {project}:", "    environments:", f"      {env}:"]
    lines += ["        export:", f"          flags: {{keys: [{', '.join(keys)}], others: keep}}"]
    return "\n".join(lines) + "\n"


def exact_keys(flags: Sequence[Flag], n: int = 3) -> list[str]:
    """``n`` live (not archived) keys spread over the project: first, middle, last..."""
    live = [f.key for f in flags if not f.archived]
    if len(live) <= n:
        return live
    return [live[round(i * (len(live) - 1) / (n - 1))] for i in range(n)] if n > 1 else live[:1]


# --- request arithmetic -------------------------------------------------------------------------


def live_flags(flags: Sequence[Flag]) -> int:
    """Flags the list endpoint returns (LD leaves archived flags out)."""
    return sum(1 for f in flags if not f.archived)


def list_pages(size: OrgSize, org: dict[str, list[Flag]]) -> int:
    """Flag list pages at limit 100 with 3 environments per request, every project (at least one
    page per request group, even for an empty project)."""
    groups = math.ceil(size.envs / ENVS_PER_REQUEST)
    return sum(groups * max(1, math.ceil(live_flags(fl) / PAGE_LIMIT)) for fl in org.values())


def minimum_plan_requests(size: OrgSize, org: dict[str, list[Flag]]) -> int:
    """The issue's minimum for a full plan: list pages + 1 destinations list + 1 read per environment."""
    return list_pages(size, org) + 1 + size.projects * size.envs


def managed_flag_envs(org: dict[str, list[Flag]], envs: int) -> int:
    """With ``others: off`` every live flag-environment of a declared scope is managed."""
    return sum(live_flags(fl) for fl in org.values()) * envs


def destinations(size: OrgSize) -> int:
    return DESTINATIONS_PER_ENV * size.projects * size.envs


def per_object_reads(size: OrgSize, org: dict[str, list[Flag]]) -> int:
    """The per-object strategy (Terraform provider): 2 GETs per managed flag-environment + 1 per
    destination."""
    return 2 * managed_flag_envs(org, size.envs) + destinations(size)


# --- drift --------------------------------------------------------------------------------------


Target = tuple[str, str, str]  # (project, flag key, environment)


def drift_targets(size: OrgSize, org: dict[str, list[Flag]], n: int) -> list[Target]:
    """``n`` selected flag-environments to switch off behind ldseg's back, so the next plan has ``n``
    flag changes. Distinct flags first (round-robin over projects, environments rotating), so the
    apply needs one PATCH per change; only past one per flag does a flag get a second environment."""
    envs = size.env_keys
    cands = {p: [f for f in fl if f.selected and not f.archived] for p, fl in org.items()}
    longest = max((len(c) for c in cands.values()), default=0)
    out: list[Target] = []
    for rotation in range(len(envs)):
        for i in range(longest):
            for p in size.project_keys:
                if i < len(cands[p]):
                    out.append((p, cands[p][i].key, envs[(i + rotation) % len(envs)]))
                    if len(out) == n:
                        return out
    return out


def patches_for(targets: Sequence[Target]) -> int:
    """ldseg writes one PATCH per flag, covering all its environments."""
    return len({(p, k) for p, k, _ in targets})
