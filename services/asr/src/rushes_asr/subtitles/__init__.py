"""Subtitles from word timings: cue building under a broadcast profile, SRT/WebVTT/TTML (IMSC1)
export and reading, and subtitle QC. Pure domain logic: no grpc, NATS or Triton here.

Typical use::

    cues = build_cues(words, subtitle_profile("adult"), fps=25, shot_changes_s=cuts)
    documents = export_all(cues, language="en")          # {"srt": ..., "vtt": ..., "ttml": ...}
    report = build_qc_report(cues, fps=25, shot_changes_s=cuts, words=words).to_dict()
"""

from rushes_asr.subtitles.accuracy import (
    PunctuationScore,
    WordErrorRate,
    normalise_text,
    punctuation_accuracy,
    word_error_rate,
)
from rushes_asr.subtitles.builder import build_cues
from rushes_asr.subtitles.cue import Cue
from rushes_asr.subtitles.drift import CueDrift, measure_drift
from rushes_asr.subtitles.errors import ReferenceTranscriptError, SubtitleInputError
from rushes_asr.subtitles.formats import FORMATS, MEDIA_TYPES, export_all, parse_subtitles
from rushes_asr.subtitles.hallucination import (
    RepetitionLoop,
    TextOverSilence,
    find_repetition_loops,
    find_text_over_silence,
)
from rushes_asr.subtitles.localization import LocalizationReport, check_localization
from rushes_asr.subtitles.profile import PRESETS, SubtitleProfile, subtitle_profile
from rushes_asr.subtitles.qc import FIELD, STUDIO, QCReport, QualityTargets, build_qc_report
from rushes_asr.subtitles.reference import load_reference_transcript
from rushes_asr.subtitles.srt_format import parse_srt, to_srt
from rushes_asr.subtitles.ttml_format import IMSC1_TEXT_PROFILE, parse_ttml, to_ttml
from rushes_asr.subtitles.validation import RULES, Violation, validate_cues
from rushes_asr.subtitles.webvtt_format import parse_webvtt, to_webvtt
from rushes_asr.subtitles.words import Word, load_alignment_json, normalise_words, words_from_mappings

__all__ = [
    "FIELD",
    "FORMATS",
    "IMSC1_TEXT_PROFILE",
    "MEDIA_TYPES",
    "PRESETS",
    "RULES",
    "STUDIO",
    "Cue",
    "CueDrift",
    "LocalizationReport",
    "PunctuationScore",
    "QCReport",
    "QualityTargets",
    "ReferenceTranscriptError",
    "RepetitionLoop",
    "SubtitleInputError",
    "SubtitleProfile",
    "TextOverSilence",
    "Violation",
    "Word",
    "WordErrorRate",
    "build_cues",
    "build_qc_report",
    "check_localization",
    "export_all",
    "find_repetition_loops",
    "find_text_over_silence",
    "load_alignment_json",
    "load_reference_transcript",
    "measure_drift",
    "normalise_text",
    "normalise_words",
    "parse_srt",
    "parse_subtitles",
    "parse_ttml",
    "parse_webvtt",
    "punctuation_accuracy",
    "subtitle_profile",
    "to_srt",
    "to_ttml",
    "to_webvtt",
    "validate_cues",
    "word_error_rate",
    "words_from_mappings",
]
