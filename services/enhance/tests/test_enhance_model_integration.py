"""The upscaler served by a real tritonserver: the learned path end to end, and the announced
classical fallback when the model is not ready."""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator
from pathlib import Path

import pytest
from enhance_media import textured_scene, write_bgr_clip
from rushes_config import MediaLimits, TritonSettings
from rushes_enhance.job import EnhanceJob
from rushes_enhance.model_client import TritonUpscaler
from rushes_enhance.settings import EnhanceSettings
from rushes_events import EventBus
from rushes_inference import TritonClient
from rushes_storage import ObjectStore, asset_key

pytestmark = [pytest.mark.integration, pytest.mark.slow]


@pytest.fixture
async def triton(triton_server) -> AsyncIterator[TritonClient]:
    async with TritonClient(TritonSettings(url=triton_server.grpc_url, timeout_s=120)) as client:
        yield client


async def test_learned_rendition_through_triton(
    triton: TritonClient, nats_server, s3_server, tmp_path: Path
) -> None:
    store = ObjectStore(s3_server.settings(bucket="enhance-model-tests"))
    store.ensure_bucket()
    bus = await EventBus.connect(nats_server.settings(), name="enhance-model-test")
    await bus.ensure_stream()
    try:
        settings = EnhanceSettings()
        job = EnhanceJob(store, bus, settings, MediaLimits(), upscaler=TritonUpscaler(triton, settings),
                         work_dir=tmp_path)  # fmt: skip
        clip = write_bgr_clip(
            tmp_path / "p.mp4", (textured_scene(64, 48, seed=i) for i in range(3)), width=64, height=48
        )
        asset_id = uuid.uuid4().hex
        store.put_file(asset_key(asset_id, "proxy.mp4"), clip)
        event = await job.on_request(asset_id, ["upscale"], [])
        rendition = event.renditions[0]
        assert rendition.model_name == "upscaler" and rendition.reasons == ["learned_super_resolution"]
        assert rendition.model_version.startswith("realesr-animevideov3-x2@sha256:")
        assert rendition.measurements["output_width"] == 128 and rendition.scale == 2.0
        assert store.stat(rendition.object_key) is not None
    finally:
        await bus.close()


async def test_model_not_ready_falls_back_and_says_why(triton: TritonClient) -> None:
    settings = EnhanceSettings(upscale_model="no_such_upscaler", model_ready_timeout_s=0.5)
    learned, why = await TritonUpscaler(triton, settings).prepare()
    assert learned is None
    assert "learned model unavailable" in why and "no_such_upscaler" in why
