"""The exported .cube reproduces the service's own render through ffmpeg's lut3d filter, and the
CDL is offered only where it matches the grade."""

from __future__ import annotations

import subprocess
from pathlib import Path

import cv2
import imageio_ffmpeg
import numpy as np
import pytest
from rushes_grading import cdl, colour_math, lut, matcher, render, stats, synthetic, transform
from rushes_grading.presets import get_preset
from rushes_grading.transform import GradeParams

REFERENCE = synthetic.scene(640, 360, seed=3)
TARGET = synthetic.with_cast(REFERENCE, gains=(1.3, 1.0, 0.7), exposure_stops=-0.8)


def _grade() -> GradeParams:
    reference = stats.measure(stats.sample_pixels([REFERENCE]))
    return matcher.match(stats.sample_pixels([TARGET]), reference, get_preset(None)).params


def _ffmpeg_lut3d(image: np.ndarray, cube: bytes, tmp: Path) -> np.ndarray:
    (tmp / "grade.cube").write_bytes(cube)
    cv2.imwrite(str(tmp / "in.png"), cv2.cvtColor(image, cv2.COLOR_RGB2BGR))
    subprocess.run(
        [imageio_ffmpeg.get_ffmpeg_exe(), "-v", "error", "-y", "-i", str(tmp / "in.png"),
         "-vf", f"lut3d=file={tmp / 'grade.cube'}", "-pix_fmt", "rgb24", str(tmp / "out.png")],
        check=True, timeout=60,
    )  # fmt: skip
    return cv2.cvtColor(cv2.imread(str(tmp / "out.png")), cv2.COLOR_BGR2RGB)


@pytest.mark.parametrize(
    "params",
    [
        pytest.param(None, id="matched-grade"),
        pytest.param(
            GradeParams(exposure_stops=1.2, wb_gains=(1.1, 1.0, 0.8), saturation=1.4), id="strong-push"
        ),
        pytest.param(
            GradeParams(tone_in=(0.3, 0.5, 0.8), tone_out=(0.2, 0.5, 0.9), chroma_scale=0.5), id="contrast"
        ),
    ],
)
def test_cube_applied_by_ffmpeg_matches_the_service_render(
    params: GradeParams | None, tmp_path: Path
) -> None:
    params = params or _grade()
    table = lut.bake(params)
    assert table.shape == (33, 33, 33, 3)
    cube = lut.cube_bytes(table, "test")
    assert b"LUT_3D_SIZE 33" in cube
    by_ffmpeg = _ffmpeg_lut3d(TARGET, cube, tmp_path)
    ours = transform.render(TARGET, params)
    error = colour_math.delta_e_2000(
        colour_math.encoded_to_lab(by_ffmpeg / 255.0), colour_math.encoded_to_lab(ours / 255.0)
    )
    assert error.mean() <= 1.0, f"mean CIEDE2000 {error.mean():.3f}"
    assert np.percentile(error, 99) <= 2.5


def test_preview_path_is_the_same_lut_as_the_exported_file(tmp_path: Path) -> None:
    table = lut.bake(_grade())
    exported = lut.cube_bytes(table, "x")
    assert np.allclose(lut.read_cube(lut.cube_bytes_fast(table)), lut.read_cube(exported), atol=1e-6)
    in_process = render.apply_cube(TARGET, lut.cube_bytes_fast(table))
    assert np.abs(in_process.astype(int) - _ffmpeg_lut3d(TARGET, exported, tmp_path)).max() <= 1


def test_cdl_fits_an_exposure_and_white_balance_grade() -> None:
    # exposure and white balance are close to slope/power operations on code values
    fitted = cdl.fit(GradeParams(exposure_stops=0.3, wb_gains=(1.1, 1.0, 0.9)))
    assert fitted.fit_delta_e < 2.0
    assert fitted.slope[0] > fitted.slope[2]  # warmer: more red than blue
    ramp = np.linspace(0, 1, 11)[:, None].repeat(3, axis=1)
    assert np.all(np.diff(cdl.apply_cdl(ramp, fitted), axis=0) >= 0)
    xml = fitted.to_xml('shot "1"')
    assert "<Slope>" in xml and "&quot;" in xml


def test_a_non_cdl_grade_reports_its_fit_error() -> None:
    params = GradeParams(
        tone_in=(0.2, 0.5, 0.8), tone_out=(0.05, 0.5, 0.97), chroma_scale=0.2, skin_protect=1.0
    )
    assert cdl.fit(params).fit_delta_e > 1.0
