"""Name and version this service stamps on its events."""

from importlib.metadata import PackageNotFoundError, version

PRODUCER = "tagging"
try:
    VERSION = version("rushes-tagging")
except PackageNotFoundError:  # running from a source tree without install
    VERSION = "0.0.0"
