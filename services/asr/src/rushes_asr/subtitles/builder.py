"""Cues from word timings: segmentation, line layout, then timing fixes, under one profile."""

from __future__ import annotations

from collections.abc import Iterable

from rushes_asr.subtitles.cue import Cue
from rushes_asr.subtitles.language import rules_for
from rushes_asr.subtitles.profile import SubtitleProfile, check_fps, shot_change_frames
from rushes_asr.subtitles.segmentation import segment
from rushes_asr.subtitles.timing import time_segments
from rushes_asr.subtitles.words import Word, normalise_words


def build_cues(
    words: Iterable[Word],
    profile: SubtitleProfile | None = None,
    *,
    fps: float = 25.0,
    shot_changes_s: Iterable[float] | None = None,
    language: str = "en",
) -> list[Cue]:
    """Subtitle cues for `words` (in time order, Whisper-style text) under `profile` (adult by
    default), with in/out-times on whole frames of `fps`, kept off the shot changes at
    `shot_changes_s`. Rules that the words make impossible to meet (speech too fast to read, a
    shot change inside a word) are not hidden: `validate_cues` reports them.
    """
    profile = profile or SubtitleProfile()
    fps = check_fps(fps)
    cuts = shot_change_frames(shot_changes_s, fps)
    tokens = normalise_words(words)
    rules = rules_for(language)
    segments = segment(tokens, profile, fps=fps, cut_times_s=[c / fps for c in cuts], rules=rules)
    slots = time_segments(tokens, segments, profile, fps=fps, cuts=cuts)
    return [
        Cue(start_s=slot.start / fps, end_s=slot.end / fps, lines=seg.layout.lines)
        for seg, slot in zip(segments, slots, strict=True)
    ]
