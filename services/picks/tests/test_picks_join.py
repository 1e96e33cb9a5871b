"""The join against real NATS JetStream and S3: both arrival orders, no audio, failed upstream
stages, racing replicas; and cuts of a project assembled from what the join stored."""

from __future__ import annotations

import asyncio
import uuid
import wave
from pathlib import Path

import numpy as np
import pytest
from google.protobuf.message import Message
from nats.js.api import DeliverPolicy
from rushes.events.v1 import events_pb2
from rushes_events import Delivery, EventBus
from rushes_picks.consumer import PicksHandler
from rushes_picks.cut_service import CutAssembler, UnknownProject
from rushes_picks.job import PicksJob
from rushes_picks.script import ScriptError
from rushes_picks.store import InvalidProject
from rushes_picks.synthetic import ingested, keyframe_jpeg, shot_values, tagged, transcribed, words
from rushes_storage import ObjectStore, asset_key

pytestmark = pytest.mark.integration
STAGES = ["ingest", "tagging", "asr", "picks"]
LINE = "I never wanted any of this to happen"


@pytest.fixture(scope="module")
async def env(nats_server, s3_server):
    store = ObjectStore(s3_server.settings(bucket="picks-join-tests"))
    store.ensure_bucket()
    bus = await EventBus.connect(nats_server.settings(), name="picks-test")
    await bus.ensure_stream()
    yield store, bus
    await bus.close()


def _handler(env, stages: list[str] = STAGES) -> PicksHandler:
    store, bus = env
    return PicksHandler(PicksJob(store, bus, pipeline_stages=stages), bus)


async def _deliver(handler: PicksHandler, subject: str, event: Message) -> None:
    envelope = events_pb2.Envelope()
    envelope.CopyFrom(event.envelope)  # type: ignore[attr-defined]
    await handler(Delivery(subject, event, envelope, 1, 0, _msg=None))  # type: ignore[arg-type]


def _wav(path: Path, seconds: float) -> Path:
    t = np.arange(int(16000 * seconds)) / 16000
    with wave.open(str(path), "wb") as out:
        out.setnchannels(1)
        out.setsampwidth(2)
        out.setframerate(16000)
        out.writeframes((0.1 * np.sin(2 * np.pi * 220 * t) * 32767).astype("<i2").tobytes())
    return path


def _inputs(store: ObjectStore, tmp_path: Path, *, project: str, said: str = LINE, audio: bool = True):
    asset_id = uuid.uuid4().hex
    spoken = words(said, 0.6) if said else []
    duration = 5.0
    audio_key = ""
    if audio:
        audio_key = asset_key(asset_id, "audio_16k_mono.wav")
        store.put_file(audio_key, _wav(tmp_path / f"{asset_id}.wav", duration))
    keyframe = asset_key(asset_id, "keyframes", "v1", "shot_0000.jpg")
    store.put_bytes(keyframe, keyframe_jpeg(11), content_type="image/jpeg")
    return (
        ingested(
            asset_id,
            filename=f"{asset_id[:6]}.mov",
            duration_s=duration,
            project=project,
            audio_key=audio_key,
        ),
        tagged(asset_id, [(0.0, duration, shot_values())], project=project, keyframes=[keyframe]),
        transcribed(asset_id, spoken, project=project),
    )


async def _picked_events(bus: EventBus, asset_id: str) -> list[events_pb2.AssetPicked]:
    sub = await bus.js.subscribe(
        "rushes.v1.asset.picked", ordered_consumer=True, deliver_policy=DeliverPolicy.ALL
    )
    found = []
    try:
        while True:
            try:
                msg = await sub.next_msg(timeout=0.5)
            except TimeoutError:
                break
            event = events_pb2.AssetPicked.FromString(msg.data)
            if event.envelope.asset_id == asset_id:
                found.append(event)
    finally:
        await sub.unsubscribe()
    return found


@pytest.mark.parametrize("order", ["tagged_first", "transcribed_first"])
async def test_the_join_picks_once_both_inputs_are_in_whichever_comes_first(env, tmp_path, order) -> None:
    store, bus = env
    handler = _handler(env)
    ing, tag, asr = _inputs(store, tmp_path, project=f"join-{order}")
    asset_id = ing.envelope.asset_id
    first, second = (tag, asr) if order == "tagged_first" else (asr, tag)
    subjects = {id(tag): "rushes.v1.asset.tagged", id(asr): "rushes.v1.asset.transcribed"}
    await _deliver(handler, "rushes.v1.asset.ingested", ing)
    await _deliver(handler, subjects[id(first)], first)
    assert handler.job.picks.load_result(asset_id) is None  # still waiting for the other half
    await _deliver(handler, subjects[id(second)], second)
    result = handler.job.picks.load_result(asset_id)
    assert result is not None and len(result.takes) == 1 and not result.skipped_reason
    take = result.takes[0]
    assert "complete line" in take.score.reasons and take.keyframe_hash and take.text.startswith("I never")
    assert "audio" in take.components and take.measurements["audio_rms_dbfs"] == pytest.approx(-23.0, abs=0.6)
    events = await _picked_events(bus, asset_id)
    assert len(events) == 1 and events[0].input_version == "tags-v1.asr-ok.m1"
    # A redelivery republishes the stored result: deduplicated, the stream still holds one event.
    await _deliver(handler, subjects[id(second)], second)
    assert len(await _picked_events(bus, asset_id)) == 1
    # The project index lets a cut find the asset.
    assert [p.envelope.asset_id for p in handler.job.picks.project_picks(f"join-{order}")] == [asset_id]


async def test_a_silent_asset_is_picked_on_its_pictures(env, tmp_path) -> None:
    store, _ = env
    handler = _handler(env)
    ing, tag, asr = _inputs(store, tmp_path, project="join-silent", said="", audio=False)
    assert asr.skipped_reason == "no_audio"
    for subject, event in (("rushes.v1.asset.transcribed", asr), ("rushes.v1.asset.tagged", tag),
                           ("rushes.v1.asset.ingested", ing)):  # fmt: skip
        await _deliver(handler, subject, event)
    result = handler.job.picks.load_result(ing.envelope.asset_id)
    assert result is not None and len(result.takes) == 1
    assert "delivery" not in result.takes[0].components and "focus" in result.takes[0].components


async def test_a_failed_tagging_ends_the_join_with_a_result_not_a_wait(env, tmp_path) -> None:
    store, _ = env
    handler = _handler(env)
    ing, _, asr = _inputs(store, tmp_path, project="join-failed")
    failed = events_pb2.StageFailed(
        envelope=ing.envelope, stage="tagging", error="decode_error: broken frame"
    )
    await _deliver(handler, "rushes.v1.asset.ingested", ing)
    await _deliver(handler, "rushes.v1.asset.stage_failed", failed)
    assert handler.job.picks.load_result(ing.envelope.asset_id) is None
    await _deliver(handler, "rushes.v1.asset.transcribed", asr)
    result = handler.job.picks.load_result(ing.envelope.asset_id)
    assert result is not None and result.skipped_reason == "tagging_failed: decode_error: broken frame"
    # Another stage's failure is none of picks' business.
    other = events_pb2.StageFailed(envelope=ing.envelope, stage="enhance", error="x")
    await _deliver(handler, "rushes.v1.asset.stage_failed", other)


async def test_without_asr_in_the_pipeline_picks_does_not_wait_for_a_transcript(env, tmp_path) -> None:
    store, _ = env
    handler = _handler(env, ["ingest", "tagging", "picks"])
    ing, tag, _ = _inputs(store, tmp_path, project="join-no-asr")
    await _deliver(handler, "rushes.v1.asset.tagged", tag)
    await _deliver(handler, "rushes.v1.asset.ingested", ing)
    result = handler.job.picks.load_result(ing.envelope.asset_id)
    assert result is not None and result.input_version == "tags-v1.asr-none.m1" and len(result.takes) == 1


async def test_racing_replicas_publish_one_event_with_the_same_picks(env, tmp_path) -> None:
    store, bus = env
    ing, tag, asr = _inputs(store, tmp_path, project="join-race")
    first, second = _handler(env), _handler(env)
    await _deliver(first, "rushes.v1.asset.ingested", ing)
    await asyncio.gather(
        _deliver(first, "rushes.v1.asset.tagged", tag), _deliver(second, "rushes.v1.asset.transcribed", asr)
    )
    events = await _picked_events(bus, ing.envelope.asset_id)
    assert len(events) == 1
    stored = first.job.picks.load_result(ing.envelope.asset_id)
    assert stored is not None and list(stored.takes) == list(events[0].takes)


async def test_cuts_of_a_project_and_their_bad_input(env, tmp_path) -> None:
    store, bus = env
    handler = _handler(env)
    project = f"cut-{uuid.uuid4().hex[:8]}"
    for said in (LINE, "Then why did you stay"):
        ing, tag, asr = _inputs(store, tmp_path, project=project, said=said)
        for subject, event in (("rushes.v1.asset.ingested", ing), ("rushes.v1.asset.tagged", tag),
                               ("rushes.v1.asset.transcribed", asr)):  # fmt: skip
            await _deliver(handler, subject, event)
    assembler = CutAssembler(handler.job.picks, bus, handler.job.presets)
    script = f"{LINE}.\nThen why did you stay?\n".encode()
    done = await assembler.assemble(project, script_bytes=script, script_name="scene.txt")
    assert done.cut.order == "script" and [c.script_lines for c in done.cut.clips] == [[1], [2]]
    assert set(done.exports) >= {"cut.otio", "cut.edl", "cut.xml", "cut.fcpxml", "shortlist.csv", "cut.json"}
    assert store.get_bytes(done.exports["cut.edl"]).decode() == done.documents["cut.edl"]
    sub = await bus.js.subscribe("rushes.v1.project.cut_assembled", ordered_consumer=True,
                                 deliver_policy=DeliverPolicy.ALL)  # fmt: skip
    announced = []
    while True:
        try:
            msg = await sub.next_msg(timeout=0.5)
        except TimeoutError:
            break
        event = events_pb2.CutAssembled.FromString(msg.data)
        if event.envelope.project == project:
            announced.append(event)
    await sub.unsubscribe()
    assert (
        len(announced) == 1 and announced[0].cut_id == done.cut.cut_id and not announced[0].envelope.asset_id
    )
    assert announced[0].clip_count == 2

    with pytest.raises(UnknownProject, match="has no picked assets"):
        await assembler.assemble(f"nonesuch-{uuid.uuid4().hex[:8]}")
    with pytest.raises(InvalidProject, match="project is required"):
        await assembler.assemble("  ")
    with pytest.raises(ScriptError, match=r"scene.txt: not UTF-8 text \(invalid byte at offset 1\)"):
        await assembler.assemble(project, script_bytes=b"a\xff", script_name="scene.txt")

    # A project whose only asset failed tagging: an empty cut that says why.
    empty_project = f"empty-{uuid.uuid4().hex[:8]}"
    ing, _, asr = _inputs(store, tmp_path, project=empty_project)
    await _deliver(handler, "rushes.v1.asset.ingested", ing)
    await _deliver(handler, "rushes.v1.asset.transcribed", asr)
    failed = events_pb2.StageFailed(envelope=ing.envelope, stage="tagging", error="decode_error")
    await _deliver(handler, "rushes.v1.asset.stage_failed", failed)
    empty = await assembler.assemble(empty_project)
    assert empty.cut.status == "empty" and "tagging_failed" in empty.cut.policy_reasons[0]
    assert "cut.edl" not in empty.exports
