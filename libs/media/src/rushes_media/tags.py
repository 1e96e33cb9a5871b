"""Camera, timecode and creation-time facts from container and stream tags (pure functions).

Tags come from the file and are untrusted text: values are length-bounded, stripped of control
characters, and only recognised keys are read. "encoder" names the muxing software, never the
camera, and is ignored on purpose.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from datetime import UTC, datetime
from typing import Final

MAX_TAG_CHARS: Final = 256
MAX_XMP_CHARS: Final = 256 * 1024

# Key spellings seen in the wild, by priority. QuickTime "mdta" keys (Apple, many cameras), Android
# MediaRecorder keys, QuickTime user data (©mak/©mod -> make/model), and Matroska/AVI tag names.
CAMERA_KEYS: Final[dict[str, tuple[str, ...]]] = {
    "make": ("com.apple.quicktime.make", "com.android.manufacturer", "make", "manufacturer"),
    "model": ("com.apple.quicktime.model", "com.android.model", "model", "camera_model"),
    "lens": (
        "com.apple.quicktime.camera.lens_model",
        "com.apple.quicktime.lens_model",
        "lens_model",
        "lens",
    ),
    "iso": ("com.apple.quicktime.camera.iso", "iso", "iso_speed"),
    "shutter": ("com.apple.quicktime.camera.shutter_speed", "shutter_speed", "exposure_time", "shutter"),
    "serial": ("com.apple.quicktime.camera.serial_number", "serial_number", "camera_serial_number"),
    "location": ("com.apple.quicktime.location.iso6709", "location", "com.android.capture.location"),
}
# The same facts in XMP (exported by the QuickTime demuxer as the "xmp" tag).
XMP_PROPERTIES: Final[dict[str, tuple[str, ...]]] = {
    "make": ("tiff:Make",),
    "model": ("tiff:Model",),
    "lens": ("exifEX:LensModel", "aux:Lens"),
    "iso": ("exifEX:PhotographicSensitivity", "exif:ISOSpeedRatings"),
    "shutter": ("exif:ExposureTime",),
    "serial": ("exifEX:BodySerialNumber", "aux:SerialNumber"),
}
CREATION_KEYS: Final = ("com.apple.quicktime.creationdate", "creation_time", "date")
_TIMECODE: Final = re.compile(r"^(\d{2}):(\d{2}):(\d{2})([:;.,])(\d{2,3})$")
_CONTROL: Final = re.compile(r"[\x00-\x1f\x7f-\x9f]")


def clean_tag(value: str) -> str:
    """Bound and de-fang one tag value for the catalog and logs."""
    return _CONTROL.sub(" ", value[:MAX_TAG_CHARS]).strip()


def lower_keys(*mappings: Mapping[str, str]) -> dict[str, str]:
    """Merge tag dictionaries (earlier wins) with lower-cased keys; tag keys are case-insensitive."""
    merged: dict[str, str] = {}
    for mapping in mappings:
        for key, value in mapping.items():
            merged.setdefault(key.lower(), value)
    return merged


def _xmp_value(xmp: str, prop: str) -> str:
    # Attribute form: tiff:Make="Sony"; element form: <tiff:Make>Sony</tiff:Make>; rdf:Seq/li lists
    # keep their first item. Regexes on a bounded string: never an XML parser on untrusted input.
    escaped = re.escape(prop)
    match = re.search(rf'{escaped}\s*=\s*"([^"<>]{{0,{MAX_TAG_CHARS}}})"', xmp) or re.search(
        rf"<{escaped}>\s*(?:<rdf:\w+>\s*<rdf:li>)?([^<>]{{0,{MAX_TAG_CHARS}}})<", xmp
    )
    return clean_tag(match.group(1)) if match else ""


def camera_from_tags(tags: Mapping[str, str]) -> dict[str, str]:
    """{make, model, lens, iso, shutter, serial, location} found in lower-cased `tags` (missing: "")."""
    xmp = tags.get("xmp", "")[:MAX_XMP_CHARS]
    camera: dict[str, str] = {}
    for field, keys in CAMERA_KEYS.items():
        value = next((clean_tag(tags[k]) for k in keys if tags.get(k, "").strip()), "")
        if not value and xmp:
            value = next((v for p in XMP_PROPERTIES.get(field, ()) if (v := _xmp_value(xmp, p))), "")
        camera[field] = value
    return camera


def normalise_timecode(value: str) -> str:
    """Return "HH:MM:SS:FF" (";" before frames when drop-frame), or "" when not a SMPTE timecode."""
    match = _TIMECODE.match(value.strip())
    if match is None:
        return ""
    hours, minutes, seconds, separator, frames = match.groups()
    if int(minutes) >= 60 or int(seconds) >= 60:
        return ""
    return f"{hours}:{minutes}:{seconds}{';' if separator in ';,' else ':'}{frames}"


def first_timecode(tag_sets: Iterable[Mapping[str, str]]) -> str:
    """The first valid "timecode" tag among `tag_sets` (video stream, tmcd track, container...)."""
    for tags in tag_sets:
        for key, value in tags.items():
            if key.lower() == "timecode" and (timecode := normalise_timecode(value)):
                return timecode
    return ""


def parse_creation_time(tags: Mapping[str, str]) -> float:
    """Unix seconds of the first parseable creation date in lower-cased `tags`, 0.0 when none."""
    for key in CREATION_KEYS:
        raw = tags.get(key, "").strip()[:64]
        if not raw:
            continue
        try:
            parsed = datetime.fromisoformat(raw.replace(" ", "T", 1))
        except ValueError:
            continue
        if parsed.tzinfo is None:
            parsed = parsed.replace(tzinfo=UTC)  # QuickTime/Matroska dates are UTC unless they say otherwise
        if parsed.year < 1970:
            continue  # QuickTime's zero date (1904) and other placeholders mean "unknown"
        return parsed.timestamp()
    return 0.0
