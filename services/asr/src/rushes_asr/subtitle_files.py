"""From recognised words to the delivered subtitle files, their QC report and the ASR guards.

The glue between the job (storage, events) and rushes_asr.subtitles (pure cue building, export,
QC): one call renders everything one asset needs.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from rushes_asr.subtitles import (
    MEDIA_TYPES,
    SubtitleInputError,
    build_cues,
    build_qc_report,
    check_localization,
    export_all,
    find_repetition_loops,
    find_text_over_silence,
    parse_subtitles,
    subtitle_profile,
    words_from_mappings,
)

CONTENT_TYPES = MEDIA_TYPES
DEFAULT_PROFILE = "adult"
DEFAULT_FPS = 25.0


@dataclass
class SubtitleFiles:
    documents: dict[str, str]  # format -> text
    qc: dict[str, Any]
    profile: str
    cue_count: int
    passes: bool  # the field targets are met (complete verdicts only)


def hallucination_flags(words: Sequence[dict[str, Any]], speech: Sequence[tuple[float, float]]) -> list[str]:
    """Guards that send a transcript to review instead of silently keeping it."""
    parsed = words_from_mappings(words)
    flags = []
    if find_repetition_loops(parsed):
        flags.append("repetition_loop")
    if find_text_over_silence(parsed, speech):
        flags.append("text_over_silence")
    return flags


def render(
    words: Sequence[dict[str, Any]],
    *,
    language: str,
    shot_changes_s: Sequence[float] = (),
    fps: float = DEFAULT_FPS,
    profile_name: str = DEFAULT_PROFILE,
    reference_text: str | None = None,
    speaker_turns_s: Sequence[float] = (),
) -> SubtitleFiles:
    """`speaker_turns_s`: where another speaker starts (per-channel transcripts); cues break there
    as they do at shot changes, so no cue mixes two speakers. QC checks the real shot changes."""
    profile = subtitle_profile(profile_name)
    parsed = words_from_mappings(words)
    breaks = sorted({*shot_changes_s, *speaker_turns_s})
    cues = build_cues(parsed, profile, fps=fps, shot_changes_s=breaks, language=language)
    report = build_qc_report(
        cues, profile, fps=fps, shot_changes_s=shot_changes_s, words=parsed, reference_text=reference_text,
        language=language,
    )  # fmt: skip
    field = report.verdicts.get("field")
    passes = report.style_violations == 0 and (field is None or field.passed or not field.complete)
    return SubtitleFiles(
        documents=export_all(cues, language=language),
        qc=report.to_dict(),
        profile=profile.name,
        cue_count=len(cues),
        passes=passes,
    )


def evaluate(
    transcript_words: Sequence[dict[str, Any]],
    srt_text: str,
    reference_text: str,
    *,
    language: str,
    fps: float = DEFAULT_FPS,
    profile_name: str = DEFAULT_PROFILE,
) -> dict[str, Any]:
    """QC of delivered cues (read back from the SRT) against a reference transcript."""
    profile = subtitle_profile(profile_name)
    cues = parse_subtitles(srt_text, "srt")
    report = build_qc_report(
        cues, profile, fps=fps, words=words_from_mappings(transcript_words), reference_text=reference_text,
        language=language,
    )  # fmt: skip
    return report.to_dict()


MAX_TRANSLATION_BYTES = 16 * 1024 * 1024


def evaluate_translation(
    source_srt: str,
    translation: bytes,
    glossary: dict[str, str],
    *,
    language: str,
    fps: float = DEFAULT_FPS,
    profile_name: str = DEFAULT_PROFILE,
) -> dict[str, Any]:
    """Localization QC of a translated SRT/WebVTT against the delivered source cues. Raises
    SubtitleInputError naming what is wrong with the translation file."""
    if len(translation) > MAX_TRANSLATION_BYTES:
        raise SubtitleInputError(
            f"translation is {len(translation)} bytes; the limit is {MAX_TRANSLATION_BYTES}"
        )
    try:
        text = translation.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise SubtitleInputError(f"translation is not UTF-8 (byte {exc.start})") from None
    fmt = "vtt" if text.lstrip().startswith("WEBVTT") else "srt"
    translated = parse_subtitles(text, fmt)
    source = parse_subtitles(source_srt, "srt")
    report = check_localization(
        source, translated, glossary, language=language, profile=subtitle_profile(profile_name), fps=fps
    )
    return {"format": fmt, **report.to_dict()}
