"""Name and version this service stamps on its events."""

from importlib.metadata import PackageNotFoundError, version

PRODUCER = "asr"
try:
    VERSION = version("rushes-asr")
except PackageNotFoundError:  # running from a source tree without install
    VERSION = "0.0.0"
