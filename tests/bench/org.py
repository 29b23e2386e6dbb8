"""The benchmark organisation: its seed, its configs, and the request counts it implies.

One description (``OrgSize``) drives everything, so the numbers the targets are checked against are
computed from the seed, never hard-coded: the flags are generated with the sandbox's own
``generate_flags`` (deterministic per seed), which gives the harness the exact keys, tags and archived
flags the sandbox will serve. From them come the minimum request count of a plan, the per-object
strategy's count (the Terraform provider's 2 GETs per managed flag-environment + 1 per destination),
and the flag-environments the drift scenarios change.
"""

from __future__ import annotations

import json
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


#: The adoption account of (g) and (h): about half the flags export in production and staging
#: (so ``ldseg export`` writes ``keys:`` lists of ~1,000), a few elsewhere.
HALF_TRACKED = {"production": 0.5, "staging": 0.5}

Tracking = dict[str, float]  # environment -> fraction of flags exporting there in the seed


def tracking(size: OrgSize, halves: bool = False) -> Tracking:
    """The seed's export fractions: the main account's few stray exports, or the adoption account's
    halves. The flags' keys, tags and archived state are the same either way (same RNG draws)."""
    base = dict.fromkeys(size.env_keys, TRACKED_FRACTION)
    return base | {e: f for e, f in HALF_TRACKED.items() if e in base} if halves else base


def generator_spec(size: OrgSize, project_index: int, track: Tracking | None = None) -> dict[str, Any]:
    """The seed's ``generate_flags`` entry for one project (its own RNG seed, so projects differ)."""
    return {
        "count": size.flags,
        "prefix": "flag-",
        "name_prefix": "Flag ",
        "tags": list(TAGS),
        "track_events": track or tracking(size),
        "archived": ARCHIVED_FRACTION,
        "seed": 1000 + project_index,
    }


def iter_project_flags(
    size: OrgSize, track: Tracking | None = None
) -> Iterator[tuple[str, list[dict[str, Any]]]]:
    """(project, its flags as sandbox records), one project at a time to bound memory."""
    envs: dict[str, Any] = {e: {} for e in size.env_keys}  # only the keys matter
    for i, project in enumerate(size.project_keys):
        yield project, generate_flags(project, generator_spec(size, i, track), envs, f"bench.{project}")


def generate_org(size: OrgSize, track: Tracking | None = None) -> dict[str, list[Flag]]:
    """Project -> its flags in key order, exactly as the sandbox seeded with ``seed_document`` has them."""
    out: dict[str, list[Flag]] = {}
    for project, records in iter_project_flags(size, track):
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


def seed_document(size: OrgSize, track: Tracking | None = None) -> dict[str, Any]:
    """The sandbox seed: generated flags, and the two destinations of every environment, already as the
    config declares them (so only the flags need converging)."""
    projects: dict[str, Any] = {}
    destinations: list[dict[str, Any]] = []
    for i, p in enumerate(size.project_keys):
        projects[p] = {
            "name": f"Benchmark {i}",
            "environments": {e: {"name": e.title()} for e in size.env_keys},
            "generate_flags": generator_spec(size, i, track),
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


def paired_drift_targets(size: OrgSize, org: dict[str, list[Flag]], n: int) -> list[Target]:
    """(h): ``n`` flag-environments in pairs: flags exporting in both production and staging, switched
    off in both, so the apply writes two environments per PATCH (``n // 2`` PATCHes). Distinct flags,
    round-robin over projects."""
    both = {
        p: [f for f in fl if not f.archived and f.tracked.get("production") and f.tracked.get("staging")]
        for p, fl in org.items()
    }
    out: list[Target] = []
    for i in range(max((len(c) for c in both.values()), default=0)):
        for p in size.project_keys:
            if i < len(both[p]) and len(out) < n - 1:
                out += [(p, both[p][i].key, "production"), (p, both[p][i].key, "staging")]
    return out


# --- (i): many destinations ----------------------------------------------------------------------


@dataclass(frozen=True)
class DestSize:
    """(i): ``projects`` x ``envs`` environments, ``per_env`` destinations in each (half Segment,
    half Kinesis), and no flags to speak of: the config's size is all destinations."""

    projects: int = 5
    envs: int = 10
    per_env: int = 100

    @classmethod
    def parse(cls, text: str) -> DestSize:
        """``"5x10x100"`` -> DestSize(5, 10, 100)."""
        size = OrgSize.parse(text)
        return cls(size.projects, size.envs, size.flags)

    def __str__(self) -> str:
        return f"{self.projects}x{self.envs}x{self.per_env}"

    @property
    def scopes(self) -> list[tuple[str, str]]:
        return [(f"dests-{p}", f"env-{e}") for p in range(self.projects) for e in range(self.envs)]

    @property
    def total(self) -> int:
        return self.projects * self.envs * self.per_env


def _dest(project: str, env: str, i: int) -> dict[str, Any]:
    """Destination ``i`` of a scope; every Segment one has its own write key, so redaction and the
    secret comparisons face thousands of distinct secrets."""
    if i % 2:
        key = f"wk-{project}-{env}-{i:04d}-5d41402abc4b2a76"
        return {
            "name": f"segment-{i:04d}",
            "kind": "segment",
            "config": {"writeKey": key, "userIDContextKind": "user"},
        }
    return {"name": f"kinesis-{i:04d}", "kind": "kinesis", "config": kinesis_config(project, f"{env}-{i}")}


def dests_seed_document(size: DestSize) -> dict[str, Any]:
    """The sandbox already holds every destination of ``dests_config``: the plan has no changes."""
    projects: dict[str, Any] = {}
    destinations: list[dict[str, Any]] = []
    for p, e in size.scopes:
        projects.setdefault(p, {"name": p, "environments": {}})["environments"][e] = {"name": e}
        destinations += [
            {"project": p, "environment": e, "on": True, **_dest(p, e, i)} for i in range(size.per_env)
        ]
    return {"settings": {"mask_style": "edges"}, "projects": projects, "destinations": destinations}


def dests_config(size: DestSize) -> str:
    """Every destination declared; the write keys as ``${VAR:-default}`` (a variable, as a config
    keeps its secrets, that needs no thousands of variables set in the benchmark's environment)."""
    lines = ["version: 1", *_settings(), "projects:"]
    by_project: dict[str, list[str]] = {}
    for p, e in size.scopes:
        by_project.setdefault(p, []).append(e)
    for p, envs in by_project.items():
        lines += [f"  {p}:", "    environments:"]
        for e in envs:
            lines += [f"      {e}:", "        destinations:"]
            for i in range(size.per_env):
                d = _dest(p, e, i)
                lines += [f"          {d['name']}:", f"            kind: {d['kind']}", "            config:"]
                for f, v in d["config"].items():
                    value = f"${{BENCH_UNSET_{i % 7}:-{v}}}" if f == "writeKey" else v
                    lines.append(f"              {f}: {json.dumps(value)}")
    return "\n".join(lines) + "\n"


# --- (j): thousands of exact keys, no HTTP -------------------------------------------------------


def keys_per_scope_config(size: OrgSize, per_scope: int) -> str:
    """Every environment exports ``per_scope`` exact keys (every n-th flag) with ``others: off``, as
    ``ldseg export`` writes it: 20 scopes x 500 keys = the 10,000 exact keys of (j)."""
    step = max(1, size.flags // per_scope)
    width = max(4, len(str(size.flags - 1)))
    lines = ["version: 1", *_settings(), "projects:"]
    for p in size.project_keys:
        lines += [f"  {p}:", "    environments:"]
        for e in size.env_keys:
            lines += [f"      {e}:", "        export:", "          flags:", "            keys:"]
            lines += [f"              - flag-{i:0{width}d}" for i in range(0, size.flags, step)][:per_scope]
            lines.append("            others: 'off'")
    return "\n".join(lines) + "\n"
