"""The version a service stamps on what it publishes: its installed distribution's version."""

from importlib.metadata import PackageNotFoundError, version


def package_version(distribution: str, default: str = "0.0.0") -> str:
    try:
        return version(distribution)
    except PackageNotFoundError:  # running from a source tree without install
        return default
