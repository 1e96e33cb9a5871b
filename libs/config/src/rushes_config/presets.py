"""Preset books: a YAML file of named presets (a stage's thresholds by production concept), one of
them the default. Every stage with presets loads its file through here, so they all read, validate
and report errors the same way; each stage keeps its own pydantic model of one preset.

    default: documentary
    presets:
      documentary: {...}     # validated by the stage's preset model, its `name` filled in
      drama: {...}
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Generic, TypeVar

import yaml
from pydantic import BaseModel, ValidationError

PresetT = TypeVar("PresetT", bound=BaseModel)


class PresetError(ValueError):
    """A preset file or name that cannot be used; the message names the file, field or known names."""


@dataclass(frozen=True)
class PresetBook(Generic[PresetT]):
    default: str
    presets: Mapping[str, PresetT]
    what: str = "preset"

    def get(self, name: str | None = None) -> PresetT:
        """The preset called `name` (None or "": the default); PresetError names the known ones."""
        key = name or self.default
        if key not in self.presets:
            raise PresetError(f"unknown {self.what} {key!r}; known: {', '.join(sorted(self.presets))}")
        return self.presets[key]

    @property
    def names(self) -> list[str]:
        return sorted(self.presets)


def load_preset_book(path: Path, model: type[PresetT], *, what: str = "preset") -> PresetBook[PresetT]:
    """Read and validate `path`. Each preset body is validated by `model` with its `name` set from its
    key when the model has a `name` field. Raises PresetError naming the file and the first bad field."""
    try:
        raw = yaml.safe_load(Path(path).read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, yaml.YAMLError) as exc:
        raise PresetError(f"cannot read {what}s {path}: {exc}") from None
    if not isinstance(raw, dict) or not isinstance(raw.get("presets"), dict) or not raw["presets"]:
        raise PresetError(f"{path}: expected a mapping with 'default' and a non-empty 'presets' mapping")
    unknown = set(raw) - {"default", "presets"}
    if unknown:
        raise PresetError(f"{path}: unknown top-level key(s) {', '.join(sorted(unknown))}")
    default = raw.get("default")
    if not isinstance(default, str) or default not in raw["presets"]:
        raise PresetError(f"{path}: default {what} {default!r} is not one of the presets")
    presets: dict[str, PresetT] = {}
    for name, body in raw["presets"].items():
        if not isinstance(body, dict):
            raise PresetError(f"{path}: presets.{name}: expected a mapping")
        if "name" in model.model_fields:
            body = {**body, "name": name}
        try:
            presets[str(name)] = model.model_validate(body)
        except ValidationError as exc:
            first = exc.errors()[0]
            where = ".".join(str(p) for p in first["loc"])
            raise PresetError(f"{path.name}: presets.{name}.{where}: {first['msg']}") from None
    return PresetBook(default=default, presets=presets, what=what)
