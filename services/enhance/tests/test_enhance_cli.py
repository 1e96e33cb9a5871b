"""`rushes enhance`: argument checks before any call, and the human-readable listing."""

from __future__ import annotations

import pytest
from rushes_cli.enhance_cmd import check_arguments, render_renditions
from rushes_cli.errors import EXIT_USAGE, CliError


@pytest.mark.parametrize(
    ("fixes", "shots", "message"),
    [(["sharpen"], [], "unknown fix 'sharpen'"), (["denoise"], [2, -1], "got -1")],
)
def test_bad_arguments_are_usage_errors(fixes: list[str], shots: list[int], message: str) -> None:
    with pytest.raises(CliError, match=message) as caught:
        check_arguments(fixes, shots)
    assert caught.value.exit_code == EXIT_USAGE


def test_listing_names_version_model_reasons_and_measurements() -> None:
    text = render_renditions(
        "ab" * 16,
        [{"fix": "upscale", "version": 2, "object_key": "assets/x/renditions/upscale/v2.mp4", "shot_indices": [1],
          "model_name": "lanczos4+unsharp", "model_version": "opencv-4.11.0", "reasons": ["classical_fallback: down"],
          "measurements": {"output_width": 256.0}}],
    )  # fmt: skip
    assert "upscale v2 -> assets/x/renditions/upscale/v2.mp4 (shots 1; lanczos4+unsharp" in text
    assert "reason: classical_fallback: down" in text and "output_width=256" in text
