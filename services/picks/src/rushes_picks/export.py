"""A cut in the editor's own formats, through OpenTimelineIO and its adapters.

`.otio` keeps everything (reasons, confidences and alternates in each clip's metadata); the CMX3600
EDL, FCP 7 XML and FCPX XML carry the picks with markers (reasons and alternates as marker text),
so they survive into Avid, Premiere and Resolve. Media references point at the originals: file URLs
under the editor's media folder when one is given, else the s3:// URL of the stored original.
Plus a shortlist of every take (CSV and JSON) for on-set or in-house colour decisions.
"""

from __future__ import annotations

import csv
import io
import json
from pathlib import PurePosixPath
from typing import Any
from urllib.parse import quote

import opentimelineio as otio

from rushes_picks.cut import Cut, CutClip, ProjectTake

DEFAULT_RATE = 24.0
# Files a cut is exported as, and the OTIO adapter that writes each.
ADAPTERS = {"cut.otio": "otio_json", "cut.edl": "cmx_3600", "cut.xml": "fcp_xml", "cut.fcpxml": "fcpx_xml"}
# Shot boundaries tagging reports as gradual; the only ones rebuilt as timeline transitions.
GRADUAL_TRANSITIONS = frozenset({"dissolve", "fade"})
# A rebuilt transition lasts as long as tagging measured it in the source; this long when tagging did
# not measure it (tags made before it recorded transition spans). Either is shortened to fit the
# clips on either side.
DEFAULT_TRANSITION_S = 1.0
CONTINUITY_TOLERANCE_S = 0.05
SHORTLIST_FIELDS = ("take", "status", "asset_id", "filename", "shot", "timecode_in", "timecode_out",
                    "start_s", "end_s", "score", "confidence", "needs_review", "reasons", "text")  # fmt: skip


def _rate(take: ProjectTake) -> float:
    fps = take.asset.technical.fps
    return fps if fps > 0 else DEFAULT_RATE


def _start_time(take: ProjectTake) -> otio.opentime.RationalTime:
    """The original's start timecode (what EDL source in/out count from); zero when absent or unreadable."""
    rate = _rate(take)
    timecode = take.asset.technical.timecode
    if timecode:
        try:
            return otio.opentime.from_timecode(timecode, rate)
        except (ValueError, RuntimeError):
            pass
    return otio.opentime.RationalTime(0, rate)


def _seconds(take: ProjectTake, seconds: float) -> otio.opentime.RationalTime:
    rate = _rate(take)
    return otio.opentime.RationalTime(round(seconds * rate), rate)


def timecode_at(take: ProjectTake, seconds: float) -> str:
    return otio.opentime.to_timecode(_start_time(take) + _seconds(take, seconds), _rate(take))


def media_url(take: ProjectTake, *, bucket: str, media_root: str) -> str:
    if media_root:
        name = PurePosixPath(take.asset.source.filename or take.asset.original_key).name
        return "file://" + quote(str(PurePosixPath(media_root) / name))
    return f"s3://{bucket}/{take.asset.original_key}"


def _reference(take: ProjectTake, *, bucket: str, media_root: str) -> otio.schema.ExternalReference:
    duration = take.asset.technical.duration_s or take.take.end_s
    reference = otio.schema.ExternalReference(
        target_url=media_url(take, bucket=bucket, media_root=media_root),
        available_range=otio.opentime.TimeRange(_start_time(take), _seconds(take, duration)),
    )
    reference.name = take.asset.source.filename or take.asset_id
    return reference


def _summary(take: ProjectTake) -> dict[str, Any]:
    return {
        "take": take.number,
        "asset_id": take.asset_id,
        "filename": take.asset.source.filename,
        "shot": take.take.shot_index,
        "score": round(take.score, 4),
        "confidence": round(take.confidence, 4),
        "needs_review": take.take.score.needs_review,
    }


def clip_record(clip: CutClip, *, bucket: str = "", media_root: str = "") -> dict[str, Any]:
    take = clip.take
    return {
        **_summary(take),
        "in_s": round(clip.in_s, 4),
        "out_s": round(clip.out_s, 4),
        "timecode_in": timecode_at(take, clip.in_s),
        "timecode_out": timecode_at(take, clip.out_s),
        "handles_s": {"head": clip.head_handle_s, "tail": clip.tail_handle_s},
        "script_lines": clip.script_lines,
        "transition_in": take.take.transition_in,
        "reasons": clip.reasons,
        "model": take.take.score.model,
        "model_version": take.take.score.model_version,
        "media": media_url(take, bucket=bucket, media_root=media_root),
        "alternates": [
            {**_summary(a.take), "note": a.note, "reasons": list(a.take.take.score.reasons),
             "timecode_in": timecode_at(a.take, a.take.take.start_s),
             "timecode_out": timecode_at(a.take, a.take.take.end_s),
             "media": media_url(a.take, bucket=bucket, media_root=media_root)}
            for a in clip.alternates
        ],
    }  # fmt: skip


def cut_record(cut: Cut, *, bucket: str = "", media_root: str = "") -> dict[str, Any]:
    """The cut as JSON: what `rushes cut --json` prints and cut.json holds."""
    return {
        "project": cut.project,
        "cut_id": cut.cut_id,
        "status": cut.status,
        "policy_reasons": cut.policy_reasons,
        "order": cut.order,
        "script": cut.script_name,
        "preset": cut.preset,
        "handle_s": cut.handle_s,
        "duration_s": round(cut.duration_s, 4),
        "clips": [clip_record(c, bucket=bucket, media_root=media_root) for c in cut.clips],
        "notes": cut.notes,
        "takes": {str(t.number): cut.take_status.get(t.number, "unused") for t in cut.takes},
    }


def _marker(take: ProjectTake, at: otio.opentime.RationalTime, text: str, colour: str) -> otio.schema.Marker:
    return otio.schema.Marker(
        name=text,
        marked_range=otio.opentime.TimeRange(at, otio.opentime.RationalTime(1, _rate(take))),
        color=colour,
    )


def _gradual_join(previous: CutClip | None, clip: CutClip) -> bool:
    """True when `clip` continues `previous`'s source through a dissolve or fade tagging found there.

    Only a boundary inside one source continuity (same asset, the previous clip running up to the
    shot where this one begins) is a transition the footage really has; a join between different
    sources stays a cut.
    """
    if previous is None or previous.take.asset_id != clip.take.asset_id:
        return False
    if clip.take.take.transition_in not in GRADUAL_TRANSITIONS:
        return False
    return (
        abs(previous.out_s - clip.in_s) <= CONTINUITY_TOLERANCE_S or previous.out_s >= clip.take.take.start_s
    )


def _transition(
    previous: otio.schema.Clip, item: otio.schema.Clip, clip: CutClip
) -> otio.schema.Transition | None:
    """A centred SMPTE dissolve as long as the source's (DEFAULT_TRANSITION_S when unmeasured),
    shortened to fit both neighbouring clips."""
    kind = clip.take.take.transition_in
    rate = item.source_range.duration.rate
    measured = clip.take.take.transition_frames
    length_s = measured / _rate(clip.take) if measured else DEFAULT_TRANSITION_S
    half = min(
        round(length_s * rate / 2),
        previous.source_range.duration.value // 2,
        item.source_range.duration.value // 2,
    )
    if half < 1:
        return None
    offset = otio.opentime.RationalTime(half, rate)
    transition = otio.schema.Transition(
        name=f"{kind} (from source)",
        transition_type=otio.schema.TransitionTypes.SMPTE_Dissolve,
        in_offset=offset,
        out_offset=offset,
    )
    transition.metadata["rushes"] = {"source_transition": kind, "source_frames": measured}
    return transition


def _audio_track(video: otio.schema.Track) -> otio.schema.Track:
    """A1: each picked clip's own sound (same media reference and range), so the editor's tool links it."""
    audio = otio.schema.Track(name="A1", kind=otio.schema.TrackKind.Audio)
    for item in video:
        if isinstance(item, otio.schema.Clip):
            sound = otio.schema.Clip(
                name=item.name, media_reference=item.media_reference.clone(), source_range=item.source_range
            )
            audio.append(sound)
        elif isinstance(item, otio.schema.Transition):
            audio.append(item.clone())
    return audio


def to_timeline(
    cut: Cut, *, bucket: str = "", media_root: str = "", audio: bool = True
) -> otio.schema.Timeline:
    timeline = otio.schema.Timeline(name=f"{cut.project} first cut")
    timeline.metadata["rushes"] = {
        k: v for k, v in cut_record(cut, bucket=bucket, media_root=media_root).items() if k != "clips"
    }
    track = otio.schema.Track(name="V1", kind=otio.schema.TrackKind.Video)
    timeline.tracks.append(track)
    previous_clip: CutClip | None = None
    previous_item: otio.schema.Clip | None = None
    for clip in cut.clips:
        take = clip.take
        start = _start_time(take) + _seconds(take, clip.in_s)
        duration = _seconds(take, clip.out_s) - _seconds(take, clip.in_s)
        if duration.value <= 0:
            continue
        item = otio.schema.Clip(
            name=f"{take.asset.source.filename or take.asset_id[:12]} {take.label}",
            media_reference=_reference(take, bucket=bucket, media_root=media_root),
            source_range=otio.opentime.TimeRange(start, duration),
        )
        item.metadata["rushes"] = clip_record(clip, bucket=bucket, media_root=media_root)
        colour = (
            otio.schema.MarkerColor.YELLOW if take.take.score.needs_review else otio.schema.MarkerColor.GREEN
        )
        reasons = "; ".join(clip.reasons[:4])
        item.markers.append(
            _marker(
                take,
                start,
                f"{take.label} score {take.score:.2f} conf {take.confidence:.2f}: {reasons}",
                colour,
            )
        )
        for alternate in clip.alternates:
            item.markers.append(
                _marker(take, start, f"alt {alternate.take.label} ({alternate.take.score:.2f}) {alternate.note}",
                        otio.schema.MarkerColor.BLUE)
            )  # fmt: skip
        if previous_item is not None and _gradual_join(previous_clip, clip):
            transition = _transition(previous_item, item, clip)
            if transition is not None:
                track.append(transition)
        track.append(item)
        previous_clip, previous_item = clip, item
    if audio and any(len(c.take.asset.technical.audio) > 0 for c in cut.clips):
        timeline.tracks.append(_audio_track(track))
    return timeline


def shortlist_rows(cut: Cut) -> list[dict[str, Any]]:
    rows = []
    for take in cut.takes:
        reasons = cut.take_reasons.get(take.number) or list(take.take.score.reasons)
        rows.append(
            {
                "take": take.number,
                "status": cut.take_status.get(take.number, "unused"),
                "asset_id": take.asset_id,
                "filename": take.asset.source.filename,
                "shot": take.take.shot_index,
                "timecode_in": timecode_at(take, take.take.start_s),
                "timecode_out": timecode_at(take, take.take.end_s),
                "start_s": round(take.take.start_s, 4),
                "end_s": round(take.take.end_s, 4),
                "score": round(take.score, 4),
                "confidence": round(take.confidence, 4),
                "needs_review": take.take.score.needs_review,
                "reasons": "; ".join(reasons),
                "text": take.take.text,
            }
        )
    return rows


def export_documents(cut: Cut, *, bucket: str = "", media_root: str = "") -> dict[str, str]:
    """File name -> text of every export (cut.otio, cut.edl, cut.xml, cut.fcpxml, cut.json, shortlists)."""
    documents: dict[str, str] = {
        "cut.json": json.dumps(cut_record(cut, bucket=bucket, media_root=media_root), indent=2) + "\n"
    }
    if cut.clips:
        timeline = to_timeline(cut, bucket=bucket, media_root=media_root)
        for name, adapter in ADAPTERS.items():
            documents[name] = otio.adapters.write_to_string(timeline, adapter)
    rows = shortlist_rows(cut)
    out = io.StringIO()
    writer = csv.DictWriter(out, fieldnames=SHORTLIST_FIELDS, lineterminator="\n")
    writer.writeheader()
    writer.writerows(rows)
    documents["shortlist.csv"] = out.getvalue()
    documents["shortlist.json"] = json.dumps(rows, indent=2) + "\n"
    return documents
