"""Near-duplicate takes: the same setup and the same words, grouped so one of them is picked.

Grouping is transitive (A~B and B~C puts A, B and C together) and independent of input order:
the same takes always give the same groups and the same winners, whichever replica computes them.
"""

from __future__ import annotations

from collections.abc import Hashable, Sequence
from dataclasses import dataclass
from typing import Any

from rushes_picks.fingerprint import hash_distance, text_similarity
from rushes_picks.presets import Redundancy


@dataclass(frozen=True)
class Candidate:
    # A sortable identity (e.g. (shoot order, asset id, shot index)): ties in score go to the lower key.
    key: Any
    keyframe_hash: str
    text: str
    score: float


def are_duplicates(a: Candidate, b: Candidate, rules: Redundancy) -> bool:
    distance = hash_distance(a.keyframe_hash, b.keyframe_hash)
    similarity = text_similarity(a.text, b.text)
    if similarity is None:
        if a.text.strip() or b.text.strip():
            return False  # one says something, the other does not: different takes
        return distance is not None and distance <= rules.max_hash_distance_silent
    if similarity < rules.min_text_similarity:
        return False
    # Same words: the same setup unless the pictures clearly differ (coverage from another angle).
    return distance is None or distance <= rules.max_hash_distance


def duplicate_groups(candidates: Sequence[Candidate], rules: Redundancy) -> list[list[Candidate]]:
    """Groups of two or more near-duplicates, best first (score, then key); groups ordered by their best."""
    ordered = sorted(candidates, key=lambda c: _sort_key(c.key))
    parent = list(range(len(ordered)))

    def root(i: int) -> int:
        while parent[i] != i:
            parent[i] = parent[parent[i]]
            i = parent[i]
        return i

    for i in range(len(ordered)):
        for j in range(i + 1, len(ordered)):
            if root(i) != root(j) and are_duplicates(ordered[i], ordered[j], rules):
                parent[max(root(i), root(j))] = min(root(i), root(j))
    members: dict[int, list[Candidate]] = {}
    for i, candidate in enumerate(ordered):
        members.setdefault(root(i), []).append(candidate)
    groups = [sorted(g, key=lambda c: (-c.score, _sort_key(c.key))) for g in members.values() if len(g) > 1]
    return sorted(groups, key=lambda g: _sort_key(g[0].key))


def _sort_key(key: Hashable) -> Any:
    return key
