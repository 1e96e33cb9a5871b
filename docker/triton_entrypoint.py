"""Container entrypoint: exec tritonserver on the image's model repository, on all interfaces.

The same argv and environment `rushes up` and the tests use (rushes_stack.triton), so the image
runs exactly what CI ran.
"""

import os
from pathlib import Path

from rushes_stack.triton import prepare_backend_dir, triton_command

argv, env = triton_command(
    Path(os.environ.get("RUSHES_MODEL_REPOSITORY", "/models")),
    prepare_backend_dir(Path(os.environ.get("RUSHES_STATE_DIR", "/var/lib/triton"))),
    int(os.environ.get("TRITON_HTTP_PORT", "8000")),
    int(os.environ.get("TRITON_GRPC_PORT", "8001")),
    int(os.environ.get("TRITON_METRICS_PORT", "8002")),
    bind_address="0.0.0.0",  # a container port is reached through its pod network
)
os.execve(argv[0], argv, env)  # noqa: S606 - the server replaces this process (PID 1 gets signals)
