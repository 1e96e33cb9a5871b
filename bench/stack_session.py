"""One run of the whole local stack over a generated corpus, shared by the pipeline and resources figures.

`rushes up` in a temporary state folder, `rushes ingest --wait --json` of N generated clips, the
asset records, and /proc readings of every component's process tree before and after the ingest
(CPU ticks, peak RSS), then `rushes down`. Starting the stack costs a minute and the corpus several,
so both figures read one session (cached per process and per `quick`).
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

import av
import numpy as np
from rushes_testing.media_builders import write_video

REPO = Path(__file__).resolve().parents[1]
DEV = REPO.parent / "shared" / "eval" / "dev"
SAMPLES = REPO / "tests" / "fixtures" / "samples"
RUSHES = [sys.executable, "-m", "rushes_cli.main"]
CLK_TCK = os.sysconf("SC_CLK_TCK")
AUDIO_RATE = 16000
INFRASTRUCTURE = ("nats", "s3", "postgres", "triton")


@dataclass(frozen=True)
class CorpusSpec:
    clips: int
    seconds: float
    width: int
    height: int
    fps: int = 25

    @property
    def footage_s(self) -> float:
        return self.clips * self.seconds

    def describe(self) -> dict[str, object]:
        return {
            "clips": self.clips,
            "seconds_each": self.seconds,
            "size": f"{self.width}x{self.height}",
            "fps": self.fps,
            "video": "H.264, two shots with a hard cut, moving gradient + noise",
            "audio": f"AAC mono {AUDIO_RATE} Hz read speech ({_speech_source()})",
        }


QUICK = CorpusSpec(clips=10, seconds=3, width=640, height=360)
FULL = CorpusSpec(clips=10, seconds=10, width=1280, height=720)


def _speech_source() -> str:
    return "../shared/eval/dev + samples/recorder.wav" if DEV.is_dir() else "samples/recorder.wav"


def _load_mono(path: Path) -> np.ndarray:
    with av.open(str(path)) as container:
        resampler = av.AudioResampler(format="flt", layout="mono", rate=AUDIO_RATE)
        chunks = [
            out.to_ndarray().reshape(-1)
            for frame in container.decode(audio=0)
            for out in resampler.resample(frame)
        ]
        chunks += [out.to_ndarray().reshape(-1) for out in resampler.resample(None)]
    return np.concatenate(chunks).astype(np.float32)


def speech_reel() -> np.ndarray:
    """Every speech file we have, end to end: the clips take consecutive slices of it (looping)."""
    files = [SAMPLES / "recorder.wav"]
    if DEV.is_dir():
        files += [DEV / "jfk.flac", DEV / "ss01_0870.wav", DEV / "ss01_0880.wav"]
    return np.concatenate([_load_mono(f) for f in files])


def _frames(spec: CorpusSpec, seed: int) -> Iterator[np.ndarray]:
    rng = np.random.default_rng(seed)
    count = round(spec.seconds * spec.fps)
    xs = np.linspace(0, 255, spec.width, dtype=np.float32)
    ys = np.linspace(0, 255, spec.height, dtype=np.float32)[:, None]
    for index in range(count):
        second_shot = index >= count // 2
        base = (xs[None, :] * (0.5 if second_shot else 1.0) + ys * 0.3 + index * 3 + seed * 29) % 256
        rgb = np.stack([base, (base + 85 * second_shot) % 256, np.full_like(base, (seed * 53) % 256)], -1)
        rgb += rng.normal(0, 6, rgb.shape).astype(np.float32)
        yield np.clip(rgb, 0, 255).astype(np.uint8)


def make_corpus(folder: Path, spec: CorpusSpec) -> list[Path]:
    """`spec.clips` byte-distinct clips (distinct content hashes, so distinct assets)."""
    folder.mkdir(parents=True, exist_ok=True)
    reel = speech_reel()
    per_clip = round(spec.seconds * AUDIO_RATE)
    clips = []
    for seed in range(spec.clips):
        start = (seed * per_clip) % max(1, len(reel) - per_clip)
        audio = np.resize(reel[start:], per_clip)  # loops when the reel is shorter than a clip
        clips.append(
            write_video(
                folder / f"B{seed:03d}_C001.mp4",
                _frames(spec, seed),
                width=spec.width,
                height=spec.height,
                fps=spec.fps,
                audio=audio,
                audio_rate=AUDIO_RATE,
                codec_options={"preset": "veryfast", "crf": "20"},
            )
        )
    return clips


# -- /proc readings -------------------------------------------------------------------------


def _proc_table() -> dict[int, tuple[int, int]]:
    """pid -> (ppid, cpu ticks: utime + stime + reaped children's cutime + cstime)."""
    table: dict[int, tuple[int, int]] = {}
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            stat = (entry / "stat").read_text()
        except OSError:
            continue  # exited while we looked
        fields = stat[stat.rindex(")") + 2 :].split()
        # fields[0] is field 3 (state): ppid is field 4, utime..cstime fields 14..17.
        table[int(entry.name)] = (int(fields[1]), sum(int(v) for v in fields[11:15]))
    return table


def _tree(root: int, table: dict[int, tuple[int, int]]) -> list[int]:
    children: dict[int, list[int]] = {}
    for pid, (ppid, _) in table.items():
        children.setdefault(ppid, []).append(pid)
    found, stack = [], [root]
    while stack:
        pid = stack.pop()
        if pid in table:
            found.append(pid)
            stack.extend(children.get(pid, []))
    return found


def _vm_kb(pid: int, field_name: str) -> int:
    try:
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith(field_name + ":"):
                return int(line.split()[1])
    except OSError:
        pass
    return 0


def _triton_model(pid: int) -> str | None:
    """The model a Triton Python-backend stub serves (its argv names models/<model>/1/model.py)."""
    try:
        argv = Path(f"/proc/{pid}/cmdline").read_bytes().split(b"\0")
    except OSError:
        return None
    for arg in argv:
        parts = arg.decode(errors="replace").split("/")
        if len(parts) >= 3 and parts[-1] == "model.py":
            return parts[-3]
    return None


def snapshot(pids: dict[str, int]) -> dict[str, dict[str, float]]:
    """Per component (and per Triton model stub): CPU seconds of its process tree and peak RSS."""
    table = _proc_table()
    result: dict[str, dict[str, float]] = {}
    for name, root in pids.items():
        tree = _tree(root, table)
        own = tree
        if name == "triton":
            stubs = {pid: _triton_model(pid) for pid in tree if pid != root}
            for pid, model in stubs.items():
                if model:
                    result[f"triton:{model}"] = {
                        "cpu_s": table[pid][1] / CLK_TCK,
                        "vmhwm_mb": _vm_kb(pid, "VmHWM") / 1024,
                    }
            own = [pid for pid in tree if not stubs.get(pid)]
        result[name] = {
            "cpu_s": sum(table[pid][1] for pid in own) / CLK_TCK,
            "vmhwm_mb": _vm_kb(root, "VmHWM") / 1024,
            "tree_vmhwm_mb": sum(_vm_kb(pid, "VmHWM") for pid in own) / 1024,
        }
    return result


class GpuSampler:
    """Integrates `nvidia-smi` utilization over the run; absent GPU -> `available` False."""

    def __init__(self, interval_s: float = 1.0) -> None:
        self.binary = shutil.which("nvidia-smi")
        self.interval_s = interval_s
        self.gpu_s = 0.0
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._loop, daemon=True)

    @property
    def available(self) -> bool:
        return self.binary is not None

    def _loop(self) -> None:
        while not self._stop.wait(self.interval_s):
            try:
                out = subprocess.run(
                    [self.binary or "nvidia-smi", "--query-gpu=utilization.gpu", "--format=csv,noheader,nounits"],
                    capture_output=True, text=True, timeout=5, check=True,
                ).stdout  # fmt: skip
                self.gpu_s += sum(float(v) for v in out.split()) / 100.0 * self.interval_s
            except (subprocess.SubprocessError, ValueError, OSError):
                continue

    def __enter__(self) -> GpuSampler:
        if self.available:
            self._thread.start()
        return self

    def __exit__(self, *_exc: object) -> None:
        self._stop.set()
        if self._thread.is_alive():
            self._thread.join(timeout=10)


# -- the session ---------------------------------------------------------------------------


@dataclass
class Session:
    corpus: dict[str, object]
    footage_s: float
    records: list[dict[str, object]]
    ingest_started: float  # time.time() just before `rushes ingest` was launched
    cli_finished: float
    before: dict[str, dict[str, float]]
    after: dict[str, dict[str, float]]
    pids: dict[str, int]
    gpu: dict[str, object] = field(default_factory=dict)


def _rushes(state_dir: Path, *args: str, timeout: float) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("RUSHES_")}
    result = subprocess.run(
        [*RUSHES, "--state-dir", str(state_dir), *args],
        capture_output=True, text=True, timeout=timeout, env=env, stdin=subprocess.DEVNULL,
    )  # fmt: skip
    if result.returncode != 0:
        tail = (result.stderr or result.stdout).strip().splitlines()[-3:]
        raise RuntimeError(f"`rushes {args[0]}` exited {result.returncode}: {' | '.join(tail)}")
    return result


def _component_pids(state_dir: Path) -> dict[str, int]:
    report = json.loads(_rushes(state_dir, "status", "--json", timeout=60).stdout)
    return {name: c["pid"] for name, c in report["components"].items() if c.get("pid")}


def _unhealthy(state_dir: Path) -> str:
    """Components not healthy now, each with the last line of its log: why an ingest failed."""
    try:
        report = json.loads(_rushes(state_dir, "status", "--json", timeout=60).stdout)
    except (RuntimeError, subprocess.SubprocessError, json.JSONDecodeError) as exc:
        return f"status unavailable: {exc}"
    lines = []
    for name, component in report.get("components", {}).items():
        if component.get("health") != "ok":
            log = state_dir / "logs" / f"{name}.log"
            tail = log.read_text(errors="replace").strip().splitlines()[-1:] if log.is_file() else []
            lines.append(f"{name} {component.get('health')}: {' '.join(tail)[:200]}")
    return "; ".join(lines) or "every component healthy afterwards"


_SESSIONS: dict[bool, Session | Exception] = {}


def run_session(quick: bool) -> Session:
    """The session for `quick`, run once per process (a failure is remembered too, not retried)."""
    if quick not in _SESSIONS:
        try:
            _SESSIONS[quick] = _run_session(quick)
        except Exception as exc:
            _SESSIONS[quick] = exc
    outcome = _SESSIONS[quick]
    if isinstance(outcome, Exception):
        raise outcome
    return outcome


def _run_session(quick: bool) -> Session:
    spec = QUICK if quick else FULL
    with tempfile.TemporaryDirectory(prefix="rushes-bench-stack-") as tmp:
        work = Path(tmp)
        clips = make_corpus(work / "corpus", spec)
        state_dir = work / "state"
        try:
            _rushes(state_dir, "up", timeout=600)
            pids = _component_pids(state_dir)
            before = snapshot(pids)
            with GpuSampler() as gpu:
                started = time.time()
                try:
                    out = _rushes(
                        state_dir, "ingest", "--wait", "--json", "--timeout", "3000",
                        *map(str, clips), timeout=3600,
                    ).stdout  # fmt: skip
                except RuntimeError as exc:
                    raise RuntimeError(f"{exc} [stack: {_unhealthy(state_dir)}]") from None
                finished = time.time()
            after = snapshot(pids)
        finally:
            subprocess.run(
                [*RUSHES, "--state-dir", str(state_dir), "down"],
                capture_output=True,
                timeout=180,
                check=False,
            )
    gpu_report: dict[str, object] = (
        {"gpu_seconds_total": round(gpu.gpu_s, 2), "note": "nvidia-smi utilization integrated; not per stage"}
        if gpu.available
        else {"gpu": "no GPU (nvidia-smi not found)"}
    )
    return Session(
        corpus=spec.describe(),
        footage_s=spec.footage_s,
        records=json.loads(out),
        ingest_started=started,
        cli_finished=finished,
        before=before,
        after=after,
        pids=pids,
        gpu=gpu_report,
    )
