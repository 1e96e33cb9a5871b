"""Name and version this service stamps on its events, and the name of its matching model."""

from rushes_config.version import package_version

PRODUCER = "grading"
VERSION = package_version("rushes-grading")
# The matcher is classic colour science (robust statistics transfer), versioned apart from the
# package so a grade records which algorithm made it even when only the service code changed.
MODEL = "rushes.grading.stats_transfer"
MODEL_VERSION = "1.0.0"
