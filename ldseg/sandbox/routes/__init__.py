"""Route modules, one per API area; each has ``register(app)`` (Segment's APIs: ``../segment``)."""

from __future__ import annotations

from typing import TYPE_CHECKING

from . import admin, destinations, flags, projects

if TYPE_CHECKING:
    from ..app import SandboxApp


def register_all(app: SandboxApp) -> None:
    from .. import segment_emu  # late import: segment's modules import the app module too

    destinations.register(app)
    flags.register(app)
    projects.register(app)
    admin.register(app)
    segment_emu.register(app)
