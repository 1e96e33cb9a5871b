"""VMAF through ffmpeg's libvmaf: where it applies, what it measures, and the notes when it does not."""

from __future__ import annotations

import uuid
from pathlib import Path

import pytest
from qc_test_builders import encode
from rushes.events.v1 import events_pb2
from rushes_config import MediaLimits
from rushes_events import EventBus
from rushes_qc import synthetic, vmaf
from rushes_qc.align import Geometry
from rushes_qc.compare import Comparison
from rushes_qc.job import QcJob
from rushes_qc.presets import Preset, get_preset
from rushes_storage import ObjectStore, asset_key


def _with_vmaf() -> Preset:
    studio = get_preset("studio")
    return studio.model_copy(update={"analysis": studio.analysis.model_copy(update={"vmaf": True})})


def _comparison(source: tuple[int, int], rendition: tuple[int, int], crop: tuple[int, int, int, int] | None = None,
                frames: tuple[int, int] = (40, 40)) -> Comparison:  # fmt: skip
    cx, cy, cw, ch = crop or (0, 0, *source)
    geometry = Geometry(*source, *rendition, cx, cy, cw, ch, 320, 180)
    return Comparison(geometry, frames[1], [], source_frames=frames[0], rendition_frames=frames[1])


def test_vmaf_applies_to_whole_pictures_on_the_same_frames_only() -> None:
    same = vmaf.plan_vmaf(_comparison((640, 360), (640, 360)), motion_compensate=False)
    assert same == vmaf.VmafPlan(640, 360, rescaled=False)
    upscale = vmaf.plan_vmaf(_comparison((640, 360), (1280, 720)), motion_compensate=False)
    assert upscale == vmaf.VmafPlan(640, 360, rescaled=True)
    cropped = vmaf.plan_vmaf(_comparison((640, 360), (640, 360), (32, 18, 576, 324)), motion_compensate=False)
    assert cropped == "vmaf: not applicable (the rendition shows a crop of the source)"
    moved = vmaf.plan_vmaf(_comparison((640, 360), (640, 360)), motion_compensate=True)
    assert isinstance(moved, str) and "stabilized" in moved
    partial = vmaf.plan_vmaf(_comparison((640, 360), (640, 360), frames=(40, 12)), motion_compensate=False)
    assert partial == (
        "vmaf: not applicable (the rendition has 12 frames, the source 40: frames are not paired one to one)"
    )


def test_the_filter_graph_scales_upscales_down_and_escapes_the_log_path() -> None:
    graph = vmaf.filter_graph(vmaf.VmafPlan(640, 360, rescaled=True), Path("/tmp/a:b/it's.json"), 2)
    assert graph.startswith("[0:v:0]scale=640:360:flags=bicubic,format=yuv420p")
    assert "log_path='/tmp/a\\:b/it\\'s.json'" in graph and "n_threads=2" in graph
    assert "scale=" not in vmaf.filter_graph(vmaf.VmafPlan(640, 360, rescaled=False), Path("/t/l.json"), 1)


def test_the_log_is_read_in_frame_order_and_a_bad_log_is_an_error() -> None:
    text = (
        '{"frames": [{"frameNum": 1, "metrics": {"vmaf": 80.5}}, {"frameNum": 0, "metrics": {"vmaf": 90}}]}'
    )
    assert vmaf.parse_log(text) == [90.0, 80.5]
    with pytest.raises(vmaf.VmafError, match="unreadable libvmaf log"):
        vmaf.parse_log('{"pooled_metrics": {}}')


@pytest.mark.integration
async def test_the_job_scores_vmaf_per_shot_and_judges_it(nats_server, s3_server, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    store = ObjectStore(s3_server.settings(bucket="qc-vmaf-tests"))
    store.ensure_bucket()
    bus = await EventBus.connect(nats_server.settings(), name="qc-vmaf-test")
    job = QcJob(store, bus, None, MediaLimits(), preset=_with_vmaf(), work_dir=tmp_path)
    try:
        source = synthetic.scene(synthetic.SceneSpec(seed=4))
        asset_id = uuid.uuid4().hex
        source_key = asset_key(asset_id, "proxy.mp4")
        store.put_file(source_key, encode(tmp_path / "s.mp4", source))
        results = {}
        for name, frames, fix, scale in (
            ("clean", source, "denoise", 1.0),
            ("smeared", synthetic.over_denoise(source, sigma=2.5), "denoise", 1.0),
            ("upscaled", synthetic.upscale(source), "upscale", 2.0),
        ):
            key = asset_key(asset_id, "renditions", fix, f"{name}.mp4")
            store.put_file(key, encode(tmp_path / f"{name}.mp4", frames))
            rendition = events_pb2.Rendition(
                fix=fix, object_key=key, source_key=source_key, version=1, scale=scale
            )
            results[name] = await job.check(asset_id, rendition, [])
    finally:
        await bus.close()
    clean, smeared, upscaled = (results[n] for n in ("clean", "smeared", "upscaled"))
    assert clean.shots[0].metrics["vmaf_mean"] > 90 and clean.shots[0].metrics["vmaf_min"] > 85
    assert clean.metrics["vmaf_mean"] == clean.shots[0].metrics["vmaf_mean"]
    assert "vmaf: vmaf_v0.6.1 on 40 frames" in clean.notes
    assert smeared.shots[0].metrics["vmaf_mean"] < 60
    assert "vmaf_mean" in {f.metric for f in smeared.shots[0].failures}
    assert upscaled.shots[0].metrics["vmaf_mean"] > 85
    assert "vmaf: vmaf_v0.6.1 on 40 frames (rendition scaled to the source size, bicubic)" in upscaled.notes
