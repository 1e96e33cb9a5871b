"""The README's promise, end to end: `rushes up`, `ingest --wait --json`, `show --json`,
`status --json`, a second `up`, a crashed service coming back with its work, `down`.

Everything runs through the real CLI in subprocesses against the real local stack.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
from rushes_testing.media import make_clip

pytestmark = [pytest.mark.integration, pytest.mark.slow]
RUSHES = [sys.executable, "-m", "rushes_cli.main"]


def rushes(
    state_dir: Path, *args: str, timeout: float = 300, check: bool = True
) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("RUSHES_")}
    result = subprocess.run(
        [*RUSHES, "--state-dir", str(state_dir), *args],
        capture_output=True,
        text=True,
        timeout=timeout,
        env=env,
        stdin=subprocess.DEVNULL,
    )
    if check and result.returncode != 0:
        raise AssertionError(
            f"rushes {' '.join(args)} exited {result.returncode}:\n{result.stdout}\n{result.stderr}"
        )
    return result


@pytest.fixture(scope="module")
def stack(tmp_path_factory):
    state_dir = tmp_path_factory.mktemp("stack") / ".rushes"
    try:
        rushes(state_dir, "up", timeout=240)
        yield state_dir
    finally:
        rushes(state_dir, "down", timeout=120, check=False)


def test_status_reports_every_component_healthy(stack: Path) -> None:
    report = json.loads(rushes(stack, "status", "--json").stdout)
    components = report["components"]
    assert {"nats", "s3", "postgres", "triton", "ingest", "library", "tagging", "asr"} <= set(components)
    for name, comp in components.items():
        assert comp["health"] == "ok", (name, comp)
        assert isinstance(comp["pid"], int) and comp["address"]
        assert "metrics" in comp
    assert components["triton"]["models"] and all(
        s == "ready" for s in components["triton"]["models"].values()
    )
    assert components["ingest"]["metrics"].startswith("http://127.0.0.1:")


def test_ingest_wait_json_and_show_follow_the_contract(stack: Path, tmp_path: Path) -> None:
    clip = make_clip(tmp_path / "A003_C007.mp4", seconds=2, width=640, height=360, seed=11)
    result = rushes(stack, "ingest", "--project", "e2e", "--wait", "--json", str(clip), timeout=300)
    records = json.loads(result.stdout)
    assert len(records) == 1
    record = records[0]
    assert record["status"] == "complete"
    assert record["project"] == "e2e"
    assert record["source"]["filename"] == "A003_C007.mp4"
    assert record["technical"]["width"] == 640 and record["technical"]["height"] == 360
    assert record["stages"]["ingest"]["status"] == "complete"
    assert record["stages"]["tagging"]["status"] == "complete"
    assert {"original", "proxy", "poster", "audio"} <= set(record["objects"])
    assert any(a["event_type"] == "rushes.v1.asset.ingested" for a in record["audit"])

    shown = json.loads(rushes(stack, "show", record["asset_id"][:10], "--json").stdout)
    assert shown["asset_id"] == record["asset_id"]
    assert shown["technical"] == record["technical"]
    text = rushes(stack, "show", record["asset_id"]).stdout
    assert "640x360" in text and "complete" in text


def test_bad_file_gets_one_line_and_a_rejection_record(stack: Path, tmp_path: Path) -> None:
    bad = tmp_path / "holiday.mp4"
    bad.write_bytes(b"\x89PNG\r\n\x1a\n" + b"\x00" * 2000)
    result = rushes(stack, "ingest", "--wait", "--json", str(bad), check=False, timeout=120)
    assert result.returncode == 1
    lines = [line for line in result.stderr.splitlines() if line.strip()]
    assert len(lines) == 1 and "rejected" in lines[0] and "holiday.mp4" in lines[0]
    record = json.loads(result.stdout)[0]
    assert record["status"] == "rejected"
    assert record["objects"] == {}


def test_missing_asset_and_missing_file_are_one_line_errors(stack: Path) -> None:
    missing = rushes(stack, "show", "ffffffffffffffff", check=False)
    assert missing.returncode == 1 and "not found" in missing.stderr
    assert len(missing.stderr.strip().splitlines()) == 1
    nofile = rushes(stack, "ingest", "/nonexistent/clip.mov", check=False)
    assert nofile.returncode == 1 and "no such file" in nofile.stderr


def test_second_up_restarts_a_dead_service_and_its_work_is_delivered(stack: Path, tmp_path: Path) -> None:
    before = json.loads(rushes(stack, "status", "--json").stdout)["components"]
    os.kill(before["library"]["pid"], signal.SIGKILL)
    dead = json.loads(rushes(stack, "status", "--json", check=False).stdout)["components"]
    assert dead["library"]["health"] == "down"
    # Work published while the catalog is down waits in JetStream for it.
    clip = make_clip(tmp_path / "while_down.mp4", seconds=1, seed=12)
    asset_id = rushes(stack, "ingest", str(clip)).stdout.split()[0]
    rushes(stack, "up", timeout=240)
    after = json.loads(rushes(stack, "status", "--json").stdout)["components"]
    assert after["library"]["health"] == "ok" and after["library"]["pid"] != before["library"]["pid"]
    for name in ("nats", "s3", "postgres", "ingest"):
        assert after[name]["pid"] == before[name]["pid"], name
    deadline = time.monotonic() + 240  # every stage, enhance and qc included, on a busy 2-core box
    while True:
        shown = rushes(stack, "show", asset_id, "--json", check=False)
        if shown.returncode == 0 and json.loads(shown.stdout)["status"] == "complete":
            break
        assert time.monotonic() < deadline, shown.stderr
        time.sleep(0.5)


def test_events_tail_shows_the_stream(stack: Path) -> None:
    result = rushes(stack, "events", "tail", "--all", "--json", "--limit", "1", timeout=60)
    event = json.loads(result.stdout.splitlines()[0])
    assert event["subject"].startswith("rushes.v1.")
    assert event["event"]["envelope"]["asset_id"]


def test_no_stack_is_a_clear_error(tmp_path: Path) -> None:
    result = rushes(tmp_path / "nothing-here", "show", "0123456789abcdef", check=False)
    assert result.returncode == 3
    assert "rushes up" in result.stderr


SAMPLES = Path(__file__).resolve().parents[1] / "fixtures" / "samples"


def test_tagging_finds_the_known_cuts_and_logs_every_shot(stack: Path) -> None:
    truth = json.loads((SAMPLES / "TRUTH.json").read_text())["clips"]["cuts_fade.mp4"]
    record = json.loads(rushes(stack, "ingest", "--wait", "--json", str(SAMPLES / "cuts_fade.mp4")).stdout)[0]
    assert record["status"] == "complete"
    shots = record["shots"]
    starts = [shot["start_frame"] for shot in shots]
    assert starts[0] == 0
    for cut in truth["cuts"]:
        assert any(abs(start - cut) <= 2 for start in starts), (cut, starts)
    assert any(shot["transition_in"] == "fade" for shot in shots)
    assert record["tag_preset"] == "documentary" and record["tags_version"] >= 1
    for shot in shots:
        assert shot["keyframe"].startswith(f"assets/{record['asset_id']}/keyframes/")
        for name in ("shot_type", "category", "exposure", "white_balance", "sharpness", "shakiness", "noise"):
            value = shot["values"][name]
            assert 0.0 <= value["confidence"] <= 1.0 and value["reasons"] and value["model"], (name, value)
        assert shot["values"]["exposure"]["value"]["verdict"] in {"under", "ok", "over"}
        assert {"needs_upscale"} <= {flag["name"] for flag in shot["flags"]}  # 360p < 1080p delivery

    retagged = json.loads(rushes(stack, "retag", record["asset_id"], "--preset", "sports", "--json").stdout)
    assert retagged["preset"] == "sports" and retagged["tags_version"] == record["tags_version"] + 1
    shown = json.loads(rushes(stack, "show", record["asset_id"], "--json").stdout)
    assert shown["tag_preset"] == "sports"
    tagged_events = [a for a in shown["audit"] if a["event_type"] == "rushes.v1.asset.tagged"]
    assert len(tagged_events) >= 2  # the old version stays in the audit trail

    bad = rushes(stack, "retag", record["asset_id"], "--preset", "no-such-preset", check=False)
    assert bad.returncode == 1 and "unknown tagging preset" in bad.stderr


def test_audio_only_assets_pass_tagging_without_shots(stack: Path) -> None:
    record = json.loads(rushes(stack, "ingest", "--wait", "--json", str(SAMPLES / "recorder.wav")).stdout)[0]
    assert record["status"] == "complete"
    assert record["stages"]["tagging"]["status"] == "complete"
    assert record["shots"] == []


def test_reviewer_correction_is_recorded_and_exported_as_feedback(stack: Path, tmp_path: Path) -> None:
    record = json.loads(rushes(stack, "ingest", "--wait", "--json", str(SAMPLES / "shaky_zoom.mp4")).stdout)[
        0
    ]
    version = record["tags_version"]
    old = record["shots"][0]["values"]["category"]["value"]
    new = "interview" if old != "interview" else "b_roll"
    out = rushes(
        stack, "review", "correct", record["asset_id"][:12], "--shot", "0", "--field", "category",
        "--value", new, "--reviewer", "ana", "--note", "talking head", "--json",
    )  # fmt: skip
    correction = json.loads(out.stdout)
    assert correction["reviewer"] == "ana" and correction["new_value"] == new
    assert correction["old"]["value"] == old and correction["tags_version"] == version

    shown = json.loads(rushes(stack, "show", record["asset_id"], "--json").stdout)
    assert shown["shots"][0]["values"]["category"]["value"] == new
    assert shown["shots"][0]["values"]["category"]["model"] == "human"
    assert any(
        # the stack's CLI authenticates with the admin token; the reviewer it named is kept beside it
        a["event_type"] == "rushes.v1.asset.reviewed" and a["principal"] == "admin/ana"
        for a in shown["audit"]
    )

    feedback = tmp_path / "feedback.jsonl"
    rushes(stack, "feedback", "export", "--out", str(feedback))
    lines = [json.loads(line) for line in feedback.read_text().splitlines()]
    mine = [line for line in lines if line["correction_id"] == correction["correction_id"]]
    assert len(mine) == 1 and mine[0]["field"] == "category" and mine[0]["old"]["model"]

    stale = rushes(
        stack, "review", "correct", record["asset_id"], "--shot", "0", "--field", "category",
        "--value", "scene", "--expect-version", str(version + 5), check=False,
    )  # fmt: skip
    assert stale.returncode == 1 and "tags changed" in stale.stderr


def test_speech_is_transcribed_into_subtitles_that_pass_their_rules(stack: Path, tmp_path: Path) -> None:
    import jiwer
    from rushes_asr.subtitles import parse_subtitles

    truth = json.loads((SAMPLES / "TRUTH.json").read_text())["clips"]["pan_timecode.mov"]["speech"][0]
    record = json.loads(
        rushes(stack, "ingest", "--wait", "--json", str(SAMPLES / "pan_timecode.mov")).stdout
    )[0]
    assert record["stages"]["asr"]["status"] == "complete"
    transcript = record["transcript"]
    assert transcript["language"] == "en" and transcript["model"]
    normalise = jiwer.Compose([jiwer.ToLowerCase(), jiwer.RemovePunctuation(), jiwer.Strip()])
    wer = jiwer.wer(normalise(truth["text"]), normalise(transcript["text"]))
    assert wer <= 0.35, (transcript["text"], wer)  # tiny.en on synthetic espeak speech
    first = transcript["words"][0]
    assert abs(first["start_s"] - truth["start_s"]) <= 0.5

    subtitles = record["subtitles"]
    assert subtitles["cue_count"] >= 1
    for fmt in ("srt", "vtt", "ttml"):
        out = tmp_path / f"subs.{fmt}"
        rushes(stack, "subtitles", record["asset_id"], "--format", fmt, "--out", str(out))
        cues = parse_subtitles(out.read_text(), fmt)
        assert len(cues) == subtitles["cue_count"], fmt
    qc = json.loads(rushes(stack, "subtitles", record["asset_id"], "--qc", "--json").stdout)
    assert qc["style_violations"] == 0 and qc["cue_count"] == subtitles["cue_count"]


def test_subtitles_measured_against_a_reference_transcript(stack: Path, tmp_path: Path) -> None:
    truth = json.loads((SAMPLES / "TRUTH.json").read_text())["clips"]["shaky_zoom.mp4"]["speech"][0]["text"]
    record = json.loads(rushes(stack, "ingest", "--wait", "--json", str(SAMPLES / "shaky_zoom.mp4")).stdout)[
        0
    ]
    reference = tmp_path / "reference.txt"
    reference.write_text(truth, encoding="utf-8")
    report = json.loads(
        rushes(stack, "subtitles", record["asset_id"], "--qc", "--reference", str(reference)).stdout
    )
    assert 0.0 <= report["wer"]["wer"] <= 0.5
    assert set(report["verdicts"]) == {"studio", "field"}

    latin1 = tmp_path / "latin1.txt"
    latin1.write_bytes("Caf\xe9 cr\xe8me".encode("latin-1"))
    bad = rushes(stack, "subtitles", record["asset_id"], "--qc", "--reference", str(latin1), check=False)
    assert bad.returncode == 1 and "not valid UTF-8" in bad.stderr


EVAL_DEV = Path(__file__).resolve().parents[2].parent / "shared" / "eval" / "dev"


def _two_speaker_wav(path: Path) -> Path:
    """48 kHz stereo: one speaker on each lavalier channel, taking turns, each bleeding into the
    other channel 20 dB down (as lavaliers do)."""
    import wave

    import numpy as np
    from rushes_media import read_pcm_wav

    first = read_pcm_wav(EVAL_DEV / "ss01_0870.wav").samples
    second = read_pcm_wav(EVAL_DEV / "ss01_0880.wav").samples
    rate = 16000
    total = int(rate * (1.0 + first.size / rate + 1.5 + second.size / rate + 1.0))
    left, right = np.zeros(total, np.float32), np.zeros(total, np.float32)
    a, b = rate, rate + first.size + int(1.5 * rate)
    left[a : a + first.size] += first
    right[a : a + first.size] += 0.1 * first
    right[b : b + second.size] += second
    left[b : b + second.size] += 0.1 * second
    stereo = np.repeat(np.stack([left, right], axis=1), 3, axis=0)  # 16 -> 48 kHz, sample and hold
    with wave.open(str(path), "wb") as out:
        out.setnchannels(2)
        out.setsampwidth(2)
        out.setframerate(48000)
        out.writeframes((np.clip(stereo, -1, 1) * 32767).astype("<i2").tobytes())
    return path


@pytest.mark.skipif(
    not (EVAL_DEV / "ss01_0880.wav").is_file(), reason=f"evaluation speech absent: {EVAL_DEV}"
)
def test_project_speech_settings_per_speaker_transcripts_and_translation_qc(
    stack: Path, tmp_path: Path
) -> None:
    settings = tmp_path / "speech.yaml"
    settings.write_text(
        "language: en\nsubtitle_profile: children\nchannels: separate\n"
        "channel_names: [Narrator, Guest]\n"
        "glossary:\n  - term: Dashwood\n    translations: {fr: Dashwood}\n"
        "  - term: power\n    translations: {fr: pouvoir}\n",
        encoding="utf-8",
    )
    stored = json.loads(
        rushes(stack, "speech", "set", "--project", "two-mics", str(settings), "--json").stdout
    )
    assert stored["settings"]["channels"] == "separate"
    shown = json.loads(rushes(stack, "speech", "show", "--project", "two-mics", "--json").stdout)
    assert shown["stored"] and shown["settings"]["glossary"][0]["term"] == "Dashwood"
    assert not json.loads(rushes(stack, "speech", "show", "--project", "other", "--json").stdout)["stored"]

    bad = tmp_path / "bad.yaml"
    bad.write_text("subtitle_profile: toddlers\nchanels: separate\n", encoding="utf-8")
    refused = rushes(stack, "speech", "set", "--project", "two-mics", str(bad), check=False)
    assert refused.returncode == 1 and "subtitle_profile" in refused.stderr and "chanels" in refused.stderr

    source = _two_speaker_wav(tmp_path / "interview_lavs.wav")
    record = json.loads(
        rushes(stack, "ingest", "--project", "two-mics", "--wait", "--json", str(source), timeout=600).stdout
    )[0]
    assert "audio_channels" in record["objects"]
    words = record["transcript"]["words"]
    said = {
        name: " ".join(w["word"] for w in words if w.get("speaker") == name).lower()
        for name in ("Narrator", "Guest")
    }
    assert "dashwood" in said["Narrator"] and "dashwood" not in said["Guest"], said
    assert "young man" in said["Guest"] and "young man" not in said["Narrator"], said
    assert record["subtitles"]["profile"] == "children"

    srt = tmp_path / "en.srt"
    rushes(stack, "subtitles", record["asset_id"], "--format", "srt", "--out", str(srt))
    french = srt.read_text(encoding="utf-8").replace("power", "pouvoir").replace("Dashwood", "Dashwood")
    translation = tmp_path / "fr.srt"
    translation.write_text(french, encoding="utf-8")
    report = json.loads(
        rushes(
            stack,
            "subtitles",
            record["asset_id"],
            "--qc",
            "--translation",
            str(translation),
            "--language",
            "fr",
        ).stdout
    )
    assert report["language"] == "fr" and report["format"] == "srt"
    assert report["glossary"]["uses"] >= 1 and report["glossary"]["coverage"] == 1.0
    assert report["timing"]["mismatches"] == []
    missing = rushes(
        stack, "subtitles", record["asset_id"], "--qc", "--translation", str(translation), check=False
    )
    assert missing.returncode == 2 and "--language" in missing.stderr
