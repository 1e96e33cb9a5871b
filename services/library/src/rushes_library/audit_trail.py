"""The AI decisions inside an audited event, for `rushes audit` (pure).

Events keep their whole payload in the audit log, so every decision a stage made is there with its
model and version. This finds them without knowing each event type: any object that carries a
`model` and a `confidence` is a decision (AiValue, transcripts, and what later stages publish);
its path says which shot and field it belongs to. The run's parameters are the event's top-level
scalars (preset, tags version, ...).
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from typing import Any

_MAX_DECISIONS = 10_000


@dataclass(frozen=True)
class Decision:
    stage: str
    field: str
    shot_index: int
    value: Any
    confidence: float
    reasons: list[str]
    model: str
    model_version: str
    parameters: dict[str, Any]
    input_sha256: str

    def to_json(self) -> dict[str, Any]:
        return {
            "stage": self.stage,
            "field": self.field,
            "shot_index": self.shot_index,
            "value": self.value,
            "confidence": self.confidence,
            "reasons": self.reasons,
            "model": self.model,
            "model_version": self.model_version,
            "parameters": self.parameters,
            "input_sha256": self.input_sha256,
        }


def decisions_in(event_type: str, data: Mapping[str, Any], *, input_sha256: str = "") -> list[Decision]:
    if event_type.endswith(".asset.reviewed"):
        return []  # a human verdict: the entry itself is the record (its data holds the old value)
    run = data.get("run") if isinstance(data.get("run"), Mapping) else {}
    stage = str((run or {}).get("stage") or event_type.removeprefix("rushes.v1.").removeprefix("asset."))
    parameters = {k: v for k, v in data.items() if isinstance(v, str | int | float | bool) and k != "verdict"}
    found = []
    for path, record in _walk(data, ()):
        found.append(
            Decision(
                stage=stage,
                field=_field_of(path),
                shot_index=_shot_of(path),
                value=record.get("value", record.get("text")),
                confidence=float(record.get("confidence") or 0.0),
                reasons=[str(r) for r in record.get("reasons") or record.get("flags") or []],
                model=str(record.get("model") or ""),
                model_version=str(record.get("model_version") or ""),
                parameters=parameters,
                input_sha256=input_sha256,
            )
        )
        if len(found) >= _MAX_DECISIONS:
            break
    return found


def _walk(node: Any, path: tuple[str, ...]) -> Iterator[tuple[tuple[str, ...], Mapping[str, Any]]]:
    if isinstance(node, Mapping):
        if "model" in node and "confidence" in node:
            yield path, node
            return
        for key, value in node.items():
            yield from _walk(value, (*path, str(key)))
    elif isinstance(node, list):
        for position, value in enumerate(node):
            yield from _walk(value, (*path, str(position)))


def _field_of(path: tuple[str, ...]) -> str:
    if len(path) >= 2 and path[-2] == "values":
        return path[-1]
    return path[-1] if path else ""


def _shot_of(path: tuple[str, ...]) -> int:
    if len(path) >= 2 and path[0] == "shots" and path[1].isdigit():
        return int(path[1])
    return -1
