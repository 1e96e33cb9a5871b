"""`rushes qc ASSET [--log] [--json]`: the QC verdicts of an asset's renditions, per shot and fix, or
its QC log (one row per check).
`rushes qc compare SOURCE RENDITION [--fix TYPE] [--scale S] [--crop C] [--json]`: QC of any pair,
e.g. another tool's upscale, recorded against the source asset. SOURCE and RENDITION are each a local
file, an asset id or an object key; a local SOURCE must have been ingested (its asset id is its
content hash), a local RENDITION is uploaded next to the source first.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import re
from collections.abc import AsyncIterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import grpc
from google.protobuf import json_format
from rushes.library.v1 import library_service_pb2 as library_pb
from rushes.library.v1 import library_service_pb2_grpc as library_grpc
from rushes.qc.v1 import qc_service_pb2 as pb
from rushes.qc.v1 import qc_service_pb2_grpc as pb_grpc
from rushes_config import RushesSettings
from rushes_grpc import client_channel
from rushes_storage import sha256_file

from rushes_cli.errors import EXIT_FAILED, EXIT_OK, EXIT_USAGE, CliError, from_rpc_error
from rushes_cli.records import asset_record
from rushes_cli.show_cmd import fetch_record

FIXES = ("stabilize", "denoise", "upscale", "generic")
# Comparing decodes both files: allow long clips.
COMPARE_DEADLINE_S = 3600.0
UPLOAD_DEADLINE_S = 3600.0
CHUNK_BYTES = 1024 * 1024
ASSET_ID_HEX_CHARS = 32  # mirrors the ingest service: asset ids are the SHA-256's prefix
_ASSET_REF = re.compile(r"^[0-9a-f]{8,64}$")
_OBJECT_KEY = re.compile(r"^assets/([0-9a-f]{32})/[^/]")
COMPARE_USAGE = (
    "usage: rushes qc compare SOURCE RENDITION [--fix TYPE] [--json] (each a file, asset id or object key)"
)


def register(subparsers: Any) -> None:
    qc = subparsers.add_parser(
        "qc", help="QC verdicts of an asset's renditions, its QC log, or 'qc compare SOURCE RENDITION'"
    )
    qc.add_argument("target", nargs="+", metavar="ASSET | compare SOURCE RENDITION")
    qc.add_argument(
        "--fix", default="generic", help=f"with compare: acceptance criteria ({', '.join(FIXES)})"
    )
    qc.add_argument(
        "--scale", type=float, default=0.0, help="with compare: rendition/source scale (0: from sizes)"
    )
    qc.add_argument("--crop", type=float, default=0.0, help="with compare: crop fraction per side")
    qc.add_argument(
        "--log", action="store_true", help="the QC log: one row per check (time, shot, metric, ...)"
    )
    qc.add_argument("--json", action="store_true", help="print JSON")
    qc.set_defaults(handler=run_qc)


def run_qc(args: argparse.Namespace, settings: RushesSettings) -> int:
    if args.target[0] == "compare":
        if len(args.target) != 3:
            raise CliError(COMPARE_USAGE, EXIT_USAGE)
        if args.fix not in FIXES:
            raise CliError(f"unknown fix {args.fix!r}; choose from {', '.join(FIXES)}", EXIT_USAGE)
        if args.log:
            raise CliError("--log goes with `rushes qc ASSET`, not with compare", EXIT_USAGE)
        source, rendition = (classify(ref) for ref in args.target[1:])
        report = asyncio.run(
            compare(settings, source, rendition, fix=args.fix, scale=args.scale, crop=args.crop)
        )
        print(json.dumps(report, indent=2) if args.json else render_rendition(report))
        return EXIT_OK if report["verdict"] == "pass" else EXIT_FAILED
    if len(args.target) != 1:
        raise CliError("usage: rushes qc ASSET [--log] [--json]", EXIT_USAGE)
    if args.log:
        rows = asyncio.run(fetch_log(settings, args.target[0]))
        print(json.dumps(rows, indent=2) if args.json else render_log(rows))
        return EXIT_OK
    qc = asyncio.run(fetch_qc(settings, args.target[0]))
    report = qc_json(qc)
    print(json.dumps(report, indent=2) if args.json else render_text(report))
    return EXIT_OK


@dataclass(frozen=True)
class Ref:
    """What a SOURCE or RENDITION argument names."""

    kind: str  # "file" | "asset" | "key"
    value: str


def classify(ref: str) -> Ref:
    """A local file when one exists at that path; else an object key or an asset id; else an error."""
    path = Path(ref)
    if path.is_file():
        return Ref("file", str(path))
    if path.exists():
        raise CliError(f"{ref}: not a regular file", EXIT_USAGE)
    if _OBJECT_KEY.match(ref):
        if ".." in ref.split("/"):
            raise CliError(f"{ref}: an object key may not contain '..'", EXIT_USAGE)
        return Ref("key", ref)
    if _ASSET_REF.match(ref):
        return Ref("asset", ref)
    raise CliError(f"{ref}: no such file, and not an asset id or an assets/<id>/... object key", EXIT_USAGE)


async def compare(settings: RushesSettings, source: Ref, rendition: Ref, *, fix: str, scale: float,
                  crop: float) -> dict[str, Any]:  # fmt: skip
    asset_id, source_key = await resolve_source(settings, source)
    rendition_key = await resolve_rendition(settings, rendition, asset_id)
    request = pb.CompareRenditionRequest(asset_id=asset_id, source_key=source_key, rendition_key=rendition_key,
                                         fix=fix, scale=scale, crop_fraction=crop)  # fmt: skip
    async with client_channel(settings.qc_address) as channel:
        try:
            response = await pb_grpc.QcServiceStub(channel).CompareRendition(
                request, timeout=COMPARE_DEADLINE_S
            )
        except grpc.aio.AioRpcError as exc:
            raise from_rpc_error(f"qc compare {asset_id}", exc) from None
    return {"asset_id": asset_id, **rendition_json(response.result)}


async def resolve_source(settings: RushesSettings, ref: Ref) -> tuple[str, str]:
    """(asset id, source object key): a file by its content hash, which must be in the catalog."""
    if ref.kind == "key":
        match = _OBJECT_KEY.match(ref.value)
        assert match is not None
        record = await fetch_record(settings, match.group(1))
        return record["asset_id"], ref.value
    if ref.kind == "file":
        asset_id = (await asyncio.to_thread(sha256_file, Path(ref.value)))[:ASSET_ID_HEX_CHARS]
        found = await _catalogued(settings, asset_id)
        if found is None:
            raise CliError(
                f"{ref.value} is not in the catalog (asset {asset_id}): run `rushes ingest {ref.value}` first"
            )
        return asset_id, _original(found, ref.value)
    record = await fetch_record(settings, ref.value)
    return record["asset_id"], _original(record, ref.value)


async def resolve_rendition(settings: RushesSettings, ref: Ref, asset_id: str) -> str:
    """The rendition's object key: a local file is uploaded next to the source asset first."""
    if ref.kind == "key":
        return ref.value
    if ref.kind == "asset":
        return _original(await fetch_record(settings, ref.value), ref.value)
    return await upload_rendition(settings, Path(ref.value), asset_id)


async def upload_rendition(settings: RushesSettings, path: Path, asset_id: str) -> str:
    sha256 = await asyncio.to_thread(sha256_file, path)
    async with client_channel(settings.qc_address) as channel:
        try:
            response = await pb_grpc.QcServiceStub(channel).UploadRendition(
                _upload_requests(path, asset_id, sha256), timeout=UPLOAD_DEADLINE_S
            )
        except grpc.aio.AioRpcError as exc:
            raise from_rpc_error(f"upload {path}", exc) from None
    return str(response.object_key)


async def _upload_requests(
    path: Path, asset_id: str, sha256: str
) -> AsyncIterator[pb.UploadRenditionRequest]:
    header = pb.UploadRenditionHeader(asset_id=asset_id, filename=path.name, size_bytes=path.stat().st_size,
                                      sha256=sha256)  # fmt: skip
    yield pb.UploadRenditionRequest(header=header)
    with path.open("rb") as fh:
        while chunk := await asyncio.to_thread(fh.read, CHUNK_BYTES):
            yield pb.UploadRenditionRequest(chunk=chunk)


async def _catalogued(settings: RushesSettings, asset_id: str) -> dict[str, Any] | None:
    """The asset's record, or None when the catalog does not know it."""
    async with client_channel(settings.library_address) as channel:
        try:
            response = await library_grpc.LibraryServiceStub(channel).GetAsset(
                library_pb.GetAssetRequest(asset_id=asset_id), timeout=10.0
            )
        except grpc.aio.AioRpcError as exc:
            if exc.code() == grpc.StatusCode.NOT_FOUND:
                return None
            raise from_rpc_error(f"asset {asset_id}", exc) from None
    return asset_record(response.asset)


def _original(record: dict[str, Any], ref: str) -> str:
    key = (record.get("objects") or {}).get("original")
    if not key:
        raise CliError(f"{ref}: asset {record.get('asset_id')} has no stored original to compare")
    return str(key)


async def fetch_qc(settings: RushesSettings, asset_ref: str) -> Any:
    asset_id = (await fetch_record(settings, asset_ref))["asset_id"]
    async with client_channel(settings.qc_address) as channel:
        try:
            response = await pb_grpc.QcServiceStub(channel).GetQc(
                pb.GetQcRequest(asset_id=asset_id), timeout=30
            )
        except grpc.aio.AioRpcError as exc:
            raise from_rpc_error(f"qc {asset_id}", exc) from None
    return response.qc


async def fetch_log(settings: RushesSettings, asset_ref: str) -> list[dict[str, Any]]:
    asset_id = (await fetch_record(settings, asset_ref))["asset_id"]
    async with client_channel(settings.qc_address) as channel:
        try:
            response = await pb_grpc.QcServiceStub(channel).ListQcChecks(
                pb.ListQcChecksRequest(asset_id=asset_id), timeout=30
            )
        except grpc.aio.AioRpcError as exc:
            raise from_rpc_error(f"qc log {asset_id}", exc) from None
    return [log_row_json(row) for row in response.rows]


def log_row_json(row: Any) -> dict[str, Any]:
    """One check: time, shot, metric, value, threshold, verdict (and where it came from)."""
    return {
        "time": row.time.ToDatetime().isoformat(timespec="milliseconds") + "Z" if row.HasField("time") else "",
        "fix": row.fix, "rendition_key": row.rendition_key, "rendition_version": row.rendition_version,
        "shot": row.shot, "metric": row.metric, "value": row.value, "threshold": row.threshold,
        "review_threshold": row.review_threshold, "fail_threshold": row.fail_threshold,
        "direction": row.direction, "verdict": row.verdict, "detail": row.detail, "preset": row.preset,
    }  # fmt: skip


def render_log(rows: list[dict[str, Any]]) -> str:
    if not rows:
        return "no QC checks recorded for this asset"
    lines = [f"{'time':<24} {'fix':<9} {'shot':>4} {'metric':<24} {'value':>9} {'threshold':>9} verdict"]
    for r in rows:
        sign = ">" if r["direction"] == "above" else "<" if r["direction"] == "below" else ""
        lines.append(
            f"{r['time']:<24} {r['fix']:<9} {r['shot']:>4} {r['metric']:<24} {r['value']:>9.4g} "
            f"{sign + format(r['threshold'], 'g'):>9} {r['verdict']}"
            + (f"  ({r['detail']})" if r["detail"] else "")
        )
    return "\n".join(lines)


def rendition_json(rendition: Any) -> dict[str, Any]:
    """The report form: {"verdict", "shots": [{"index", "verdict", "metrics", "failures", "diff_maps"}], ...}."""
    data = json_format.MessageToDict(rendition, preserving_proto_field_name=True)
    shots = [
        {
            "index": s.index,
            "frames": [s.start_frame, s.end_frame],
            "verdict": s.verdict,
            "confidence": s.confidence,
            "metrics": dict(s.metrics),
            "failures": [
                {
                    "metric": f.metric,
                    "value": f.value,
                    "threshold": f.threshold,
                    "direction": f.direction,
                    "verdict": f.verdict,
                    "worst_frame": f.worst_frame,
                }
                for f in s.failures
            ],
            "diff_maps": list(s.diff_maps),
        }
        for s in rendition.shots
    ]
    keys = ("fix", "version", "object_key", "source_key", "error", "notes", "report_key", "preset", "metrics")
    return {"verdict": data.get("verdict", ""), "needs_review": data.get("needs_review", False),
            **{k: data.get(k) for k in keys if k in data}, "shots": shots}  # fmt: skip


def qc_json(qc: Any) -> dict[str, Any]:
    return {
        "asset_id": qc.envelope.asset_id,
        "verdict": qc.verdict,
        "needs_review": qc.needs_review,
        "skipped_reason": qc.skipped_reason,
        "renditions": [rendition_json(r) for r in qc.renditions],
    }


def render_rendition(report: dict[str, Any]) -> str:
    head = f"{report.get('fix', '?')} v{report.get('version', 0)}: {report['verdict'].upper()}"
    lines = [head + (" (to review)" if report.get("needs_review") else "")]
    if report.get("error"):
        lines.append(f"  could not be checked: {report['error']}")
    for shot in report["shots"]:
        reasons = ", ".join(f"{f['metric']}={f['value']:.3g} ({f['verdict']})" for f in shot["failures"])
        lines.append(f"  shot {shot['index']}: {shot['verdict']}" + (f": {reasons}" if reasons else ""))
    lines += [f"  note: {note}" for note in report.get("notes") or []]
    return "\n".join(lines)


def render_text(report: dict[str, Any]) -> str:
    if report["skipped_reason"]:
        return f"{report['asset_id']}: no QC ({report['skipped_reason']})"
    head = f"{report['asset_id']}: QC {report['verdict'].upper()}" + (
        " (to review)" if report["needs_review"] else ""
    )
    return "\n".join([head, *(render_rendition(r) for r in report["renditions"])])
