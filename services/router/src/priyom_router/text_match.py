"""Morphology-tolerant keyword matching for Russian and English text, aware of negation.

A supervisor writes a keyword once, in any form («сломался», "broken"), and every inflection of it should hit:
«сломалось», «сломались», "breaks". A keyword hits when its words appear in the text as consecutive words,
compared two ways: by Snowball stems (no dictionary, catches unknown words and typos of the ending) and by
pymorphy3 lemmas (:mod:`priyom_router.morphology`: «пришёл» is «прийти», which no stemmer sees). Words of
another derivation («поломка» beside «сломался») are separate keywords in the rule file. A keyword ending in
``*`` is a plain prefix of the word instead, for the cases neither reaches (``слом*``).

Negation: a keyword does not hit a word right after «не», «нет», «без», "not", "no", "can't"…, unless the
keyword itself starts with one. «срочно» does not hit «не срочно», «работает» does not hit «не работает»,
and the phrase «не работает» hits «не работает».
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import cached_property

from priyom_kit.word_stems import stem

from .morphology import NEGATIONS, lemma

_WORD = re.compile(r"[^\W_]+(?:['’][a-z]+)?", re.UNICODE)


def normalise(text: str) -> str:
    """Lower case with «ё» folded to «е» and the typographic apostrophe made plain."""
    return text.lower().replace("ё", "е").replace("’", "'")


def words(text: str) -> list[str]:
    return _WORD.findall(normalise(text))


@dataclass(frozen=True)
class Keyword:
    """One keyword or phrase of a rule, reduced once when the rule file is loaded."""

    source: str
    stems: tuple[str, ...]
    prefix: str | None = None
    lemmas: tuple[str, ...] = ()
    negated: bool = False

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
        return cls(source, tuple(stem(w) for w in found), lemmas=tuple(lemma(w) for w in found),
                   negated=found[0] in NEGATIONS)


class Text:
    """A contact's text, tokenised once and then asked about many keywords."""

    def __init__(self, *parts: str | None) -> None:
        self.raw = "\n".join(p for p in parts if p)
        self.words = words(self.raw)
        self.stems = [stem(w) for w in self.words]
        self._stem_set = frozenset(self.stems)

    @cached_property
    def lemmas(self) -> list[str]:
        """Dictionary forms, position for position with :attr:`words` (computed when first asked)."""
        return [lemma(w) for w in self.words]

    @cached_property
    def _lemma_set(self) -> frozenset[str]:
        return frozenset(self.lemmas)

    @cached_property
    def negated(self) -> list[bool]:
        """Whether each word comes right after a negation («не работает»: «работает» is negated)."""
        return [i > 0 and self.words[i - 1] in NEGATIONS for i in range(len(self.words))]

    def has(self, keyword: Keyword) -> bool:
        if keyword.prefix is not None:
            return any(w.startswith(keyword.prefix) and not self.negated[i] for i, w in enumerate(self.words))
        return (self._at(keyword, keyword.stems, self.stems, self._stem_set)
                or self._at(keyword, keyword.lemmas, self.lemmas, self._lemma_set))

    def _at(self, keyword: Keyword, wanted: tuple[str, ...], seen: list[str], seen_set: frozenset[str]) -> bool:
        if wanted[0] not in seen_set:
            return False
        n = len(wanted)
        return any(s == wanted[0] and tuple(seen[i:i + n]) == wanted and (keyword.negated or not self.negated[i])
                   for i, s in enumerate(seen))

    def first_hit(self, keywords: tuple[Keyword, ...]) -> Keyword | None:
        """The first keyword (in the rule's order) that occurs, for the decision's trail."""
        return next((k for k in keywords if self.has(k)), None)
