"""A synthetic face the Haar face detector finds, pasted into a plain scene (tagging, qc, inference tests)."""

from __future__ import annotations

import numpy as np


def shaded_face(size: int) -> np.ndarray:
    """A grey, shaded synthetic frontal face (size x size, uint8): dark eye sockets and brows,
    bright nose bridge, mouth and hair, the light/dark pattern a Haar face cascade keys on."""
    y, x = np.mgrid[0:size, 0:size].astype(np.float32) / size
    cx, cy = 0.5, 0.52
    radius2 = ((x - cx) / 0.3) ** 2 + ((y - cy) / 0.4) ** 2
    inside = radius2 < 1
    img = np.where(inside, 0.45 + 0.45 * np.clip(1 - 0.6 * radius2, 0, 1), 0.35)

    def blob(mx: float, my: float, sx: float, sy: float) -> np.ndarray:
        return np.exp(-(((x - mx) / sx) ** 2 + ((y - my) / sy) ** 2))

    for dx in (-0.12, 0.12):
        img -= 0.55 * blob(cx + dx, cy - 0.08, 0.07, 0.035)  # eye sockets
        img -= 0.35 * blob(cx + dx, cy - 0.15, 0.08, 0.02)  # brows
    img += 0.1 * blob(cx, cy - 0.02, 0.03, 0.12)  # nose bridge
    img -= 0.2 * blob(cx, cy + 0.10, 0.05, 0.02)  # nostrils
    img -= 0.45 * blob(cx, cy + 0.2, 0.1, 0.025)  # mouth
    img = np.where((y < cy - 0.25) & inside, 0.15, img)  # hair
    return (np.clip(img, 0, 1) * 255).astype(np.uint8)


def face_scene(
    face_size: int, canvas_size: int, top_left: tuple[int, int]
) -> tuple[np.ndarray, tuple[float, float]]:
    """A BGR canvas with one synthetic face pasted at `top_left` (x, y); returns it and the face centre."""
    canvas = np.full((canvas_size, canvas_size), 90, dtype=np.uint8)
    x0, y0 = top_left
    canvas[y0 : y0 + face_size, x0 : x0 + face_size] = shaded_face(face_size)
    centre = (x0 + 0.5 * face_size, y0 + 0.52 * face_size)
    return np.repeat(canvas[:, :, None], 3, axis=2), centre
