"""The version this service stamps on what it publishes and records."""

from importlib.metadata import PackageNotFoundError, version


def library_version() -> str:
    try:
        return version("rushes-library")
    except PackageNotFoundError:
        return "unknown"
