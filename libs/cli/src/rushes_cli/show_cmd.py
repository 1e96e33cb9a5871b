"""`rushes show ASSET [--json]`: the asset record."""

from __future__ import annotations

from typing import Any

import grpc
from rushes.library.v1 import library_service_pb2 as library_pb
from rushes.library.v1 import library_service_pb2_grpc as library_grpc
from rushes_config import RushesSettings
from rushes_grpc import client_channel

from rushes_cli.errors import CliError, from_rpc_error
from rushes_cli.records import asset_record


async def fetch_record(settings: RushesSettings, asset_id: str) -> dict[str, Any]:
    async with client_channel(settings.library_address) as channel:
        stub = library_grpc.LibraryServiceStub(channel)
        try:
            response = await stub.GetAsset(
                library_pb.GetAssetRequest(asset_id=asset_id, include_audit=True), timeout=10.0
            )
        except grpc.aio.AioRpcError as exc:
            raise from_rpc_error(f"asset {asset_id}", exc) from None
    return asset_record(response.asset)


def _duration(seconds: float) -> str:
    minutes, secs = divmod(seconds, 60)
    return f"{int(minutes)}:{secs:06.3f}"


def _brief(value: Any) -> str:
    if isinstance(value, dict):
        for key in ("verdict", "level", "kelvin", "label", "bpm"):
            if key in value:
                return f"{value[key]}" + ("K" if key == "kelvin" else "")
        return "{...}"
    if isinstance(value, list):
        return ",".join(str(v.get("hex", v)) if isinstance(v, dict) else str(v) for v in value[:3])
    return str(value)


def _shot_line(shot: dict[str, Any]) -> str:
    values = shot.get("values", {})
    shown = []
    for name in ("shot_type", "category", "exposure", "white_balance", "sharpness"):
        if name in values:
            v = values[name]
            mark = "?" if v.get("needs_review") else ""
            shown.append(f"{name}={_brief(v.get('value'))}{mark}({v.get('confidence', 0):.2f})")
    flags = ",".join(f["name"] for f in shot.get("flags", []))
    return (
        f"shot {shot.get('index', 0):>3} {shot.get('timecode_in', '')}-{shot.get('timecode_out', '')} "
        f"[{shot.get('start_frame', 0)}-{shot.get('end_frame', 0)}) {shot.get('transition_in', '')}: "
        + " ".join(shown)
        + (f" flags={flags}" if flags else "")
    )


def render_text(record: dict[str, Any]) -> str:
    """A compact human summary; --json is the full contract."""
    if not record.get("asset_id"):
        raise CliError("empty asset record")
    src = record.get("source", {})
    tech = record.get("technical", {})
    lines = [
        f"asset     {record['asset_id']}  [{record.get('status', '?')}]",
        f"file      {src.get('filename', '')}  ({int(src.get('bytes', 0) or 0):,} bytes)",
    ]
    if record.get("project"):
        lines.append(f"project   {record['project']}")
    if record.get("rejection_reason"):
        lines.append(f"rejected  {record['rejection_reason']}")
    if tech:
        if tech.get("has_video"):
            lines.append(
                f"video     {tech.get('width')}x{tech.get('height')} {tech.get('video_codec', '')} "
                f"{tech.get('pix_fmt', '')} {float(tech.get('fps', 0)):.3f} fps"
                f"{' (VFR)' if tech.get('variable_frame_rate') else ''}, {tech.get('frame_count', 0)} frames, "
                f"SAR {tech.get('sample_aspect_ratio', '')}, rotation {tech.get('rotation', 0)}"
            )
            colour = "/".join(
                str(tech.get(k) or "unspecified")
                for k in ("color_space", "color_primaries", "color_transfer", "color_range")
            )
            lines.append(f"colour    {colour}, {tech.get('bit_depth', '?')}-bit")
        lines.append(f"duration  {_duration(float(tech.get('duration_s', 0)))}")
        if tech.get("timecode"):
            lines.append(f"timecode  {tech['timecode']}")
        for stream in tech.get("audio", []):
            lines.append(
                f"audio     {stream.get('codec')} {stream.get('channels')} ch {stream.get('sample_rate')} Hz"
            )
        camera = {k: v for k, v in (tech.get("camera") or {}).items() if v}
        if camera:
            lines.append("camera    " + ", ".join(f"{k} {v}" for k, v in camera.items()))
    for name, stage in record.get("stages", {}).items():
        error = f"  {stage['error']}" if stage.get("error") else ""
        lines.append(f"stage     {name}: {stage.get('status')}{error}")
    transcript = record.get("transcript") or {}
    if transcript.get("text"):
        text = transcript["text"] if len(transcript["text"]) <= 100 else transcript["text"][:97] + "..."
        flags = f"  flags: {', '.join(transcript['flags'])}" if transcript.get("flags") else ""
        lines.append(f'speech    [{transcript.get("language", "?")}] "{text}"{flags}')
    subtitles = record.get("subtitles") or {}
    if subtitles.get("cue_count"):
        verdict = "needs review" if subtitles.get("needs_review") else "passed"
        lines.append(
            f"subtitles {subtitles['cue_count']} cues ({subtitles.get('profile', '?')} profile): "
            f"srt, vtt, ttml; QC {verdict}"
        )
    shots = record.get("shots", [])
    if shots:
        lines.append(
            f"tags      preset {record.get('tag_preset', '?')} v{record.get('tags_version', 0)}, {len(shots)} shots"
        )
    for shot in shots:
        lines.append(_shot_line(shot))
    lines += _later_stage_lines(record)
    for name, key in sorted(record.get("objects", {}).items()):
        lines.append(f"object    {name:<9} {key}")
    audit = record.get("audit", [])
    if audit:
        lines.append(f"audit     {len(audit)} entries (latest: {audit[-1].get('event_type')})")
    return "\n".join(lines)


def _later_stage_lines(record: dict[str, Any]) -> list[str]:
    """One line per take, rendition, QC verdict and look, and the review queue's size."""
    lines = []
    picks = record.get("picks") or {}
    if picks.get("skipped_reason"):
        lines.append(f"picks     none: {picks['skipped_reason']}")
    for take in picks.get("takes") or []:
        score = take.get("score") or {}
        value = score.get("value") or {}
        flag = " (review)" if score.get("needs_review") else ""
        redundant = " redundant" if take.get("redundant") else ""
        lines.append(
            f"take      shot {int(take.get('shot_index', 0))}: {value.get('verdict', '?')}{redundant} "
            f"{float(value.get('score', 0)):.2f} ({float(score.get('confidence', 0)):.2f}){flag}: "
            + ", ".join(score.get("reasons") or [])
        )
    for rendition in record.get("renditions") or []:
        reasons = "; ".join(rendition.get("reasons") or [])
        lines.append(
            f"rendition {rendition.get('fix')} v{int(rendition.get('version', 0))} "
            f"({rendition.get('model_name', '?')}): {reasons[:120]}"
        )
    qc = record.get("qc") or {}
    if qc.get("renditions"):
        verdicts = ", ".join(
            f"{r.get('fix')} v{int(r.get('version', 0))} {r.get('verdict')}" for r in qc["renditions"]
        )
        lines.append(f"qc        {qc.get('verdict', '?')}: {verdicts}")
    grading = record.get("grading") or {}
    latest = (grading.get("looks") or {}).get(grading.get("latest_look_id", ""), {})
    if latest:
        grades = latest.get("grades") or []
        review = sum(1 for grade in grades if grade.get("needs_review"))
        lines.append(f"grading   look {grading['latest_look_id']}: {len(grades)} shots, {review} for review")
    review_items = record.get("review") or []
    if review_items:
        fields = sorted({str(item.get("field") or item.get("kind")) for item in review_items})
        lines.append(f"review    {len(review_items)} items waiting ({', '.join(fields)}): rushes review list")
    return lines
