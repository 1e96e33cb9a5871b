"""The version this service stamps on what it publishes and records."""

from rushes_config.version import package_version


def library_version() -> str:
    return package_version("rushes-library", default="unknown")
