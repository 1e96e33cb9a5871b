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
# its parser(s) and sets `handler=<callable(args, settings) -> exit code>` as a default. Adding a
# command is one line here; main.py never grows per command.
COMMAND_MODULES: tuple[str, ...] = ()


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="rushes", description="Rushes: automated dailies logging.")
    parser.add_argument(
        "--state-dir",
        type=Path,
        default=None,
        help="local stack state folder (default .rushes or $RUSHES_STATE_DIR)",
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
    subs.add_argument("--json", action="store_true", help="with --qc: JSON (the only form today)")

    review = sub.add_parser("review", help="human verdicts on AI values")
    review_sub = review.add_subparsers(dest="review_command", required=True, metavar="SUBCOMMAND")
    correct = review_sub.add_parser(
        "correct", help="correct one value (recorded with who, when, old and new)"
    )
    correct.add_argument("asset_id", metavar="ASSET")
    correct.add_argument("--shot", type=int, default=-1, help="shot index (default: a clip-level value)")
    correct.add_argument("--field", required=True, help="e.g. shot_type, category, exposure")
    correct.add_argument("--value", required=True, help="the right value (JSON, or a bare word)")
    correct.add_argument("--reviewer", default=None, help="default: $RUSHES_REVIEWER or the login name")
    correct.add_argument("--note", default="")
    correct.add_argument("--expect-version", type=int, default=None, help="tags version you reviewed")
    correct.add_argument("--json", action="store_true")
    feedback = sub.add_parser("feedback", help="feedback data for retraining")
    feedback_sub = feedback.add_subparsers(dest="feedback_command", required=True, metavar="SUBCOMMAND")
    export = feedback_sub.add_parser("export", help="every correction as JSON lines")
    export.add_argument("--project", default="")
    export.add_argument("--out", type=Path, default=None, help="write to FILE instead of stdout")

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

    settings = client_settings(state_dir)
    handler = getattr(args, "handler", None)
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
                )
            )
        )
        return EXIT_OK
    if args.command == "review":
        from rushes_cli.review_cmd import correct, default_reviewer

        result = asyncio.run(
            correct(
                settings,
                args.asset_id,
                shot=args.shot,
                field=args.field,
                value=args.value,
                reviewer=args.reviewer or default_reviewer(),
                note=args.note,
                expected_version=args.expect_version,
            )
        )
        if args.json:
            print(json.dumps(result, indent=2))
        else:
            where = f"shot {result['shot_index']}" if result["shot_index"] >= 0 else "clip"
            print(
                f"{result['asset_id']} {where} {result['field']}: {json.dumps(result['old'].get('value'))} -> "
                f"{json.dumps(result['new_value'])} (by {result['reviewer']}, tags v{result['tags_version']})"
            )
        return EXIT_OK
    if args.command == "feedback":
        from rushes_cli.review_cmd import export_feedback

        count = asyncio.run(export_feedback(settings, project=args.project, out=args.out))
        if args.out:
            print(f"wrote {count} corrections to {args.out}")
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
