"""Validate HTTP responses against LaunchDarkly's own OpenAPI spec (the trimmed copy beside this file).

``check_response(method, path, status, body)`` finds the operation for a concrete path (or a spec
template), takes the documented schema for that status and validates ``body`` with jsonschema,
resolving ``#/components/schemas/...`` through a ``referencing`` registry. Reusable by any test:
``check_httpx(response)`` does the same for an ``httpx.Response`` (handy as an httpx event hook).

- ``strict=True`` (default) also rejects properties the schema does not list: the sandbox must not
  invent fields a real client could come to rely on.
- A status the operation does not document is accepted only for errors (>= 400), whose body must
  then be LD's common error document ``{code, message, id}``; every error body is checked for that.
- ``LDSEG_OPENAPI_SPEC`` points at another copy of the spec (e.g. the full one).
"""

from __future__ import annotations

import copy
import functools
import json
import os
import re
from pathlib import Path
from typing import Any

import httpx
import jsonschema
from referencing import Registry, Resource
from referencing.jsonschema import DRAFT202012

SPEC_PATH = Path(os.environ.get("LDSEG_OPENAPI_SPEC", Path(__file__).with_name("ld-openapi-subset.json")))
BASE_URI = "urn:ld-openapi"
ERROR_SCHEMA: dict[str, Any] = {
    "type": "object",
    "required": ["code", "message", "id"],
    "properties": {"code": {"type": "string"}, "message": {"type": "string"}, "id": {"type": "string"}},
}


class SpecMismatch(AssertionError):
    """A response that does not match the documented schema."""


@functools.cache
def spec() -> dict[str, Any]:
    data: dict[str, Any] = json.loads(SPEC_PATH.read_text(encoding="utf-8"))
    return data


def _strictify(node: Any) -> Any:
    """Close every object schema that lists properties (``additionalProperties: false``)."""
    if isinstance(node, dict):
        out = {k: _strictify(v) for k, v in node.items()}
        closable = "properties" in out and "additionalProperties" not in out
        if closable and out.get("type", "object") == "object":
            out["additionalProperties"] = False
        return out
    if isinstance(node, list):
        return [_strictify(v) for v in node]
    return node


@functools.cache
def _registry(strict: bool) -> Registry[Any]:
    doc = copy.deepcopy(spec())
    if strict:
        schemas = doc["components"]["schemas"]
        for name in list(schemas):
            if not name.endswith("ErrorRep"):  # LD's error bodies carry an undocumented "id"
                schemas[name] = _strictify(schemas[name])
    resource: Resource[Any] = Resource.from_contents(doc, default_specification=DRAFT202012)
    registry: Registry[Any] = Registry().with_resource(BASE_URI, resource)
    return registry


@functools.cache
def _templates() -> list[tuple[re.Pattern[str], str, int]]:
    out = []
    for template in spec()["paths"]:
        pattern = re.compile("^" + re.sub(r"\\\{\w+\\\}", "[^/]+", re.escape(template)) + "$")
        literal = len(re.sub(r"\{\w+\}", "", template))
        out.append((pattern, template, literal))
    return sorted(out, key=lambda t: -t[2])  # literal segments win: key-pair path before {projectKey}


def template_for(path: str) -> str:
    """The spec path template a concrete path belongs to (a template is returned as is)."""
    if path in spec()["paths"]:
        return path
    for pattern, template, _ in _templates():
        if pattern.match(path):
            return template
    raise SpecMismatch(f"no operation in the spec for path {path}")


@functools.cache
def _validator(schema_json: str, strict: bool) -> jsonschema.Draft202012Validator:
    return jsonschema.Draft202012Validator(json.loads(schema_json), registry=_registry(strict))


def _validate(instance: Any, schema: dict[str, Any], strict: bool, where: str) -> None:
    validator = _validator(json.dumps(schema, sort_keys=True), strict)
    errors = sorted(validator.iter_errors(instance), key=lambda e: list(e.absolute_path))
    if errors:
        lines = [f"{'/'.join(map(str, e.absolute_path)) or '<root>'}: {e.message[:300]}" for e in errors[:10]]
        raise SpecMismatch(f"{where} does not match the spec:\n  " + "\n  ".join(lines))


def check_response(method: str, path: str, status: int, body: Any, *, strict: bool = True) -> str:
    """Validate one response; returns the operation's template. ``body`` is ``None`` for no content."""
    try:
        template = template_for(path)
    except SpecMismatch:
        if status not in (404, 405):
            raise
        _validate(body, ERROR_SCHEMA, False, f"{method} {path} -> {status}")  # unknown route
        return ""
    op = spec()["paths"][template].get(method.lower())
    if op is None:
        if status != 405:
            raise SpecMismatch(f"{method} {template} is not an operation in the spec, yet answered {status}")
        _validate(body, ERROR_SCHEMA, False, f"{method} {template} -> 405")
        return template
    where = f"{method} {template} -> {status}"
    if status >= 400:
        _validate(body, ERROR_SCHEMA, False, where)
    documented = op["responses"].get(str(status))
    if documented is None:
        if status >= 400:
            return template
        raise SpecMismatch(f"{where}: status not documented (documented: {', '.join(op['responses'])})")
    content = documented.get("content")
    if not content:
        if body not in (None, b"", ""):
            raise SpecMismatch(f"{where}: the spec documents no body, got {body!r:.200}")
        return template
    schema = content["application/json"]["schema"]
    ref_schema = {"$ref": BASE_URI + schema["$ref"]} if "$ref" in schema else schema
    _validate(body, ref_schema, strict, where)
    return template


def check_httpx(response: httpx.Response, *, strict: bool = True) -> str | None:
    """``check_response`` for an httpx response; admin (``/_sandbox/``) responses are skipped."""
    path = response.request.url.path
    if path.startswith("/_sandbox/"):
        return None
    response.read()
    body: Any = None
    if response.content:
        ctype = response.headers.get("content-type", "")
        if not ctype.startswith("application/json"):
            raise SpecMismatch(f"{response.request.method} {path}: content-type {ctype!r} is not JSON")
        body = response.json()
    method = response.request.method
    if method == "POST" and "X-HTTP-Method-Override" in response.request.headers:
        method = response.request.headers["X-HTTP-Method-Override"].upper()
    return check_response(method, path, response.status_code, body, strict=strict)
