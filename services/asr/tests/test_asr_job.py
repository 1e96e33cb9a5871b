"""The ASR job against real S3, NATS and Triton (Whisper): speech, and every kind of bad audio."""

from __future__ import annotations

import uuid
import wave
from pathlib import Path

import numpy as np
import pytest
from rushes.events.v1 import events_pb2
from rushes_asr.audio import AudioError
from rushes_asr.job import AsrJob
from rushes_config import TritonSettings
from rushes_events import EventBus, new_envelope
from rushes_inference import TritonClient
from rushes_storage import ObjectStore, asset_key

pytestmark = pytest.mark.integration
SAMPLES = Path(__file__).resolve().parents[3] / "tests" / "fixtures" / "samples"


@pytest.fixture(scope="module")
async def job(nats_server, s3_server, triton_server, tmp_path_factory):
    store = ObjectStore(s3_server.settings(bucket="asr-job-tests"))
    store.ensure_bucket()
    bus = await EventBus.connect(nats_server.settings(), name="asr-test")
    await bus.ensure_stream()
    triton = TritonClient(TritonSettings(url=triton_server.grpc_url, timeout_s=300))
    yield AsrJob(store, bus, triton, work_dir=tmp_path_factory.mktemp("asr"))
    await triton.close()
    await bus.close()


def _wav(path: Path, samples: np.ndarray) -> Path:
    with wave.open(str(path), "wb") as out:
        out.setnchannels(1)
        out.setsampwidth(2)
        out.setframerate(16000)
        out.writeframes((np.clip(samples, -1, 1) * 32767).astype("<i2").tobytes())
    return path


def _ingested(job: AsrJob, audio: Path | bytes | None) -> events_pb2.AssetIngested:
    asset_id = uuid.uuid4().hex
    event = events_pb2.AssetIngested(
        envelope=new_envelope(
            "rushes.v1.asset.ingested", asset_id=asset_id, producer="test", producer_version="0"
        )
    )
    if audio is not None:
        key = asset_key(asset_id, "audio_16k_mono.wav")
        if isinstance(audio, bytes):
            job.store.put_bytes(key, audio)
        else:
            job.store.put_file(key, audio)
        event.objects["audio"] = key
    return event


async def test_speech_becomes_a_transcript_and_three_subtitle_files(job: AsrJob, tmp_path: Path) -> None:
    import av

    wav = tmp_path / "speech.wav"
    with av.open(str(SAMPLES / "recorder.wav")) as src:
        resampler = av.AudioResampler(format="flt", layout="mono", rate=16000)
        pieces = [f.to_ndarray().reshape(-1) for fr in src.decode(audio=0) for f in resampler.resample(fr)]
    _wav(wav, np.concatenate(pieces))
    result = await job.run(_ingested(job, wav))
    assert not result.skipped_reason
    assert "editor" in result.transcript.text.lower()
    assert result.transcript.words and result.transcript.model
    assert 0.0 < result.transcript.confidence <= 1.0
    for fmt in ("srt", "vtt", "ttml"):
        key = getattr(result.subtitles, fmt)
        assert key and job.store.stat(key) is not None
    assert result.subtitles.qc["style_violations"] == 0
    assert result.run.stage == "asr"


async def test_no_audio_stream_is_a_result_not_a_failure(job: AsrJob) -> None:
    result = await job.run(_ingested(job, None))
    assert result.skipped_reason == "no_audio" and not result.transcript.words


async def test_silence_and_very_short_audio_give_no_transcript(job: AsrJob, tmp_path: Path) -> None:
    silent = await job.run(_ingested(job, _wav(tmp_path / "silent.wav", np.zeros(16000 * 3))))
    assert silent.skipped_reason == "no_speech"
    short = await job.run(_ingested(job, _wav(tmp_path / "short.wav", np.full(4000, 0.3))))
    assert "shorter than 0.5 s" in short.skipped_reason


async def test_corrupt_audio_is_a_clear_per_asset_error(job: AsrJob) -> None:
    with pytest.raises(AudioError):
        await job.run(_ingested(job, b"RIFF\x10\x00\x00\x00WAVEjunk-not-a-wav"))


async def test_quality_figures_reach_prometheus(job: AsrJob, tmp_path: Path) -> None:
    from prometheus_client import REGISTRY

    before = REGISTRY.get_sample_value("rushes_asr_transcript_confidence_count") or 0.0
    t = np.arange(16000 * 3) / 16000
    tone = 0.3 * np.sin(2 * np.pi * 300 * t) * (np.sin(2 * np.pi * 2 * t) > 0)  # bursts: "speech" to VAD
    result = await job.run(_ingested(job, _wav(tmp_path / "bursts.wav", tone)))
    after = REGISTRY.get_sample_value("rushes_asr_transcript_confidence_count") or 0.0
    assert after == before + (0 if result.skipped_reason else 1)
    assert (
        REGISTRY.get_sample_value("rushes_subtitle_rule_violations_total", {"rule": "chars_per_line"})
        is not None
    )


async def test_redelivery_republishes_the_stored_result(job: AsrJob, tmp_path: Path) -> None:
    event = _ingested(job, _wav(tmp_path / "quiet.wav", np.zeros(16000 * 2)))
    first = await job.run(event)
    second = await job.run(event)
    assert second == first and job.load_result(event.envelope.asset_id) == first
