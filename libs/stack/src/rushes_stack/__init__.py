"""The local stack: starts, supervises and stops nats-server, SeaweedFS, Triton, Postgres and the services.

Public API: `up`, `down`, `status`, `service_env`, `load_state` (see README.md). Components live in
rushes_stack.components and are shared with the pytest fixtures of rushes_testing.
"""

from rushes_stack.components.base import ComponentFailed
from rushes_stack.registry import SERVICES, ServiceSpec, UnknownService
from rushes_stack.stack import DEFAULT_STATE_DIR, StackError, down, service_env, status, up
from rushes_stack.state import StackState, StackStateError, load_state

__all__ = [
    "DEFAULT_STATE_DIR",
    "SERVICES",
    "ComponentFailed",
    "ServiceSpec",
    "StackError",
    "StackState",
    "StackStateError",
    "UnknownService",
    "down",
    "load_state",
    "service_env",
    "status",
    "up",
]
