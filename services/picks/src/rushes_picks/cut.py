"""A project's first cut from its assets' picks: takes numbered in shoot order, near-duplicates
grouped across assets, the best take per script line (or per group in shoot order), handles,
alternates, and the draft-acceptance verdict of the preset's policy.

Pure and deterministic: the same picks, script and options always give the same cut (and cut id).
"""

from __future__ import annotations

import hashlib
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

from rushes.events.v1 import events_pb2

from rushes_picks.alignment import LineMatch, match_line
from rushes_picks.presets import Preset
from rushes_picks.redundancy import Candidate, duplicate_groups
from rushes_picks.script import Script, ScriptLine
from rushes_picks.takes import take_score
from rushes_picks.version import MODEL, MODEL_VERSION

MAX_ALTERNATES = 3
# Reasons that say something good about a take; the rest say why it lost.
_POSITIVE = ("complete line", "subject in frame")


@dataclass(frozen=True)
class ProjectTake:
    number: int  # "take N": 1-based in shoot order across the project
    asset: events_pb2.AssetPicked
    take: events_pb2.AssetPicked.Take

    @property
    def asset_id(self) -> str:
        return self.asset.envelope.asset_id

    @property
    def label(self) -> str:
        return f"take {self.number}"

    @property
    def score(self) -> float:
        return take_score(self.take)

    @property
    def confidence(self) -> float:
        return self.take.score.confidence

    @property
    def usable(self) -> bool:
        verdict = self.take.score.value.struct_value.fields.get("verdict")
        return verdict is None or verdict.string_value != "unusable"

    @property
    def faults(self) -> list[str]:
        return [
            r
            for r in self.take.score.reasons
            if r not in _POSITIVE and not r.startswith(("duplicate of", "low confidence"))
        ]


@dataclass
class Alternate:
    take: ProjectTake
    note: str


@dataclass
class CutClip:
    take: ProjectTake
    in_s: float  # source seconds from the start of the asset, handles included
    out_s: float
    head_handle_s: float
    tail_handle_s: float
    reasons: list[str]
    script_lines: list[int] = field(default_factory=list)
    alternates: list[Alternate] = field(default_factory=list)

    @property
    def duration_s(self) -> float:
        return self.out_s - self.in_s


@dataclass
class Cut:
    project: str
    cut_id: str
    order: str  # "script" | "shoot"
    preset: str
    handle_s: float
    clips: list[CutClip]
    takes: list[ProjectTake]
    status: str = "draft"  # "draft" | "review" | "empty"
    policy_reasons: list[str] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)
    script_name: str = ""
    # take number -> "picked" | "alternate" | "redundant" | "unusable" | "unused"
    take_status: dict[int, str] = field(default_factory=dict)
    take_reasons: dict[int, list[str]] = field(default_factory=dict)

    @property
    def duration_s(self) -> float:
        return sum(c.duration_s for c in self.clips)

    @property
    def asset_ids(self) -> list[str]:
        return sorted({t.asset_id for t in self.takes})


def _shoot_key(asset: events_pb2.AssetPicked) -> tuple[Any, ...]:
    made = asset.technical.creation_time_unix
    return (
        0 if made > 0 else 1,
        made,
        asset.technical.timecode,
        asset.source.filename,
        asset.envelope.asset_id,
    )


def number_takes(assets: Sequence[events_pb2.AssetPicked]) -> tuple[list[ProjectTake], list[str]]:
    """Every take of the project numbered in shoot order; notes for assets left out."""
    notes: list[str] = []
    takes: list[ProjectTake] = []
    for asset in sorted(assets, key=_shoot_key):
        name = asset.source.filename or asset.envelope.asset_id
        if asset.skipped_reason or not asset.takes:
            notes.append(
                f"{name} ({asset.envelope.asset_id[:12]}) left out: {asset.skipped_reason or 'no takes'}"
            )
            continue
        for note in asset.notes:
            notes.append(f"{name}: {note}")
        for take in sorted(asset.takes, key=lambda t: t.start_s):
            takes.append(ProjectTake(number=len(takes) + 1, asset=asset, take=take))
    return takes, notes


def cut_id_for(assets: Sequence[events_pb2.AssetPicked], script: Script | None, preset: Preset,
               handle_s: float, media_root: str) -> str:  # fmt: skip
    """A digest of everything the cut depends on: asking twice for the same cut gives the same id."""
    digest = hashlib.sha256()
    for asset in sorted(assets, key=lambda a: a.envelope.asset_id):
        digest.update(f"{asset.envelope.asset_id}:{asset.input_version}:{asset.model_version}\n".encode())
    if script is not None:
        for line in script.lines:
            digest.update(f"{line.number}\x00{line.character}\x00{line.text}\n".encode())
    digest.update(f"{preset.model_dump_json()}|{handle_s:.4f}|{media_root}|{MODEL}:{MODEL_VERSION}".encode())
    return digest.hexdigest()[:24]


def _why_it_won(winner: ProjectTake, group: Sequence[ProjectTake]) -> list[str]:
    n = len(group)
    reasons = [f"best of {n} takes"]
    for component, phrase in (
        ("focus", "sharpest"),
        ("delivery", "best delivery"),
        ("audio", "cleanest audio"),
    ):
        values = [t.take.components.get(component) for t in group]
        mine = winner.take.components.get(component)
        known = [v for v in values if v is not None]
        if mine is not None and len(known) > 1 and mine >= max(known) and min(known) < mine:
            reasons.append(f"{phrase} of {n} takes")
    for loser in group:
        if loser is winner:
            continue
        faults = loser.faults
        why = ", ".join(faults[:3]) if faults else f"lower score ({loser.score:.2f})"
        reasons.append(f"{loser.label} lost: {why}")
    return reasons


def _span(take: ProjectTake, match: LineMatch | None, handle_s: float) -> tuple[float, float, float, float]:
    """Source in/out of a pick with handles, kept inside its shot; returns (in, out, head, tail)."""
    shot_in, shot_out = take.take.start_s, take.take.end_s
    if match is not None:
        core_in, core_out = match.start_s, match.end_s
    elif take.take.words:
        core_in, core_out = take.take.words[0].start_s, take.take.words[-1].end_s
    else:
        return shot_in, shot_out, 0.0, 0.0
    start = max(shot_in, core_in - handle_s)
    end = min(shot_out, core_out + handle_s)
    return start, end, round(core_in - start, 4), round(end - core_out, 4)


def assemble_cut(
    project: str,
    assets: Sequence[events_pb2.AssetPicked],
    preset: Preset,
    *,
    script: Script | None = None,
    handle_s: float | None = None,
    media_root: str = "",
) -> Cut:
    handles = preset.cut.handle_s if handle_s is None or handle_s < 0 else handle_s
    takes, notes = number_takes(assets)
    cut = Cut(
        project=project,
        cut_id=cut_id_for(assets, script, preset, handles, media_root),
        order="script" if script is not None else "shoot",
        preset=preset.name,
        handle_s=handles,
        clips=[],
        takes=takes,
        notes=notes,
        script_name=script.name if script is not None else "",
    )
    by_key = {(t.number,): t for t in takes}
    groups = duplicate_groups(
        [Candidate(key=(t.number,), keyframe_hash=t.take.keyframe_hash, text=t.take.text, score=t.score)
         for t in takes if t.usable],
        preset.redundancy,
    )  # fmt: skip
    winner_of: dict[int, ProjectTake] = {}
    group_of: dict[int, list[ProjectTake]] = {}
    for group in groups:
        members = [by_key[c.key] for c in group]
        for member in members:
            winner_of[member.number] = members[0]
            group_of[member.number] = members
        cut.take_reasons[members[0].number] = _why_it_won(members[0], members)
        for loser in members[1:]:
            cut.take_status[loser.number] = "redundant"
            cut.take_reasons[loser.number] = [f"duplicate of {members[0].label}", *loser.faults]
    for take in takes:
        if not take.usable:
            cut.take_status[take.number] = "unusable"
            cut.take_reasons[take.number] = take.faults
    usable = [t for t in takes if t.usable]
    if script is not None:
        _assemble_scripted(cut, script, usable, preset, handles)
    else:
        _assemble_shoot_order(cut, usable, winner_of, group_of, handles)
    for take in takes:
        cut.take_status.setdefault(take.number, "unused")
    for clip in cut.clips:
        cut.take_status[clip.take.number] = "picked"
        for alternate in clip.alternates:
            if cut.take_status.get(alternate.take.number) in (None, "unused"):
                cut.take_status[alternate.take.number] = "alternate"
    apply_draft_policy(cut, preset, script)
    return cut


def _assemble_shoot_order(
    cut: Cut,
    usable: list[ProjectTake],
    winner_of: dict[int, ProjectTake],
    group_of: dict[int, list[ProjectTake]],
    handle_s: float,
) -> None:
    for take in usable:
        if winner_of.get(take.number, take) is not take:
            continue
        start, end, head, tail = _span(take, None, handle_s)
        group = group_of.get(take.number, [take])
        clip = CutClip(
            take=take,
            in_s=start,
            out_s=end,
            head_handle_s=head,
            tail_handle_s=tail,
            reasons=[*_own_reasons(take), *cut.take_reasons.get(take.number, [])],
            alternates=[Alternate(t, f"duplicate of {take.label}") for t in group[1 : 1 + MAX_ALTERNATES]],
        )
        cut.clips.append(clip)


def _own_reasons(take: ProjectTake) -> list[str]:
    return [r for r in take.take.score.reasons if not r.startswith("duplicate of")]


def _assemble_scripted(
    cut: Cut,
    script: Script,
    usable: list[ProjectTake],
    preset: Preset,
    handle_s: float,
) -> None:
    """Per script line the best take that delivers it; duplicate grouping only shaped the reasons."""
    minimum = preset.script.min_line_coverage
    for line in script.lines:
        matches = [
            (take, m) for take in usable if (m := match_line(line.tokens, take.take.words)) is not None
        ]
        delivered = [(t, m) for t, m in matches if m.coverage >= minimum]
        if not delivered:
            cut.notes.append(f"script line {line.number} has no take: {_quote(line)}")
            continue
        # Best take for the line: the higher score among those that say (nearly) all of it.
        best_coverage = max(m.coverage for _, m in delivered)
        contenders = [(t, m) for t, m in delivered if m.coverage >= best_coverage - 0.15]
        ranked = sorted(contenders, key=lambda tm: (-tm[0].score, -tm[1].coverage, tm[0].number))
        take, match = ranked[0]
        previous = cut.clips[-1] if cut.clips else None
        if previous is not None and previous.take is take and match.start_s >= previous.in_s:
            # The same take delivers the next line too: one clip, extended.
            _, end, _, tail = _span(take, match, handle_s)
            previous.out_s, previous.tail_handle_s = max(previous.out_s, end), tail
            previous.script_lines.append(line.number)
            previous.reasons.append(f"matches script line {line.number}")
            continue
        start, end, head, tail = _span(take, match, handle_s)
        others = [
            t for t, _ in sorted(delivered, key=lambda tm: (-tm[0].score, tm[0].number)) if t is not take
        ]
        reasons = [f"matches script line {line.number}", *_own_reasons(take)]
        if len(delivered) > 1:
            reasons.append(f"best of {len(delivered)} takes of line {line.number}")
            for loser in others:
                why = ", ".join(loser.faults[:3]) or f"lower score ({loser.score:.2f})"
                reasons.append(f"{loser.label} lost: {why}")
        elif take.number in cut.take_reasons:
            reasons.extend(cut.take_reasons[take.number])
        cut.clips.append(
            CutClip(
                take=take,
                in_s=start,
                out_s=end,
                head_handle_s=head,
                tail_handle_s=tail,
                reasons=list(dict.fromkeys(reasons)),
                script_lines=[line.number],
                alternates=[
                    Alternate(t, f"also delivers line {line.number}") for t in others[:MAX_ALTERNATES]
                ],
            )
        )


def _quote(line: ScriptLine) -> str:
    text = line.text if len(line.text) <= 60 else line.text[:57] + "..."
    return f"{line.character + ': ' if line.character else ''}{text!r}"


def apply_draft_policy(cut: Cut, preset: Preset, script: Script | None) -> None:
    """Draft when no rule is broken; review (with every broken rule named) otherwise; empty when
    nothing could be cut."""
    policy = preset.draft_policy
    reasons: list[str] = []
    if not cut.clips:
        cut.status = "empty"
        if not cut.takes:
            cut.policy_reasons = ["no usable takes: " + ("; ".join(cut.notes) or "the project has no takes")]
        else:
            unusable = sum(1 for s in cut.take_status.values() if s == "unusable")
            why = (
                f"{unusable} of {len(cut.takes)} takes unusable" if unusable else "no take matches the script"
            )
            cut.policy_reasons = [f"no usable takes: {why}"]
        return
    for clip in cut.clips:
        label = clip.take.label
        if clip.take.confidence < policy.min_pick_confidence:
            reasons.append(
                f"low confidence: {label} at {clip.take.confidence:.2f} < {policy.min_pick_confidence:.2f}"
            )
        if clip.duration_s < policy.min_clip_s:
            reasons.append(f"pacing: {label} lasts {clip.duration_s:.1f} s < {policy.min_clip_s:.1f} s")
        if clip.duration_s > policy.max_clip_s:
            reasons.append(f"pacing: {label} lasts {clip.duration_s:.1f} s > {policy.max_clip_s:.1f} s")
        technical = clip.take.take.measurements.get("technical")
        performance = clip.take.take.measurements.get("performance")
        if technical is not None and performance is not None:
            gap = abs(technical - performance)
            if gap > policy.max_score_disagreement:
                reasons.append(
                    f"scores disagree on {label}: technical {technical:.2f} vs performance {performance:.2f}"
                )
    flagged = sum(1 for clip in cut.clips if clip.take.take.score.needs_review)
    if flagged > policy.max_picks_for_review:
        reasons.append(f"{flagged} pick(s) flagged for review (at most {policy.max_picks_for_review})")
    if script is not None:
        covered = {n for clip in cut.clips for n in clip.script_lines}
        share = len(covered) / len(script.lines)
        if share < policy.min_script_coverage:
            reasons.append(
                f"script coverage {share:.0%} < {policy.min_script_coverage:.0%} "
                f"({len(script.lines) - len(covered)} line(s) without a take)"
            )
    cut.policy_reasons = reasons
    cut.status = "review" if reasons else "draft"
