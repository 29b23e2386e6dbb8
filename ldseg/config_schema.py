"""A config file against ``schemas/ldseg.schema.json``, with a message a person can act on for
every problem, at its line.

Valid files (nearly all) are checked by the schema compiled to Python code (fastjsonschema), which
is fast but stops at the first error; an invalid one is checked again by jsonschema, the reference
implementation, which reports them all.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from functools import cache
from typing import TYPE_CHECKING, Any, cast

import fastjsonschema

from ldseg.errors import Problem
from ldseg.resources import load_schema
from ldseg.yamlsource import YamlDocument

if TYPE_CHECKING:
    from jsonschema import Draft202012Validator
    from jsonschema.exceptions import ValidationError

SCHEMA_NAME = "ldseg.schema.json"


@cache
def _compiled_validator() -> Callable[[Any], Any]:
    """The schema compiled to Python code (fastjsonschema), once per process: it checks a config of
    thousands of destinations in a fraction of the time jsonschema takes, but stops at the first
    error. ``use_default=False``: validation must not fill in defaults; ``use_formats=False``: like
    jsonschema, which checks no ``format`` without a format checker."""
    schema = load_schema(SCHEMA_NAME)
    return cast(Callable[[Any], Any], fastjsonschema.compile(schema, use_default=False, use_formats=False))


@cache
def _reporting_validator() -> Draft202012Validator:
    """jsonschema, the reference implementation: it reports every error of an invalid file.
    Imported here, on the rare path, as it adds ~50 ms to every run's start."""
    import jsonschema

    return jsonschema.Draft202012Validator(load_schema(SCHEMA_NAME))


def schema_problems(doc: YamlDocument, data: Any) -> list[Problem]:
    """Every way ``data`` (``doc``'s, interpolated) breaks the schema, at its line; [] when valid."""
    try:
        _compiled_validator()(data)
        return []
    except fastjsonschema.JsonSchemaValueException:
        pass
    return [
        Problem(doc.file, doc.line_of(path), message)
        for err in _reporting_validator().iter_errors(data)
        for path, message in _describe(err)
    ]


def where(path: Sequence[str | int]) -> str:
    """A short human name for a config path, e.g. ``destination web/production/seg: config``."""
    parts = [str(p) for p in path]
    if (
        len(parts) >= 6
        and parts[0] == "projects"
        and parts[2] == "environments"
        and parts[4] == "destinations"
    ):
        rest = ".".join(parts[6:])
        return f"destination {parts[1]}/{parts[3]}/{parts[5]}" + (f": {rest}" if rest else "")
    if len(parts) >= 4 and parts[0] == "projects" and parts[2] == "environments":
        rest = ".".join(parts[4:])
        return f"environment {parts[1]}/{parts[3]}" + (f": {rest}" if rest else "")
    return ".".join(parts) or "the top level"


def _describe(err: ValidationError) -> Iterable[tuple[tuple[str | int, ...], str]]:
    """Turn a jsonschema error into (path, message) pairs a person can act on."""
    path = tuple(err.absolute_path)
    place = where(path)
    v = err.validator
    if "propertyNames" in err.relative_schema_path:
        key = str(err.instance)
        what = "destination name" if path and path[-1] == "destinations" else "LaunchDarkly key"
        rule = (
            ""
            if what == "destination name"
            else " (letters, digits, '.', '_' and '-', starting with a letter or digit)"
        )
        yield (*path, key), f"{place}: {key!r} is not a valid {what}{rule}"
        return
    if v == "additionalProperties" and isinstance(err.instance, dict):
        schema = err.schema if isinstance(err.schema, dict) else {}
        allowed = list(schema.get("properties", {}))
        for key in err.instance:
            if key not in allowed:
                is_config = bool(path) and path[-1] == "config"
                what = "config field" if is_config else "key"
                hint = f" (allowed: {', '.join(allowed)})" if allowed else ""
                yield (*path, key), f"{place}: unknown {what} {key!r}{hint}"
        return
    if v == "required":
        missing = str(err.message).split("'")[1] if "'" in err.message else err.message
        what = "config field" if path and path[-1] == "config" else "key"
        yield path, f"{place}: missing required {what} {missing!r}"
        return
    if v == "anyOf" and all(set(s) == {"required"} for s in cast(list[Any], err.validator_value)):
        # "at least one of these fields"; jsonschema's own message shows the whole object, secrets too
        names = " or ".join(repr(f) for s in cast(list[Any], err.validator_value) for f in s["required"])
        what = "config field" if path and path[-1] == "config" else "key"
        yield path, f"{place}: needs at least one {what} of {names}"
        return
    if v == "type":
        want = err.validator_value
        wants = " or ".join(want) if isinstance(want, list) else want
        yield path, f"{place}: expected {_article(str(wants))}, got {_show(err.instance)}"
        return
    if v == "enum":
        options = ", ".join(str(o) for o in cast(list[Any], err.validator_value))
        yield path, f"{place}: {_show(err.instance)} is not one of: {options}"
        return
    if v == "const":
        yield path, f"{place}: must be {err.validator_value!r}, got {_show(err.instance)}"
        return
    if v == "pattern":
        yield (
            path,
            (
                f"{place}: {_show(err.instance)} is not a valid LaunchDarkly key "
                "(letters, digits, '.', '_' and '-', starting with a letter or digit)"
            ),
        )
        return
    if v == "minLength":
        yield path, f"{place}: must not be empty"
        return
    yield path, f"{place}: {err.message}"


def _article(word: str) -> str:
    names = {"object": "a mapping", "array": "a list", "string": "a string", "boolean": "true or false"}
    return names.get(word, f"a {word}")


def _show(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, dict):
        return "a mapping"
    if isinstance(value, list):
        return "a list"
    if value is None:
        return "null (an empty value)"
    text = repr(value)
    return text if len(text) <= 60 else text[:57] + "...'"
