"""Segment, emulated in the same server as LD: the tracking API and a Public API subset.

LD's Segment destination sends to a Segment source's write key; ldseg checks that key and watches
events arrive through Segment's Public API. Both APIs live here, at root paths that cannot clash
with LD's ``/api/v2``:

- ``tracking``: ``POST /v1/{track,page,identify,screen,group,alias,batch}`` and ``/v1/{t,p,i,s,g,a,b}``
  (API ``"segment-tracking"``, no auth), recording every message via ``intake`` with the reason
  Segment would silently drop it (``messages``) and its LD-schema conformance (``conformance``,
  against the JSON Schemas in ``event_schemas/``);
- ``public_api``: ``GET /sources``, ``GET /sources/{sourceId}``, ``GET /events/volume``
  (API ``"segment-public"``, Bearer tokens), with ``volume`` computing the counts;
- ``api_errors``: Segment's error documents.

The workspace itself (region, Public API tokens, sources, tracked messages) is state like LD's
account: the seed's ``segment:`` section is read by ``..workspace``, and the ``..store`` keeps it.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from . import public_api, tracking

if TYPE_CHECKING:
    from ..app import SandboxApp


def register(app: SandboxApp) -> None:
    tracking.register(app)
    public_api.register(app)
