"""Typed settings for every Rushes process (pydantic-settings, env prefix RUSHES_).

Nested groups use a double underscore: RUSHES_NATS__URL, RUSHES_S3__ENDPOINT, RUSHES_LIMITS__MAX_WIDTH.
`load_settings()` validates everything at start and fails fast with one readable message.
"""

from rushes_config.presets import PresetBook, PresetError, load_preset_book
from rushes_config.settings import (
    ConfigError,
    GrpcSettings,
    MediaLimits,
    NatsSettings,
    PostgresSettings,
    RushesSettings,
    S3Settings,
    TritonSettings,
    load_settings,
)

__all__ = [
    "ConfigError",
    "GrpcSettings",
    "MediaLimits",
    "NatsSettings",
    "PostgresSettings",
    "PresetBook",
    "PresetError",
    "RushesSettings",
    "S3Settings",
    "TritonSettings",
    "load_preset_book",
    "load_settings",
]
