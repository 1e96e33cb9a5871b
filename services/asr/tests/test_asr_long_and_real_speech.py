"""Long media in bounded memory, and word timing on real speech, through the ASR job (real S3,
NATS and Triton Whisper)."""

from __future__ import annotations

import tracemalloc
import uuid
from pathlib import Path

import numpy as np
import pytest
from rushes.events.v1 import events_pb2
from rushes_asr.audio import open_wav
from rushes_asr.job import AsrJob
from rushes_config import TritonSettings
from rushes_events import EventBus, new_envelope
from rushes_inference import TritonClient
from rushes_media import read_pcm_wav
from rushes_storage import ObjectStore

pytestmark = pytest.mark.integration
RATE = 16000
EVAL_DEV = Path(__file__).resolve().parents[3].parent / "shared" / "eval" / "dev"
SPEECH = EVAL_DEV / "ss01_0870.wav"
JFK = EVAL_DEV / "jfk.flac"


@pytest.fixture(scope="module")
async def job(nats_server, s3_server, triton_server, tmp_path_factory):
    store = ObjectStore(s3_server.settings(bucket="asr-long-tests"))
    store.ensure_bucket()
    bus = await EventBus.connect(nats_server.settings(), name="asr-long-test")
    await bus.ensure_stream()
    triton = TritonClient(TritonSettings(url=triton_server.grpc_url, timeout_s=300))
    yield AsrJob(store, bus, triton, work_dir=tmp_path_factory.mktemp("asr-long"))
    await triton.close()
    await bus.close()


def _event(asset_id: str) -> events_pb2.AssetTranscribed:
    envelope = new_envelope(
        "rushes.v1.asset.transcribed", asset_id=asset_id, producer="test", producer_version="0"
    )
    return events_pb2.AssetTranscribed(envelope=envelope)


def _sparse_wav(path: Path, seconds: int, islands: dict[float, np.ndarray]) -> Path:
    """A mono 16 kHz WAV of `seconds` whose bytes are zeros (a sparse file: silence costs no disk)
    except the `islands` of int16 samples written at their start times."""
    data_bytes = seconds * RATE * 2
    header = (
        b"RIFF" + (36 + data_bytes).to_bytes(4, "little") + b"WAVEfmt " + (16).to_bytes(4, "little")
        + (1).to_bytes(2, "little") + (1).to_bytes(2, "little") + RATE.to_bytes(4, "little")
        + (RATE * 2).to_bytes(4, "little") + (2).to_bytes(2, "little") + (16).to_bytes(2, "little")
        + b"data" + data_bytes.to_bytes(4, "little")
    )  # fmt: skip
    with path.open("wb") as out:
        out.write(header)
        for start_s, pcm in islands.items():
            out.seek(len(header) + int(start_s * RATE) * 2)
            out.write(pcm.astype("<i2").tobytes())
        out.truncate(len(header) + data_bytes)
    return path


@pytest.mark.slow
@pytest.mark.skipif(not SPEECH.is_file(), reason=f"evaluation speech absent: {SPEECH}")
async def test_six_hours_are_transcribed_in_bounded_memory(job: AsrJob, tmp_path: Path) -> None:
    speech = (read_pcm_wav(SPEECH).samples * 32767).astype(np.int16)
    places = [3600.0, 12600.0, 21500.0]  # 1 h, 3.5 h, near the end of 6 h
    wav = open_wav(_sparse_wav(tmp_path / "day.wav", 6 * 3600, dict.fromkeys(places, speech)))
    assert wav.duration_s == 6 * 3600
    event = _event(uuid.uuid4().hex)
    tracemalloc.start()
    try:
        await job.transcribe_into(event, event.envelope.asset_id, wav, [])
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    # As float32 the file would be 1.4 GB; one 5-minute chunk is 19 MB.
    assert peak < 150 * 1024**2, f"peak Python allocation {peak / 1024**2:.0f} MB"
    words = event.transcript.words
    assert words, "no words found in six hours with three spoken sentences"
    for place in places:  # each sentence found where it was put, and only there
        here = [w for w in words if place - 1.0 <= w.start_s <= place + len(speech) / RATE + 1.0]
        assert len(here) >= 8, (place, [w.word for w in here])
    assert all(any(p - 1.0 <= w.start_s <= p + 9.0 for p in places) for w in words)
    assert event.transcript.duration_s == 6 * 3600


@pytest.mark.skipif(not JFK.is_file(), reason=f"evaluation audio absent: {JFK}")
async def test_americans_starts_where_jfk_says_it(job: AsrJob, tmp_path: Path) -> None:
    import av

    with av.open(str(JFK)) as src:
        resampler = av.AudioResampler(format="s16", layout="mono", rate=RATE)
        pcm = np.concatenate(
            [f.to_ndarray().reshape(-1) for fr in src.decode(audio=0) for f in resampler.resample(fr)]
        )
    wav = open_wav(_sparse_wav(tmp_path / "jfk.wav", int(np.ceil(pcm.size / RATE)), {0.0: pcm}))
    event = _event(uuid.uuid4().hex)
    await job.transcribe_into(event, event.envelope.asset_id, wav, [])
    americans = [w for w in event.transcript.words if w.word.strip(" ,.").lower() == "americans"]
    assert len(americans) == 1, [w.word for w in event.transcript.words]
    assert abs(americans[0].start_s - 1.8) <= 0.3, americans[0]
    assert "ask not" in event.transcript.text.lower()


SECOND = EVAL_DEV / "ss01_0880.wav"


@pytest.mark.skipif(not SECOND.is_file(), reason=f"evaluation speech absent: {SECOND}")
async def test_project_settings_give_per_speaker_words_and_the_children_profile(
    job: AsrJob, tmp_path: Path
) -> None:
    from rushes_asr.project_speech import parse_speech_settings
    from rushes_storage import asset_key
    from rushes_testing.media_builders import two_speaker_wav

    project = f"lavs-{uuid.uuid4().hex[:6]}"
    job.save_project_settings(
        project,
        parse_speech_settings(
            b"language: en\nsubtitle_profile: children\nchannels: separate\nchannel_names: [Narrator, Guest]\n"
        ),
    )
    stereo = two_speaker_wav(
        tmp_path / "lavs.wav", read_pcm_wav(SPEECH).samples, read_pcm_wav(SECOND).samples, rate=RATE
    )
    asset_id = uuid.uuid4().hex
    ingested = events_pb2.AssetIngested(
        envelope=new_envelope(
            "rushes.v1.asset.ingested",
            asset_id=asset_id,
            producer="test",
            producer_version="0",
            project=project,
        )
    )
    mono = tmp_path / "mono.wav"
    _sparse_wav(mono, 1, {0.0: np.zeros(RATE, np.int16)})  # the mono mix is not used when mics are apart
    for name, path in (("audio", mono), ("audio_channels", stereo)):
        key = asset_key(asset_id, path.name)
        job.store.put_file(key, path)
        ingested.objects[name] = key
    result = await job.run(ingested)
    said = {
        name: " ".join(w.word for w in result.transcript.words if w.speaker == name).lower()
        for name in ("Narrator", "Guest")
    }
    assert "dashwood" in said["Narrator"] and "dashwood" not in said["Guest"], said
    assert "young man" in said["Guest"] and "young man" not in said["Narrator"], said
    starts = [w.start_s for w in result.transcript.words]
    assert starts == sorted(starts)
    assert result.subtitles.profile == "children"


async def test_without_a_project_the_defaults_apply(job: AsrJob) -> None:
    assert job.project_settings("").channels == "mixed"
    assert not job.has_project_settings(f"never-set-{uuid.uuid4().hex[:6]}")
