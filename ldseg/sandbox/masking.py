"""Secret masking, as LD does on every destination response.

LD returns destination secrets obfuscated (Terraform's provider keeps its own copy for that reason);
the exact format is UNCONFIRMED, so the style is a setting. The store always keeps the real value.
Clients must never write a mask back: :func:`looks_masked` lets the sandbox notice when they do.
"""

from __future__ import annotations

from typing import Any

SECRET_FIELDS: frozenset[str] = frozenset({"writeKey", "apiKey", "secret", "policyKey"})
MASK_STYLES: tuple[str, ...] = ("edges", "stars", "last4")
MASK_RUN = "****"  # every style's mask of a secret of 4+ characters contains this run


def mask_value(value: Any, style: str) -> Any:
    """Mask one secret value; non-strings are masked wholesale, ``None`` stays ``None``."""
    if value is None:
        return None
    if not isinstance(value, str):
        return "********"
    if style == "stars":
        return "********"
    if style == "last4":
        return "****" + value[-4:] if len(value) >= 8 else "********"
    # edges: what the Terraform provider's comments show (``sup********123``).
    if len(value) >= 12:
        return value[:3] + "********" + value[-3:]
    return "*" * len(value)


def mask_config(config: dict[str, Any], style: str) -> dict[str, Any]:
    """A shallow copy of ``config`` with its top-level secret fields masked."""
    return {k: (mask_value(v, style) if k in SECRET_FIELDS else v) for k, v in config.items()}


def looks_masked(new: Any, previous: Any, style: str) -> bool:
    """Whether writing ``new`` means a client echoed a mask instead of a real secret."""
    if not isinstance(new, str):
        return False
    if MASK_RUN in new:
        return True
    return previous is not None and new == mask_value(previous, style)
