"""Name and version this service stamps on its events."""

from rushes_config.version import package_version

PRODUCER = "qc"
VERSION = package_version("rushes-qc")
