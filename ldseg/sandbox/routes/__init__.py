"""Route modules, one per API area; each has ``register(app)``."""

from __future__ import annotations

from typing import TYPE_CHECKING

from . import admin, destinations, flags, projects

if TYPE_CHECKING:
    from ..app import SandboxApp


def register_all(app: SandboxApp) -> None:
    destinations.register(app)
    flags.register(app)
    projects.register(app)
    admin.register(app)
