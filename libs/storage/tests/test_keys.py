"""Object key construction and validation (pure logic, no server)."""

from __future__ import annotations

import pytest
from rushes_storage import asset_key, check_key, check_prefix

ASSET = "0123456789abcdef0123456789abcdef"


def test_asset_key_layout() -> None:
    assert asset_key(ASSET, "proxy.mp4") == f"assets/{ASSET}/proxy.mp4"
    assert asset_key(ASSET, "keyframes", "0001.jpg") == f"assets/{ASSET}/keyframes/0001.jpg"
    assert asset_key(ASSET, "keyframes/0001.jpg") == f"assets/{ASSET}/keyframes/0001.jpg"
    assert asset_key(ASSET) == f"assets/{ASSET}/"  # the prefix form, for listing and deleting


@pytest.mark.parametrize(
    "part",
    [
        "../escape",
        "/abs",
        "a/../../b",
        "a/./b",
        "a//b",
        "trailing/",
        "ctl\x01",
        "nul\x00",
        "back\\slash",
        "",
        "x" * 300,
    ],
)
def test_parts_cannot_escape_or_smuggle(part: str) -> None:
    with pytest.raises(ValueError):
        asset_key(ASSET, part)


@pytest.mark.parametrize("asset_id", ["../../etc", "", "ABCDEF0123", "abc", "g" * 32, "0" * 65, f"{ASSET}/x"])
def test_asset_ids_are_validated(asset_id: str) -> None:
    with pytest.raises(ValueError, match="asset id"):
        asset_key(asset_id, "x")


def test_check_key_limits_length_and_shape() -> None:
    assert check_key("incoming/clip.mp4") == "incoming/clip.mp4"
    for bad in ["", "/abs", "a//b", "a/../b", "a\nb", "é" * 513]:
        with pytest.raises(ValueError):
            check_key(bad)


def test_prefix_must_be_folder_like() -> None:
    assert check_prefix(f"assets/{ASSET}/") == f"assets/{ASSET}/"
    for bad in ["assets", f"assets/{ASSET}", "/", "assets//", "../"]:
        with pytest.raises(ValueError):
            check_prefix(bad)


def test_project_keys_are_safe_and_distinct_for_any_name() -> None:
    from rushes_storage import project_key

    a, b = project_key("Film: One", "asr", "settings.json"), project_key("Film/One", "asr", "settings.json")
    assert a != b
    assert a.startswith("projects/Film-One-") and a.endswith("/asr/settings.json")
    assert project_key("../../etc").startswith("projects/etc-")
    assert project_key("x").endswith("/")
    for bad in ("", "   ", "a\x00b", "x" * 201):
        with pytest.raises(ValueError):
            project_key(bad)
    with pytest.raises(ValueError):
        project_key("film", "../other")
