"""The search query language: text in, a syntax tree out (pure; no SQL, no field knowledge).

    shot_type:close_up AND category:interview AND NOT exposure:over
    "ask not" (scene:12 OR scene:14) duration>5s date:2026-11-01..2026-11-20
    shot_type.confidence>=0.8 -mood:dark harbour at dusk

Grammar (precedence NOT > AND > OR; juxtaposition is AND; keywords are upper case so that "and",
"or", "not" in a natural-language query stay words):

    query    := or_expr EOF
    or_expr  := and_expr ("OR" and_expr)*
    and_expr := not_expr ("AND"? not_expr)*
    not_expr := ("NOT" | "-") not_expr | primary
    primary  := "(" or_expr ")" | PHRASE | WORD (":" value | CMP value)?
    value    := WORD | PHRASE          (a WORD "a..b" is a range)

Every error carries the 0-based character position it refers to, so the CLI can point at it.
Sizes are bounded (length, terms, nesting) so a hostile query cannot make parsing expensive.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

MAX_QUERY_CHARS = 1000
MAX_TERMS = 64
MAX_DEPTH = 16

Comparator = Literal[">", ">=", "<", "<=", "="]
_KEYWORDS = {"AND", "OR", "NOT"}
_SPECIAL = set('()":<>=')


class QueryError(ValueError):
    """A malformed query: `position` is where in the query text the problem is."""

    def __init__(self, message: str, position: int, query: str = "") -> None:
        super().__init__(message)
        self.message = message
        self.position = position
        self.query = query

    def __str__(self) -> str:
        return f"{self.message} (at character {self.position + 1})"

    def pointer(self) -> str:
        """The query with a caret under the offending character (two lines)."""
        return f"{self.query}\n{' ' * self.position}^"


# --- syntax tree -----------------------------------------------------------------------------------


@dataclass(frozen=True)
class Term:
    """A bare word: matched against the shot's text (tags and transcript)."""

    text: str
    position: int


@dataclass(frozen=True)
class Phrase:
    """A quoted phrase: the words in this order in the transcript."""

    text: str
    position: int


@dataclass(frozen=True)
class FieldMatch:
    """field:value (value_quoted when it was written in quotes)."""

    field: str
    value: str
    position: int
    value_position: int
    value_quoted: bool = False


@dataclass(frozen=True)
class Compare:
    """field > value, field <= value, ..."""

    field: str
    op: Comparator
    value: str
    position: int
    value_position: int


@dataclass(frozen=True)
class Range:
    """field:low..high (inclusive; either end may be empty for an open range)."""

    field: str
    low: str
    high: str
    position: int
    value_position: int


@dataclass(frozen=True)
class And:
    items: tuple[Node, ...]


@dataclass(frozen=True)
class Or:
    items: tuple[Node, ...]


@dataclass(frozen=True)
class Not:
    item: Node
    position: int


Node = Term | Phrase | FieldMatch | Compare | Range | And | Or | Not


# --- tokens ----------------------------------------------------------------------------------------


@dataclass(frozen=True)
class _Token:
    kind: Literal["word", "phrase", "lparen", "rparen", "colon", "cmp", "and", "or", "not", "minus", "end"]
    text: str
    position: int


def tokenize(query: str) -> list[_Token]:
    tokens: list[_Token] = []
    i, n = 0, len(query)
    while i < n:
        ch = query[i]
        if ch.isspace():
            i += 1
        elif ch == "(":
            tokens.append(_Token("lparen", ch, i))
            i += 1
        elif ch == ")":
            tokens.append(_Token("rparen", ch, i))
            i += 1
        elif ch == ":":
            tokens.append(_Token("colon", ch, i))
            i += 1
        elif ch in "<>=":
            op = query[i : i + 2] if query[i : i + 2] in (">=", "<=") else ch
            tokens.append(_Token("cmp", op, i))
            i += len(op)
        elif ch == '"':
            end = query.find('"', i + 1)
            if end < 0:
                raise QueryError('unterminated quote: a phrase needs a closing "', i, query)
            text = query[i + 1 : end]
            if not text.strip():
                raise QueryError("empty phrase", i, query)
            tokens.append(_Token("phrase", text, i))
            i = end + 1
        elif (
            ch == "-"
            and (not tokens or tokens[-1].kind not in ("colon", "cmp"))
            and _starts_operand(query, i + 1)
        ):
            tokens.append(_Token("minus", ch, i))
            i += 1
        else:
            start = i
            while i < n and not query[i].isspace() and query[i] not in _SPECIAL:
                i += 1
            word = query[start:i]
            if not word.isprintable():
                raise QueryError("the query contains a control character", start, query)
            kind = word.lower() if word in _KEYWORDS else "word"
            tokens.append(_Token(kind, word, start))  # type: ignore[arg-type]
    tokens.append(_Token("end", "", n))
    return tokens


def _starts_operand(query: str, i: int) -> bool:
    """A '-' directly followed by a word, phrase or '(' negates it (-mood:dark); otherwise it is text."""
    return i < len(query) and (query[i] in '("' or not (query[i].isspace() or query[i] in _SPECIAL))


# --- parser ----------------------------------------------------------------------------------------


def parse_query(query: str) -> Node:
    """Parse a query into its syntax tree; raises QueryError for anything malformed."""
    if len(query) > MAX_QUERY_CHARS:
        raise QueryError(f"the query is longer than {MAX_QUERY_CHARS} characters", MAX_QUERY_CHARS, query)
    if not query.strip():
        raise QueryError("the query is empty", 0, query)
    return _Parser(query, tokenize(query)).parse()


class _Parser:
    def __init__(self, query: str, tokens: list[_Token]) -> None:
        self.query = query
        self.tokens = tokens
        self.at = 0
        self.terms = 0
        self.depth = 0

    def parse(self) -> Node:
        node = self.or_expr()
        token = self.peek()
        if token.kind == "rparen":
            raise self.error("unbalanced ')': no '(' opens it", token)
        if token.kind != "end":
            raise self.error(f"unexpected {token.text!r}", token)
        return node

    def peek(self) -> _Token:
        return self.tokens[self.at]

    def take(self) -> _Token:
        token = self.tokens[self.at]
        self.at += 1
        return token

    def error(self, message: str, token: _Token) -> QueryError:
        return QueryError(message, token.position, self.query)

    def or_expr(self) -> Node:
        items = [self.and_expr()]
        while self.peek().kind == "or":
            self.take()
            items.append(self.and_expr())
        return items[0] if len(items) == 1 else Or(tuple(items))

    def and_expr(self) -> Node:
        items = [self.not_expr()]
        while True:
            token = self.peek()
            if token.kind == "and":
                self.take()
                items.append(self.not_expr())
            elif token.kind in ("word", "phrase", "lparen", "not", "minus"):
                items.append(self.not_expr())
            else:
                break
        return items[0] if len(items) == 1 else And(tuple(items))

    def not_expr(self) -> Node:
        token = self.peek()
        if token.kind in ("not", "minus"):
            self.take()
            self.enter(token)
            try:
                return Not(self.not_expr(), token.position)
            finally:
                self.depth -= 1
        return self.primary()

    def enter(self, token: _Token) -> None:
        self.depth += 1
        if self.depth > MAX_DEPTH:
            raise self.error(f"the query nests deeper than {MAX_DEPTH} levels", token)

    def count_term(self, token: _Token) -> None:
        self.terms += 1
        if self.terms > MAX_TERMS:
            raise self.error(f"the query has more than {MAX_TERMS} terms", token)

    def primary(self) -> Node:
        token = self.take()
        if token.kind == "lparen":
            self.enter(token)
            if self.peek().kind == "rparen":
                raise self.error("empty parentheses", token)
            node = self.or_expr()
            closing = self.take()
            if closing.kind != "rparen":
                raise self.error("missing ')' to close this '('", token)
            self.depth -= 1
            return node
        if token.kind == "phrase":
            self.count_term(token)
            return Phrase(" ".join(token.text.split()), token.position)
        if token.kind == "word":
            self.count_term(token)
            following = self.peek()
            if following.kind == "colon":
                self.take()
                return self.field_value(token)
            if following.kind == "cmp":
                op = self.take()
                value = self.take()
                if value.kind not in ("word", "phrase"):
                    raise self.error(f"{token.text}{op.text} needs a value", value)
                return Compare(token.text, op.text, value.text, token.position, value.position)  # type: ignore[arg-type]
            return Term(token.text, token.position)
        if token.kind == "end":
            raise self.error("the query ends where a term was expected", token)
        if token.kind == "rparen":
            raise self.error("unbalanced ')': no '(' opens it", token)
        if token.kind in ("and", "or"):
            raise self.error(f"{token.text} needs a term on both sides", token)
        raise self.error(f"unexpected {token.text!r}", token)

    def field_value(self, name: _Token) -> Node:
        value = self.take()
        if value.kind == "phrase":
            return FieldMatch(name.text, value.text, name.position, value.position, value_quoted=True)
        if value.kind != "word":
            raise self.error(f"{name.text}: needs a value", value)
        if ".." in value.text:
            low, _, high = value.text.partition("..")
            if ".." in high or (not low and not high):
                raise self.error(f"{value.text!r} is not a range: write low..high", value)
            return Range(name.text, low, high, name.position, value.position)
        return FieldMatch(name.text, value.text, name.position, value.position)
