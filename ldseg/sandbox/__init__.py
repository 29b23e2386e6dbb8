"""An emulated LaunchDarkly REST API (the parts ldseg uses), served over real HTTP.

Nothing in ldseg's test suite can reach LaunchDarkly, so every test runs against this sandbox; it
emulates LD faithfully, quirks included, and where LD's behaviour is UNCONFIRMED it takes the most
defensive reading (making it a setting where that is useful)::

    from ldseg.sandbox import Sandbox, DEFAULT_TOKEN, load_seed

    with Sandbox(seed="examples/quickstart/seed.yaml") as sb:
        httpx.get(sb.url + "/api/v2/destinations", headers={"Authorization": DEFAULT_TOKEN})
        sb.store.destinations("web", "production")   # raw records, secrets unmasked
        sb.requests()                                # request log
        sb.store.audit_log, sb.store.violations

Modules: ``server`` (Sandbox), ``app`` (WSGI app, pipeline, hooks), ``routes/`` (one module per API
area), ``store`` (state, lock, direct access), ``seed`` (seed documents), ``model`` (records),
``render`` (LD representations), ``patching`` (JSON Patch / merge patch), ``masking`` (secrets),
``pagination``, ``persistence`` (state file), ``reqlog`` (request log), ``errors``, ``faults`` and
``faultspec`` (fault injection), ``ratelimit`` (window counters), ``segment/`` (Segment's APIs).

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
    tokens: {api-reader-0000: reader, api-noaccess-0000: none}   # roles: admin, writer, reader, none
    projects:
      web:
        name: Web shop
        tags: []
        includeInSnippetByDefault: false
        environments:
          production: {name: Production, defaultTrackEvents: false, approvalRequired: false,
                       color: "417505", defaultTtl: 0, secureMode: false, requireComments: false,
                       confirmChanges: false, tags: [], critical: true}
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
    segment:                     # the Segment workspace (see segment/seed.py)
      region: us                 # us | eu (EU workspaces cannot connect the LaunchDarkly source)
      tokens: {sgp-admin-token: {source_admin: true}, sgp-member-token: {source_admin: false}}
      sources:
        - {id: src_ld_prod, name: LaunchDarkly (prod), slug: launchdarkly-prod, enabled: true,
           writeKeys: [wk-abc], catalog: launchdarkly}      # launchdarkly | javascript | http-api | {...}

Besides LD's REST API the same server emulates Segment (``segment/``): the tracking API
(``POST /v1/track`` ...) records every message in the store, drop reasons and LD-schema conformance
included, and a Public API subset (``GET /sources``, ``/sources/{id}``, ``/events/volume``). The fault
injector (``faults``, ``Sandbox(faults=...)``, ``PUT /_sandbox/faults``) makes LD's routes misbehave
on purpose.

The state file (``state_path``) is the store's own JSON (``format: ldseg-sandbox-state/1``); it
also keeps the audit log and violations, so consecutive processes share them.
"""

from __future__ import annotations

from .app import Reply, Route, SandboxApp, SandboxRequest
from .seed import SeedError, load_seed
from .server import DEFAULT_TOKEN, Sandbox
from .store import Store, StoreError

__all__ = [
    "DEFAULT_TOKEN",
    "Reply",
    "Route",
    "Sandbox",
    "SandboxApp",
    "SandboxRequest",
    "SeedError",
    "Store",
    "StoreError",
    "load_seed",
]
