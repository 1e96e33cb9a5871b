"""A first cut from takes with known truth, and its exports round-tripped through the OTIO adapters."""

from __future__ import annotations

import json
import uuid

import opentimelineio as otio
import pytest
from rushes.events.v1 import events_pb2
from rushes_picks.cut import assemble_cut
from rushes_picks.export import export_documents
from rushes_picks.fingerprint import difference_hash
from rushes_picks.presets import load_presets
from rushes_picks.script import parse_script
from rushes_picks.synthetic import ingested, keyframe_jpeg, shot_values, tagged, transcribed, words
from rushes_picks.takes import PickInputs, pick_asset

PRESET = load_presets().get("drama")
LINE_1 = "I never wanted any of this to happen"
LINE_2 = "Then why did you stay"
LINE_3 = "Because somebody had to"
SCRIPT = f"ANNA: {LINE_1}.\nBEN: {LINE_2}?\nANNA: {LINE_3}.\n".encode()


def _asset(name: str, said: str, *, created: float, setup: int, soft: bool = False, blur: int = 0,
           tagging_error: str = "") -> events_pb2.AssetPicked:  # fmt: skip
    asset_id = uuid.uuid4().hex
    spoken = words(said, 0.6)
    duration = round(spoken[-1].end_s + 1.0, 2)
    inputs = PickInputs(
        ingested=ingested(asset_id, filename=name, duration_s=duration, project="night", created=created),
        tagged=None if tagging_error else tagged(asset_id, [(0.0, duration, shot_values(soft=soft))]),
        tagging_error=tagging_error,
        transcribed=transcribed(asset_id, spoken),
    )
    picked = pick_asset(inputs, PRESET, keyframe_hashes={0: difference_hash(keyframe_jpeg(setup, blur=blur))})
    picked.envelope.asset_id = asset_id
    picked.envelope.project = "night"
    return picked


@pytest.fixture(scope="module")
def takes() -> list[events_pb2.AssetPicked]:
    return [
        _asset("A001_C001.mov", LINE_1, created=1, setup=1, soft=True, blur=2),  # take 1: blurred
        _asset(
            "A001_C002.mov", "I never I never wanted any of this to happen", created=2, setup=1
        ),  # take 2: flub
        _asset("A001_C003.mov", LINE_1, created=3, setup=1),  # take 3: clean
        _asset("B001_C001.mov", LINE_2, created=4, setup=2),  # take 4
        _asset("B001_C002.mov", LINE_2, created=5, setup=2),  # take 5: a duplicate of take 4
        _asset("C001_C001.mov", LINE_3, created=6, setup=3),  # take 6
    ]


def test_the_clean_take_is_picked_and_the_reasons_say_why_the_others_lost(takes) -> None:
    cut = assemble_cut("night", takes, PRESET)
    assert cut.order == "shoot"
    first = cut.clips[0]
    assert first.take.label == "take 3"
    assert "best of 3 takes" in first.reasons and "sharpest of 3 takes" in first.reasons
    assert any(r.startswith("take 1 lost: soft focus") for r in first.reasons)
    assert any(r.startswith("take 2 lost: restart") for r in first.reasons)
    # Alternates stay with the pick, best first.
    assert sorted(a.take.label for a in first.alternates) == ["take 1", "take 2"]
    assert first.alternates[0].take.score >= first.alternates[1].take.score
    assert cut.take_status[1] == "redundant" and cut.take_reasons[2][0] == "duplicate of take 3"
    # The duplicate pair is grouped: one of them cut, the other its alternate.
    assert [c.take.label for c in cut.clips] in (
        ["take 3", "take 4", "take 6"],
        ["take 3", "take 5", "take 6"],
    )
    assert {cut.take_status[4], cut.take_status[5]} == {"picked", "redundant"}


def test_a_three_line_script_gives_a_cut_in_script_order_with_handles(takes) -> None:
    script = parse_script(SCRIPT, "scene.txt")
    reordered = [takes[5], takes[3], takes[0], takes[4], takes[2], takes[1]]
    cut = assemble_cut("night", reordered, PRESET, script=script, handle_s=0.5)
    assert cut.order == "script" and [c.script_lines for c in cut.clips] == [[1], [2], [3]]
    assert cut.clips[0].take.asset.source.filename == "A001_C003.mov"
    assert "matches script line 1" in cut.clips[0].reasons
    assert cut.clips[2].take.asset.source.filename == "C001_C001.mov"
    clip = cut.clips[0]
    assert clip.head_handle_s == pytest.approx(0.5) and clip.tail_handle_s == pytest.approx(0.5)
    assert clip.in_s == pytest.approx(0.1)
    assert cut.status in ("draft", "review")
    # The same inputs always give the same cut id (a repeated request is the same cut).
    assert (
        assemble_cut("night", list(reversed(takes)), PRESET, script=script, handle_s=0.5).cut_id == cut.cut_id
    )


def test_exports_open_in_otio_and_round_trip_through_the_adapters(takes) -> None:
    cut = assemble_cut("night", takes, PRESET, script=parse_script(SCRIPT, "scene.txt"))
    documents = export_documents(cut, bucket="rushes", media_root="/Volumes/Media/Day 1")
    timeline = otio.adapters.read_from_string(documents["cut.otio"], "otio_json")
    clips = list(timeline.find_clips())
    assert [list(c.metadata["rushes"]["script_lines"]) for c in clips] == [[1], [2], [3]]
    assert clips[0].media_reference.target_url == "file:///Volumes/Media/Day%201/A001_C003.mov"
    assert clips[0].metadata["rushes"]["alternates"][0]["take"] in (1, 2)
    assert "best of" in clips[0].markers[0].name or "matches script line 1" in clips[0].markers[0].name

    edl = otio.adapters.read_from_string(documents["cut.edl"], "cmx_3600", rate=25)
    edl_clips = list(edl.find_clips())
    assert len(edl_clips) == 3
    for original, back in zip(clips, edl_clips, strict=True):
        assert back.source_range.start_time.to_frames() == original.source_range.start_time.to_frames()
        assert back.source_range.duration.to_frames() == original.source_range.duration.to_frames()
    assert "LOC:" in documents["cut.edl"] and "A001_C003.mov" in documents["cut.edl"]

    for name, adapter in (("cut.xml", "fcp_xml"), ("cut.fcpxml", "fcpx_xml")):
        back = otio.adapters.read_from_string(documents[name], adapter)
        durations = [c.source_range.duration.to_frames() for c in back.find_clips()]
        assert durations == [c.source_range.duration.to_frames() for c in clips], name

    shortlist = json.loads(documents["shortlist.json"])
    assert len(shortlist) == 6 and {row["status"] for row in shortlist} >= {"picked", "redundant"}
    assert documents["shortlist.csv"].splitlines()[0].startswith("take,status,asset_id,filename")


def test_an_asset_whose_tagging_failed_is_left_out_with_a_note(takes) -> None:
    failed = _asset("D001_C001.mov", LINE_3, created=7, setup=4, tagging_error="decode_error: broken frame")
    assert failed.skipped_reason.startswith("tagging_failed") and not failed.takes
    cut = assemble_cut("night", [*takes, failed], PRESET)
    assert any("D001_C001.mov" in n and "tagging_failed: decode_error" in n for n in cut.notes)
    assert len(cut.clips) == 3


def test_a_project_without_usable_takes_gives_an_empty_cut_with_the_reason() -> None:
    failed = _asset("D001_C001.mov", LINE_3, created=7, setup=4, tagging_error="decode_error: broken frame")
    cut = assemble_cut("night", [failed], PRESET)
    assert cut.status == "empty" and not cut.clips
    assert "no usable takes" in cut.policy_reasons[0] and "tagging_failed" in cut.policy_reasons[0]
    documents = export_documents(cut)
    assert "cut.edl" not in documents and json.loads(documents["cut.json"])["status"] == "empty"


def test_the_draft_policy_escalates_when_rules_break(takes) -> None:
    strict = PRESET.model_copy(
        update={"draft_policy": PRESET.draft_policy.model_copy(update={"max_clip_s": 1.0})}
    )
    cut = assemble_cut("night", takes, strict)
    assert cut.status == "review"
    assert any(r.startswith("pacing: take 3 lasts") for r in cut.policy_reasons)
    script = parse_script(SCRIPT + b"BEN: A line nobody shot.\n", "scene.txt")
    scripted = assemble_cut("night", takes, PRESET, script=script)
    assert any("script line 4 has no take" in n for n in scripted.notes)
    assert any(r.startswith("script coverage 75%") for r in scripted.policy_reasons)


def test_a_dissolve_inside_one_source_becomes_a_transition_that_survives_the_exports(takes) -> None:
    import copy
    import dataclasses

    cut = assemble_cut("night", takes, PRESET, script=parse_script(SCRIPT, "scene.txt"))
    first = cut.clips[0]
    later_take = copy.deepcopy(first.take)
    later_take.take.transition_in = "dissolve"
    later_take.take.start_s = first.out_s
    second = dataclasses.replace(first, take=later_take, in_s=first.out_s, out_s=first.out_s + 2.0)
    documents = export_documents(dataclasses.replace(cut, clips=[first, second]), bucket="rushes")
    timeline = otio.adapters.read_from_string(documents["cut.otio"], "otio_json")
    (transition,) = [i for i in timeline.tracks[0] if isinstance(i, otio.schema.Transition)]
    assert transition.transition_type == otio.schema.TransitionTypes.SMPTE_Dissolve
    assert (
        transition.in_offset.to_frames() + transition.out_offset.to_frames() == 24
    )  # unmeasured: 1 s at 25 fps, centred: 12 + 12
    assert transition.metadata["rushes"]["source_frames"] == 0
    # Measured by tagging (a 10-frame dissolve): the timeline's transition is as long as the source's.
    later_take.take.transition_frames = 10
    measured = export_documents(dataclasses.replace(cut, clips=[first, second]), bucket="rushes")
    measured_timeline = otio.adapters.read_from_string(
        measured["cut.otio"], "otio_json"
    )  # kept: owns its tracks
    (exact,) = [i for i in measured_timeline.tracks[0] if isinstance(i, otio.schema.Transition)]
    assert exact.in_offset.to_frames() == exact.out_offset.to_frames() == 5
    assert exact.metadata["rushes"] == {"source_transition": "dissolve", "source_frames": 10}
    back = otio.adapters.read_from_string(documents["cut.xml"], "fcp_xml")
    assert any(isinstance(i, otio.schema.Transition) for t in back.tracks for i in t)
    # Between different sources the join stays a cut.
    plain = export_documents(cut, bucket="rushes")
    assert not any(
        isinstance(i, otio.schema.Transition)
        for i in otio.adapters.read_from_string(plain["cut.otio"], "otio_json").tracks[0]
    )


def test_takes_carry_the_length_of_the_gradual_transition_that_opens_them() -> None:
    asset_id = uuid.uuid4().hex
    event = tagged(
        asset_id, [(0.0, 2.0, shot_values()), (2.0, 4.0, shot_values()), (4.0, 6.0, shot_values())]
    )
    event.shots[1].transition_in = "dissolve"
    event.shots[1].transition_start_frame, event.shots[1].transition_end_frame = 44, 56
    event.shots[2].transition_start_frame = event.shots[2].transition_end_frame = 100  # a cut
    inputs = PickInputs(ingested=ingested(asset_id, filename="A.mov", duration_s=6.0, project="night", created=1),
                        tagged=event, tagging_error="", transcribed=None)  # fmt: skip
    picked = pick_asset(inputs, PRESET, keyframe_hashes={})
    assert [(t.transition_in, t.transition_frames) for t in picked.takes] == [
        ("start", 0),
        ("dissolve", 12),
        ("cut", 0),
    ]
