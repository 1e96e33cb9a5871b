"""The join and one picking job: inputs stored as they arrive; once all are in, score, store, announce.

Join correctness across replicas: every handler stores its input before it lists the inputs, so
of two replicas handling the last two inputs at once at least one sees both (S3 reads after
writes are consistent) and picks; when both do, they compute the same takes from the same inputs
and publish under the same Nats-Msg-Id (and envelope id), so the stream keeps one event.

Raises StorageUnavailable / EventBusUnavailable for our faults (retried by the consumer).
"""

from __future__ import annotations

import asyncio
import logging
import tempfile
import time
import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from google.protobuf.message import Message
from rushes.events.v1 import events_pb2
from rushes_events import EventBus, follow_up_envelope, message_id, stage_run
from rushes_media import WavError, read_pcm_wav
from rushes_storage import ObjectNotFound, ObjectStore

from rushes_picks import metrics
from rushes_picks.fingerprint import KeyframeUnreadable, difference_hash
from rushes_picks.presets import PresetBook, for_tagging_preset, load_presets
from rushes_picks.store import PicksStore
from rushes_picks.takes import Audio, PickInputs, pick_asset
from rushes_picks.version import PRODUCER, VERSION

log = logging.getLogger(__name__)
STAGE = "picks"
PICKED = "rushes.v1.asset.picked"
MAX_KEYFRAME_BYTES = 32 * 1024 * 1024
MAX_AUDIO_BYTES = 4 * 1024**3


@dataclass(frozen=True)
class Accepted:
    """What one input led to: still waiting for others, or the complete inputs to pick from."""

    waiting_for: tuple[str, ...] = ()
    inputs: PickInputs | None = None


class PicksJob:
    def __init__(
        self,
        store: ObjectStore,
        bus: EventBus,
        *,
        pipeline_stages: Sequence[str],
        presets: PresetBook | None = None,
        work_dir: Path | None = None,
    ) -> None:
        """`pipeline_stages`: the stages this stack runs; picks waits only for tagging and asr
        when they are among them (a stack without asr picks on the pictures alone)."""
        self.store = store
        self.picks = PicksStore(store)
        self.bus = bus
        self.expects_tagging = "tagging" in pipeline_stages
        self.expects_asr = "asr" in pipeline_stages
        self.presets = presets or load_presets()
        self.work_dir = work_dir

    async def accept(self, kind: str, event: Message) -> Accepted:
        """Store one input of the join; say whether the set is now complete."""
        asset_id = event.envelope.asset_id  # type: ignore[attr-defined]
        stored = await asyncio.to_thread(self.picks.load_inputs, asset_id)
        if not _supersedes(kind, event, stored.get(kind)):
            log.info("%s: older %s input ignored", asset_id, kind)
        else:
            await asyncio.to_thread(self.picks.save_input, asset_id, kind, event)
            stored = await asyncio.to_thread(self.picks.load_inputs, asset_id)
        inputs, missing = self.join(stored)
        return Accepted(waiting_for=missing, inputs=inputs)

    def join(self, stored: dict[str, Message]) -> tuple[PickInputs | None, tuple[str, ...]]:
        """The complete inputs, or None and what is still missing."""
        missing = []
        if "ingested" not in stored:
            missing.append("ingested")
        tagged_in = "tagged" in stored or "tagging-failed" in stored
        asr_in = "transcribed" in stored or "asr-failed" in stored
        if self.expects_tagging and not tagged_in:
            missing.append("tagged")
        if self.expects_asr and not asr_in:
            missing.append("transcribed")
        if missing:
            return None, tuple(missing)
        tagged = stored.get("tagged")
        transcribed = stored.get("transcribed")
        tagging_failed = stored.get("tagging-failed")
        asr_failed = stored.get("asr-failed")
        return (
            PickInputs(
                ingested=stored["ingested"],  # type: ignore[arg-type]
                tagged=tagged,  # type: ignore[arg-type]
                tagging_error=_error(tagging_failed) if tagged is None and tagging_failed else "",
                transcribed=transcribed,  # type: ignore[arg-type]
                asr_error=_error(asr_failed) if transcribed is None and asr_failed else "",
                tagging_expected=self.expects_tagging,
                asr_expected=self.expects_asr,
            ),
            (),
        )

    async def pick(self, inputs: PickInputs) -> tuple[events_pb2.AssetPicked, bool]:
        """Score the asset's takes, store and publish them; (picks, True) when a stored result was
        republished instead."""
        asset_id = inputs.ingested.envelope.asset_id
        msg_id = message_id(asset_id, STAGE, inputs.input_version)
        stored = await asyncio.to_thread(self.picks.load_result, asset_id)
        if stored is not None and stored.input_version == inputs.input_version:
            # A redelivery (or the other half of a race) after the work was stored: same event again.
            await self.bus.publish(stored, msg_id=msg_id)
            return stored, True
        started = time.time()
        preset = for_tagging_preset(self.presets, inputs.tagged.preset if inputs.tagged is not None else "")
        hashes = await self._keyframe_hashes(inputs)
        audio, audio_note = await self._audio(inputs)
        picked = await asyncio.to_thread(pick_asset, inputs, preset, keyframe_hashes=hashes, audio=audio)
        if audio_note:
            picked.notes.append(audio_note)
        envelope = follow_up_envelope(PICKED, inputs.ingested.envelope, PRODUCER, VERSION)
        # Replicas racing on the same inputs announce the same event: the same id, as well as msg id.
        envelope.id = str(uuid.uuid5(uuid.NAMESPACE_URL, f"rushes:{msg_id}"))
        picked.envelope.CopyFrom(envelope)
        picked.run.CopyFrom(stage_run(STAGE, started, time.time()))
        await asyncio.to_thread(self.picks.save_result, picked)
        await self.bus.publish(picked, msg_id=msg_id)
        metrics.record_picks(picked)
        return picked, False

    async def _keyframe_hashes(self, inputs: PickInputs) -> dict[int, str]:
        hashes: dict[int, str] = {}
        if inputs.tagged is None:
            return hashes
        for shot in inputs.tagged.shots:
            if not shot.keyframe:
                continue
            try:
                data = await asyncio.to_thread(
                    self.store.get_bytes, shot.keyframe, max_bytes=MAX_KEYFRAME_BYTES
                )
                hashes[shot.index] = difference_hash(data)
            except (ObjectNotFound, KeyframeUnreadable) as exc:
                # Duplicate detection falls back to the transcript for this shot.
                log.warning(
                    "%s shot %d: keyframe unusable: %s", inputs.ingested.envelope.asset_id, shot.index, exc
                )
        return hashes

    async def _audio(self, inputs: PickInputs) -> tuple[Audio | None, str]:
        key = inputs.ingested.objects.get("audio")
        if not key:
            return None, ""
        with tempfile.TemporaryDirectory(prefix="rushes-picks-", dir=self.work_dir) as tmp:
            path = Path(tmp) / "audio.wav"
            try:
                await asyncio.to_thread(self.store.get_file, key, path, max_bytes=MAX_AUDIO_BYTES)
                wav = await asyncio.to_thread(read_pcm_wav, path)
            except ObjectNotFound:
                return None, f"audio levels not measured: {key} is missing"
            except WavError as exc:
                return None, f"audio levels not measured: {exc}"
        return Audio(samples=wav.samples, sample_rate=wav.sample_rate), ""


def _supersedes(kind: str, new: Message, old: Message | None) -> bool:
    """A retag (higher tags_version) replaces the stored tags; an older redelivery does not."""
    if old is None or kind != "tagged":
        return True
    return new.tags_version >= old.tags_version  # type: ignore[attr-defined,no-any-return]


def _error(event: Message) -> str:
    if isinstance(event, events_pb2.StageFailed):
        return event.error or "failed (no error given)"
    return "failed"
