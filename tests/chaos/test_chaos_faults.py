"""Faults against the real local stack (issue 10, scenarios 1-6), each with its pass criterion.

Every scenario ends with the same verdict (ChaosStack.exactly_once): all its assets complete, each
stage's completion event once in the stream and once in the audit log, and the same object keys as
an asset that saw no fault. Assets in flight: RUSHES_CHAOS_ASSETS (CI default below).
"""

from __future__ import annotations

import asyncio
import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
from chaos_harness import (
    CHAOS_ACK_WAIT_S,
    CHAOS_ENV,
    COMPLETION_SUBJECTS,
    ChaosStack,
    assets_in_flight,
    ingest,
    make_clips,
    rushes,
)
from chaos_report import record_result
from rushes.events.v1 import events_pb2
from rushes_stack import load_state, service_env
from rushes_stack.components.service import grpc_serving
from rushes_stack.registry import SERVICES

pytestmark = [pytest.mark.integration, pytest.mark.slow]

CI_ASSETS = 4
# Which services report which dependency in their gRPC health (NOT_SERVING while it is down).
HEALTH_WATCHERS: dict[str, list[str]] = {
    "nats": ["ingest"],
    "s3": ["ingest"],
    "postgres": ["library"],
    "triton": [],
}


def _wait_stage_started(stack: ChaosStack, asset_ids: list[str], stage: str, timeout_s: float = 30.0) -> None:
    """Until one asset has reached `stage` (so killing its service interrupts real work)."""
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        rows = stack._query(
            "SELECT count(*) FROM asset_stages WHERE asset_id = ANY(%s) AND stage = %s", [asset_ids, stage]
        )
        if rows[0][0]:
            return
        time.sleep(0.1)


def _verdict(stack: ChaosStack, ids: list[str], reference: str, scenario: str, t_fault: float) -> None:
    statuses = stack.wait_settled(ids, timeout_s=240)
    recovered_s = time.monotonic() - t_fault
    verdict = stack.exactly_once(ids, reference)
    lost = sum(1 for s in statuses.values() if s != "complete")
    duplicated = len(verdict.event_counts) + len(verdict.audit_counts) + len(verdict.object_shapes)
    record_result(scenario, assets_in=len(ids), assets_out=len(ids) - lost, lost=lost,
                  duplicated=duplicated, recover_s=recovered_s)  # fmt: skip
    assert verdict.ok, verdict


@pytest.mark.parametrize("service", list(SERVICES))
def test_sigkill_service_with_assets_in_flight(
    chaos_stack: ChaosStack, reference_asset: str, clip_dir: Path, service: str
) -> None:
    count = assets_in_flight(CI_ASSETS)
    clips = make_clips(clip_dir, count, seed=1000 + 100 * list(SERVICES).index(service))
    before = chaos_stack.pid(service)
    if service == "ingest":
        # Kill it mid-upload: the CLI fails for what was cut off; the operator runs it again.
        env = {k: v for k, v in os.environ.items() if not k.startswith("RUSHES_")} | CHAOS_ENV
        cli = subprocess.Popen(
            [sys.executable, "-m", "rushes_cli.main", "--state-dir", str(chaos_stack.state_dir), "ingest",
             *map(str, clips)], env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
        )  # fmt: skip
        time.sleep(1.0)
        t_fault = time.monotonic()
        chaos_stack.kill(service)
        cli.communicate(timeout=120)
        chaos_stack.repair()
        ids = ingest(chaos_stack.state_dir, clips)
    else:
        ids = ingest(chaos_stack.state_dir, clips)
        stage = SERVICES[service].stage
        if stage is not None:
            _wait_stage_started(chaos_stack, ids, stage)
        t_fault = time.monotonic()
        chaos_stack.kill(service)
        chaos_stack.wait_dead(before)
        chaos_stack.repair()
    after = chaos_stack.components()[service]
    assert after["health"] == "ok" and after["pid"] != before
    assert len(ids) == count
    _verdict(chaos_stack, ids, reference_asset, f"SIGKILL {service}", t_fault)


def _health_of(stack: ChaosStack, services: list[str]) -> dict[str, bool]:
    components = stack.components()
    return {name: grpc_serving(components[name]["address"]) for name in services}


def _wait_health(stack: ChaosStack, services: list[str], serving: bool, timeout_s: float) -> dict[str, bool]:
    deadline = time.monotonic() + timeout_s
    while True:
        health = _health_of(stack, services)
        if all(v == serving for v in health.values()) or time.monotonic() > deadline:
            return health
        time.sleep(0.25)


@pytest.mark.parametrize("component", ["nats", "s3", "postgres", "triton"])
def test_infrastructure_restart_mid_run(
    chaos_stack: ChaosStack, reference_asset: str, clip_dir: Path, component: str
) -> None:
    count = assets_in_flight(CI_ASSETS)
    clips = make_clips(
        clip_dir, count, seed=2000 + 100 * ["nats", "s3", "postgres", "triton"].index(component)
    )
    ids = ingest(chaos_stack.state_dir, clips)
    t_fault = time.monotonic()
    before = chaos_stack.kill(component)
    chaos_stack.wait_dead(before)
    watchers = HEALTH_WATCHERS[component]
    while_down = _wait_health(chaos_stack, watchers, serving=False, timeout_s=10)
    chaos_stack.repair()
    after = _wait_health(chaos_stack, watchers, serving=True, timeout_s=30)
    _verdict(chaos_stack, ids, reference_asset, f"restart {component}", t_fault)
    # Health is checked last so that a gap there does not hide whether work was lost.
    assert not any(while_down.values()), f"still SERVING while {component} was down: {while_down}"
    assert all(after.values()), f"not SERVING after {component} came back: {after}"


def _dead_letters(stack: ChaosStack, stage: str) -> list[events_pb2.DeadLetter]:
    letters = []
    for subject, _asset, data in stack.stream_events():
        if subject == f"rushes.v1.dlq.{stage}":
            letter = events_pb2.DeadLetter()
            letter.ParseFromString(data)
            letters.append(letter)
    return letters


def _stored_event(stack: ChaosStack, asset_id: str, subject: str) -> bytes:
    found = [data for s, _a, data in stack.stream_events([asset_id]) if s == subject]
    assert found, f"no {subject} stored for {asset_id}"
    return found[0]


def _wait_for(predicate, timeout_s: float, what: str):  # type: ignore[no-untyped-def]
    deadline = time.monotonic() + timeout_s
    while True:
        value = predicate()
        if value:
            return value
        assert time.monotonic() < deadline, f"timed out waiting for {what}"
        time.sleep(0.5)


def test_poison_messages_are_dead_lettered_and_traffic_continues(
    chaos_stack: ChaosStack, reference_asset: str, clip_dir: Path
) -> None:
    max_deliver = chaos_stack.settings().nats.max_deliver
    # An event naming objects that are not in the store.
    ghost = events_pb2.AssetIngested()
    ghost.ParseFromString(_stored_event(chaos_stack, reference_asset, COMPLETION_SUBJECTS["ingest"]))
    ghost_id = "0badc0de" * 4
    ghost.envelope.asset_id = ghost_id
    ghost.envelope.id = f"chaos-ghost-{time.time_ns()}"
    raw = ghost.SerializeToString().replace(reference_asset.encode(), ghost_id.encode())
    asyncio.run(chaos_stack.publish_raw(COMPLETION_SUBJECTS["ingest"], raw, msg_id=ghost.envelope.id))
    # A payload that does not parse as the event its subject promises.
    garbage = b"\xff\xfe not a protobuf \x00" + os.urandom(32)
    asyncio.run(
        chaos_stack.publish_raw(
            COMPLETION_SUBJECTS["ingest"], garbage, msg_id=f"chaos-garbage-{time.time_ns()}"
        )
    )

    for stage in ("tagging", "asr"):
        letters = _wait_for(
            lambda stage=stage: [
                letter for letter in _dead_letters(chaos_stack, stage)
                if letter.envelope.asset_id == ghost_id or letter.original_data == garbage[: len(letter.original_data)]
            ] if len(_dead_letters(chaos_stack, stage)) else [],
            timeout_s=60, what=f"dead letters on rushes.v1.dlq.{stage}",
        )  # fmt: skip
        ghost_letters = [lt for lt in letters if lt.envelope.asset_id == ghost_id]
        garbage_letters = [lt for lt in letters if lt.envelope.asset_id != ghost_id]
        assert ghost_letters and "missing" in ghost_letters[-1].reason, [lt.reason for lt in letters]
        assert garbage_letters and garbage_letters[-1].reason, [lt.reason for lt in letters]
        for letter in letters:
            assert (
                1 <= letter.deliveries <= max_deliver
                and letter.original_subject == COMPLETION_SUBJECTS["ingest"]
            )
    ghost_outputs = {
        s for s, a, _d in chaos_stack.stream_events([ghost_id]) if s in COMPLETION_SUBJECTS.values()
    }
    # Stages whose input objects are missing announce nothing as done for the ghost.
    assert not ghost_outputs & {COMPLETION_SUBJECTS["tagging"], COMPLETION_SUBJECTS["asr"]}, ghost_outputs

    clips = make_clips(clip_dir, 2, seed=3000)
    ids = ingest(chaos_stack.state_dir, clips)
    _verdict(chaos_stack, ids, reference_asset, "poison messages, then healthy traffic", time.monotonic())


SAMPLES = Path(__file__).resolve().parents[1] / "fixtures" / "samples"


def _long_speech(path: Path, repeats: int = 6) -> Path:
    """recorder.wav (6 s of speech) said `repeats` times: ASR takes several ack waits on 2 cores."""
    import wave

    with wave.open(str(SAMPLES / "recorder.wav"), "rb") as source:
        params, frames = source.getparams(), source.readframes(source.getnframes())
    with wave.open(str(path), "wb") as out:
        out.setparams(params)
        for _ in range(repeats):
            out.writeframes(frames)
    return path


def test_job_longer_than_ack_wait_keeps_its_lease(chaos_stack: ChaosStack, tmp_path: Path) -> None:
    """ASR of 36 s of speech takes several ack waits: in-progress acks keep the lease, so the stage
    sees no redelivery, announces one attempt and completes once."""
    from datetime import datetime

    stage = "asr"
    redeliveries = f'rushes_consumer_redeliveries_total{{stage="{stage}"}}'
    ok = f'rushes_stage_processed_total{{result="ok",stage="{stage}"}}'
    redelivered_before, ok_before = chaos_stack.metric(stage, redeliveries), chaos_stack.metric(stage, ok)
    (asset_id,) = ingest(chaos_stack.state_dir, [_long_speech(tmp_path / "long_take.wav")])
    statuses = chaos_stack.wait_settled([asset_id], timeout_s=240)
    assert statuses[asset_id] == "complete", statuses
    run = json.loads(rushes(chaos_stack.state_dir, "show", asset_id, "--json").stdout)["stages"][stage]
    took = (
        datetime.fromisoformat(run["finished_at"]) - datetime.fromisoformat(run["started_at"])
    ).total_seconds()
    assert took > 2 * CHAOS_ACK_WAIT_S, f"the {stage} job ({took:.1f}s) did not outlive the ack wait"
    assert chaos_stack.metric(stage, redeliveries) == redelivered_before
    assert chaos_stack.metric(stage, ok) == ok_before + 1
    attempts = []
    for subject, _asset, data in chaos_stack.stream_events([asset_id]):
        if subject == "rushes.v1.asset.stage_started":
            started = events_pb2.StageStarted()
            started.ParseFromString(data)
            if started.stage == stage:
                attempts.append(started.attempt)
    assert attempts == [1], attempts
    assert chaos_stack.exactly_once([asset_id]).event_counts == []
    record_result("job longer than the ack wait", assets_in=1, assets_out=1, lost=0, duplicated=0,
                  recover_s=0.0, note=f"asr job {took:.1f}s, ack wait {CHAOS_ACK_WAIT_S}s")  # fmt: skip


def _comparable(record: dict) -> dict:  # type: ignore[type-arg]
    """The asset record without what a re-run may legitimately restamp (stage times)."""
    stable = {k: v for k, v in record.items() if k not in {"stages", "updated_at"}}
    stable["stages"] = {name: run["status"] for name, run in record["stages"].items()}
    stable["audit"] = sorted(
        entry["event_id"] for entry in record.get("audit", []) if "event_id" in entry
    ) or len(record.get("audit", []))
    return stable


def test_duplicate_publishes_and_replays_leave_one_delivery_state(
    chaos_stack: ChaosStack, reference_asset: str
) -> None:
    before = _comparable(json.loads(rushes(chaos_stack.state_dir, "show", reference_asset, "--json").stdout))
    keys_before = chaos_stack.object_keys(reference_asset)
    ingested = _stored_event(chaos_stack, reference_asset, COMPLETION_SUBJECTS["ingest"])
    processed = {
        stage: chaos_stack.metric(stage, f'rushes_stage_processed_total{{result="ok",stage="{stage}"}}')
        for stage in ("tagging", "asr")
    }

    # The same Nats-Msg-Id twice: the server stores it once.
    msg_id = f"chaos-dup-{time.time_ns()}"
    assert (
        asyncio.run(chaos_stack.publish_raw(COMPLETION_SUBJECTS["ingest"], ingested, msg_id=msg_id)) is False
    )
    assert (
        asyncio.run(chaos_stack.publish_raw(COMPLETION_SUBJECTS["ingest"], ingested, msg_id=msg_id)) is True
    )
    # That one stored copy is a replay of the asset's ingested event: the stages that consume it run again.
    _wait_for(
        lambda: all(chaos_stack.metric(stage, f'rushes_stage_processed_total{{result="ok",stage="{stage}"}}')
                    > processed[stage] for stage in processed),
        timeout_s=90, what="the replay to be processed by tagging and asr",
    )  # fmt: skip
    time.sleep(2 * CHAOS_ACK_WAIT_S)  # what they publish again reaches the library (deduplicated)
    after = _comparable(json.loads(rushes(chaos_stack.state_dir, "show", reference_asset, "--json").stdout))
    assert after == before
    assert chaos_stack.object_keys(reference_asset) == keys_before
    verdict = chaos_stack.exactly_once([reference_asset])
    # The replayed ingested event is one more copy in the stream, by design; nothing else is.
    assert verdict.event_counts == [f"{reference_asset} {COMPLETION_SUBJECTS['ingest']}: 2 in stream"], (
        verdict
    )
    assert not verdict.audit_counts, verdict
    record_result("duplicate publish + replayed ingested event", assets_in=1, assets_out=1, lost=0,
                  duplicated=len(verdict.audit_counts), recover_s=0.0)  # fmt: skip


def test_sigterm_drains_in_flight_work_and_exits_zero(
    chaos_stack: ChaosStack, reference_asset: str, clip_dir: Path
) -> None:
    """The stack's tagging is stopped and one started here as our child (so its exit status is
    ours to read); SIGTERM while it works: it stops fetching, finishes or returns what it holds and
    exits 0 within the grace period; the rest of the work completes after a restart."""
    service = "tagging"
    old = chaos_stack.kill(service, signal.SIGTERM)
    chaos_stack.wait_dead(old, timeout_s=30)
    state = load_state(chaos_stack.state_dir)
    assert state is not None
    env = {k: v for k, v in os.environ.items() if not k.startswith("RUSHES_")} | CHAOS_ENV
    env |= service_env(state, service)
    grace_s = float(env.get("RUSHES_GRPC__GRACE_S", "20"))
    log = (clip_dir.parent / "tagging_sigterm.log").open("wb")
    child = subprocess.Popen(
        [sys.executable, "-m", "rushes_tagging"], env=env, stdout=log, stderr=subprocess.STDOUT
    )
    try:
        _wait_for(lambda: grpc_serving(state.services[service].address), 60, "our tagging to serve")
        clips = make_clips(clip_dir, assets_in_flight(CI_ASSETS), seed=5000)
        ids = ingest(chaos_stack.state_dir, clips)
        _wait_stage_started(chaos_stack, ids, "tagging")
        t_fault = time.monotonic()
        child.send_signal(signal.SIGTERM)
        code = child.wait(timeout=grace_s + 10)
        took = time.monotonic() - t_fault
    finally:
        if child.poll() is None:
            child.kill()
            child.wait()
        log.close()
    assert code == 0, (clip_dir.parent / "tagging_sigterm.log").read_text()[-3000:]
    assert took <= grace_s + 5, took
    chaos_stack.repair()
    _verdict(chaos_stack, ids, reference_asset, "SIGTERM tagging mid-work", t_fault)


def test_triton_outage_shows_in_stage_health(chaos_stack: ChaosStack) -> None:
    watchers = ["tagging", "asr"]
    before = chaos_stack.kill("triton")
    chaos_stack.wait_dead(before)
    try:
        while_down = _wait_health(chaos_stack, watchers, serving=False, timeout_s=10)
    finally:
        chaos_stack.repair()
    assert not any(while_down.values()), f"still SERVING while triton was down: {while_down}"
