"""Resources per component while the stack processes the pipeline corpus: the capacity plan's inputs.

Read from the same stack session as bench/pipeline.py (bench/stack_session.py), from /proc:

- `peak_rss_mb.<component>`: VmHWM of the component's main process (the processes are fresh, so the
  peak is reached while processing or starting); `tree` adds its child processes' peaks;
- `cpu_s_per_footage_min.<component>`: (utime + stime of its process tree after - before the
  ingest) / minutes of footage ingested. Triton's Python-backend model stubs are split out as
  `triton:<model>` (the model-side compute of tagging, asr, enhance, qc), `triton` is the server;
- `gpu`: GPU-seconds per footage minute when `nvidia-smi` exists (whole device, not per stage),
  else "no GPU".

Nothing is judged against a target here; docs/OPERATIONS.md's capacity plan reads these figures.
"""

from __future__ import annotations

from bench.stack_session import INFRASTRUCTURE, Session, run_session


def summarise(session: Session) -> dict[str, object]:
    minutes = session.footage_s / 60.0
    cpu: dict[str, float] = {}
    peak: dict[str, dict[str, float]] = {}
    for name, after in sorted(session.after.items()):
        before = session.before.get(name, {"cpu_s": 0.0})
        cpu[name] = round((after["cpu_s"] - before["cpu_s"]) / minutes, 2)
        peak[name] = {"main": round(after["vmhwm_mb"], 1)}
        if "tree_vmhwm_mb" in after:
            peak[name]["tree"] = round(after["tree_vmhwm_mb"], 1)
    gpu = dict(session.gpu)
    if "gpu_seconds_total" in gpu:
        gpu["gpu_s_per_footage_min"] = round(float(str(gpu["gpu_seconds_total"])) / minutes, 2)
    services = [n for n in cpu if n not in INFRASTRUCTURE and not n.startswith("triton:")]
    rows: list[dict[str, object]] = [
        {
            "figure": f"CPU-s per footage min: {name}",
            "ours": cpu[name],
            "peer": f"peak RSS {peak[name]['main']:.0f} MB",
            "ratio": None,
            "target": "",
            "met": None,
        }
        for name in [*services, *[n for n in cpu if n not in services]]
    ]
    rows.append(
        {
            "figure": "GPU-s per footage min",
            "ours": gpu.get("gpu_s_per_footage_min", "no GPU"),
            "peer": "",
            "ratio": None,
            "target": "",
            "met": None,
        }
    )
    return {
        "corpus": session.corpus,
        "footage_min": round(minutes, 3),
        "cpu_s_per_footage_min": cpu,
        "peak_rss_mb": peak,
        "gpu": gpu,
        "target": "none (capacity-plan inputs)",
        "meets_target": None,
        "rows": rows,
    }


def run(*, quick: bool = False) -> dict[str, object]:
    return summarise(run_session(quick))
