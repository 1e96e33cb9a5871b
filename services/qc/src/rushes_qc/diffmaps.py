"""Difference maps (PNG) of flagged frames: source | rendition | heat map of their difference."""

from __future__ import annotations

import cv2
import numpy as np

from rushes_qc.analyzer import KeptFrame


def render(kept: KeptFrame) -> bytes:
    """One PNG: the aligned source and rendition side by side, then |difference| as a heat map
    (amplified 4x so that a few code values show), labelled with the metric and frame."""
    source, rendition = kept.source, kept.rendition
    height = min(source.shape[0], rendition.shape[0])
    width = min(source.shape[1], rendition.shape[1])
    source, rendition = source[:height, :width], rendition[:height, :width]
    difference = np.abs(source.astype(np.int16) - rendition.astype(np.int16)).max(axis=2)
    heat = cv2.applyColorMap(np.clip(difference * 4, 0, 255).astype(np.uint8), cv2.COLORMAP_INFERNO)
    strip = np.hstack([source, rendition, heat])
    label = f"frame {kept.frame}: {kept.metric}"
    cv2.putText(strip, label, (6, 16), cv2.FONT_HERSHEY_SIMPLEX, 0.45, (255, 255, 255), 1, cv2.LINE_AA)
    ok, encoded = cv2.imencode(".png", strip)
    if not ok:
        raise ValueError("PNG encoding of a difference map failed")
    return encoded.tobytes()
