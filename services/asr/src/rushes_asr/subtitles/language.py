# ruff: noqa: RUF001  (typographic quotes, dashes and full-width marks are the point here)
"""Per-language word knowledge the line and cue breaks rely on, kept deliberately small.

Broadcast guidelines ask that a line never ends on an article or determiner (its noun is on the
next line) and never separates a first name from a last name. Both need some knowledge of the
language: a list of determiners, and whether capital letters mark names (not in German, where
every noun is capitalised). Languages without an entry get only the length and timing rules.
"""

from __future__ import annotations

import unicodedata
from dataclasses import dataclass

_CLOSERS = "\"'”’»)]}›"
SENTENCE_MARKS = ".?!…。？！"
CLAUSE_MARKS = ",;:—–、，；："


@dataclass(frozen=True)
class LanguageRules:
    """What the break rules know about one language."""

    code: str
    determiners: frozenset[str] = frozenset()
    """Words that always announce a noun: a line or cue must not end on one."""
    weak_words: frozenset[str] = frozenset()
    """Prepositions, conjunctions and ambiguous determiners: a break after one is poor, not wrong;
    a break before one is good."""
    abbreviations: frozenset[str] = frozenset()
    """Words whose full stop does not end a sentence."""
    capitals_mark_names: bool = False
    """Whether two capitalised words in a row are likely a name (not where nouns are capitalised)."""
    single_capital_words: frozenset[str] = frozenset()
    """Capitalised words that are never names (English 'I')."""

    @property
    def has_word_rules(self) -> bool:
        return bool(self.determiners) or self.capitals_mark_names


def _words(text: str) -> frozenset[str]:
    return frozenset(text.split())


_LANGUAGES: dict[str, LanguageRules] = {
    "en": LanguageRules(
        code="en",
        determiners=_words("a an the my your our their its every"),
        weak_words=_words(
            "this that these those his her some any no each another which whose who whom to of in on at "
            "for with from by into onto about and or but nor so because if when while as than"
        ),
        abbreviations=_words("mr mrs ms dr st prof jr sr vs etc e.g i.e mt ft"),
        capitals_mark_names=True,
        single_capital_words=_words("i i'm i'll i've i'd i’m i’ll i’ve i’d"),
    ),
    "fr": LanguageRules(
        code="fr",
        determiners=_words(
            "le la les un une des du au aux mon ma mes ton ta tes son sa ses notre nos votre vos leur leurs "
            "ce cet cette ces"
        ),
        weak_words=_words("de à en dans sur pour par avec sans et ou mais que qui dont"),
        abbreviations=_words("m mme mlle dr st"),
        capitals_mark_names=True,
    ),
    "es": LanguageRules(
        code="es",
        determiners=_words("el la los las un una unos unas mi mis tu tus su sus nuestro nuestra este esta"),
        weak_words=_words("de a en con por para sin y o pero que quien"),
        abbreviations=_words("sr sra srta dr"),
        capitals_mark_names=True,
    ),
    "it": LanguageRules(
        code="it",
        determiners=_words("il lo la i gli le un uno una mio mia miei mie tuo tua suo sua nostro"),
        weak_words=_words("di a da in con su per tra fra e o ma che chi"),
        abbreviations=_words("sig dott"),
        capitals_mark_names=True,
    ),
    "pt": LanguageRules(
        code="pt",
        determiners=_words("o a os as um uma uns umas meu minha seu sua nosso nossa este esta"),
        weak_words=_words("de em para por com sem e ou mas que quem"),
        abbreviations=_words("sr sra dr"),
        capitals_mark_names=True,
    ),
    "de": LanguageRules(
        code="de",
        determiners=_words(
            "der die das den dem des ein eine einen einem einer eines mein meine meinen dein deine "
            "seine seinen ihre ihren unser unsere eure"
        ),
        weak_words=_words("zu von mit für auf in an bei nach aus und oder aber dass weil wenn"),
        abbreviations=_words("hr fr dr bzw usw z.b"),
        capitals_mark_names=False,
    ),
    "nl": LanguageRules(
        code="nl",
        determiners=_words("de het een mijn jouw onze hun deze dit"),
        weak_words=_words("van in op met voor naar bij en of maar dat omdat als"),
        abbreviations=_words("dhr mevr dr"),
        capitals_mark_names=True,
    ),
}


def rules_for(language: str) -> LanguageRules:
    """Rules for a BCP-47 tag ("en", "en-GB"); a language without an entry gets empty rules."""
    primary = language.strip().lower().replace("_", "-").split("-")[0]
    return _LANGUAGES.get(primary, LanguageRules(code=primary or "und"))


def core(token: str) -> str:
    """The word without surrounding punctuation, case-folded: what the word lists are keyed by."""
    return _strip_punctuation(token).strip().casefold()


def _strip_punctuation(token: str) -> str:
    start, end = 0, len(token)
    while start < end and unicodedata.category(token[start])[0] in "PS":
        start += 1
    while end > start and unicodedata.category(token[end - 1])[0] in "PS":
        end -= 1
    return token[start:end]


def trailing_mark(token: str) -> str:
    """The punctuation mark that ends a token, looking through closing quotes and brackets."""
    body = token.rstrip(_CLOSERS)
    return body[-1] if body and unicodedata.category(body[-1])[0] == "P" else ""


def ends_sentence(token: str, rules: LanguageRules) -> bool:
    mark = trailing_mark(token)
    if not mark or mark not in SENTENCE_MARKS:
        return False
    return not (mark == "." and core(token) in rules.abbreviations)


def ends_clause(token: str) -> bool:
    mark = trailing_mark(token)
    return bool(mark) and mark in CLAUSE_MARKS


def ends_with_punctuation(token: str) -> bool:
    return bool(trailing_mark(token))


def is_capitalised(token: str, rules: LanguageRules) -> bool:
    word = _strip_punctuation(token)
    return bool(word) and word[0].isupper() and word.casefold() not in rules.single_capital_words


def forbidden_break(before: str, after: str, rules: LanguageRules) -> str | None:
    """Why a break (line or cue) between these two tokens is forbidden, or None if it is allowed."""
    if ends_with_punctuation(before):
        return None
    if core(before) in rules.determiners:
        return f"break after the determiner {before!r}"
    if rules.capitals_mark_names and is_capitalised(before, rules) and is_capitalised(after, rules):
        return f"break inside the name {before} {after}"
    return None
