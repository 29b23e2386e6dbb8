"""LaunchDarkly's contract on the wire: every request and response checked against LD's own spec.

Nothing in this project reaches LaunchDarkly, so the sandbox is the ground every test stands on.
If the client and the sandbox shared a misreading of LD's API, every test would pass and the
product would fail on a real account. This module is the third party in every exchange: it checks
what the client sends and what the sandbox answers against the OpenAPI spec LD publishes (the
trimmed copy beside this file, see README.md) and the rules LD documents outside its schemas (its
API docs and changelog, and what other tools met).

**Requests** (:meth:`ContractChecker.check_request`):

- the operation exists for the method and path template; path parameters are filled in;
- query parameters are ones the operation documents, typed as the spec says (``integer``: decimal
  digits; ``boolean``: ``true``/``false``/``1``/``0``, since LD's own docs use ``summary=0``); only
  ``env`` may repeat (the spec's ``sort`` example: ``&env=production&env=staging``); parameters the
  spec calls unavailable in API version 20240415 (``compare``) are refused; the reported flag-list
  caps (``limit`` <= 100, at most 3 ``env``, as reported) are enforced;
- ``Authorization`` carries the raw access token (no ``Bearer``/``Basic``/``Token`` scheme, not an
  SDK or mobile key) and ``LD-API-Version`` is ``20240415``;
- a body only where the operation takes one, with ``Content-Type: application/json``, matching the
  ``requestBody`` schema with every ``$ref`` resolved, JSON Patch operations also checked against
  RFC 6902 (op, pointer syntax, ``value``/``from`` where the RFC needs them).

Request forms accepted as **conformant** (the ``"ld"`` profile: what LD accepts from any client);
``application/json`` unless said otherwise:

- flag PATCH: ``{"comment"?, "patch": [ops]}`` (the spec's ``PatchWithComment``); a bare JSON Patch
  array (LD's docs, ldcli sends it); ``{"comment"?, "merge": {...}}`` (LD's docs, "Updates with
  comments"); a semantic patch ``{"comment"?, "environmentKey"?, "instructions": [{"kind"}, ...]}``
  with ``Content-Type: application/json; domain-model=launchdarkly.semanticpatch``;
- destination PATCH: a bare JSON Patch array (the spec's ``JSONPatch``), or an RFC 7386 merge patch
  of Destination fields (the operation's description allows one);
- environment PATCH: a bare JSON Patch array only;
- destination POST: ``DestinationPost``.

Not conformant: a bare merge-patch object on flags (LD's docs mention it, but it cannot be told
apart from a malformed ``PatchWithComment``, and nobody here needs it), the ``{comment, patch}``
wrapper on destinations and environments (UNCONFIRMED whether LD accepts it), a semantic patch
anywhere else or without its content type.

The ``"ldseg"`` profile adds what ldseg promises (README "Secrets"): flags only as
``{"comment", "patch"}`` with a non-empty comment and ``replace /environments/<env>/trackEvents``
operations; environments only ``replace /defaultTrackEvents``; destinations only bare arrays on
``/on`` and ``/config/<field>`` (never the whole ``/config``, which would write a mask back); no
empty patch.

**Responses** (:meth:`ContractChecker.check_response`): the documented schema for the status,
strict (an object schema that lists properties admits no others: the sandbox must not invent
fields a client could come to rely on). A success status the operation does not document is a
violation; an undocumented *error* status is accepted only with LD's error body
``{"code", "message", "id"?}``. Faults the sandbox injected on purpose are judged as such: a dropped
connection has no response to check, and a load balancer's HTML 502/503 page is accepted when the
fault injector produced it (``request.fault == "error"``): LD's spec cannot document those, and the
client must survive them.

``LDSEG_OPENAPI_SPEC`` points at another copy of the spec (e.g. a full one).
"""

from __future__ import annotations

import copy
import functools
import json
import os
import re
import threading
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any, Literal

import fastjsonschema
import httpx
import jsonschema
from referencing import Registry, Resource
from referencing.jsonschema import DRAFT202012

if TYPE_CHECKING:
    from werkzeug.wrappers import Response

    from ldseg.sandbox.exchange import SandboxRequest

HERE = Path(__file__).resolve().parent
SPEC_PATH = Path(os.environ.get("LDSEG_OPENAPI_SPEC", HERE / "ld-openapi-subset.json"))
BASE_URI = "urn:ld-openapi"
API_VERSION = "20240415"
JSON_MIME = "application/json"
SEMANTIC_MODEL = "launchdarkly.semanticpatch"

#: LD's common error document: the schemas require code and message; ``id`` is what
#: a user quotes to LD Support, present on real responses but not required by the spec.
ERROR_SCHEMA: dict[str, Any] = {
    "type": "object",
    "required": ["code", "message"],
    "properties": {"code": {"type": "string"}, "message": {"type": "string"}, "id": {"type": "string"}},
}
#: query parameters LD documents as repeatable (the spec's own examples repeat ``env``)
REPEATABLE = {("getFeatureFlags", "env"), ("getFeatureFlag", "env")}
#: reported caps of the flag list (seen by other tools and ldcli; UNCONFIRMED officially)
FLAG_LIST_MAX_LIMIT = 100
FLAG_LIST_MAX_ENVS = 3
JSON_PATCH_OPS = ("add", "remove", "replace", "move", "copy", "test")
SEMANTIC_PATCH_SCHEMA: dict[str, Any] = {
    "type": "object",
    "required": ["instructions"],
    "additionalProperties": False,
    "properties": {
        "comment": {"type": "string"},
        "environmentKey": {"type": "string"},
        "instructions": {
            "type": "array",
            "minItems": 1,
            "items": {"type": "object", "required": ["kind"], "properties": {"kind": {"type": "string"}}},
        },
    },
}
MERGE_WITH_COMMENT_SCHEMA: dict[str, Any] = {
    "type": "object",
    "required": ["merge"],
    "additionalProperties": False,
    "properties": {"comment": {"type": "string"}, "merge": {"type": "object"}},
}
_TOKEN_SCHEMES = re.compile(r"^\s*(bearer|basic|token|apikey)(\s|$)", re.IGNORECASE)
_SDK_KEY = re.compile(r"^(sdk|mob)-")
_INTEGER = re.compile(r"^-?\d+$")
_BOOLEANS = ("true", "false", "1", "0")

Profile = Literal["ld", "ldseg"]
Side = Literal["request", "response"]


class SpecMismatch(AssertionError):
    """A response (or request) that does not match the documented contract."""


@dataclass(frozen=True)
class Violation:
    """One broken rule of one exchange."""

    side: Side
    where: str  # "PATCH /api/v2/flags/web/x"
    rule: str  # "auth", "query", "body", "status", ...
    message: str

    def __str__(self) -> str:
        return f"{self.where} [{self.side} {self.rule}] {self.message}"


# --- the spec ------------------------------------------------------------------------------------


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


#: schemas left open in strict mode besides the ``*ErrorRep`` ones (LD's error bodies carry an
#: ``id`` they do not list): RFC 6902 gives patch operations a ``from`` member PatchOperation lacks
_OPEN_SCHEMAS = ("PatchOperation",)


@functools.cache
def _registry(strict: bool) -> Registry[Any]:
    doc = copy.deepcopy(spec())
    if strict:
        schemas = doc["components"]["schemas"]
        for name in list(schemas):
            if not name.endswith("ErrorRep") and name not in _OPEN_SCHEMAS:
                schemas[name] = _strictify(schemas[name])
    resource: Resource[Any] = Resource.from_contents(doc, default_specification=DRAFT202012)
    registry: Registry[Any] = Registry().with_resource(BASE_URI, resource)
    return registry


@functools.cache
def _templates() -> list[tuple[re.Pattern[str], str]]:
    out = []
    for template in spec()["paths"]:
        pattern = re.compile("^" + re.sub(r"\\\{\w+\\\}", "([^/]+)", re.escape(template)) + "$")
        literal = len(re.sub(r"\{\w+\}", "", template))
        out.append((literal, pattern, template))
    out.sort(key=lambda t: -t[0])  # literal segments win: the key-pair path before {projectKey}
    return [(p, t) for _, p, t in out]


def template_for(path: str) -> str:
    """The spec path template a concrete path belongs to (a template is returned as is)."""
    if path in spec()["paths"]:
        return path
    for pattern, template in _templates():
        if pattern.match(path):
            return template
    raise SpecMismatch(f"no operation in the spec for path {path}")


def path_params(template: str, path: str) -> dict[str, str]:
    names = re.findall(r"\{(\w+)\}", template)
    for pattern, t in _templates():
        if t == template:
            m = pattern.match(path)
            if m:
                return dict(zip(names, m.groups(), strict=True))
    return {}


def operation(method: str, template: str) -> dict[str, Any] | None:
    op: dict[str, Any] | None = spec()["paths"].get(template, {}).get(method.lower())
    return op


def ref(name: str) -> dict[str, Any]:
    """A schema pointing at ``#/components/schemas/<name>`` in the registry."""
    return {"$ref": f"{BASE_URI}#/components/schemas/{name}"}


def _resolve(schema: dict[str, Any]) -> dict[str, Any]:
    return {"$ref": BASE_URI + schema["$ref"]} if "$ref" in schema else schema


@functools.cache
def _validator(schema_json: str, strict: bool) -> jsonschema.Draft202012Validator:
    return jsonschema.Draft202012Validator(json.loads(schema_json), registry=_registry(strict))


@functools.cache
def _fast_validator(schema_json: str, strict: bool) -> Callable[[Any], Any] | None:
    """A compiled validator for the common case (the instance is valid): jsonschema walking a
    page of 100 flags through ``$ref``s costs ~60 ms, which every sandbox response in the suite
    would pay. The spec's schemas use only keywords both implementations agree on (type,
    properties, required, items, additionalProperties, enum); formats are not asserted by either.
    Any failure is re-checked by jsonschema, the reference, which also words the messages."""
    root = json.loads(schema_json)
    target = root.get("$ref")
    if isinstance(target, str) and target.startswith(BASE_URI):
        root["$ref"] = target[len(BASE_URI) :]
    root["components"] = _registry(strict).contents(BASE_URI)["components"]
    try:
        validate: Callable[[Any], Any] = fastjsonschema.compile(root, use_default=False, use_formats=False)
    except fastjsonschema.JsonSchemaDefinitionException:
        return None
    return validate


def schema_errors(instance: Any, schema: dict[str, Any], *, strict: bool) -> list[str]:
    """``path: message`` for each way ``instance`` breaks ``schema`` (``$ref``s resolved)."""
    key = json.dumps(schema, sort_keys=True)
    fast = _fast_validator(key, strict)
    if fast is not None:
        try:
            fast(instance)
        except fastjsonschema.JsonSchemaValueException:
            pass  # the reference implementation decides, and explains
        else:
            return []
    validator = _validator(key, strict)
    errors = sorted(validator.iter_errors(instance), key=lambda e: [str(p) for p in e.absolute_path])
    return [f"{'/'.join(map(str, e.absolute_path)) or '<root>'}: {e.message[:300]}" for e in errors[:10]]


# --- requests ------------------------------------------------------------------------------------


def _pointer_error(value: Any) -> str | None:
    if not isinstance(value, str):
        return "is not a string"
    if value and not value.startswith("/"):
        return f"{value!r} is not a JSON pointer (RFC 6901: empty or starting with '/')"
    if re.search(r"~[^01]|~$", value):
        return f"{value!r} has an invalid '~' escape (RFC 6901)"
    return None


def json_patch_errors(ops: Any) -> list[str]:
    """RFC 6902 on top of the spec's lax PatchOperation."""
    if not isinstance(ops, list):
        return ["a JSON Patch must be an array of operations"]
    out: list[str] = []
    for i, op in enumerate(ops):
        if not isinstance(op, dict):
            out.append(f"{i}: an operation must be an object")
            continue
        kind = op.get("op")
        if kind not in JSON_PATCH_OPS:
            out.append(f"{i}/op: {kind!r} is not an RFC 6902 operation ({', '.join(JSON_PATCH_OPS)})")
        problem = _pointer_error(op.get("path"))
        if problem:
            out.append(f"{i}/path: {problem}")
        if kind in ("add", "replace", "test") and "value" not in op:
            out.append(f"{i}: {kind} needs a value")
        if kind in ("move", "copy"):
            problem = _pointer_error(op.get("from"))
            if problem:
                out.append(f"{i}/from: {problem}")
    return out


@dataclass(frozen=True)
class _Form:
    name: str
    errors: list[str]


def _flag_patch_forms(body: Any, semantic: bool) -> _Form:
    """Which of LD's documented flag-patch forms ``body`` is, and what is wrong with it."""
    if semantic:
        return _Form("semantic-patch", schema_errors(body, SEMANTIC_PATCH_SCHEMA, strict=False))
    if isinstance(body, list):
        errors = schema_errors(body, ref("JSONPatch"), strict=True) + json_patch_errors(body)
        return _Form("json-patch", errors)
    if isinstance(body, dict) and "merge" in body and "patch" not in body:
        return _Form("merge-patch-with-comment", schema_errors(body, MERGE_WITH_COMMENT_SCHEMA, strict=False))
    if isinstance(body, dict) and "instructions" in body:
        return _Form(
            "semantic-patch",
            [
                "a semantic patch (instructions) needs Content-Type: application/json; "
                "domain-model=launchdarkly.semanticpatch (LD reads it as a JSON patch otherwise: 400)"
            ],
        )
    errors = schema_errors(body, ref("PatchWithComment"), strict=True)
    if isinstance(body, dict) and "patch" in body:
        errors += [f"patch/{e}" for e in json_patch_errors(body["patch"])]
    return _Form("json-patch-with-comment", errors)


def _destination_patch_forms(body: Any) -> _Form:
    if isinstance(body, list):
        return _Form(
            "json-patch", schema_errors(body, ref("JSONPatch"), strict=True) + json_patch_errors(body)
        )
    if isinstance(body, dict) and "patch" in body:
        return _Form(
            "json-patch-with-comment",
            [
                "the {comment, patch} wrapper is not documented for this endpoint (its schema is a "
                "bare JSONPatch array; UNCONFIRMED)"
            ],
        )
    if isinstance(body, dict):  # RFC 7386 merge patch of the Destination (the operation's description)
        fields = set(spec()["components"]["schemas"]["Destination"]["properties"])
        unknown = sorted(set(body) - fields)
        errors = [f"<root>: {k!r} is not a Destination field (merge patch)" for k in unknown]
        return _Form("merge-patch", errors)
    return _Form("invalid", ["the body must be a JSON Patch array (or a JSON merge patch object)"])


def _ldseg_ops(op_id: str, body: Any) -> list[str]:
    """What ldseg promises to send (README "Secrets")."""
    if op_id == "patchFeatureFlag":
        if not (isinstance(body, dict) and set(body) == {"comment", "patch"}):
            return ["ldseg sends flag changes only as {comment, patch}"]
        if not isinstance(body["comment"], str) or not body["comment"].strip():
            return ["ldseg always sends an audit-log comment with a flag change"]
        ops = body["patch"]
        allowed = re.compile(r"^/environments/[^/]+/trackEvents$")
        kind = "replace /environments/<env>/trackEvents with a boolean"
    elif op_id == "patchEnvironment":
        ops, allowed, kind = (
            body,
            re.compile(r"^/defaultTrackEvents$"),
            "replace /defaultTrackEvents (boolean)",
        )
    elif op_id == "postApprovalRequestForFlag":
        if not (isinstance(body, dict) and {"description", "comment", "instructions"} <= set(body)):
            return ["ldseg opens an approval request with a description, its audit comment and instructions"]
        if not isinstance(body["comment"], str) or not body["comment"].strip():
            return ["ldseg always sends an audit-log comment with an approval request"]
        instructions = body["instructions"]
        one_update = (
            isinstance(instructions, list)
            and len(instructions) == 1
            and isinstance(instructions[0], dict)
            and set(instructions[0]) == {"kind", "trackEvents"}
            and instructions[0]["kind"] == "updateTrackEvents"
            and isinstance(instructions[0]["trackEvents"], bool)
        )
        return (
            []
            if one_update
            else [f"ldseg asks only for one updateTrackEvents instruction, got {instructions!r:.200}"]
        )
    elif op_id == "patchDestination":
        if not isinstance(body, list):
            return ["ldseg sends destination changes only as a bare JSON Patch array"]
        out = []
        for i, op in enumerate(body):
            path = op.get("path") if isinstance(op, dict) else None
            if path == "/on":
                if op.get("op") != "replace" or not isinstance(op.get("value"), bool):
                    out.append(f"{i}: /on is changed by a replace with a boolean")
            elif isinstance(path, str) and re.match(r"^/config/[^/]+$", path):
                if op.get("op") not in ("add", "replace", "remove"):
                    out.append(f"{i}: config fields are added, replaced or removed")
            else:
                out.append(
                    f"{i}: ldseg patches only /on and /config/<field> (never the whole /config: it would "
                    f"write the masked secrets back), got {path!r}"
                )
        return out + (["an empty patch changes nothing: ldseg must not send it"] if not body else [])
    else:
        return []
    if not isinstance(ops, list):
        return ["ldseg sends a JSON Patch array"]
    out = ["an empty patch changes nothing: ldseg must not send it"] if not ops else []
    for i, op in enumerate(ops):
        ok = (
            isinstance(op, dict)
            and op.get("op") == "replace"
            and isinstance(op.get("path"), str)
            and allowed.match(op["path"]) is not None
            and isinstance(op.get("value"), bool)
        )
        if not ok:
            out.append(f"{i}: ldseg only sends {kind}, got {op!r:.200}")
    return out


def _mime(content_type: str | None) -> tuple[str, dict[str, str]]:
    if not content_type:
        return "", {}
    parts = [p.strip() for p in content_type.split(";")]
    params = {}
    for p in parts[1:]:
        k, _, v = p.partition("=")
        params[k.strip().lower()] = v.strip().strip('"')
    return parts[0].lower(), params


# --- the checker ---------------------------------------------------------------------------------


class ContractChecker:
    """Checks exchanges and collects violations (thread-safe: the sandbox serves concurrently).

    ``observe`` is a sandbox observer (``sandbox.app.observers.append(checker.observe)``);
    ``check_request``/``check_response`` work on plain values, e.g. from a cassette.
    ``requests=False`` checks responses only (for tests that send malformed requests on purpose).
    """

    def __init__(self, *, profile: Profile = "ld", requests: bool = True, strict: bool = True) -> None:
        self.profile = profile
        self.check_requests = requests
        self.strict = strict
        self.exchanges = 0
        self._violations: list[Violation] = []
        self._lock = threading.Lock()

    @property
    def violations(self) -> list[Violation]:
        with self._lock:
            return list(self._violations)

    def clear(self) -> None:
        with self._lock:
            self._violations.clear()

    def report(self) -> str:
        found = self.violations
        if not found:
            return "no contract violations"
        lines = [
            f"{len(found)} contract violation(s) against LaunchDarkly's OpenAPI spec "
            f"({SPEC_PATH.name}; rules in tests/contract/checker.py):"
        ]
        lines += [f"  - {v}" for v in found]
        return "\n".join(lines)

    def assert_clean(self) -> None:
        assert not self.violations, self.report()

    def _add(self, found: Iterable[Violation]) -> list[Violation]:
        found = list(found)
        with self._lock:
            self._violations.extend(found)
        return found

    # --- requests ------------------------------------------------------------------------------

    def check_request(
        self,
        method: str,
        path: str,
        query: Sequence[tuple[str, str]],
        headers: Mapping[str, str],
        body: bytes | None,
    ) -> list[Violation]:
        """Check one request; returns (and records) its violations. ``body=None``: unknown (a
        connection the sandbox dropped before reading it), so only the rest is checked."""
        method = method.upper()
        where = f"{method} {path}"
        out: list[Violation] = []

        def bad(rule: str, message: str) -> None:
            out.append(Violation("request", where, rule, message))

        lower = {k.lower(): v for k, v in headers.items()}
        self._check_auth(lower, bad)
        try:
            template = template_for(path)
        except SpecMismatch as exc:
            bad("operation", str(exc))
            return self._add(out)
        op = operation(method, template)
        if op is None:
            documented = sorted(
                m.upper() for m in spec()["paths"][template] if m in ("get", "post", "patch", "delete", "put")
            )
            bad(
                "operation",
                f"{method} is not an operation on {template} (documented: {', '.join(documented)})",
            )
            return self._add(out)
        op_id = str(op.get("operationId"))
        for name, value in path_params(template, path).items():
            if not value.strip() or re.fullmatch(r"\{\w+\}", value):
                bad("path", f"path parameter {name} is empty or unfilled ({value!r})")
        self._check_query(op, op_id, query, bad)
        if body is not None:
            self._check_body(method, op, op_id, lower, body, bad)
        return self._add(out)

    def _check_auth(self, headers: Mapping[str, str], bad: Any) -> None:
        token = headers.get("authorization")
        if token is None:
            bad("auth", "no Authorization header (LD: Authorization: <access token>)")
        elif not token.strip():
            bad("auth", "the Authorization header is empty")
        elif _TOKEN_SCHEMES.match(token):
            scheme = token.split()[0]
            bad("auth", f"Authorization has a {scheme!r} scheme prefix; LD wants the raw access token")
        elif token != token.strip():
            bad("auth", "the Authorization token has surrounding whitespace")
        elif _SDK_KEY.match(token):
            bad("auth", "Authorization holds an SDK or mobile key; the REST API only takes access tokens")
        version = headers.get("ld-api-version")
        if version != API_VERSION:
            bad("api-version", f"LD-API-Version must be {API_VERSION}, got {version!r}")

    def _check_query(
        self, op: dict[str, Any], op_id: str, query: Sequence[tuple[str, str]], bad: Any
    ) -> None:
        documented = {p["name"]: p for p in op.get("parameters", []) if p.get("in") == "query"}
        counts: dict[str, int] = {}
        for name, value in query:
            counts[name] = counts.get(name, 0) + 1
            param = documented.get(name)
            if param is None:
                known = ", ".join(sorted(documented)) or "none"
                bad("query", f"unknown query parameter {name!r} (documented: {known})")
                continue
            if "unavailable in API version `20240415`" in str(param.get("description", "")):
                bad("query", f"{name} is unavailable in API version 20240415 (the spec says so)")
            kind = (param.get("schema") or {}).get("type")
            if kind == "integer" and not _INTEGER.match(value):
                bad("query", f"{name} must be an integer, got {value!r}")
            elif kind == "boolean" and value.lower() not in _BOOLEANS:
                bad("query", f"{name} must be a boolean (true/false/1/0), got {value!r}")
            elif kind == "string" and value == "":
                bad("query", f"{name} is empty")
        for name, n in counts.items():
            if n > 1 and name in documented and (op_id, name) not in REPEATABLE:
                bad("query", f"{name} is given {n} times; only env may repeat")
        if op_id == "getFeatureFlags":
            if counts.get("env", 0) > FLAG_LIST_MAX_ENVS:
                bad(
                    "query",
                    f"{counts['env']} env values; LD accepts at most {FLAG_LIST_MAX_ENVS} (as reported)",
                )
            for name, value in query:
                if name == "limit" and _INTEGER.match(value) and int(value) > FLAG_LIST_MAX_LIMIT:
                    bad(
                        "query",
                        f"limit={value}; LD's flag list caps it at {FLAG_LIST_MAX_LIMIT} (as reported)",
                    )

    def _check_body(
        self,
        method: str,
        op: dict[str, Any],
        op_id: str,
        headers: Mapping[str, str],
        body: bytes,
        bad: Any,
    ) -> None:
        request_body = op.get("requestBody")
        mime, params = _mime(headers.get("content-type"))
        if request_body is None:
            if body:
                bad("body", f"{method} {op_id} takes no body, got {len(body)} bytes")
            return
        if not body:
            if request_body.get("required"):
                bad("body", "the request body is required")
            return
        semantic = params.get("domain-model") == SEMANTIC_MODEL
        extra = sorted(set(params) - {"charset", "domain-model"})
        if mime != JSON_MIME or extra or ("domain-model" in params and not semantic):
            bad("content-type", f"Content-Type must be application/json, got {headers.get('content-type')!r}")
            return
        if semantic and op_id != "patchFeatureFlag":
            bad("content-type", "semantic patch (domain-model=launchdarkly.semanticpatch) is for flags only")
            return
        try:
            doc = json.loads(body)
        except (ValueError, UnicodeDecodeError) as exc:
            bad("body", f"the body is not valid JSON: {exc}")
            return
        if op_id == "patchFeatureFlag":
            form = _flag_patch_forms(doc, semantic)
        elif op_id == "patchDestination":
            form = _destination_patch_forms(doc)
        else:
            schema = _resolve(request_body["content"][JSON_MIME]["schema"])
            errors = schema_errors(doc, schema, strict=True)
            if schema.get("$ref", "").endswith("/JSONPatch"):
                errors += json_patch_errors(doc)
            form = _Form("schema", errors)
        for error in form.errors:
            bad("body", f"({form.name}) {error}")
        if self.profile == "ldseg" and not form.errors:
            for error in _ldseg_ops(op_id, doc):
                bad("ldseg", error)

    # --- responses -----------------------------------------------------------------------------

    def check_response(
        self,
        method: str,
        path: str,
        status: int,
        content_type: str | None,
        body: bytes,
        *,
        fault: str | None = None,
    ) -> list[Violation]:
        """Check one response against the documented schema for its status."""
        where = f"{method.upper()} {path} -> {status}"
        out: list[Violation] = []
        if fault in ("drop", "drop_after"):
            return out  # the client never saw it
        mime, _ = _mime(content_type)
        if fault == "error" and status in (502, 503) and mime == "text/html":
            return out  # a load balancer's page, injected on purpose (see the module docstring)
        parsed: Any = None
        if body:
            if mime != JSON_MIME:
                out.append(
                    Violation("response", where, "content-type", f"a body of type {content_type!r}, not JSON")
                )
                return self._add(out)
            try:
                parsed = json.loads(body)
            except ValueError as exc:
                out.append(Violation("response", where, "body", f"not valid JSON: {exc}"))
                return self._add(out)
        try:
            check_response(method, path, status, parsed, strict=self.strict)
        except SpecMismatch as exc:
            out.append(Violation("response", where, "schema", str(exc)))
        return self._add(out)

    # --- the sandbox observer ------------------------------------------------------------------

    def observe(self, request: SandboxRequest, response: Response) -> None:
        """Check one sandbox exchange (LD's API only: Segment's and the admin API are not LD's)."""
        route = request.route
        if route is not None and route.api != "ld":
            return
        if route is None and not request.path.startswith("/api/"):
            return
        with self._lock:
            self.exchanges += 1
        if self.check_requests:
            # a "drop" fault shuts the socket before anyone reads the body: it cannot be judged
            body: bytes | None = None
            if request.fault != "drop":
                try:
                    body = request.get_data(cache=True)
                except Exception:
                    body = None
            self.check_request(
                request.method,
                request.path,
                list(request.args.items(multi=True)),
                dict(request.headers),
                body,
            )
        self.check_response(
            request.method,
            request.path,
            response.status_code,
            response.headers.get("Content-Type"),
            response.get_data(),
            fault=request.fault,
        )


# --- the single-response API (tests/sandbox uses it as an httpx event hook) ------------------------


def check_response(method: str, path: str, status: int, body: Any, *, strict: bool = True) -> str:
    """Validate one parsed response body; returns the operation's template or raises SpecMismatch.

    ``body`` is ``None`` for no content."""
    try:
        template = template_for(path)
    except SpecMismatch:
        if status not in (404, 405):
            raise
        _raise_if(schema_errors(body, ERROR_SCHEMA, strict=False), f"{method} {path} -> {status}")
        return ""
    op = operation(method, template)
    if op is None:
        if status != 405:
            raise SpecMismatch(f"{method} {template} is not an operation in the spec, yet answered {status}")
        _raise_if(schema_errors(body, ERROR_SCHEMA, strict=False), f"{method} {template} -> 405")
        return template
    where = f"{method} {template} -> {status}"
    if status >= 400:
        _raise_if(schema_errors(body, ERROR_SCHEMA, strict=False), where + " (LD's error body)")
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
    if body is None:
        raise SpecMismatch(f"{where}: the spec documents a body, got none")
    schema = _resolve(content[JSON_MIME]["schema"])
    _raise_if(schema_errors(body, schema, strict=strict), where)
    return template


def _raise_if(errors: list[str], where: str) -> None:
    if errors:
        raise SpecMismatch(f"{where} does not match the spec:\n  " + "\n  ".join(errors))


def check_httpx(response: httpx.Response, *, strict: bool = True) -> str | None:
    """``check_response`` for an httpx response; admin (``/_sandbox/``) responses are skipped."""
    path = response.request.url.path
    if path.startswith("/_sandbox/"):
        return None
    response.read()
    body: Any = None
    if response.content:
        ctype = response.headers.get("content-type", "")
        if not ctype.startswith(JSON_MIME):
            raise SpecMismatch(f"{response.request.method} {path}: content-type {ctype!r} is not JSON")
        body = response.json()
    method = response.request.method
    if method == "POST" and "X-HTTP-Method-Override" in response.request.headers:
        method = response.request.headers["X-HTTP-Method-Override"].upper()
    return check_response(method, path, response.status_code, body, strict=strict)
