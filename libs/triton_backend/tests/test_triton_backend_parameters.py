"""The pure part of the Triton glue: config.pbtxt parameters as plain strings. The batch loop
(respond_each) runs inside a real tritonserver in libs/inference/tests/test_triton_models_integration.py,
whose invalid-request cases check that one bad request gets INVALID_ARG and the others still run."""

from __future__ import annotations

import json

import pytest
from rushes_triton_backend import flatten_parameters, model_parameters, version_tensor


def test_parameters_are_flattened_to_strings() -> None:
    raw = {"model_path": {"string_value": "/models/x"}, "threads": {"string_value": "4"}, "bare": 7}
    assert flatten_parameters(raw) == {"model_path": "/models/x", "threads": "4", "bare": "7"}
    assert flatten_parameters({"empty": {}}) == {"empty": ""}


def test_model_parameters_read_the_config_triton_passes() -> None:
    config = {"name": "upscaler", "parameters": {"tile": {"string_value": "64"}}}
    assert model_parameters({"model_config": json.dumps(config)}) == {"tile": "64"}
    assert model_parameters({"model_config": json.dumps({"name": "bare"})}) == {}
    with pytest.raises(KeyError):
        model_parameters({})


def test_version_tensor_is_one_utf8_bytes_element() -> None:
    tensor = version_tensor("realesr-x4v3@sha256:ab")
    assert tensor.shape == (1,) and tensor.dtype == object and tensor[0] == b"realesr-x4v3@sha256:ab"
