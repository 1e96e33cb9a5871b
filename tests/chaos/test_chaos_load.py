"""Load correctness (issue 10): a batch of clips through the whole pipeline at once, all complete,
none lost, none duplicated. No timing assertions: figures live in bench/soak.py."""

from __future__ import annotations

import time
from pathlib import Path

import pytest
from chaos_harness import ChaosStack, assets_in_flight, ingest, make_clips
from chaos_report import record_result

pytestmark = [pytest.mark.integration, pytest.mark.slow]

CI_CLIPS = 30


def test_a_batch_of_clips_all_complete_exactly_once(
    chaos_stack: ChaosStack, reference_asset: str, clip_dir: Path
) -> None:
    count = max(CI_CLIPS, assets_in_flight(CI_CLIPS))
    clips = make_clips(clip_dir, count, seed=7000)
    started = time.monotonic()
    ids = ingest(chaos_stack.state_dir, clips)
    assert len(set(ids)) == count
    statuses = chaos_stack.wait_settled(ids, timeout_s=600)
    verdict = chaos_stack.exactly_once(ids, reference_asset)
    lost = sum(1 for s in statuses.values() if s != "complete")
    record_result(f"load: {count} clips at once", assets_in=count, assets_out=count - lost, lost=lost,
                  duplicated=len(verdict.event_counts) + len(verdict.audit_counts),
                  recover_s=0.0, note=f"{time.monotonic() - started:.0f}s to settle")  # fmt: skip
    assert verdict.ok, verdict
    assert chaos_stack.catalog_rows("assets", ids) == count
