"""An emulated LaunchDarkly REST API (the parts ldseg uses) and Segment's APIs, served over real HTTP.

Nothing in ldseg's test suite can reach LaunchDarkly, so every test runs against this sandbox; it
emulates LD faithfully, quirks included, and where LD's behaviour is UNCONFIRMED it takes the most
defensive reading (making it a setting where that is useful). The sandbox is self-contained: it
imports nothing from the rest of ldseg, and the rest of ldseg reaches it only through this package
(``ldseg.runtime`` for ``--sandbox``, ``ldseg.cli.sandbox_cmd`` for ``ldseg sandbox``)::

    from ldseg.sandbox import DEFAULT_TOKEN, Sandbox

    with Sandbox(seed="examples/quickstart/seed.yaml") as sb:
        httpx.get(sb.url + "/api/v2/destinations", headers={"Authorization": DEFAULT_TOKEN})
        sb.grants()          # the LD tokens (with roles) and Segment tokens the account accepts

Public API: ``Sandbox``, ``Grants``, ``DEFAULT_TOKEN`` (the admin token a ``Sandbox`` accepts unless
given another), ``DEFAULT_SEGMENT_TOKEN`` (the Public API token ``--sandbox`` sends; the quickstart
seed grants it Source Admin), ``load_seed``, ``seed_digest`` (which seed a state was made from:
``Sandbox.seed_digest``), and the errors a user can cause, each one line: ``SeedError`` (a seed
that is not one), ``StateError`` (a state file that is not one, e.g. a seed given in its place)
and ``ServeError`` (the port is in use). Tests and benchmarks use
``testing.SandboxForTests``, whose store has a direct-access API (arrange and inspect state without
HTTP), and the app's extension points (``app``, ``exchange``).

Modules, from the top down (import-linter keeps the layers, see pyproject.toml):

- ``testing``: helpers for tests and benchmarks (``SandboxForTests``, ``StoreForTests``), not used by
  the server;
- ``server``: ``Sandbox`` (lifecycle, state file, route registration, ``grants()``);
- ``routes/`` (LD's API, one module per area: destinations, flags, projects and environments, flag
  approval requests; and the ``/_sandbox/`` admin API: test machinery) and ``segment_emu/``
  (Segment's tracking and Public APIs, the LD event schemas);
- ``app``: the WSGI app (routing, guards, pipeline, request log ``reqlog``, extension hooks);
- ``faults`` and ``faultspec`` (fault injection, ``rate_windows``: fixed-window counters);
- ``exchange``: what handlers and middleware see (``SandboxRequest``, ``Call``, ``Reply``, JSON
  responses);
- ``store`` (state, lock) and ``seed`` (seed documents -> state; ``workspace``: the Segment part,
  with ``source_catalog``; ``validation``: the checks they share), ``persistence`` (state file);
- ``records`` (record constructors, the state document), ``representations`` (LD's JSON),
  ``patching`` (JSON Patch / merge patch), ``masking`` (secrets), ``pagination``, ``exceptions``
  (``HttpError``, ``SeedError``, ``StateError``, ``ServeError``, ``StoreError``) and
  ``approval_rules`` (LD's approval rules: what gates a flag change, what reviews and applying may
  do).

Seed format (YAML or JSON; every key optional)::

    settings:
      mask_style: edges          # edges (abc********xyz, all "*" below 12 chars) | stars | last4
      config_as_string: false    # destination config returned as a JSON string
      validate_config: true      # 400 when a destination lacks the config fields LD documents
      max_flag_limit: 100        # flags list: larger limit -> 400
      max_flag_envs: 3           # flags list: more env= values -> 400
      max_environment_limit: 100
      max_project_limit: 1000
      segment_volume_delay_s: 0  # Segment /events/volume sees a tracked message this long after it
      segment_volume_rate_per_minute: 60   # Segment /events/volume requests per minute per token
    tokens: {api-reader-0000: reader, api-noaccess-0000: none}
      # roles: admin, writer, reader, none, and bypass: a writer whose flag changes skip required
      # approvals (LD's bypassRequiredApproval action). Each token acts as one member (its id:
      # records.member_id), so a second token is a second person, e.g. to review approval requests.
    projects:
      web:
        name: Web shop
        tags: []
        includeInSnippetByDefault: false
        environments:
          production: {name: Production, defaultTrackEvents: false, approvalRequired: false,
                       color: "417505", defaultTtl: 0, secureMode: false, requireComments: false,
                       confirmChanges: false, tags: [], critical: true}
          staging:
            approvalSettings:    # LD's ApprovalSettings, every field optional (LD's defaults shown);
              required: false    # approvalRequired: true is a shorthand for this one
              requiredApprovalTags: []   # gate only flags with one of these tags (not with required)
              minNumApprovals: 1         # 1 to 5
              canReviewOwnRequest: false
              canApplyDeclinedChanges: true
              autoApplyApprovedChanges: false   # true: approving applies at once
              bypassApprovalsForPendingChanges: false   # shown, not acted on
              serviceKind: launchdarkly
              serviceConfig: {}
              serviceKindConfigurationId: optional-id
        flags:
          checkout-v2: {name: Checkout v2, description: "", tags: [analytics], archived: false,
                        deprecated: false, temporary: true, creationDate: 1704067200000,
                        trackEvents: {production: true},          # or a bare bool for every env
                        trackEventsFallthrough: {production: false}, on: {production: true}}
        generate_flags:          # a mapping or a list of them
          {count: 2000, prefix: "flag-", name_prefix: "Flag ", tags: [analytics, growth],
           track_events: {production: 0.1}, archived: 0.01, seed: 42}
    destinations:
      - {project: web, environment: production, name: segment-main, kind: segment, on: false,
         config: {writeKey: "...", userIDContextKind: user}, _id: optional-24-hex, version: 1}
    segment:                     # the Segment workspace (see workspace.py)
      region: us                 # us | eu (EU workspaces cannot connect the LaunchDarkly source)
      tokens: {sgp-admin-token: {source_admin: true}, sgp-member-token: {source_admin: false}}
      sources:
        - {id: src_ld_prod, name: LaunchDarkly (prod), slug: launchdarkly-prod, enabled: true,
           writeKeys: [wk-abc], catalog: launchdarkly}      # launchdarkly | javascript | http-api | {...}

Besides LD's REST API the same server emulates Segment (``segment_emu/``): the tracking API
(``POST /v1/track`` ...) records every message in the store, drop reasons and LD-schema conformance
included, and a Public API subset (``GET /sources``, ``/sources/{id}``, ``/events/volume``). The fault
injector (``faults``, ``Sandbox(faults=...)``, ``ldseg sandbox --faults``, ``PUT /_sandbox/faults``)
makes LD's routes misbehave on purpose.

Flag approvals (``routes/approvals``): a flag change in an environment whose ``approvalSettings``
gate it (``required``, or the flag has one of ``requiredApprovalTags``) answers 405 unless the token is
``bypass``; clients open approval requests instead (``POST /api/v2/projects/{p}/flags/{f}/
environments/{e}/approval-requests``), which other members review and anyone who may write applies.

The state file (``state_path``) is the store's own JSON (``format: ldseg-sandbox-state/1``); it
also keeps the audit log, violations and approval requests, so consecutive processes share them,
and the ``seed_digest`` of the seed it was built from. A file without that format marker (a seed,
YAML or JSON, given as the state file) is refused with a ``StateError``, never overwritten.
"""

from __future__ import annotations

from .exceptions import SeedError, ServeError, StateError
from .seed import load_seed, seed_digest
from .server import DEFAULT_SEGMENT_TOKEN, DEFAULT_TOKEN, Grants, Sandbox

__all__ = [
    "DEFAULT_SEGMENT_TOKEN",
    "DEFAULT_TOKEN",
    "Grants",
    "Sandbox",
    "SeedError",
    "ServeError",
    "StateError",
    "load_seed",
    "seed_digest",
]
