"""LaunchDarkly's REST API, one module per area, and the sandbox's own admin API.

Each module has ``register(app)``; the server calls ``register_all`` (Segment's APIs are
``segment_emu.register``).
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from . import admin, approvals, destinations, flags, projects

if TYPE_CHECKING:
    from ..app import SandboxApp


def register_all(app: SandboxApp) -> None:
    destinations.register(app)
    flags.register(app)
    projects.register(app)
    approvals.register(app)
    admin.register(app)
