"""A project's speech settings: its glossary (with translations), Whisper's initial prompt, the
spoken language, the subtitle profile, and whether channels carry different speakers.

Editors write it once per production as YAML or JSON (`rushes speech set --project P FILE`);
the asr service validates it, stores it normalised under the project's folder in the object
store, and every later job of that project reads it:

    language: en                 # skip language detection ("" = detect)
    subtitle_profile: adult      # or children
    initial_prompt: "Interview for The Harbour, a documentary."
    channels: separate           # each audio channel is one speaker (lavaliers); default mixed
    channel_names: [Interviewer, Maya]
    glossary:
      - term: Rushes
      - term: Kubernetes
        translations: {fr: Kubernetes, de: Kubernetes}
      - term: dailies
        translations: {fr: rushes, de: Muster}

Glossary terms become Whisper hotwords (so rare names are spelled as the production spells
them) and, with their translations, the localization QC's term mapping.
"""

from __future__ import annotations

import json
from typing import Any, Literal

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator

from rushes_asr.subtitles import PRESETS

MAX_SETTINGS_BYTES = 1024 * 1024
MAX_TERMS = 2000
# Whisper's prompt holds about 224 tokens; hotwords past this many characters would be cut.
MAX_HOTWORD_CHARS = 600


class SpeechSettingsError(ValueError):
    """The settings file cannot be used; the message names the field and what is wrong."""


class GlossaryTerm(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    term: str = Field(min_length=1, max_length=100)
    translations: dict[str, str] = Field(default_factory=dict)

    @field_validator("term")
    @classmethod
    def _printable(cls, value: str) -> str:
        if not value.strip() or not value.isprintable():
            raise ValueError("must be printable text")
        return value.strip()

    @field_validator("translations")
    @classmethod
    def _languages(cls, value: dict[str, str]) -> dict[str, str]:
        for language, text in value.items():
            if not (2 <= len(language) <= 8) or not text.strip():
                raise ValueError(f"translation {language!r}: a language code and non-empty text")
        return value


class SpeechSettings(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    language: str = Field("", max_length=8)
    subtitle_profile: str = "adult"
    initial_prompt: str = Field("", max_length=1000)
    channels: Literal["mixed", "separate"] = "mixed"
    channel_names: tuple[str, ...] = Field((), max_length=64)
    glossary: tuple[GlossaryTerm, ...] = Field((), max_length=MAX_TERMS)

    @field_validator("subtitle_profile")
    @classmethod
    def _known_profile(cls, value: str) -> str:
        if value not in PRESETS:
            raise ValueError(f"unknown profile {value!r}; known: {', '.join(sorted(PRESETS))}")
        return value

    def hotwords(self) -> str | None:
        """The glossary terms, as many as fit the prompt budget (in the file's order)."""
        kept: list[str] = []
        for entry in self.glossary:
            if sum(len(t) + 2 for t in kept) + len(entry.term) > MAX_HOTWORD_CHARS:
                break
            kept.append(entry.term)
        return ", ".join(kept) or None

    def term_translations(self, language: str) -> dict[str, str]:
        """term -> its translation into `language`, for the terms that have one."""
        return {e.term: e.translations[language] for e in self.glossary if language in e.translations}

    def channel_name(self, channel: int) -> str:
        return self.channel_names[channel] if channel < len(self.channel_names) else f"channel {channel + 1}"

    def to_json(self) -> str:
        return json.dumps(self.model_dump(mode="json"), indent=2, ensure_ascii=False)


def parse_speech_settings(data: bytes) -> SpeechSettings:
    """YAML or JSON bytes -> validated settings. Raises SpeechSettingsError naming the problem."""
    if len(data) > MAX_SETTINGS_BYTES:
        raise SpeechSettingsError(f"settings file is {len(data)} bytes; the limit is {MAX_SETTINGS_BYTES}")
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise SpeechSettingsError(f"settings file is not UTF-8 (byte {exc.start})") from None
    try:
        raw: Any = yaml.safe_load(text) if text.strip() else {}
    except yaml.YAMLError as exc:
        raise SpeechSettingsError(f"settings file is not valid YAML/JSON: {exc}") from None
    if not isinstance(raw, dict):
        raise SpeechSettingsError("settings file must be a mapping (language:, glossary:, ...)")
    try:
        return SpeechSettings.model_validate(raw)
    except ValidationError as exc:
        problems = "; ".join(
            f"{'.'.join(str(p) for p in error['loc']) or 'settings'}: {error['msg']}"
            for error in exc.errors()
        )
        raise SpeechSettingsError(problems) from None
