"""The learned upscaler on Triton, seen from the render thread as a plain frame call.

Rendering runs in a worker thread (it is CPU-bound numpy/OpenCV); Triton's client is asyncio. Each
frame call schedules `TritonClient.infer` on the service's event loop and waits for it, so one
channel serves every job and the loop stays responsive (heartbeats, gRPC) meanwhile.

Readiness is awaited with backoff (TritonClient.wait_model_ready) for model_ready_timeout_s; after
that the rendition is made by the classical path and its reasons say why: never a silent swap.
"""

from __future__ import annotations

import asyncio
import logging

import numpy as np
from rushes_inference import InferenceError, ModelUnavailable, TritonClient, upscale_image

from rushes_enhance.renderer import LearnedUpscaler
from rushes_enhance.settings import EnhanceSettings

log = logging.getLogger(__name__)
PROBE_FRAME = np.zeros((8, 8, 3), np.uint8)


class TritonUpscaler:
    def __init__(self, triton: TritonClient, settings: EnhanceSettings) -> None:
        self.triton = triton
        self.settings = settings

    async def prepare(self) -> tuple[LearnedUpscaler | None, str]:
        """(the frame call, "") when the model answers; (None, why not) otherwise."""
        model = self.settings.upscale_model
        try:
            await self.triton.wait_model_ready(model, timeout_s=self.settings.model_ready_timeout_s)
            probe = await upscale_image(self.triton, PROBE_FRAME, model=model)
        except (ModelUnavailable, InferenceError) as exc:
            log.warning("upscaler unavailable, the classical path will be used and announced: %s", exc)
            return None, f"learned model unavailable: {exc}"
        loop = asyncio.get_running_loop()

        def upscale(bgr: np.ndarray) -> np.ndarray:
            rgb = np.ascontiguousarray(bgr[..., ::-1])
            future = asyncio.run_coroutine_threadsafe(upscale_image(self.triton, rgb, model=model), loop)
            return np.ascontiguousarray(future.result().image_rgb[..., ::-1])

        return LearnedUpscaler(
            upscale, model, probe.model_version, max_pixels=self.settings.upscale_model_max_pixels
        ), ""
