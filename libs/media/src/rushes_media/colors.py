"""Names of FFmpeg's colour enums, as ffprobe prints them (av_color_*_name).

PyAV exposes these as integers and its enums cover only a subset, so the names are tabulated here.
The integer values are FFmpeg ABI (they mirror ITU-T H.273) and do not change between releases.
"Unspecified"/"reserved" map to "", which the asset record reads as "not declared by the file".
"""

from __future__ import annotations

from typing import Final

import av

COLOR_SPACES: Final[dict[int, str]] = {
    0: "gbr",
    1: "bt709",
    4: "fcc",
    5: "bt470bg",
    6: "smpte170m",
    7: "smpte240m",
    8: "ycgco",
    9: "bt2020nc",
    10: "bt2020c",
    11: "smpte2085",
    12: "chroma-derived-nc",
    13: "chroma-derived-c",
    14: "ictcp",
    15: "ipt-c2",
    16: "ycgco-re",
    17: "ycgco-ro",
}
COLOR_PRIMARIES: Final[dict[int, str]] = {
    1: "bt709",
    4: "bt470m",
    5: "bt470bg",
    6: "smpte170m",
    7: "smpte240m",
    8: "film",
    9: "bt2020",
    10: "smpte428",
    11: "smpte431",
    12: "smpte432",
    22: "ebu3213",
}
COLOR_TRANSFERS: Final[dict[int, str]] = {
    1: "bt709",
    4: "bt470m",
    5: "bt470bg",
    6: "smpte170m",
    7: "smpte240m",
    8: "linear",
    9: "log100",
    10: "log316",
    11: "iec61966-2-4",
    12: "bt1361e",
    13: "iec61966-2-1",
    14: "bt2020-10",
    15: "bt2020-12",
    16: "smpte2084",
    17: "smpte428",
    18: "arib-std-b67",
}
COLOR_RANGES: Final[dict[int, str]] = {1: "tv", 2: "pc"}


def color_name(table: dict[int, str], value: int | None) -> str:
    return table.get(int(value), "") if value is not None else ""


def bit_depth(pix_fmt: str | None) -> int:
    """Bits per sample of the first (luma or red) component: 8 for yuv420p, 10 for yuv422p10le."""
    if not pix_fmt:
        return 0
    try:
        components = av.VideoFormat(pix_fmt).components
    except (ValueError, av.error.FFmpegError):
        return 0
    return max((c.bits for c in components if not c.is_alpha), default=0)
