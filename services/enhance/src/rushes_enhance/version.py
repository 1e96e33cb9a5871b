"""Name and version this service stamps on its events."""

from rushes_config.version import package_version

PRODUCER = "enhance"
VERSION = package_version("rushes-enhance")
