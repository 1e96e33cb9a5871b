"""From one asset's inputs (ingest, tagging, ASR) to its scored takes: the body of rushes.v1.asset.picked.

Pure: keyframe hashes and audio samples are fetched by the caller (job.py) and passed in.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

import numpy as np
from rushes.asset.v1 import asset_pb2
from rushes.events.v1 import events_pb2

from rushes_picks.audio_levels import measure_levels
from rushes_picks.presets import Preset
from rushes_picks.redundancy import Candidate, duplicate_groups
from rushes_picks.scoring import TakeEvidence, score_take
from rushes_picks.version import MODEL, MODEL_VERSION


@dataclass(frozen=True)
class PickInputs:
    """The joined inputs of one asset. `*_error` is set when that stage failed for the asset;
    `*_expected` False when the stage is not part of this pipeline (nothing to wait for)."""

    ingested: events_pb2.AssetIngested
    tagged: events_pb2.AssetTagged | None = None
    tagging_error: str = ""
    transcribed: events_pb2.AssetTranscribed | None = None
    asr_error: str = ""
    tagging_expected: bool = True
    asr_expected: bool = True

    @property
    def input_version(self) -> str:
        """Names which inputs the picks were made from (part of the Nats-Msg-Id: a retag re-picks)."""
        if self.tagged is not None:
            tags = f"tags-v{self.tagged.tags_version}"
        else:
            tags = "tags-failed" if self.tagging_error else "tags-none"
        asr = "asr-ok" if self.transcribed is not None else "asr-failed" if self.asr_error else "asr-none"
        return f"{tags}.{asr}.m{MODEL_VERSION}"


@dataclass(frozen=True)
class Audio:
    samples: np.ndarray
    sample_rate: int


def _transcript_state(inputs: PickInputs) -> str:
    if inputs.transcribed is not None:
        return "no_speech" if inputs.transcribed.skipped_reason else "ok"
    return "failed" if inputs.asr_error else "not_run"


def _words_in(words: list[asset_pb2.Word], start_s: float, end_s: float) -> list[asset_pb2.Word]:
    return [w for w in words if start_s <= (w.start_s + w.end_s) / 2 < end_s]


def _spans(inputs: PickInputs) -> list[tuple[asset_pb2.Shot | None, float, float]]:
    technical = inputs.ingested.technical
    if inputs.tagged is not None and inputs.tagged.shots:
        return [(shot, shot.start_s, shot.end_s) for shot in inputs.tagged.shots]
    duration = technical.duration_s
    if inputs.transcribed is not None and inputs.transcribed.transcript.duration_s > duration:
        duration = inputs.transcribed.transcript.duration_s
    return [(None, 0.0, duration)] if duration > 0 else []


def pick_asset(
    inputs: PickInputs,
    preset: Preset,
    *,
    keyframe_hashes: Mapping[int, str] | None = None,
    audio: Audio | None = None,
) -> events_pb2.AssetPicked:
    """Every take of the asset scored; near-duplicates inside the asset marked. Envelope and run
    are the caller's."""
    ingested = inputs.ingested
    picked = events_pb2.AssetPicked(
        preset=preset.name,
        input_version=inputs.input_version,
        original_key=ingested.objects.get("original", ""),
        model=MODEL,
        model_version=MODEL_VERSION,
    )
    picked.source.CopyFrom(ingested.source)
    picked.technical.CopyFrom(ingested.technical)
    if inputs.tagging_error:
        picked.skipped_reason = f"tagging_failed: {inputs.tagging_error}"
        return picked
    if inputs.asr_error:
        picked.notes.append(f"no transcript: asr failed: {inputs.asr_error}")
    if inputs.tagging_expected and inputs.tagged is None:
        picked.skipped_reason = "tagging_missing"
        return picked
    if ingested.technical.has_video and inputs.tagged is not None and not inputs.tagged.shots:
        picked.skipped_reason = "no_shots"
        return picked
    spans = _spans(inputs)
    if not spans:
        picked.skipped_reason = "no_duration"
        return picked
    words = list(inputs.transcribed.transcript.words) if inputs.transcribed is not None else []
    state = _transcript_state(inputs)
    hashes = keyframe_hashes or {}
    for shot, start_s, end_s in spans:
        if end_s <= start_s:
            continue
        take_words = _words_in(words, start_s, end_s)
        levels = measure_levels(audio.samples, audio.sample_rate, start_s, end_s) if audio else None
        evidence = TakeEvidence(
            start_s=start_s,
            end_s=end_s,
            values=dict(shot.values) if shot is not None else {},
            words=take_words,
            transcript=state,
            audio=levels,
            technical=ingested.technical,
        )
        scored = score_take(evidence, preset)
        take = picked.takes.add(
            shot_index=shot.index if shot is not None else 0,
            start_s=start_s,
            end_s=end_s,
            start_frame=shot.start_frame if shot is not None else 0,
            end_frame=shot.end_frame if shot is not None else ingested.technical.frame_count,
            timecode_in=shot.timecode_in if shot is not None else ingested.technical.timecode,
            transition_in=shot.transition_in if shot is not None else "start",
            transition_frames=_transition_frames(shot),
            keyframe=shot.keyframe if shot is not None else "",
            keyframe_hash=hashes.get(shot.index if shot is not None else 0, ""),
            text=" ".join(w.word.strip() for w in take_words),
            words=take_words,
            duplicate_of=-1,
        )
        take.score.value.struct_value.update({"score": scored.score, "verdict": scored.verdict})
        take.score.confidence = scored.confidence
        take.score.reasons.extend(scored.reasons)
        take.score.model = MODEL
        take.score.model_version = MODEL_VERSION
        take.score.needs_review = scored.needs_review
        take.components.update(scored.components)
        take.measurements.update(scored.measurements)
    _mark_duplicates(picked, preset)
    if not picked.takes:
        picked.skipped_reason = "no_takes"
    return picked


def take_score(take: events_pb2.AssetPicked.Take) -> float:
    return float(take.score.value.struct_value.fields["score"].number_value)


def _mark_duplicates(picked: events_pb2.AssetPicked, preset: Preset) -> None:
    by_index = {take.shot_index: take for take in picked.takes}
    candidates = [
        Candidate(key=t.shot_index, keyframe_hash=t.keyframe_hash, text=t.text, score=take_score(t))
        for t in picked.takes
    ]
    for group in duplicate_groups(candidates, preset.redundancy):
        best = group[0].key
        for member in group[1:]:
            take = by_index[member.key]
            take.duplicate_of = best
            take.redundant = True
            take.score.reasons.append(f"duplicate of shot {best}")


def _transition_frames(shot: asset_pb2.Shot | None) -> int:
    """How long the gradual transition opening `shot` lasts, in frames (0: a cut, or not measured)."""
    if shot is None or shot.transition_in not in ("dissolve", "fade"):
        return 0
    return max(int(shot.transition_end_frame) - int(shot.transition_start_frame), 0)
