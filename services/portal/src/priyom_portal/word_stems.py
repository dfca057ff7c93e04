"""Words reduced to their Snowball stems, so «принтеры не печатают» and «Принтер не печатает» meet.

SQLite's FTS5 tokenizers know no Russian morphology, so the SQLite index holds stems made here, and every
query is stemmed here the same way before it reaches FTS5. PostgreSQL stems with its own ``russian`` and
``english`` configurations, which run the same Snowball algorithms, so both databases find the same articles.
Words that say nothing about a problem («не», «как», "the", "how") are dropped from queries: PostgreSQL's
configurations drop them too, and a query of only such words finds nothing rather than everything.
"""

from __future__ import annotations

import re

from priyom_kit.word_stems import stem

_WORD = re.compile(r"[^\W_]+", re.UNICODE)

#: The commonest words of both languages that carry no subject (a short list: PostgreSQL's are longer, and a
#: word kept here only makes a query stricter on SQLite, never wrong).
STOPWORDS = frozenset(
    """
и в во не что он на я с со как а то все она так его но да ты к у же вы за бы по только ее мне было вот от
меня еще нет о из ему теперь когда даже ну вдруг ли если уже или ни быть был него до вас нибудь опять уж вам
ведь там потом себя ничего ей может они тут где есть надо ней для мы тебя их чем была сам чтоб без будто
чего раз тоже себе под будет ж тогда кто этот того потому этого какой совсем ним здесь этом один почти мой
тем чтобы нее сейчас были куда зачем всех никогда можно при наконец два об другой хоть после над больше тот
через эти нас про всего них какая много разве три эту моя впрочем хорошо свою этой перед иногда лучше чуть
том нельзя такой им более всегда конечно всю между
a an and are as at be but by for if in into is it no not of on or such that the their then there these
they this to was will with i me my we our you your he him his she her its what which who whom do does did
doing have has had how why when where can cannot
""".split()
)


def normalise(text: str) -> str:
    """Lower case, «ё» folded to «е» (customers type both)."""
    return text.lower().replace("ё", "е")


def words(text: str) -> list[str]:
    return _WORD.findall(normalise(text))


def stemmed_text(text: str) -> str:
    """Every word's stem, in order and space-separated: what the SQLite index holds for a text."""
    return " ".join(stem(word) for word in words(text))


def query_stems(text: str, limit: int = 16) -> list[str]:
    """The stems a query searches for, stopwords dropped, each once, at most ``limit`` of them."""
    seen: dict[str, None] = {}
    for word in words(text):
        if word not in STOPWORDS:
            seen.setdefault(stem(word), None)
        if len(seen) >= limit:
            break
    return list(seen)


def snippet(text: str, query: str, width: int = 200) -> str:
    """A piece of ``text`` about ``width`` characters long around the first word whose stem the query has
    (the text's start when none has), cut at word boundaries, with "…" where it was cut."""
    wanted = set(query_stems(query))
    start = 0
    for match in _WORD.finditer(text):
        if stem(normalise(match.group())) in wanted:
            start = max(0, match.start() - width // 4)
            break
    if start:
        space = text.find(" ", start)
        start = space + 1 if 0 <= space < start + 20 else start
    end = start + width
    if end < len(text):
        space = text.rfind(" ", start, end)
        end = space if space > start else end
    piece = " ".join(text[start:end].split())
    return ("…" if start else "") + piece + ("…" if end < len(text) else "")
