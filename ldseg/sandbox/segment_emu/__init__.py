"""Segment, emulated in the same server as LD: the tracking API and a Public API subset.

LD's Segment destination sends to a Segment source's write key; ldseg checks that key and watches
events arrive through Segment's Public API. Both APIs live here, at root paths that cannot clash
with LD's ``/api/v2``:

- ``tracking``: ``POST /v1/{track,page,identify,screen,group,alias,batch}`` and ``/v1/{t,p,i,s,g,a,b}``
  (API ``"segment-tracking"``, no auth), recording every message via ``intake`` with the reason
  Segment would silently drop it (``messages``) and its LD-schema conformance (``conformance``);
- ``public_api``: ``GET /sources``, ``GET /sources/{sourceId}``, ``GET /events/volume``
  (API ``"segment-public"``, Bearer tokens), with ``volume`` computing the counts;
- ``seed`` (the seed's ``segment:`` section), ``store`` (the ``Store`` mixin), ``catalog`` (source
  metadata), ``errors`` (Segment's error documents).
"""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from ..app import SandboxApp

#: The Public API token ``ldseg --sandbox`` uses when SEGMENT_PUBLIC_API_TOKEN is unset. The sandbox
#: knows it only because the quickstart seed lists it (``segment.tokens``, with Source Admin), so it
#: is an ordinary seeded token: a seed without it makes ``--sandbox`` source checks UNVERIFIED.
DEFAULT_SEGMENT_TOKEN = "sgp_sandbox_5e6d7c8b9a0f1e2d3c4b5a69788796a5"


def register(app: SandboxApp) -> None:
    # late import: the store imports this package (for its mixin) before the app module is complete
    from . import public_api, tracking

    tracking.register(app)
    public_api.register(app)
