"""Load YAML into plain data plus a map from each value's path to its line.

PyYAML's default resolver follows YAML 1.1, where ``on``, ``off``, ``yes`` and ``no`` are booleans;
a destination's ``on:`` key would silently become ``True``. This loader resolves booleans like
YAML 1.2 (``true``/``false`` only) and reads every mapping key as a string. It also refuses what
the default loader accepts silently: duplicate keys, several documents, and alias expansion big
enough to be a "billion laughs" bomb.

Parsing uses libyaml (PyYAML's C parser) when PyYAML was built with it: about ten times faster
than the pure-Python parser on a large config. Both hand over the same node tree, so every line
number and rule above holds with either. A file libyaml refuses is parsed again by the
pure-Python parser, whose messages say more (e.g. which character cannot start a token).
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Any

import yaml

from ldseg.errors import Problem

Path_ = tuple[str | int, ...]

#: Upper bound on nodes visited while expanding aliases; real configs are far below it.
MAX_NODES = 500_000

_BOOL_TAG = "tag:yaml.org,2002:bool"
_STR_TAG = "tag:yaml.org,2002:str"

_Loader = Any  # yaml.SafeLoader or yaml.CSafeLoader: the same constructor API


def _yaml12_booleans(loader: type[_Loader]) -> type[_Loader]:
    """Resolve booleans like YAML 1.2: ``true``/``false`` only, so ``on``/``off``/``yes``/``no``
    stay strings."""
    loader.yaml_implicit_resolvers = {
        first: [(tag, rx) for tag, rx in resolvers if tag != _BOOL_TAG]
        for first, resolvers in yaml.SafeLoader.yaml_implicit_resolvers.items()
    }
    loader.add_implicit_resolver(
        _BOOL_TAG, re.compile(r"^(?:true|True|TRUE|false|False|FALSE)$"), list("tTfF")
    )
    return loader


@_yaml12_booleans
class _PyLoader(yaml.SafeLoader):
    """The pure-Python SafeLoader, YAML 1.2 booleans."""


#: True when PyYAML has libyaml: configs are then parsed in C
LIBYAML: bool = hasattr(yaml, "CSafeLoader")
_FAST_LOADER: type[_Loader] = _PyLoader
if LIBYAML:

    @_yaml12_booleans
    class _CLoader(yaml.CSafeLoader):
        """libyaml's SafeLoader, YAML 1.2 booleans."""

    _FAST_LOADER = _CLoader


_YAML11: Any = yaml.resolver.Resolver()  # untyped in PyYAML, like the loaders
#: words some reader takes for a boolean or null, in any case: YAML 1.1 also has y/Y/n/N, which
#: PyYAML leaves out but other readers (Go's yaml.v2...) do not
_WORDS = frozenset({"y", "n", "yes", "no", "on", "off", "true", "false", "null"})
#: what some reader could take for a number though PyYAML does not (YAML 1.2's ``1e5``, the YAML
#: 1.1 specification's ``-.5``): digits with the letters and marks of numbers only
_NUMBERISH = re.compile(r"^[-+]?\.?[0-9][0-9a-fA-FxXoO_.:+-]*$")


def plain_is_string(text: str) -> bool:
    """Does ``text`` written plain (unquoted) read back as this very string under YAML 1.1
    (PyYAML's ``safe_load``, yamllint) as well as under this loader? Not ``on``, ``No``, ``y``,
    ``null``, ``~``, ``0x1F``, ``1_000``, ``1.5``, ``2024-01-01``... This loader resolves like
    YAML 1.1 with fewer booleans, so YAML 1.1 saying "a string" settles both; anything that looks
    like a number to any reader is left out too. (Whether the text can be written plain at all,
    ``: `` or ``#`` aside, is the writer's concern.)"""
    if not text or text.lower() in _WORDS or _NUMBERISH.match(text):
        return False
    return bool(_YAML11.resolve(yaml.ScalarNode, text, (True, False)) == _STR_TAG)


@dataclass
class YamlDocument:
    """A parsed file: its data and the line (1-based) of every key and item, by path."""

    file: str
    data: Any
    lines: dict[Path_, int] = field(default_factory=dict)

    def line_of(self, path: Path_) -> int:
        """The line of ``path``, or of its nearest ancestor that has one."""
        p = tuple(path)
        while p:
            if p in self.lines:
                return self.lines[p]
            p = p[:-1]
        return self.lines.get((), 1)


class _Converter:
    def __init__(self, file: str, loader: _Loader) -> None:
        self.file = file
        self.loader = loader
        self.lines: dict[Path_, int] = {}
        self.problems: list[Problem] = []
        self.visited = 0
        self._stack: set[int] = set()

    def problem(self, node: yaml.Node, message: str) -> None:
        self.problems.append(Problem(self.file, node.start_mark.line + 1, message))

    def convert(self, node: yaml.Node, path: Path_) -> Any:
        self.visited += 1
        if self.visited > MAX_NODES:
            raise _TooBig(node)
        if id(node) in self._stack:
            self.problem(node, "recursive YAML alias")
            return None
        if isinstance(node, yaml.MappingNode):
            self._stack.add(id(node))
            try:
                return self._mapping(node, path)
            finally:
                self._stack.discard(id(node))
        if isinstance(node, yaml.SequenceNode):
            self._stack.add(id(node))
            try:
                out = []
                for i, item in enumerate(node.value):
                    item_path = (*path, i)
                    self.lines[item_path] = item.start_mark.line + 1
                    out.append(self.convert(item, item_path))
                return out
            finally:
                self._stack.discard(id(node))
        if node.tag == _STR_TAG:  # most scalars: skip the constructor's bookkeeping
            return node.value
        return self.loader.construct_object(node, deep=True)

    def _mapping(self, node: yaml.MappingNode, path: Path_) -> dict[str, Any]:
        self.loader.flatten_mapping(node)  # resolves "<<" merge keys
        out: dict[str, Any] = {}
        first_line: dict[str, int] = {}
        for key_node, value_node in node.value:
            if not isinstance(key_node, yaml.ScalarNode):
                self.problem(key_node, "mapping keys must be plain strings")
                continue
            key = str(key_node.value)
            line = key_node.start_mark.line + 1
            if key in first_line:
                self.problem(key_node, f"duplicate key {key!r} (first defined on line {first_line[key]})")
                continue
            first_line[key] = line
            key_path = (*path, key)
            self.lines[key_path] = line
            out[key] = self.convert(value_node, key_path)
        return out


class _TooBig(Exception):
    def __init__(self, node: yaml.Node) -> None:
        self.node = node


def load_yaml(text: str, file: str) -> tuple[YamlDocument | None, list[Problem]]:
    """Parse ``text``; return the document (None if unusable) and the problems found."""
    doc, problems = _load(text, file, _FAST_LOADER)
    if doc is None and _FAST_LOADER is not _PyLoader:
        # Only for a file libyaml refused: the pure-Python parser is the reference, and its
        # message says more.
        return _load(text, file, _PyLoader)
    return doc, problems


def _load(text: str, file: str, loader_class: type[_Loader]) -> tuple[YamlDocument | None, list[Problem]]:
    try:
        loader = loader_class(text)
    except yaml.YAMLError as exc:  # characters YAML does not allow (control characters...)
        position = getattr(exc, "position", 0)
        line = text.count("\n", 0, position) + 1 if isinstance(position, int) else 1
        return None, [Problem(file, line, "invalid YAML: " + _yaml_message(exc))]
    try:
        root = loader.get_single_node()
    except yaml.composer.ComposerError as exc:
        mark = exc.problem_mark or exc.context_mark
        line = mark.line + 1 if mark else 1
        return None, [Problem(file, line, _yaml_message(exc))]
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        line = mark.line + 1 if mark else 1
        return None, [Problem(file, line, "invalid YAML: " + _yaml_message(exc))]
    finally:
        loader.dispose()
    if root is None:
        return YamlDocument(file, None, {}), []
    conv = _Converter(file, loader)
    try:
        data = conv.convert(root, ())
    except _TooBig as big:
        return None, [
            Problem(
                file,
                big.node.start_mark.line + 1,
                f"the YAML expands to more than {MAX_NODES:,} values (an alias bomb?); refusing to load it",
            )
        ]
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        return None, [Problem(file, mark.line + 1 if mark else 1, "invalid YAML: " + _yaml_message(exc))]
    conv.lines[()] = root.start_mark.line + 1
    return YamlDocument(file, data, conv.lines), conv.problems


def _yaml_message(exc: yaml.YAMLError) -> str:
    problem = getattr(exc, "problem", None)
    context = getattr(exc, "context", None)
    if problem:
        if "expected a single document" in (context or ""):
            return "several YAML documents in one file; put one config per file"
        return f"{context}, {problem}" if context else str(problem)
    return str(exc).splitlines()[0]
