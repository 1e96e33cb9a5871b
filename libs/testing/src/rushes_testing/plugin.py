"""pytest plugin (loaded from pyproject's addopts): session fixtures that start real servers.

Implemented in rushes_testing.servers; see that module for the fixture contract.
"""

from __future__ import annotations
