"""The query language without a database: precedence, positions in errors, bounds, SQL safety."""

from __future__ import annotations

import pytest
from psycopg import sql
from rushes_library.query_parser import (
    MAX_DEPTH,
    MAX_QUERY_CHARS,
    MAX_TERMS,
    And,
    Compare,
    FieldMatch,
    Not,
    Or,
    Phrase,
    QueryError,
    Range,
    Term,
    parse_query,
)
from rushes_library.query_sql import FIELDS, compile_query


def test_not_binds_tighter_than_and_which_binds_tighter_than_or() -> None:
    tree = parse_query("a:1 OR b:2 AND NOT c:3")
    assert isinstance(tree, Or)
    left, right = tree.items
    assert left == FieldMatch("a", "1", 0, 2)
    assert isinstance(right, And)
    assert right.items[0] == FieldMatch("b", "2", 7, 9)
    assert isinstance(right.items[1], Not) and right.items[1].item == FieldMatch("c", "3", 19, 21)


def test_parentheses_override_precedence_and_juxtaposition_is_and() -> None:
    tree = parse_query("(a:1 OR b:2) c:3")
    assert isinstance(tree, And)
    assert isinstance(tree.items[0], Or)
    assert tree.items[1] == FieldMatch("c", "3", 13, 15)


def test_phrases_ranges_comparisons_and_minus() -> None:
    query = '"ask  not" duration>=5s date:2026-11-01..2026-11-20 -mood:dark well-lit'
    tree = parse_query(query)
    assert isinstance(tree, And)
    phrase, compare, date_range, negated, word = tree.items
    assert phrase == Phrase("ask not", 0)
    assert compare == Compare("duration", ">=", "5s", query.index("duration"), query.index("5s"))
    assert date_range == Range("date", "2026-11-01", "2026-11-20", query.index("date"), query.index("2026"))
    assert isinstance(negated, Not) and negated.position == query.index("-mood")
    assert negated.item == FieldMatch("mood", "dark", query.index("mood"), query.index("dark"))
    assert word == Term("well-lit", query.index("well"))


def test_lowercase_and_or_not_are_words() -> None:
    tree = parse_query("boats and birds or not")
    assert isinstance(tree, And)
    assert [t.text for t in tree.items if isinstance(t, Term)] == ["boats", "and", "birds", "or", "not"]


@pytest.mark.parametrize(
    ("query", "fragment", "position"),
    [
        ("", "empty", 0),
        ("a:1 AND", "ends where a term was expected", 7),
        ("OR a:1", "needs a term on both sides", 0),
        ("(a:1", "missing ')'", 0),
        ("a:1)", "unbalanced ')'", 3),
        ("()", "empty parentheses", 0),
        ('say "hello', "unterminated quote", 4),
        ('""', "empty phrase", 0),
        ("scene:", "needs a value", 6),
        ("duration>", "needs a value", 9),
        ("date:..", "not a range", 5),
        ("a\x07b", "control character", 0),
    ],
)
def test_malformed_queries_point_at_the_problem(query: str, fragment: str, position: int) -> None:
    with pytest.raises(QueryError) as caught:
        parse_query(query)
    assert fragment in caught.value.message
    assert caught.value.position == position
    assert caught.value.pointer().endswith(" " * position + "^")


def test_sizes_are_bounded() -> None:
    with pytest.raises(QueryError, match="longer than"):
        parse_query("a" * (MAX_QUERY_CHARS + 1))
    with pytest.raises(QueryError, match="terms"):
        parse_query(" ".join(["w"] * (MAX_TERMS + 1)))
    with pytest.raises(QueryError, match="nests deeper"):
        parse_query("(" * (MAX_DEPTH + 1) + "a" + ")" * (MAX_DEPTH + 1))
    with pytest.raises(QueryError, match="nests deeper"):
        parse_query("NOT " * (MAX_DEPTH + 1) + "a")


def _sql_text(where: sql.Composable) -> str:
    return where.as_string(None)


@pytest.mark.parametrize(
    "hostile",
    [
        'project:"x\'; DROP TABLE assets; --"',
        "scene:\"1' OR '1'='1\"",
        'camera:"; DELETE FROM audit_log --"',
        'transcript:"$$; DROP TABLE x; $$"',
        "filename:%_%",
    ],
)
def test_values_travel_as_parameters_never_as_sql(hostile: str) -> None:
    compiled = compile_query(hostile)
    text = _sql_text(compiled.where)
    assert "DROP" not in text and "DELETE" not in text and "'1'" not in text
    assert text.count("%s") == len(compiled.params)
    assert any(
        isinstance(p, str) and ("DROP" in p or "DELETE" in p or "1'" in p or "%" in p)
        for p in compiled.params
    )


def test_field_names_select_fixed_sql_fragments() -> None:
    for name, spec in FIELDS.items():
        if spec.kind in ("text", "prefix"):
            text = _sql_text(compile_query(f"{name}:x").where)
            assert f'"{spec.column}"' in text
    with pytest.raises(QueryError, match="unknown field 'drop_table'"):
        compile_query("drop_table:1")
    with pytest.raises(QueryError, match="unknown field '1'"):
        compile_query("scene:2 OR 1=1")


def test_loose_words_rank_unless_boolean() -> None:
    loose = compile_query("shot_type:wide harbour dusk")
    assert loose.words == ["harbour", "dusk"] and loose.has_filters
    assert loose.labels == ["shot_type:wide"]
    strict = compile_query("shot_type:wide harbour dusk", boolean=True)
    assert strict.words == [] and _sql_text(strict.where).count("plainto_tsquery") == 2


def test_values_are_checked_against_their_field() -> None:
    with pytest.raises(QueryError, match="known: close_up"):
        compile_query("shot_type:sideways")
    with pytest.raises(QueryError, match="confidence applies to a tagged field"):
        compile_query("scene.confidence>0.5")
    with pytest.raises(QueryError, match="not a number or date field"):
        compile_query("scene>3")
    with pytest.raises(QueryError, match="takes no range"):
        compile_query("scene:1..3")
    with pytest.raises(QueryError, match="not yes or no"):
        compile_query("review:perhaps")
    assert compile_query("pace:moderate").params == ["pace:medium"]
    assert compile_query("date:2026-02").params[1].month == 3
