"""The triton_server fixture: tritonserver with the repository's models, all ready."""

from __future__ import annotations

import pytest
import tritonclient.grpc as grpcclient
from rushes_stack.components.tritonserver import MODEL_READY, TritonServer
from rushes_stack.http_probe import http_status
from rushes_stack.triton import repository_models

pytestmark = [pytest.mark.integration, pytest.mark.slow]


def test_every_repository_model_is_ready(triton_server: TritonServer) -> None:
    expected = repository_models(triton_server.model_repo)
    assert expected, "the repository's models/ folder holds no model with a config.pbtxt"
    assert triton_server.model_status() == dict.fromkeys(expected, MODEL_READY)


def test_grpc_endpoint_answers(triton_server: TritonServer) -> None:
    client = grpcclient.InferenceServerClient(url=triton_server.grpc_url)
    try:
        assert client.is_server_live()
        assert client.is_server_ready()
        for name in repository_models(triton_server.model_repo):
            assert client.is_model_ready(name)
        assert not client.is_model_ready("no_such_model")
    finally:
        client.close()


def test_metrics_endpoint_serves_prometheus_text(triton_server: TritonServer) -> None:
    assert triton_server.metrics_url is not None
    assert http_status(triton_server.metrics_url) == 200


def test_stack_env_includes_triton_when_requested(
    triton_server: TritonServer, stack_env: dict[str, str]
) -> None:
    assert stack_env["RUSHES_TRITON__URL"] == triton_server.grpc_url
