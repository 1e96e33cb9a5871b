"""GradeParams <-> its proto (rushes.events.v1.AssetGraded.GradeParams)."""

from __future__ import annotations

from rushes.events.v1 import events_pb2

from rushes_grading.errors import GradingRefused
from rushes_grading.transform import GradeParams, InvalidParams

ParamsProto = events_pb2.AssetGraded.GradeParams


def params_to_proto(params: GradeParams) -> ParamsProto:
    return ParamsProto(
        exposure_stops=params.exposure_stops,
        wb_gains=list(params.wb_gains),
        tone_in=list(params.tone_in),
        tone_out=list(params.tone_out),
        target_ab=list(params.target_ab),
        reference_ab=list(params.reference_ab),
        chroma_scale=params.chroma_scale,
        skin_protect=params.skin_protect,
        highlight_knee=params.highlight_knee,
        strength=params.strength,
        saturation=params.saturation,
    )


def _pair(values: list[float], name: str) -> tuple[float, float]:
    if not values:
        return 0.0, 0.0
    if len(values) != 2:
        raise GradingRefused("invalid_argument", f"grade parameter {name} needs 2 values, got {len(values)}")
    return values[0], values[1]


def params_from_proto(message: ParamsProto) -> GradeParams:
    """Validated GradeParams; GradingRefused(invalid_argument) naming the bad field."""
    gains = list(message.wb_gains) or [1.0, 1.0, 1.0]
    if len(gains) != 3:
        raise GradingRefused("invalid_argument", f"grade parameter wb_gains needs 3 values, got {len(gains)}")
    defaults = GradeParams()
    try:
        return GradeParams(
            exposure_stops=message.exposure_stops,
            wb_gains=(gains[0], gains[1], gains[2]),
            tone_in=tuple(message.tone_in),
            tone_out=tuple(message.tone_out),
            target_ab=_pair(list(message.target_ab), "target_ab"),
            reference_ab=_pair(list(message.reference_ab), "reference_ab"),
            chroma_scale=message.chroma_scale if message.HasField("chroma_scale") else defaults.chroma_scale,
            skin_protect=message.skin_protect if message.HasField("skin_protect") else defaults.skin_protect,
            highlight_knee=message.highlight_knee
            if message.HasField("highlight_knee")
            else defaults.highlight_knee,
            strength=message.strength if message.HasField("strength") else defaults.strength,
            saturation=message.saturation if message.HasField("saturation") else defaults.saturation,
        ).validated()
    except InvalidParams as exc:
        raise GradingRefused("invalid_argument", str(exc)) from None
