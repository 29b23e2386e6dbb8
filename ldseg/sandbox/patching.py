"""The patch formats LD accepts: RFC 6902 JSON Patch, RFC 7386 merge patch, and change detection.

Routes apply a patch to a resource's full JSON representation and then ask :func:`diff_paths`
what actually changed, so every format is validated the same way: by the set of changed paths.
"""

from __future__ import annotations

import copy
from typing import Any

import jsonpatch
import jsonpointer

from .exceptions import bad_request, patch_failed

OPS = {"add", "remove", "replace", "move", "copy", "test"}


def split_pointer(path: str) -> list[str]:
    """``/a/b~1c`` -> ``["a", "b/c"]`` (RFC 6901 unescaping)."""
    if path == "":
        return []
    if not path.startswith("/"):
        raise bad_request(f"invalid JSON pointer {path!r}: must start with '/'")
    return [p.replace("~1", "/").replace("~0", "~") for p in path[1:].split("/")]


def check_json_patch(ops: Any) -> list[dict[str, Any]]:
    """Structural validation, so a malformed patch is an ``invalid_request`` naming the operation."""
    if not isinstance(ops, list):
        raise bad_request("a JSON Patch must be an array of operations")
    if not ops:
        raise bad_request("the JSON Patch is empty")
    for i, op in enumerate(ops):
        if not isinstance(op, dict):
            raise bad_request(f"patch operation {i} must be an object")
        if op.get("op") not in OPS:
            raise bad_request(f"patch operation {i}: unknown op {op.get('op')!r}")
        if not isinstance(op.get("path"), str):
            raise bad_request(f"patch operation {i}: missing or invalid path")
        split_pointer(op["path"])
        if op["op"] in ("add", "replace", "test") and "value" not in op:
            raise bad_request(f"patch operation {i} ({op['op']} {op['path']}): missing value")
        if op["op"] in ("move", "copy"):
            if not isinstance(op.get("from"), str):
                raise bad_request(f"patch operation {i} ({op['op']}): missing from")
            split_pointer(op["from"])
    return ops


def apply_json_patch(doc: Any, ops: list[dict[str, Any]]) -> Any:
    """Apply to a copy of ``doc``; failing ``test`` ops and unappliable ops are ``patch_failed``."""
    try:
        return jsonpatch.JsonPatch(ops).apply(doc, in_place=False)
    except jsonpatch.JsonPatchTestFailed as e:
        raise patch_failed(f"test operation failed: {e}") from None
    except (jsonpatch.JsonPatchConflict, jsonpointer.JsonPointerException) as e:
        raise patch_failed(f"patch cannot be applied: {e}") from None
    except jsonpatch.InvalidJsonPatch as e:
        raise bad_request(f"invalid JSON Patch: {e}") from None


def merge_patch(target: Any, patch: Any) -> Any:
    """RFC 7386: objects merge recursively, ``null`` deletes, anything else replaces. Never mutates."""
    if not isinstance(patch, dict):
        return copy.deepcopy(patch)
    result = dict(target) if isinstance(target, dict) else {}
    for key, value in patch.items():
        if value is None:
            result.pop(key, None)
        else:
            result[key] = merge_patch(result.get(key), value)
    return result


def _escape(part: str) -> str:
    return part.replace("~", "~0").replace("/", "~1")


def diff_paths(before: Any, after: Any, prefix: str = "") -> list[str]:
    """JSON pointers of what differs; objects are compared member by member, arrays as a whole."""
    if isinstance(before, dict) and isinstance(after, dict):
        out: list[str] = []
        for key in sorted(set(before) | set(after), key=str):
            path = f"{prefix}/{_escape(str(key))}"
            if key not in before or key not in after:
                out.append(path)
            else:
                out.extend(diff_paths(before[key], after[key], path))
        return out
    if type(before) is not type(after) or before != after:
        return [prefix]
    return []
