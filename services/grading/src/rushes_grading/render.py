"""Pictures out: a grade applied through its LUT by ffmpeg's lut3d, compositions and JPEGs.

Previews apply the grade exactly as an editor's tool would apply the exported `.cube`: the
33-point LUT through libavfilter's `lut3d` (tetrahedral), in-process via PyAV. That is what the
colorist will get, and it is fast (C, sliced over threads) at any frame size.
"""

from __future__ import annotations

import tempfile
from fractions import Fraction
from pathlib import Path
from typing import Final

import cv2
import numpy as np
from av.filter import Graph
from av.video.format import VideoFormat
from av.video.frame import VideoFrame

JPEG_QUALITY: Final = 90
PANEL_GAP: Final = 4
MAX_ZOOM: Final = 16.0


def apply_cube(rgb: np.ndarray, cube: bytes) -> np.ndarray:
    """uint8 RGB through the .cube with ffmpeg's lut3d filter (planar RGB, threaded)."""
    height, width = rgb.shape[:2]
    with tempfile.TemporaryDirectory(prefix="rushes-preview-") as tmp:
        path = Path(tmp) / "grade.cube"
        path.write_bytes(cube)
        graph = Graph()
        graph.threads = 0  # one per core: lut3d slices the frame
        source = graph.add_buffer(
            width=width, height=height, format=VideoFormat("gbrp"), time_base=Fraction(1, 25)
        )
        lut = graph.add("lut3d", f"file={path}:interp=tetrahedral")
        sink = graph.add("buffersink")
        graph.link_nodes(source, lut, sink).configure()
        frame = VideoFrame.from_ndarray(np.ascontiguousarray(rgb), format="rgb24").reformat(format="gbrp")
        frame.pts = 0
        graph.vpush(frame)
        out = graph.vpull()
        return np.asarray(out.reformat(format="rgb24").to_ndarray())


def zoom_crop(rgb: np.ndarray, zoom: float, center_x: float = 0.5, center_y: float = 0.5) -> np.ndarray:
    """The part of the frame a `zoom`x magnification centred on (center_x, center_y) shows."""
    if zoom <= 1.0:
        return rgb
    height, width = rgb.shape[:2]
    crop_w, crop_h = max(2, round(width / zoom)), max(2, round(height / zoom))
    left = int(np.clip(round(center_x * width - crop_w / 2), 0, width - crop_w))
    top = int(np.clip(round(center_y * height - crop_h / 2), 0, height - crop_h))
    return rgb[top : top + crop_h, left : left + crop_w]


def resize_to(rgb: np.ndarray, width: int, height: int) -> np.ndarray:
    if rgb.shape[1] == width and rgb.shape[0] == height:
        return rgb
    shrinking = width < rgb.shape[1]
    return np.asarray(
        cv2.resize(rgb, (width, height), interpolation=cv2.INTER_AREA if shrinking else cv2.INTER_CUBIC)
    )


def side_by_side(panels: list[tuple[str, np.ndarray]]) -> np.ndarray:
    """Panels left to right at the height of the first, each labelled in its corner."""
    height = panels[0][1].shape[0]
    placed = []
    for label, image in panels:
        width = max(2, round(image.shape[1] * height / image.shape[0]))
        panel = resize_to(image, width, height).copy()
        scale = max(0.4, height / 720)
        cv2.putText(
            panel,
            label,
            (8, int(24 * scale) + 4),
            cv2.FONT_HERSHEY_SIMPLEX,
            0.7 * scale,
            (0, 0, 0),
            3,
            cv2.LINE_AA,
        )
        cv2.putText(
            panel,
            label,
            (8, int(24 * scale) + 4),
            cv2.FONT_HERSHEY_SIMPLEX,
            0.7 * scale,
            (255, 255, 255),
            1,
            cv2.LINE_AA,
        )
        placed.append(panel)
    gap = np.zeros((height, PANEL_GAP, 3), dtype=np.uint8)
    row: list[np.ndarray] = []
    for panel in placed:
        row += [panel, gap]
    return np.concatenate(row[:-1], axis=1)


def encode_jpeg(rgb: np.ndarray, quality: int = JPEG_QUALITY) -> bytes:
    ok, data = cv2.imencode(".jpg", cv2.cvtColor(rgb, cv2.COLOR_RGB2BGR), [cv2.IMWRITE_JPEG_QUALITY, quality])
    if not ok:
        raise ValueError("JPEG encoding failed")
    return bytes(data)


def decode_jpeg(data: bytes) -> np.ndarray | None:
    """Our own stored JPEGs (reference thumbnails) back to RGB."""
    decoded = cv2.imdecode(np.frombuffer(data, dtype=np.uint8), cv2.IMREAD_COLOR)
    return None if decoded is None else np.asarray(cv2.cvtColor(decoded, cv2.COLOR_BGR2RGB))
