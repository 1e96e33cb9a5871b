"""Name and version this service stamps on its events and on every pick it makes."""

from rushes_config.version import package_version

PRODUCER = "picks"
VERSION = package_version("rushes-picks")
# The scoring model: a change to how takes are scored bumps it (it is part of each pick's record).
MODEL = "rushes-picks-heuristic"
MODEL_VERSION = "1"
