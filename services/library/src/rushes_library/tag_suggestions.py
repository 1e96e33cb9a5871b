"""Taxonomy tags worth applying to one shot, each with a score and the reasons behind it.

Two sources, merged per tag:
- ancestor: the shot's own AI values stand for taxonomy nodes ("shot_type: close_up" is the node
  close_up under framing under technique). The node scores its value's confidence; each step up the
  tree multiplies it by ANCESTOR_DECAY, because a broader tag says less about the shot.
- neighbours (more-like-this): the tags on the shot's nearest neighbours by embedding, in the same
  project (its vocabulary, and no peeking into other projects). A tag scores the summed similarity
  of the neighbours carrying it divided by the number of neighbours read, so a tag on most close
  neighbours scores high and one on a single distant neighbour scores low.
A tag found by both scores 1 - (1 - a)(1 - b). Tags the editors already applied to the asset, and
their ancestors (implied by them), are never suggested.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from rushes_library.catalog import InvalidRequest
from rushes_library.database import AsyncConn, Database
from rushes_library.search import _resolve_asset, _tune_vector_scan
from rushes_library.search_index import ASSET_LEVEL
from rushes_library.taxonomy import Taxonomy, load_taxonomy

ANCESTOR_DECAY = 0.8
DEFAULT_LIMIT = 10
MAX_LIMIT = 50
DEFAULT_NEIGHBOURS = 20
MAX_NEIGHBOURS = 100


@dataclass
class Suggestion:
    tag: str
    score: float
    sources: list[str] = field(default_factory=list)
    reasons: list[str] = field(default_factory=list)

    def to_json(self) -> dict[str, Any]:
        return {
            "tag": self.tag,
            "score": round(self.score, 4),
            "source": ",".join(self.sources),
            "reasons": self.reasons,
        }


@dataclass(frozen=True)
class Neighbour:
    asset_id: str
    shot_index: int
    similarity: float
    labels: Sequence[str]


@dataclass(frozen=True)
class Suggestions:
    asset_id: str
    shot_index: int
    suggestions: list[Suggestion]
    used_neighbours: bool


def implied_by(applied: Sequence[str], taxonomy: Taxonomy) -> set[str]:
    """The applied tags and every ancestor of them (applying close_up already says framing)."""
    implied: set[str] = set()
    for tag in applied:
        node = taxonomy.resolve(tag)
        if node is not None:
            implied.add(node)
            implied.update(taxonomy.ancestors(node))
    return implied


def from_own_values(
    labels: Sequence[str], confidences: Mapping[str, float], taxonomy: Taxonomy
) -> dict[str, Suggestion]:
    """Suggestions from the shot's own `field:value` labels and their taxonomy ancestors."""
    found: dict[str, Suggestion] = {}
    for label in labels:
        field_name, _, raw = label.partition(":")
        if field_name == "tag" or not raw:
            continue
        node = taxonomy.field_value_node(field_name, raw)
        if node is None:
            continue
        confidence = float(confidences.get(field_name, 1.0))
        for depth, name in enumerate([node, *taxonomy.ancestors(node)]):
            score = confidence * ANCESTOR_DECAY**depth
            why = (
                f"{field_name} is {raw} (confidence {confidence:.2f})"
                if depth == 0
                else f"ancestor of {node}: {field_name} is {raw} (confidence {confidence:.2f})"
            )
            current = found.get(name)
            if current is None or score > current.score:
                found[name] = Suggestion(name, score, ["ancestor"], [why])
    return found


def from_neighbours(neighbours: Sequence[Neighbour], taxonomy: Taxonomy) -> dict[str, Suggestion]:
    """Suggestions from the tags of the nearest shots, weighted by similarity."""
    if not neighbours:
        return {}
    weight: dict[str, float] = {}
    carriers: dict[str, list[Neighbour]] = {}
    for neighbour in neighbours:
        for label in set(neighbour.labels):
            if not label.startswith("tag:") or label[4:] not in taxonomy.nodes:
                continue
            tag = label[4:]
            weight[tag] = weight.get(tag, 0.0) + max(0.0, neighbour.similarity)
            carriers.setdefault(tag, []).append(neighbour)
    found: dict[str, Suggestion] = {}
    for tag, total in weight.items():
        best = max(carriers[tag], key=lambda n: n.similarity)
        where = f"{best.asset_id[:12]} shot {best.shot_index}" if best.shot_index >= 0 else best.asset_id[:12]
        found[tag] = Suggestion(
            tag,
            total / len(neighbours),
            ["neighbours"],
            [
                f"on {len(carriers[tag])} of {len(neighbours)} similar shots "
                f"(closest: {where}, similarity {best.similarity:.2f})"
            ],
        )
    return found


def merge(
    own: Mapping[str, Suggestion],
    neighbours: Mapping[str, Suggestion],
    *,
    exclude: set[str],
    limit: int,
) -> list[Suggestion]:
    merged: dict[str, Suggestion] = {}
    for source in (own, neighbours):
        for tag, suggestion in source.items():
            if tag in exclude:
                continue
            current = merged.get(tag)
            if current is None:
                merged[tag] = Suggestion(
                    tag, suggestion.score, list(suggestion.sources), list(suggestion.reasons)
                )
            else:
                current.score = 1 - (1 - current.score) * (1 - suggestion.score)
                current.sources.extend(suggestion.sources)
                current.reasons.extend(suggestion.reasons)
    ranked = sorted(merged.values(), key=lambda s: (-s.score, s.tag))
    return ranked[:limit]


class TagSuggester:
    def __init__(self, db: Database, taxonomy: Taxonomy | None = None) -> None:
        self._db = db
        self._taxonomy = taxonomy or load_taxonomy()

    async def suggest(
        self, asset_ref: str, shot_index: int, *, limit: int = 0, neighbours: int = 0
    ) -> Suggestions:
        """Raises LookupError (unknown asset or shot) and InvalidRequest (bad arguments)."""
        limit = limit or DEFAULT_LIMIT
        neighbours = neighbours or DEFAULT_NEIGHBOURS
        if not 1 <= limit <= MAX_LIMIT:
            raise InvalidRequest(f"limit {limit} is out of range 1..{MAX_LIMIT}")
        if not 1 <= neighbours <= MAX_NEIGHBOURS:
            raise InvalidRequest(f"neighbours {neighbours} is out of range 1..{MAX_NEIGHBOURS}")
        if shot_index < ASSET_LEVEL:
            raise InvalidRequest(f"shot index {shot_index} is negative (-1 means the asset-level row)")
        async with self._db.connection() as conn, conn.transaction():
            asset_id = await _resolve_asset(conn, asset_ref)
            cursor = await conn.execute(
                "SELECT s.project, s.labels, s.confidences, v.embedding::text AS embedding,"
                " a.descriptive -> 'tags' AS applied"
                " FROM search_shots s JOIN assets a USING (asset_id)"
                " LEFT JOIN search_vectors v USING (asset_id, shot_index)"
                " WHERE s.asset_id = %s AND s.shot_index = %s",
                (asset_id, shot_index),
            )
            row = await cursor.fetchone()
            if row is None:
                where = "an asset-level row" if shot_index == ASSET_LEVEL else f"shot {shot_index}"
                raise LookupError(f"asset {asset_id} has no {where} in the search index")
            near = await _neighbours(conn, asset_id, row, neighbours) if row["embedding"] else []
        own = from_own_values(list(row["labels"] or []), dict(row["confidences"] or {}), self._taxonomy)
        suggestions = merge(
            own,
            from_neighbours(near, self._taxonomy),
            exclude=implied_by(list(row["applied"] or []), self._taxonomy),
            limit=limit,
        )
        return Suggestions(asset_id, shot_index, suggestions, used_neighbours=row["embedding"] is not None)


async def _neighbours(conn: AsyncConn, asset_id: str, row: Mapping[str, Any], k: int) -> list[Neighbour]:
    """The k nearest shots of other assets in the same project (the asset's own shots share its tags)."""
    await _tune_vector_scan(conn)
    cursor = await conn.execute(
        "SELECT s.asset_id, s.shot_index, s.labels, 1 - (v.embedding <=> %s::vector) AS similarity"
        " FROM search_vectors v JOIN search_shots s USING (asset_id, shot_index)"
        " WHERE s.asset_id <> %s AND s.project = %s"
        " ORDER BY v.embedding <=> %s::vector LIMIT %s",
        (row["embedding"], asset_id, row["project"], row["embedding"], k),
    )
    return [
        Neighbour(str(r["asset_id"]), int(r["shot_index"]), float(r["similarity"]), list(r["labels"] or []))
        for r in await cursor.fetchall()
    ]
