"""Morphology-tolerant keyword matching for Russian and English text.

A supervisor writes a keyword once, in any form («сломался», "broken"), and every inflection of it should hit:
«сломалось», «сломались», "breaks". Both the keyword and the text are reduced to Snowball stems, and a
keyword hits when its stems appear in the text as consecutive words. Snowball is a stemmer, not a lemmatiser:
it needs no dictionary (fast, deterministic, 2 small pure-Python tables), at the price that words of another
derivation («поломка» beside «сломался») are separate keywords in the rule file. A keyword ending in ``*``
is a plain prefix of the word instead, for the cases stemming cannot reach (``слом*``).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import lru_cache

import snowballstemmer

_WORD = re.compile(r"\w+", re.UNICODE)
_CYRILLIC = re.compile(r"[а-я]")
_LATIN = re.compile(r"[a-z]")
_RUSSIAN = snowballstemmer.stemmer("russian")
_ENGLISH = snowballstemmer.stemmer("english")


def normalise(text: str) -> str:
    """Lower case with «ё» folded to «е»: Russian writers use both for the same letter."""
    return text.lower().replace("ё", "е")


@lru_cache(maxsize=65536)
def stem(word: str) -> str:
    """The Snowball stem of one normalised word, in the language its letters are written in."""
    if _CYRILLIC.search(word):
        return _RUSSIAN.stemWord(word)
    if _LATIN.search(word):
        return _ENGLISH.stemWord(word)
    return word


def words(text: str) -> list[str]:
    return _WORD.findall(normalise(text))


@dataclass(frozen=True)
class Keyword:
    """One keyword or phrase of a rule, reduced once when the rule file is loaded."""

    source: str
    stems: tuple[str, ...]
    prefix: str | None = None

    @classmethod
    def parse(cls, source: str) -> Keyword:
        text = source.strip()
        if not text:
            raise ValueError("an empty keyword matches everything")
        if text.endswith("*"):
            prefix = normalise(text[:-1]).strip()
            if len(prefix) < 3 or not _WORD.fullmatch(prefix):
                raise ValueError(f"prefix keyword {source!r} must be one word of at least 3 letters before '*'")
            return cls(source, (), prefix)
        found = words(text)
        if not found:
            raise ValueError(f"keyword {source!r} has no letters or digits")
        return cls(source, tuple(stem(w) for w in found))


class Text:
    """A contact's text, tokenised and stemmed once and then asked about many keywords."""

    def __init__(self, *parts: str | None) -> None:
        self.raw = "\n".join(p for p in parts if p)
        self.words = words(self.raw)
        self.stems = [stem(w) for w in self.words]
        self._stem_set = frozenset(self.stems)

    def has(self, keyword: Keyword) -> bool:
        if keyword.prefix is not None:
            return any(w.startswith(keyword.prefix) for w in self.words)
        first, rest = keyword.stems[0], keyword.stems[1:]
        if first not in self._stem_set:
            return False
        if not rest:
            return True
        n = len(keyword.stems)
        return any(tuple(self.stems[i:i + n]) == keyword.stems
                   for i, s in enumerate(self.stems) if s == first)

    def first_hit(self, keywords: tuple[Keyword, ...]) -> Keyword | None:
        """The first keyword (in the rule's order) that occurs, for the decision's trail."""
        return next((k for k in keywords if self.has(k)), None)
