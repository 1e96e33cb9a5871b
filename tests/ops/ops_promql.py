"""The metric names a PromQL expression selects, and every expression the chart ships.

A small lexer rather than a full parser: drop string literals, label matchers, ranges and grouping
clauses, then every identifier that is not a keyword, a function call, a number or an offset
duration is a metric name. Enough for the dashboards and alerts here; unit-tested beside it.
"""

from __future__ import annotations

import json
import re
from pathlib import Path

import yaml

KEYWORDS = {
    "and", "or", "unless", "by", "without", "on", "ignoring", "group_left", "group_right",
    "offset", "bool", "inf", "nan",
}  # fmt: skip
_STRING = re.compile(r'"(?:[^"\\]|\\.)*"|\'(?:[^\'\\]|\\.)*\'|`[^`]*`')
_MATCHERS = re.compile(r"\{[^{}]*\}")
_RANGE = re.compile(r"\[[^\[\]]*\]")
_GROUPING = re.compile(r"\b(?:by|without|on|ignoring|group_left|group_right)\s*\([^()]*\)")
_TOKEN = re.compile(
    r"(?P<number>0x[0-9a-fA-F]+|(?:\d+\.?\d*|\.\d+)(?:[eE][+-]?\d+)?(?:ms|s|m|h|d|w|y)?)"
    r"|(?P<ident>[a-zA-Z_:][a-zA-Z0-9_:]*)"
    r"|(?P<other>\S)"
)
_DURATION = re.compile(r"^\d+(ms|s|m|h|d|w|y)")


def metric_names(expr: str) -> set[str]:
    """Metric names selected by `expr`. Raises ValueError on unbalanced brackets or a bare `{}`."""
    text = _STRING.sub('""', expr)
    if text.count("(") != text.count(")") or text.count("{") != text.count("}"):
        raise ValueError(f"unbalanced brackets in {expr!r}")
    text = _MATCHERS.sub(" ", text)
    text = _RANGE.sub(" ", text)
    text = _GROUPING.sub(" ", text)
    names: set[str] = set()
    tokens = list(_TOKEN.finditer(text))
    skip_next = False
    for i, token in enumerate(tokens):
        if skip_next:
            skip_next = False
            continue
        ident = token.group("ident")
        if ident is None:
            continue
        if ident in KEYWORDS:
            skip_next = ident == "offset"
            continue
        following = tokens[i + 1].group(0) if i + 1 < len(tokens) else ""
        if following == "(":
            continue  # a function or aggregation
        names.add(ident)
    return names


def alert_expressions(rules_file: Path) -> dict[str, str]:
    """alert name -> expr of a Prometheus rule file."""
    groups = yaml.safe_load(rules_file.read_text())["groups"]
    return {rule["alert"]: rule["expr"] for group in groups for rule in group["rules"] if "alert" in rule}


def dashboard_expressions(dashboards_dir: Path) -> dict[str, str]:
    """ "<dashboard>/<panel title>/<refId>" -> expr of every Grafana panel target."""
    found: dict[str, str] = {}
    for path in sorted(dashboards_dir.glob("*.json")):
        board = json.loads(path.read_text())
        for panel in board["panels"]:
            for target in panel.get("targets", []):
                found[f"{path.stem}/{panel['title']}/{target['refId']}"] = target["expr"]
    return found
