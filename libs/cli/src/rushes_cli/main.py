"""`rushes`: the command line for editors and operators.

Every failure ends in one readable line on stderr and a non-zero exit code (see errors.py).
"""

from __future__ import annotations

import argparse
import asyncio
import importlib
import json
import logging
import sys
from collections.abc import Sequence
from pathlib import Path

from rushes_cli import stack_cmd
from rushes_cli.connection import client_settings, default_state_dir
from rushes_cli.errors import EXIT_OK, EXIT_USAGE, CliError

DEFAULT_WAIT_S = 1800.0

# Commands that live wholly in their own module. Each module has `register(subparsers)`, which adds
# its parser(s) and sets `handler=<callable(args, settings) -> exit code>` as a default (and
# `needs_stack=False` when it runs without a stack: settings is then None). Adding a
# command is one line here; main.py never grows per command.
COMMAND_MODULES: tuple[str, ...] = (
    "rushes_cli.cut_cmd",
    "rushes_cli.speech_cmd",
    "rushes_cli.enhance_cmd",
    "rushes_cli.grade_cmd",
    "rushes_cli.search_cmd",
    "rushes_cli.meta_cmd",
    "rushes_cli.review_cmd",
    "rushes_cli.qc_cmd",
    "rushes_cli.bench_cmd",
    "rushes_cli.plan_cmd",
)


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="rushes", description="Rushes: automated dailies logging.")
    parser.add_argument(
        "--state-dir",
        type=Path,
        default=None,
        help="local stack state folder (default .rushes or $RUSHES_STATE_DIR)",
    )
    parser.add_argument(
        "--token",
        default=None,
        help="gRPC bearer token (default $RUSHES_TOKEN, else the local stack's admin token)",
    )
    sub = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")

    up = sub.add_parser("up", help="start the local stack (or report/restart the running one)")
    up.add_argument("--no-triton", action="store_true", help="do not start Triton (no model-backed stages)")
    up.add_argument("--json", action="store_true")
    sub.add_parser("down", help="stop everything the local stack started")
    status = sub.add_parser("status", help="health of every component")
    status.add_argument("--json", action="store_true")

    ingest = sub.add_parser("ingest", help="ingest camera/sound files")
    ingest.add_argument("paths", nargs="+", metavar="PATH")
    ingest.add_argument("--project", default="")
    ingest.add_argument("--wait", action="store_true", help="wait until every stage finished or failed")
    ingest.add_argument("--timeout", type=float, default=DEFAULT_WAIT_S, help="seconds --wait waits at most")
    ingest.add_argument("--json", action="store_true", help="print the asset records as a JSON array")

    show = sub.add_parser("show", help="an asset's record")
    show.add_argument("asset_id", metavar="ASSET")
    show.add_argument("--json", action="store_true")

    retag = sub.add_parser(
        "retag", help="re-run tagging on an asset under another preset (a new tags version)"
    )
    retag.add_argument("asset_id", metavar="ASSET")
    retag.add_argument("--preset", default="", help="preset name (default: the presets file's default)")
    retag.add_argument("--json", action="store_true")
    presets = sub.add_parser("presets", help="the tagging presets")
    presets.add_argument("--json", action="store_true")

    subs = sub.add_parser("subtitles", help="an asset's subtitles (SRT, WebVTT, TTML) or their QC report")
    subs.add_argument("asset_id", metavar="ASSET")
    subs.add_argument("--format", choices=["srt", "vtt", "ttml"], default="srt")
    subs.add_argument("--out", type=Path, default=None, help="write to FILE instead of stdout")
    subs.add_argument("--qc", action="store_true", help="print the subtitle QC report")
    subs.add_argument(
        "--reference", type=Path, default=None, help="measure against this reference transcript (UTF-8 text)"
    )
    subs.add_argument(
        "--translation", type=Path, default=None, help="localization QC of this translated SRT/WebVTT"
    )
    subs.add_argument("--language", default="", help="with --translation: its language, e.g. fr")
    subs.add_argument("--json", action="store_true", help="with --qc: JSON (the only form today)")

    events = sub.add_parser("events", help="the event stream")
    events_sub = events.add_subparsers(dest="events_command", required=True, metavar="SUBCOMMAND")
    tail = events_sub.add_parser("tail", help="print events as they are published")
    tail.add_argument("--json", action="store_true")
    tail.add_argument("--all", action="store_true", help="start from the first stored event")
    tail.add_argument("--limit", type=int, default=None, help="exit after N events")
    for module_name in COMMAND_MODULES:
        importlib.import_module(module_name).register(sub)
    return parser


def _dispatch(args: argparse.Namespace) -> int:
    state_dir = args.state_dir or default_state_dir()
    if args.command == "up":
        return stack_cmd.up(state_dir, with_triton=not args.no_triton, as_json=args.json)
    if args.command == "down":
        return stack_cmd.down(state_dir)
    if args.command == "status":
        return stack_cmd.status(state_dir, as_json=args.json)

    handler = getattr(args, "handler", None)
    if handler is not None and getattr(args, "needs_stack", True) is False:
        return int(handler(args, None))  # e.g. `rushes bench`: starts what it measures itself
    settings = client_settings(state_dir, token=args.token)
    if handler is not None:
        return int(handler(args, settings))
    if args.command == "ingest":
        from rushes_cli.ingest_cmd import check_paths, run_ingest

        paths = check_paths(args.paths)
        code, outcomes = asyncio.run(
            run_ingest(
                settings,
                paths,
                project=args.project,
                wait=args.wait,
                as_json=args.json,
                timeout_s=args.timeout,
            )
        )
        if args.json:
            print(
                json.dumps(
                    [o.record or {"asset_id": o.asset_id, "error": o.error} for o in outcomes], indent=2
                )
            )
        elif args.wait:
            from rushes_cli.show_cmd import render_text

            for outcome in outcomes:
                if outcome.record.get("asset_id"):
                    print(f"\n{render_text(outcome.record)}")
            print(f"\nobjects are in bucket {settings.s3.bucket!r} at {settings.s3.endpoint}")
        return code
    if args.command == "show":
        from rushes_cli.show_cmd import fetch_record, render_text

        record = asyncio.run(fetch_record(settings, args.asset_id))
        print(json.dumps(record, indent=2) if args.json else render_text(record))
        return EXIT_OK
    if args.command == "retag":
        from rushes_cli.tagging_cmd import retag

        result = asyncio.run(retag(settings, args.asset_id, args.preset))
        if args.json:
            print(json.dumps(result, indent=2))
        else:
            print(
                f"{result['asset_id']}: tags v{result['tags_version']} with preset {result['preset']}: "
                f"{result['shot_count']} shots, {result['review_count']} values for review"
            )
        return EXIT_OK
    if args.command == "presets":
        from rushes_cli.tagging_cmd import presets

        found = asyncio.run(presets(settings))
        if args.json:
            print(json.dumps(found, indent=2))
        else:
            for preset in found:
                mark = " (default)" if preset["is_default"] else ""
                print(f"{preset['name']}{mark}: {preset['description']}")
        return EXIT_OK
    if args.command == "subtitles":
        from rushes_cli.subtitles_cmd import subtitles

        print(
            asyncio.run(
                subtitles(
                    settings,
                    args.asset_id,
                    fmt=args.format,
                    qc=args.qc,
                    out=args.out,
                    reference=args.reference,
                    translation=args.translation,
                    language=args.language,
                )
            )
        )
        return EXIT_OK
    if args.command == "events":
        from rushes_cli.events_cmd import tail

        try:
            return asyncio.run(tail(settings, as_json=args.json, from_start=args.all, limit=args.limit))
        except KeyboardInterrupt:
            return EXIT_OK
    raise CliError(f"unknown command {args.command}", EXIT_USAGE)


def main(argv: Sequence[str] | None = None) -> int:
    args = _parser().parse_args(argv)
    # Libraries log their retries as warnings; the CLI speaks for itself in one line per failure.
    logging.basicConfig(level=logging.ERROR, format="rushes: %(name)s: %(message)s")
    try:
        return _dispatch(args)
    except CliError as exc:
        print(f"rushes: {exc}", file=sys.stderr)
        return exc.exit_code
    except KeyboardInterrupt:
        print("rushes: interrupted", file=sys.stderr)
        return 130


if __name__ == "__main__":
    sys.exit(main())
