"""Assembling, storing and announcing a project's cut (what the AssembleCut RPC runs)."""

from __future__ import annotations

import asyncio
import time
import uuid
from dataclasses import dataclass

from rushes.events.v1 import events_pb2
from rushes_events import EventBus, message_id, new_envelope, stage_run

from rushes_picks import metrics
from rushes_picks.cut import Cut, assemble_cut
from rushes_picks.export import cut_record, export_documents
from rushes_picks.presets import PresetBook, PresetError
from rushes_picks.script import Script, parse_script
from rushes_picks.store import PicksStore, check_project
from rushes_picks.version import PRODUCER, VERSION

CUT_ASSEMBLED = "rushes.v1.project.cut_assembled"
CONTENT_TYPES = {
    ".otio": "application/json",
    ".json": "application/json",
    ".edl": "text/plain; charset=utf-8",
    ".xml": "application/xml",
    ".fcpxml": "application/xml",
    ".csv": "text/csv; charset=utf-8",
}


class UnknownProject(LookupError):
    """No asset of the project has been picked (or the project does not exist)."""


@dataclass
class AssembledCut:
    cut: Cut
    record: dict
    documents: dict[str, str]
    exports: dict[str, str]


class CutAssembler:
    def __init__(self, picks: PicksStore, bus: EventBus, presets: PresetBook) -> None:
        self.picks = picks
        self.bus = bus
        self.presets = presets

    async def assemble(
        self,
        project: str,
        *,
        script_bytes: bytes = b"",
        script_name: str = "",
        preset_name: str = "",
        handle_s: float | None = None,
        media_root: str = "",
    ) -> AssembledCut:
        """Raises InvalidProject, ScriptError, PresetError (the caller's fault), UnknownProject."""
        check_project(project)
        script: Script | None = (
            parse_script(script_bytes, script_name or "script.txt") if script_bytes else None
        )
        assets = await asyncio.to_thread(self.picks.project_picks, project)
        if not assets:
            raise UnknownProject(
                f"project {project!r} has no picked assets (unknown project, or nothing ingested yet)"
            )
        preset = self._preset(preset_name, assets)
        started = time.time()
        cut = await asyncio.to_thread(
            assemble_cut, project, assets, preset, script=script, handle_s=handle_s, media_root=media_root
        )
        bucket = self.picks.store.bucket
        documents = await asyncio.to_thread(export_documents, cut, bucket=bucket, media_root=media_root)
        exports: dict[str, str] = {}
        for name, body in sorted(documents.items()):
            suffix = name[name.rfind(".") :]
            exports[name] = await asyncio.to_thread(
                self.picks.save_export,
                project,
                cut.cut_id,
                name,
                body,
                CONTENT_TYPES.get(suffix, "text/plain"),
            )
        await self._announce(cut, exports, started)
        metrics.CUTS_TOTAL.labels(status=cut.status).inc()
        return AssembledCut(cut=cut, record=cut_record(cut, bucket=bucket, media_root=media_root),
                            documents=documents, exports=exports)  # fmt: skip

    def _preset(self, name: str, assets: list[events_pb2.AssetPicked]):  # type: ignore[no-untyped-def]
        if name:
            return self.presets.get(name)
        used = sorted({a.preset for a in assets if a.preset})
        if len(used) == 1:
            try:
                return self.presets.get(used[0])
            except PresetError:
                pass
        return self.presets.get("")

    async def _announce(self, cut: Cut, exports: dict[str, str], started: float) -> None:
        msg_id = message_id(f"project-{cut.cut_id}", "cut", cut.cut_id)
        envelope = new_envelope(CUT_ASSEMBLED, asset_id="", producer=PRODUCER, producer_version=VERSION,
                                project=cut.project)  # fmt: skip
        envelope.id = str(uuid.uuid5(uuid.NAMESPACE_URL, f"rushes:{msg_id}"))
        event = events_pb2.CutAssembled(
            envelope=envelope,
            run=stage_run("picks", started, time.time()),
            cut_id=cut.cut_id,
            status=cut.status,
            policy_reasons=cut.policy_reasons,
            clip_count=len(cut.clips),
            duration_s=round(cut.duration_s, 4),
            order=cut.order,
            script_name=cut.script_name,
            exports=exports,
            notes=cut.notes,
            preset=cut.preset,
            asset_ids=cut.asset_ids,
        )
        await self.bus.publish(event, msg_id=msg_id)
