"""From a query's syntax tree to a parameterised WHERE clause over `search_shots`.

Pure (psycopg.sql only composes; nothing runs here). The query text never reaches the SQL: field
names select fixed SQL fragments from the FIELDS table and every value travels as a parameter, so
"project:'; DROP TABLE assets; --" is simply a project nobody has. Unknown fields, values a field
cannot hold and ranges the wrong way round are QueryErrors pointing at the offending position.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta
from typing import Any, Literal

from psycopg import sql

from rushes_library.query_parser import (
    And,
    Compare,
    FieldMatch,
    Node,
    Not,
    Or,
    Phrase,
    QueryError,
    Range,
    Term,
    parse_query,
)
from rushes_library.taxonomy import Taxonomy, load_taxonomy

FieldKind = Literal["label", "tag", "text", "prefix", "number", "duration", "date", "bool", "transcript"]
_PLACEHOLDER = sql.SQL("%s")


@dataclass(frozen=True)
class SearchField:
    kind: FieldKind
    column: str = ""
    help: str = ""
    # For label fields: the asset-record value field the labels come from.
    source: str = ""


# field name (as typed) -> how it is searched. Label fields take taxonomy names and synonyms.
FIELDS: dict[str, SearchField] = {
    "shot_type": SearchField("label", source="shot_type", help="framing: close_up, wide, ..."),
    "category": SearchField("label", source="category", help="interview, b_roll, action, ..."),
    "exposure": SearchField("label", source="exposure", help="over, under, ok"),
    "sharpness": SearchField("label", source="sharpness", help="sharp, soft"),
    "shakiness": SearchField("label", source="shakiness", help="steady, shaky"),
    "noise": SearchField("label", source="noise", help="clean, noisy"),
    "pace": SearchField("label", source="pace", help="slow, medium, fast"),
    "mood": SearchField("label", source="mood", help="bright, dark, warm, calm, ..."),
    "cue": SearchField("label", source="technical_cues", help="black_frames, color_bars, slate"),
    "tag": SearchField("tag", help="any taxonomy node or synonym, e.g. tag:framing, tag:handheld"),
    "project": SearchField("text", "project"),
    "scene": SearchField("text", "scene"),
    "take": SearchField("text", "take"),
    "camera": SearchField("text", "camera"),
    "lens": SearchField("text", "lens"),
    "location": SearchField("text", "location"),
    "codec": SearchField("text", "video_codec"),
    "status": SearchField("text", "status"),
    "asset": SearchField("prefix", "asset_id", help="asset id or its prefix"),
    "filename": SearchField("prefix", "filename", help="file name or its start"),
    "duration": SearchField("duration", "duration_s", help="seconds; 5s, 500ms, 2m, 1h"),
    "start": SearchField("duration", "start_s", help="where the shot starts in the clip"),
    "width": SearchField("number", "width"),
    "height": SearchField("number", "height"),
    "fps": SearchField("number", "fps"),
    "kelvin": SearchField("number", "kelvin", help="white balance colour temperature"),
    "confidence": SearchField("number", "min_confidence", help="lowest confidence of the shot's values"),
    "date": SearchField("date", "recorded_at", help="YYYY-MM-DD, or A..B"),
    "review": SearchField("bool", "needs_review", help="yes: a value of the shot awaits review"),
    "transcript": SearchField("transcript", help='words or "a phrase" spoken in the shot'),
}
_LABEL_FIELDS = {name for name, f in FIELDS.items() if f.kind == "label"}
_CONFIDENCE_SUFFIX = ".confidence"
_DURATION = re.compile(r"^(?P<n>\d+(?:\.\d+)?)(?P<unit>ms|s|sec|m|min|h)?$")
_DURATION_UNITS = {"ms": 0.001, "s": 1.0, "sec": 1.0, "m": 60.0, "min": 60.0, "h": 3600.0, None: 1.0}
_NUMBER = re.compile(r"^-?\d+(?:\.\d+)?$")
_SQL_OPS = {">": ">", ">=": ">=", "<": "<", "<=": "<=", "=": "="}
_TRUE = {"yes", "true", "1", "y"}
_FALSE = {"no", "false", "0", "n"}


@dataclass
class CompiledQuery:
    """The strict filter (`where`, `params`) and the loose words left for ranking.

    Top-level bare words are not filters: they rank (keywords + embeddings), so a natural-language
    query ("a wide shot of the harbour at dusk") still finds the shots that match it best. Words
    inside OR / NOT / parentheses are strict. `boolean` mode makes the loose words strict too.
    """

    where: sql.Composable
    params: list[Any]
    words: list[str] = field(default_factory=list)
    phrases: list[str] = field(default_factory=list)
    # Labels the query names ("shot_type:close_up", "tag:framing"): a hit's highlights.
    labels: list[str] = field(default_factory=list)
    has_filters: bool = False


def compile_query(query: str, *, boolean: bool = False, taxonomy: Taxonomy | None = None) -> CompiledQuery:
    """Parse and compile; raises QueryError (with a position) for anything it cannot mean."""
    tree = parse_query(query)
    compiler = _Compiler(query, taxonomy or load_taxonomy())
    items = list(tree.items) if isinstance(tree, And) else [tree]
    strict: list[sql.Composable] = []
    words: list[str] = []
    for item in items:
        if isinstance(item, Term) and not boolean:
            compiler.check_word(item)
            words.append(item.text)
        else:
            strict.append(compiler.node(item))
    where = sql.SQL(" AND ").join(strict) if strict else sql.SQL("TRUE")
    return CompiledQuery(
        where=where,
        params=compiler.params,
        words=words,
        phrases=compiler.phrases,
        labels=compiler.labels,
        has_filters=bool(strict),
    )


class _Compiler:
    def __init__(self, query: str, taxonomy: Taxonomy) -> None:
        self.query = query
        self.taxonomy = taxonomy
        self.params: list[Any] = []
        self.phrases: list[str] = []
        self.labels: list[str] = []

    def error(self, message: str, position: int) -> QueryError:
        return QueryError(message, position, self.query)

    def param(self, value: Any) -> sql.Composable:
        self.params.append(value)
        return _PLACEHOLDER

    def node(self, node: Node) -> sql.Composable:
        if isinstance(node, And):
            return sql.SQL("(") + sql.SQL(" AND ").join(self.node(i) for i in node.items) + sql.SQL(")")
        if isinstance(node, Or):
            return sql.SQL("(") + sql.SQL(" OR ").join(self.node(i) for i in node.items) + sql.SQL(")")
        if isinstance(node, Not):
            return sql.SQL("(NOT ") + self.node(node.item) + sql.SQL(")")
        if isinstance(node, Term):
            self.check_word(node)
            return sql.SQL("tsv @@ plainto_tsquery('english', ") + self.param(node.text) + sql.SQL(")")
        if isinstance(node, Phrase):
            self.phrases.append(node.text)
            return self.transcript_phrase(node.text)
        if isinstance(node, FieldMatch):
            return self.field_match(node)
        if isinstance(node, Compare):
            return self.compare(node.field, node.op, node.value, node.position, node.value_position)
        if isinstance(node, Range):
            return self.range(node)
        raise AssertionError(f"unknown node {node!r}")

    def check_word(self, node: Term) -> None:
        if ":" in node.text or len(node.text) > 200:
            raise self.error(f"{node.text[:40]!r} is not a word", node.position)

    def transcript_phrase(self, text: str) -> sql.Composable:
        return sql.SQL("transcript_tsv @@ phraseto_tsquery('simple', ") + self.param(text) + sql.SQL(")")

    def lookup(self, name: str, position: int) -> SearchField:
        spec = FIELDS.get(name.lower())
        if spec is None:
            raise self.error(f"unknown field {name!r}; fields: {', '.join(sorted(FIELDS))}", position)
        return spec

    def field_match(self, node: FieldMatch) -> sql.Composable:
        if node.field.lower().endswith(_CONFIDENCE_SUFFIX):
            return self.compare(node.field, "=", node.value, node.position, node.value_position)
        spec = self.lookup(node.field, node.position)
        value = node.value
        if spec.kind == "label":
            raw = self.taxonomy.field_value_of(spec.source, value)
            if raw is None:
                known = ", ".join(self.taxonomy.field_values(spec.source))
                raise self.error(
                    f"{node.field}: {value!r} is not a known value (known: {known})", node.value_position
                )
            self.labels.append(f"{spec.source}:{raw}")
            return sql.SQL("labels @> ARRAY[") + self.param(f"{spec.source}:{raw}") + sql.SQL("]::text[]")
        if spec.kind == "tag":
            name = self.taxonomy.resolve(value)
            if name is None:
                hint = self.taxonomy.suggest(value[:3], 5)
                suffix = f" (did you mean {', '.join(hint)}?)" if hint else ""
                raise self.error(f"tag {value!r} is not in the taxonomy{suffix}", node.value_position)
            self.labels.append(f"tag:{name}")
            return sql.SQL("labels @> ARRAY[") + self.param(f"tag:{name}") + sql.SQL("]::text[]")
        if spec.kind == "text":
            return (
                sql.SQL("lower({}) = lower(").format(sql.Identifier(spec.column))
                + self.param(value)
                + sql.SQL(")")
            )
        if spec.kind == "prefix":
            pattern = value.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_") + "%"
            return sql.SQL("{} LIKE ").format(sql.Identifier(spec.column)) + self.param(pattern)
        if spec.kind == "bool":
            return sql.SQL("{} = ").format(sql.Identifier(spec.column)) + self.param(
                self.boolean(value, node)
            )
        if spec.kind == "transcript":
            if node.value_quoted:
                self.phrases.append(value)
                return self.transcript_phrase(value)
            return sql.SQL("transcript_tsv @@ plainto_tsquery('simple', ") + self.param(value) + sql.SQL(")")
        if spec.kind == "date":
            low, high = self.day_bounds(value, node.value_position)
            column = sql.Identifier(spec.column)
            return sql.SQL("({} >= ").format(column) + self.param(low) + sql.SQL(" AND {} < ").format(column) + self.param(high) + sql.SQL(")")  # fmt: skip
        # number / duration written as field:value means equality
        return self.compare(node.field, "=", value, node.position, node.value_position)

    def boolean(self, value: str, node: FieldMatch) -> bool:
        word = value.lower()
        if word in _TRUE:
            return True
        if word in _FALSE:
            return False
        raise self.error(f"{node.field}: {value!r} is not yes or no", node.value_position)

    def compare(self, name: str, op: str, value: str, position: int, value_position: int) -> sql.Composable:
        if name.lower().endswith(_CONFIDENCE_SUFFIX):
            source_field = name[: -len(_CONFIDENCE_SUFFIX)].lower()
            spec = FIELDS.get(source_field)
            if spec is None or spec.kind != "label":
                raise self.error(
                    f"{name!r}: confidence applies to a tagged field ({', '.join(sorted(_LABEL_FIELDS))})",
                    position,
                )
            number = self.confidence(value, value_position)
            expression = sql.SQL("(confidences ->> ") + self.param(spec.source) + sql.SQL(")::float8")
            return expression + sql.SQL(f" {_SQL_OPS[op]} ") + self.param(number)
        spec = self.lookup(name, position)
        column = sql.Identifier(spec.column)
        if spec.kind == "date":
            low, high = self.day_bounds(value, value_position)
            bound = {">": high, ">=": low, "<": low, "<=": high, "=": None}[op]
            if bound is None:
                return sql.SQL("({} >= ").format(column) + self.param(low) + sql.SQL(" AND {} < ").format(column) + self.param(high) + sql.SQL(")")  # fmt: skip
            real_op = {">": ">=", ">=": ">=", "<": "<", "<=": "<"}[op]
            return sql.SQL("{} " + real_op + " ").format(column) + self.param(bound)
        if spec.kind not in ("number", "duration"):
            raise self.error(f"{name} is not a number or date field: {op} does not apply", position)
        number = self.number(spec, value, value_position)
        if name.lower() == "confidence" and not 0.0 <= number <= 1.0:
            raise self.error(f"a confidence is between 0 and 1, not {value}", value_position)
        return sql.SQL("{} " + _SQL_OPS[op] + " ").format(column) + self.param(number)

    def range(self, node: Range) -> sql.Composable:
        parts: list[sql.Composable] = []
        if node.field.lower().endswith(_CONFIDENCE_SUFFIX):
            if node.low:
                parts.append(self.compare(node.field, ">=", node.low, node.position, node.value_position))
            if node.high:
                parts.append(self.compare(node.field, "<=", node.high, node.position, node.value_position))
            return sql.SQL("(") + sql.SQL(" AND ").join(parts) + sql.SQL(")")
        spec = self.lookup(node.field, node.position)
        column = sql.Identifier(spec.column)
        low: datetime | float | None
        high: datetime | float | None
        if spec.kind == "date":
            low = self.day_bounds(node.low, node.value_position)[0] if node.low else None
            high = self.day_bounds(node.high, node.value_position)[1] if node.high else None
            if low is not None and high is not None and low >= high:
                raise self.error(
                    f"date range {node.low}..{node.high} ends before it starts", node.value_position
                )
        elif spec.kind in ("number", "duration"):
            low_n = self.number(spec, node.low, node.value_position) if node.low else None
            high_n = self.number(spec, node.high, node.value_position) if node.high else None
            if low_n is not None and high_n is not None and low_n > high_n:
                raise self.error(f"range {node.low}..{node.high} ends before it starts", node.value_position)
            low, high = low_n, high_n
        else:
            raise self.error(f"{node.field} takes no range", node.value_position)
        if low is not None:
            parts.append(sql.SQL("{} >= ").format(column) + self.param(low))
        if high is not None:
            upper = "<" if spec.kind == "date" else "<="  # a date range includes its last day
            parts.append(sql.SQL("{} " + upper + " ").format(column) + self.param(high))
        return sql.SQL("(") + sql.SQL(" AND ").join(parts) + sql.SQL(")")

    def number(self, spec: SearchField, value: str, position: int) -> float:
        if spec.kind == "duration":
            match = _DURATION.match(value.lower())
            if match is None:
                raise self.error(f"{value!r} is not a duration (e.g. 5s, 500ms, 2m, 1h)", position)
            return float(match["n"]) * _DURATION_UNITS[match["unit"]]
        if not _NUMBER.match(value):
            raise self.error(f"{value!r} is not a number", position)
        return float(value)

    def confidence(self, value: str, position: int) -> float:
        if not _NUMBER.match(value) or not 0.0 <= float(value) <= 1.0:
            raise self.error(f"a confidence is a number between 0 and 1, not {value!r}", position)
        return float(value)

    def day_bounds(self, value: str, position: int) -> tuple[datetime, datetime]:
        """[start of the day, start of the next day) in UTC; YYYY-MM-DD, YYYY-MM or YYYY."""
        try:
            if re.fullmatch(r"\d{4}-\d{2}-\d{2}", value):
                day = date.fromisoformat(value)
                return _midnight(day), _midnight(day + timedelta(days=1))
            if re.fullmatch(r"\d{4}-\d{2}", value):
                first = date.fromisoformat(value + "-01")
                following = date(first.year + first.month // 12, first.month % 12 + 1, 1)
                return _midnight(first), _midnight(following)
            if re.fullmatch(r"\d{4}", value):
                year = int(value)
                return _midnight(date(year, 1, 1)), _midnight(date(year + 1, 1, 1))
        except ValueError:
            pass
        raise self.error(f"{value!r} is not a date (YYYY-MM-DD, YYYY-MM or YYYY)", position)


def _midnight(day: date) -> datetime:
    return datetime.combine(day, time(0), tzinfo=UTC)


def field_names() -> list[str]:
    """Every searchable field, confidence fields included (autocomplete)."""
    return sorted([*FIELDS, *(f"{name}{_CONFIDENCE_SUFFIX}" for name in _LABEL_FIELDS)])
