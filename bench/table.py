"""One readable table of every figure in a results file: figure, ours, peer, ratio, target, met?

A benchmark may return `rows` (a list of {figure, ours, peer, ratio, target, met}); the older
benchmarks return their own shapes and get an adapter here; anything else falls back to its
`ratio`/`target`/`meets_target` keys. A failed benchmark ({"failed": reason}) is one row saying so.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

Row = dict[str, Any]
COLUMNS = ("figure", "ours", "peer", "ratio", "target", "met?")


def _row(figure: str, ours: Any, peer: Any, ratio: Any, target: Any, met: Any) -> Row:
    return {"figure": figure, "ours": ours, "peer": peer, "ratio": ratio, "target": target, "met": met}


def _ingest(f: Mapping[str, Any]) -> list[Row]:
    return [
        _row(
            "ingest wall time (s)", f["rushes_s"]["best"], f["ffmpeg_cli_s"]["best"], f["ratio"],
            f["target"], f["meets_target"],
        )
    ]  # fmt: skip


def _tagging(f: Mapping[str, Any]) -> list[Row]:
    rows = [
        _row(f"tagging fps: {clip}", values["tagging_fps"], values["decode_fps"], values["ratio"], "", None)
        for clip, values in f["clips"].items()
    ]
    if "ratio_1080p" in f:  # the target is for camera-sized footage; small samples are informative
        rows.append(_row("tagging: 1080p ratio", "", "", f["ratio_1080p"], f["target"], f["meets_target"]))
        rows.append(_row("tagging: worst ratio (small samples)", "", "", f["worst_ratio"], "", None))
    else:
        rows.append(_row("tagging: worst ratio", "", "", f["worst_ratio"], f["target"], f["meets_target"]))
    return rows


def _asr(f: Mapping[str, Any]) -> list[Row]:
    pooled = f["pooled"]
    return [
        _row("ASR real-time factor (pooled)", pooled["rushes_rtf"], pooled["direct_rtf"],
             pooled["rtf_ratio"], f["target"], f["meets_target"]),
        _row("ASR pooled WER", pooled["rushes_wer"], pooled["direct_wer"], None, "<= peer + 0.005",
             pooled["rushes_wer"] <= pooled["direct_wer"] + 0.005),
    ]  # fmt: skip


def _shots(f: Mapping[str, Any]) -> list[Row]:
    ours, peer = f["pooled"]["rushes"], f["pooled"]["pyscenedetect"]
    return [
        _row("shot boundaries F1 (pooled)", ours["f1"], peer["f1"], round(ours["f1"] / peer["f1"], 3),
             ">= peer", f.get("meets_f1")),
        _row("shot detection fps (pooled)", ours["fps"], peer["fps"], round(ours["fps"] / peer["fps"], 3),
             ">= peer", f.get("meets_fps")),
    ]  # fmt: skip


def _grading(f: Mapping[str, Any]) -> list[Row]:
    peer, target = f["peer_decode_plus_jpeg"]["p95_ms"], f"p95 <= {f['target_p95_ms']:g} ms"
    cold, warm = f["preview_cold"]["p95_ms"], f["preview_interactive"]["p95_ms"]
    return [
        _row("grading preview p95 1080p, interactive (ms)", warm, peer, f["ratio_p95_interactive_to_peer"],
             target, f["meets_target"]),
        _row("grading preview p95 1080p, cold (ms)", cold, peer, f["ratio_p95_cold_to_peer"], "", None),
    ]  # fmt: skip


def _search(f: Mapping[str, Any]) -> list[Row]:
    limit = f["target_p95_ms"]
    return [
        _row(f"search p95 at {f['shots']} shots: {kind} (ms)", f[kind]["p95_ms"], "", None,
             f"<= {limit:g} ms", f[kind]["p95_ms"] <= limit)
        for kind in ("boolean", "hybrid", "natural_language")
    ]  # fmt: skip


def _qc(f: Mapping[str, Any]) -> list[Row]:
    return [
        _row(f"QC throughput {pair} (pairs/s)", v["qc_pair_fps"], v["decode_pair_fps"], v["ratio"],
             f["target"], float(v["ratio"]) >= float(str(f["target"]).split()[-1]))
        for pair, v in f["pairs"].items()
    ]  # fmt: skip


ADAPTERS: dict[str, Callable[[Mapping[str, Any]], list[Row]]] = {
    "ingest": _ingest,
    "tagging": _tagging,
    "asr": _asr,
    "shots": _shots,
    "grading": _grading,
    "search": _search,
    "qc": _qc,
}


def _generic(name: str, figure: Mapping[str, Any]) -> list[Row]:
    ratio = next((figure[k] for k in ("ratio", "worst_ratio") if k in figure), None)
    return [_row(name, "", "", ratio, figure.get("target", ""), figure.get("meets_target"))]


def rows_for(name: str, figure: Mapping[str, Any]) -> list[Row]:
    """Table rows of one benchmark's result (never raises: an odd shape becomes a generic row)."""
    if "failed" in figure:
        rows = [_row(name, "FAILED", str(figure["failed"])[:70], None, "see json", False)]
    elif isinstance(figure.get("rows"), list):
        rows = [dict(r) for r in figure["rows"]]
    else:
        try:
            rows = ADAPTERS[name](figure) if name in ADAPTERS else _generic(name, figure)
        except (KeyError, TypeError, AttributeError, ValueError, ZeroDivisionError):
            rows = _generic(name, figure)
    if figure.get("quick"):
        for row in rows:
            row["figure"] = f"{row['figure']} [quick]"
    return rows


def _cell(value: Any) -> str:
    if value is None:
        return "-"
    if value is True:
        return "yes"
    if value is False:
        return "NO"
    if isinstance(value, float):
        return f"{value:.3g}" if abs(value) < 1000 else f"{value:.0f}"
    return str(value)


def render(results: Mapping[str, Any]) -> str:
    """The table (plain text, aligned columns) of a whole results file, machine line first."""
    machine = results.get("machine") or {}
    header = ", ".join(f"{k}={v}" for k, v in machine.items()) if isinstance(machine, Mapping) else ""
    body: list[list[str]] = []
    for name, figure in (results.get("figures") or {}).items():
        for row in rows_for(name, figure if isinstance(figure, Mapping) else {"failed": "not a mapping"}):
            body.append([_cell(row.get(c.rstrip("?"))) for c in COLUMNS])
    widths = [max(len(c), *(len(r[i]) for r in body)) if body else len(c) for i, c in enumerate(COLUMNS)]
    lines = [f"machine: {header}" if header else "machine: unknown"]
    lines.append("  ".join(c.ljust(w) for c, w in zip(COLUMNS, widths, strict=True)))
    lines.append("  ".join("-" * w for w in widths))
    lines += ["  ".join(cell.ljust(w) for cell, w in zip(r, widths, strict=True)) for r in body]
    return "\n".join(line.rstrip() for line in lines)
