"""One module per kind of process the local stack runs; each is a `Component`."""

from rushes_stack.components.base import Component, ComponentFailed

__all__ = ["Component", "ComponentFailed"]
