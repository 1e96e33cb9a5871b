"""Was the line delivered whole? Restarts, fillers, stumbles and cut-offs read from the transcript.

Whisper writes a false start as a repeated word or phrase ("I I want", "we went we went") or as a
word cut short with a hyphen ("wa-"); fillers come through as "uh"/"um"; a word it heard poorly
has a low probability. A take whose speech starts or ends right at the cut point has its line cut
off (the actor was already speaking when the camera rolled, or the shot was cut mid-word).
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass, field

from rushes.asset.v1 import asset_pb2

FILLERS = frozenset({"uh", "um", "uhm", "er", "erm", "ah", "eh", "hmm", "mm", "mhm"})
# A word below this probability was heard poorly: a mumble or a stumble.
STUMBLE_PROBABILITY = 0.45
# Speech this close to a take's edge is treated as cut off by the edge.
CUT_OFF_MARGIN_S = 0.08
_TOKEN = re.compile(r"[^\w']+", re.UNICODE)


def normalise_word(word: str) -> str:
    """Lower case, punctuation stripped ("Hello," -> "hello"); a trailing hyphen survives as a mark."""
    cut_short = word.strip().endswith("-")
    core = _TOKEN.sub("", word.lower()).strip("'")
    return f"{core}-" if cut_short and core else core


def tokens(text: str) -> list[str]:
    return [t for t in (normalise_word(w) for w in text.split()) if t]


@dataclass(frozen=True)
class DeliveryReading:
    word_count: int
    restarts: int
    fillers: int
    stumbles: int
    cut_off_start: bool
    cut_off_end: bool
    mean_probability: float
    reasons: list[str] = field(default_factory=list)

    @property
    def complete(self) -> bool:
        """A whole line: spoken without a restart, filler or cut-off."""
        return (
            self.word_count > 0
            and not self.restarts
            and not self.fillers
            and not (self.cut_off_start or self.cut_off_end)
        )

    @property
    def score(self) -> float:
        penalty = (
            0.35 * self.restarts
            + 0.15 * self.fillers
            + 0.1 * self.stumbles
            + 0.3 * (self.cut_off_start + self.cut_off_end)
        )
        return round(max(0.0, 1.0 - penalty), 4)


def count_restarts(words: Sequence[str]) -> tuple[int, list[str]]:
    """Immediate repeats of a 1-3 word phrase, and words cut short ("wa-"); each counts once."""
    found: list[str] = []
    i = 0
    while i < len(words):
        if words[i].endswith("-"):
            found.append(words[i])
            i += 1
            continue
        for size in (3, 2, 1):
            if i + 2 * size <= len(words) and words[i : i + size] == words[i + size : i + 2 * size]:
                found.append(" ".join(words[i : i + size]))
                i += size  # the second copy is the real delivery
                break
        else:
            i += 1
    return len(found), found


def read_delivery(words: Sequence[asset_pb2.Word], start_s: float, end_s: float) -> DeliveryReading | None:
    """None when nothing was said in the take (delivery is not measurable, not bad)."""
    spoken = [w for w in words if normalise_word(w.word)]
    if not spoken:
        return None
    normalised = [normalise_word(w.word) for w in spoken]
    fillers = sum(1 for t in normalised if t in FILLERS)
    content = [t for t in normalised if t not in FILLERS]
    restarts, repeated = count_restarts(content)
    stumbles = sum(1 for w in spoken if w.probability < STUMBLE_PROBABILITY)
    cut_start = spoken[0].start_s - start_s < CUT_OFF_MARGIN_S
    cut_end = end_s - spoken[-1].end_s < CUT_OFF_MARGIN_S
    reasons: list[str] = []
    if repeated:
        reasons.append(f"restart: {', '.join(repr(r) for r in repeated[:3])}")
    if fillers:
        reasons.append(f"{fillers} filler word{'s' if fillers > 1 else ''}")
    if stumbles:
        reasons.append(f"{stumbles} unclear word{'s' if stumbles > 1 else ''}")
    if cut_start:
        reasons.append("line cut off at the start")
    if cut_end:
        reasons.append("line cut off at the end")
    mean_p = sum(w.probability for w in spoken) / len(spoken)
    reading = DeliveryReading(
        word_count=len(spoken),
        restarts=restarts,
        fillers=fillers,
        stumbles=stumbles,
        cut_off_start=cut_start,
        cut_off_end=cut_end,
        mean_probability=round(mean_p, 4),
        reasons=reasons,
    )
    if reading.complete:
        reading.reasons.insert(0, "complete line")
    return reading
