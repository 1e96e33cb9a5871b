"""One ASR job: audio -> chunks -> Whisper on Triton -> guards -> subtitles -> stored -> announced.

Raises StorageUnavailable / ModelUnavailable / EventBusUnavailable for our faults (retried);
AudioError for the asset's (recorded as a per-asset failure by the consumer).
"""

from __future__ import annotations

import asyncio
import json
import logging
import tempfile
import time
from pathlib import Path
from typing import Any

import numpy as np
from google.protobuf import struct_pb2
from rushes.asset.v1 import asset_pb2
from rushes.events.v1 import events_pb2
from rushes_events import EventBus, follow_up_envelope, message_id, stage_run
from rushes_inference import ModelUnavailable, TritonClient, transcribe
from rushes_inference.asr import WHISPER_MODEL
from rushes_media import PcmWavFile
from rushes_metrics import FOOTAGE_SECONDS_PROCESSED, time_model_call
from rushes_storage import ObjectStore, asset_key, project_key

from rushes_asr import metrics as asr_metrics
from rushes_asr import subtitle_files
from rushes_asr.audio import (
    MIN_AUDIO_S,
    AudioError,
    dominant_channel_gates,
    gated_reader,
    open_wav,
    plan_chunks_from_energy,
    speech_intervals_from_energy,
    wav_energy_db,
)
from rushes_asr.project_speech import (
    MAX_SETTINGS_BYTES,
    SpeechSettings,
    SpeechSettingsError,
    parse_speech_settings,
)
from rushes_asr.recognizer import Recognition, TranscribeFn, merge_speakers, recognise, speaker_turns
from rushes_asr.version import PRODUCER, VERSION

log = logging.getLogger(__name__)
STAGE = "asr"
SETTINGS_PARTS = ("asr", "speech.json")
TRANSCRIBED = "rushes.v1.asset.transcribed"
MAX_AUDIO_BYTES = 4 * 1024**3
REVIEW_BELOW_CONFIDENCE = 0.6


class AsrJob:
    def __init__(self, store: ObjectStore, bus: EventBus, triton: TritonClient, *, work_dir: Path | None = None,
                 beam_size: int | None = None, language: str | None = None) -> None:  # fmt: skip
        self.store = store
        self.bus = bus
        self.triton = triton
        self.work_dir = work_dir
        self.beam_size = beam_size
        self.language = language

    async def run(self, ingested: events_pb2.AssetIngested) -> events_pb2.AssetTranscribed:
        asset_id = ingested.envelope.asset_id
        started = time.time()
        event = events_pb2.AssetTranscribed(
            envelope=follow_up_envelope(TRANSCRIBED, ingested.envelope, PRODUCER, VERSION)
        )
        stored = await asyncio.to_thread(self.load_result, asset_id)
        if stored is not None:
            # A redelivery after the work was stored: announce the same result again (deduplicated).
            await self.bus.publish(stored, msg_id=message_id(asset_id, STAGE, "v1"))
            return stored
        settings = await asyncio.to_thread(self.project_settings, ingested.envelope.project)
        key = ingested.objects.get("audio")
        apart = ingested.objects.get("audio_channels") if settings.channels == "separate" else None
        if not key:
            event.skipped_reason = "no_audio"
        else:
            with tempfile.TemporaryDirectory(prefix="rushes-asr-", dir=self.work_dir) as tmp:
                path = Path(tmp) / "audio.wav"
                await asyncio.to_thread(self.store.get_file, apart or key, path, max_bytes=MAX_AUDIO_BYTES)
                # mapped, read chunk by chunk; per channel when the project's mics are apart
                wav = await asyncio.to_thread(open_wav, path, channels=None if apart else 1)
                await self.transcribe_into(
                    event, asset_id, wav, await self._shot_changes(asset_id),
                    settings=settings, fps=ingested.technical.fps or subtitle_files.DEFAULT_FPS,
                )  # fmt: skip
        event.run.CopyFrom(stage_run(STAGE, started, time.time()))
        await asyncio.to_thread(
            self.store.put_bytes, _result_key(asset_id), event.SerializeToString(),
            content_type="application/x-protobuf",
        )  # fmt: skip
        await self.bus.publish(event, msg_id=message_id(asset_id, STAGE, "v1"))
        # Outcome counts and durations are the consumer loop's (rushes_events); footage is ours.
        FOOTAGE_SECONDS_PROCESSED.labels(stage=STAGE).inc(ingested.technical.duration_s)
        return event

    def load_result(self, asset_id: str) -> events_pb2.AssetTranscribed | None:
        """The stored result of this asset's transcription, if it ran."""
        key = _result_key(asset_id)
        if self.store.stat(key) is None:
            return None
        event = events_pb2.AssetTranscribed()
        event.ParseFromString(self.store.get_bytes(key, max_bytes=256 * 1024**2))
        return event

    def project_settings(self, project: str) -> SpeechSettings:
        """The project's speech settings (defaults when it has none, or no project). A stored file
        was validated when set; one that no longer parses is logged and ignored, not fatal."""
        if not project:
            return SpeechSettings()
        key = project_key(project, *SETTINGS_PARTS)
        if self.store.stat(key) is None:
            return SpeechSettings()
        try:
            return parse_speech_settings(self.store.get_bytes(key, max_bytes=MAX_SETTINGS_BYTES))
        except SpeechSettingsError as exc:
            log.error("project %r: stored speech settings unusable, defaults used: %s", project, exc)
            return SpeechSettings()

    def has_project_settings(self, project: str) -> bool:
        return self.store.stat(project_key(project, *SETTINGS_PARTS)) is not None

    def save_project_settings(self, project: str, settings: SpeechSettings) -> str:
        key = project_key(project, *SETTINGS_PARTS)
        self.store.put_bytes(key, settings.to_json().encode("utf-8"), content_type="application/json")
        return key

    async def transcribe_into(
        self,
        event: events_pb2.AssetTranscribed,
        asset_id: str,
        wav: PcmWavFile,
        cuts: list[float],
        *,
        settings: SpeechSettings | None = None,
        fps: float = subtitle_files.DEFAULT_FPS,
    ) -> None:
        """Transcribe `wav` (mono, or one speaker per channel) into `event`, storing the subtitles."""
        settings = settings or SpeechSettings()
        duration = wav.duration_s
        if duration < MIN_AUDIO_S:
            event.skipped_reason = f"audio shorter than {MIN_AUDIO_S} s"
            return
        language = settings.language or self.language

        async def call(piece: np.ndarray) -> dict[str, Any]:
            with time_model_call(WHISPER_MODEL, unavailable=(ModelUnavailable,)):
                return await transcribe(
                    self.triton, piece, beam_size=self.beam_size, language=language, vad_filter=True,
                    initial_prompt=settings.initial_prompt or None, hotwords=settings.hotwords(),
                )  # fmt: skip

        recognition, speech = await self._recognise(wav, call, settings)
        if recognition is None:
            event.skipped_reason = "no_speech"
            return
        event.transcript.CopyFrom(_transcript(recognition, duration))
        guards = subtitle_files.hallucination_flags(recognition.words, speech)
        event.transcript.flags.extend(guards)
        event.transcript.needs_review = bool(guards) or event.transcript.confidence < REVIEW_BELOW_CONFIDENCE
        files = subtitle_files.render(
            recognition.words, language=recognition.language or "en", shot_changes_s=cuts, fps=fps,
            profile_name=settings.subtitle_profile, speaker_turns_s=speaker_turns(recognition.words),
        )  # fmt: skip
        subtitles = event.subtitles
        for fmt, body in files.documents.items():
            object_key = asset_key(asset_id, "subtitles", f"v1.{fmt}")
            await asyncio.to_thread(self.store.put_bytes, object_key, body.encode("utf-8"),
                                    content_type=subtitle_files.CONTENT_TYPES[fmt])  # fmt: skip
            setattr(subtitles, fmt, object_key)
        report_key = asset_key(asset_id, "subtitles", "v1.qc.json")
        await asyncio.to_thread(self.store.put_bytes, report_key, json.dumps(files.qc, indent=2).encode(),
                                content_type="application/json")  # fmt: skip
        subtitles.qc_report = report_key
        qc = struct_pb2.Struct()
        qc.update(files.qc)
        subtitles.qc.CopyFrom(qc)
        subtitles.profile = files.profile
        subtitles.cue_count = files.cue_count
        subtitles.needs_review = not files.passes
        asr_metrics.record(
            event.transcript.confidence, list(event.transcript.flags), files.qc, subtitles.needs_review
        )

    async def _recognise(
        self, wav: PcmWavFile, call: TranscribeFn, settings: SpeechSettings
    ) -> tuple[Recognition | None, list[tuple[float, float]]]:
        """All speech of `wav` and where it is; (None, []) when there is none. A multi-channel file
        is one speaker per channel: each channel is gated to where it leads (no bleed) and
        transcribed apart, and the words are merged in time order with their speaker's name."""
        duration = wav.duration_s
        if wav.channels == 1:
            energy = await asyncio.to_thread(wav_energy_db, wav)
            speech = speech_intervals_from_energy(energy)
            if not speech:
                return None, []
            chunks = plan_chunks_from_energy(energy, duration)
            recognition = await recognise(wav.read, chunks, call, speech=speech)
            return (recognition if recognition.words else None), speech
        energies = [await asyncio.to_thread(wav_energy_db, wav, channel=c) for c in range(wav.channels)]
        gates = dominant_channel_gates(energies)
        parts: list[tuple[str, Recognition]] = []
        speech_all: list[tuple[float, float]] = []
        for channel, (energy, gate) in enumerate(zip(energies, gates, strict=True)):
            gated = np.where(gate, energy[: gate.size], np.float32(-120.0))
            speech = speech_intervals_from_energy(gated)
            if not speech:
                continue
            chunks = plan_chunks_from_energy(energy, duration)
            part = await recognise(gated_reader(wav, channel, gate), chunks, call, speech=speech)
            if part.words:
                parts.append((settings.channel_name(channel), part))
                speech_all.extend(speech)
        if not parts:
            return None, []
        return merge_speakers(parts), sorted(speech_all)

    async def _shot_changes(self, asset_id: str) -> list[float]:
        """Cut times from tagging's stored result, when tagging finished first (else none)."""
        key = asset_key(asset_id, "tagging", "v1.pb")
        try:
            if await asyncio.to_thread(self.store.stat, key) is None:
                return []
            tagged = events_pb2.AssetTagged()
            tagged.ParseFromString(await asyncio.to_thread(self.store.get_bytes, key, max_bytes=64 * 1024**2))
        except Exception:  # best effort: subtitles without shot changes are still valid
            return []
        return [shot.start_s for shot in tagged.shots if shot.transition_in == "cut"]


def _result_key(asset_id: str) -> str:
    return asset_key(asset_id, "asr", "v1.pb")


def _transcript(recognition: Recognition, duration: float) -> asset_pb2.Transcript:
    probabilities = [w["probability"] for w in recognition.words]
    return asset_pb2.Transcript(
        language=recognition.language,
        language_probability=recognition.language_probability,
        text=recognition.text,
        words=[asset_pb2.Word(**w) for w in recognition.words],
        model=recognition.model,
        model_version=recognition.model_version,
        confidence=float(np.mean(probabilities)) if probabilities else 0.0,
        duration_s=duration,
    )


__all__ = ["AsrJob", "AudioError"]
