"""The hierarchical tag taxonomy (taxonomy.yaml): canonical names, synonyms, ancestors.

Pure. Search resolves what people type ("closeup", "handheld") to the canonical node, and the index
labels every shot with its values' nodes and all their ancestors, so `tag:framing` finds every shot
size and `tag:cu` finds close-ups. Loading validates the file: a name used twice, or a synonym that
shadows a name, would make the same word mean two things, so it is refused.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from functools import cache
from importlib import resources
from typing import Any

import yaml

_NAME = re.compile(r"^[a-z][a-z0-9_]*$")


class TaxonomyError(ValueError):
    """The taxonomy file is malformed; the message names the node."""


@dataclass(frozen=True)
class TagNode:
    name: str
    parent: str | None
    synonyms: tuple[str, ...] = ()
    children: tuple[str, ...] = ()
    # Asset-record value fields whose values are this node's descendants (shot_type -> framing).
    fields: tuple[str, ...] = ()
    # The raw value tagging writes, when it is not the node name.
    value: str | None = None


@dataclass(frozen=True)
class Taxonomy:
    version: int
    nodes: Mapping[str, TagNode]
    _lookup: Mapping[str, str] = field(repr=False)  # normalised word -> canonical name
    _field_values: Mapping[str, Mapping[str, str]] = field(repr=False)  # field -> raw value -> name

    def resolve(self, word: str) -> str | None:
        """The canonical node name for a name or synonym ("Close-up" -> "close_up"); None if unknown."""
        return self._lookup.get(normalise(word))

    def ancestors(self, name: str) -> list[str]:
        """From the node's parent up to its root (empty for a root)."""
        chain: list[str] = []
        parent = self.nodes[name].parent
        while parent is not None:
            chain.append(parent)
            parent = self.nodes[parent].parent
        return chain

    def field_value_node(self, field_name: str, raw_value: str) -> str | None:
        """The node a field's raw value stands for (pace "medium" -> "medium_pace"); None if unknown."""
        return self._field_values.get(field_name, {}).get(normalise(raw_value))

    def field_value_of(self, field_name: str, word: str) -> str | None:
        """What a query word means as a value of this field: the raw value to match, or None.

        Accepts the raw value, the node name or any synonym of a node under the field's root.
        """
        values = self._field_values.get(field_name)
        if values is None:
            return None
        node = self.resolve(word)
        key = normalise(word)
        if key in values:
            return key
        if node is not None:
            for raw, name in values.items():
                if name == node:
                    return raw
        return None

    def field_values(self, field_name: str) -> list[str]:
        return sorted(self._field_values.get(field_name, {}))

    def taxonomy_fields(self) -> list[str]:
        return sorted(self._field_values)

    def suggest(self, prefix: str, limit: int = 10) -> list[str]:
        """Canonical names whose name or a synonym starts with the prefix (autocomplete)."""
        key = normalise(prefix)
        hits = sorted({name for word, name in self._lookup.items() if word.startswith(key)})
        return hits[:limit]


def normalise(word: str) -> str:
    """Case, spaces and hyphens folded: "Close-Up" and "close up" both read "close_up"."""
    return re.sub(r"[\s\-]+", "_", word.strip().lower())


def parse_taxonomy(document: Mapping[str, Any]) -> Taxonomy:
    """Build and validate a taxonomy from the YAML document's data."""
    tree = document.get("tree")
    if not isinstance(tree, Mapping) or not tree:
        raise TaxonomyError("taxonomy: `tree` must be a non-empty mapping")
    nodes: dict[str, TagNode] = {}

    def visit(name: Any, body: Any, parent: str | None) -> None:
        if not isinstance(name, str) or not _NAME.match(name):
            raise TaxonomyError(f"taxonomy: node name {name!r} is not lowercase snake_case")
        if name in nodes:
            raise TaxonomyError(f"taxonomy: node {name!r} appears twice")
        body = body or {}
        if not isinstance(body, Mapping):
            raise TaxonomyError(f"taxonomy: node {name!r} must be a mapping")
        unknown = set(body) - {"synonyms", "children", "fields", "value"}
        if unknown:
            raise TaxonomyError(f"taxonomy: node {name!r} has unknown keys {sorted(unknown)}")
        children = body.get("children") or {}
        if not isinstance(children, Mapping):
            raise TaxonomyError(f"taxonomy: children of {name!r} must be a mapping")
        synonyms = tuple(normalise(str(s)) for s in body.get("synonyms") or ())
        nodes[name] = TagNode(
            name=name,
            parent=parent,
            synonyms=synonyms,
            children=tuple(children),
            fields=tuple(str(f) for f in body.get("fields") or ()),
            value=str(body["value"]) if body.get("value") is not None else None,
        )
        for child, child_body in children.items():
            visit(child, child_body, name)

    for root, body in tree.items():
        visit(root, body, None)

    lookup: dict[str, str] = {name: name for name in nodes}
    for node in nodes.values():
        for synonym in node.synonyms:
            owner = lookup.get(synonym)
            if owner is not None and owner != node.name:
                raise TaxonomyError(
                    f"taxonomy: synonym {synonym!r} of {node.name!r} is already "
                    f"{'the node' if synonym in nodes else 'a synonym of'} {owner!r}"
                )
            lookup[synonym] = node.name

    field_values: dict[str, dict[str, str]] = {}
    for node in nodes.values():
        for field_name in node.fields:
            if field_name in field_values:
                raise TaxonomyError(f"taxonomy: field {field_name!r} is claimed by two nodes")
            values: dict[str, str] = {}
            stack = list(node.children)
            while stack:
                child = nodes[stack.pop()]
                values[normalise(child.value or child.name)] = child.name
                stack.extend(child.children)
            field_values[field_name] = values
    version = document.get("version", 1)
    if not isinstance(version, int):
        raise TaxonomyError("taxonomy: `version` must be an integer")
    return Taxonomy(version=version, nodes=nodes, _lookup=lookup, _field_values=field_values)


@cache
def load_taxonomy() -> Taxonomy:
    """The packaged taxonomy.yaml (parsed once per process)."""
    text = resources.files("rushes_library").joinpath("taxonomy.yaml").read_text("utf-8")
    return parse_taxonomy(yaml.safe_load(text))
