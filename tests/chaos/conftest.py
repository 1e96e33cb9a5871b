"""One real local stack for the whole chaos suite (starting one costs ~10 s; each scenario leaves it
whole again, which is itself what the scenarios check), plus a reference asset processed without
faults whose object keys every faulted asset must match."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from chaos_harness import ChaosStack, ingest, make_clips, rushes


@pytest.fixture(scope="session")
def chaos_stack(tmp_path_factory: pytest.TempPathFactory) -> Iterator[ChaosStack]:
    state_dir = tmp_path_factory.mktemp("chaos") / ".rushes"
    try:
        rushes(state_dir, "up", timeout=240)
        yield ChaosStack(state_dir)
    finally:
        rushes(state_dir, "down", timeout=180, check=False)


@pytest.fixture(scope="session")
def reference_asset(chaos_stack: ChaosStack, tmp_path_factory: pytest.TempPathFactory) -> str:
    """An asset that went through every stage with no fault injected."""
    clip = make_clips(tmp_path_factory.mktemp("reference"), 1, seed=1)
    (asset_id,) = ingest(chaos_stack.state_dir, clip)
    statuses = chaos_stack.wait_settled([asset_id], timeout_s=120)
    assert statuses[asset_id] == "complete", statuses
    assert chaos_stack.exactly_once([asset_id]).ok
    return asset_id


@pytest.fixture
def clip_dir(tmp_path: Path) -> Path:
    return tmp_path / "clips"
