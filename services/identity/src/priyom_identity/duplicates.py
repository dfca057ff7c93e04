"""Which cards and persons look like the same client entered twice. Pure: the store supplies candidates.

Names are compared after dropping what does not distinguish companies (legal forms such as ООО, quotes,
punctuation, case, ё/е), with rapidfuzz's token-set ratio, so «ООО "Ромашка"» and "Ромашка, ООО" score
100 and "Ромашка-Сервис" still scores high. A suggestion is only a suggestion: merging is a person's
decision (:mod:`.merging`), never an automatic one.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Generic, TypeVar

from rapidfuzz import fuzz

#: Scores (0–100) from which two names are suggested as one.
SIMILAR = 88.0
LEGAL_FORMS = frozenset({
    "ооо", "оао", "зао", "пао", "ао", "ип", "нко", "ано", "гуп", "муп", "фгуп", "тоо", "ooo", "llc", "ltd",
    "inc", "gmbh", "jsc", "co", "company", "компания", "группа", "гк",
})
_WORD = re.compile(r"[\w]+", re.UNICODE)

T = TypeVar("T")


def comparable_name(name: str) -> str:
    """The words of a name that tell clients apart, lower-case, without legal forms and punctuation."""
    words = _WORD.findall(name.casefold().replace("ё", "е"))
    return " ".join(w for w in words if w not in LEGAL_FORMS)


def name_similarity(a: str, b: str) -> float:
    """0–100: how alike two client or person names are once the noise is gone."""
    left, right = comparable_name(a), comparable_name(b)
    if not left or not right:
        return 0.0
    return float(fuzz.token_set_ratio(left, right))


def search_token(name: str) -> str | None:
    """The longest distinguishing word of ``name`` (3+ letters): what the store pre-filters candidates by."""
    words = sorted(comparable_name(name).split(), key=len, reverse=True)
    return words[0] if words and len(words[0]) >= 3 else None


@dataclass(frozen=True)
class Similar(Generic[T]):
    item: T
    score: float


def similar_to(name: str, candidates: Iterable[tuple[T, str]], threshold: float = SIMILAR) -> list[Similar[T]]:
    """Candidates whose name scores at least ``threshold`` against ``name``, best first."""
    scored = [Similar(item, name_similarity(name, other)) for item, other in candidates]
    return sorted((s for s in scored if s.score >= threshold), key=lambda s: -s.score)


def similar_pairs(named: Sequence[tuple[T, str]], threshold: float = SIMILAR) -> list[tuple[T, T, float]]:
    """Pairs among ``named`` (e.g. the persons of one company) whose names score at least ``threshold``."""
    pairs = []
    for i, (a, name_a) in enumerate(named):
        for b, name_b in named[i + 1:]:
            score = name_similarity(name_a, name_b)
            if score >= threshold:
                pairs.append((a, b, score))
    return sorted(pairs, key=lambda p: -p[2])
