"""One word's Snowball stem, Russian or English after the letters it is written in.

The router matches its rule book's keywords by stems and the portal searches its knowledge base by them
(SQLite has no Russian stemmer of its own), so both must cut a word the same way: «принтеры» and «принтер»
to «принтер», "printing" to "print".
"""

from __future__ import annotations

import re
from functools import lru_cache

import snowballstemmer

_CYRILLIC = re.compile(r"[а-я]")
_LATIN = re.compile(r"[a-z]")
_RUSSIAN = snowballstemmer.stemmer("russian")
_ENGLISH = snowballstemmer.stemmer("english")


@lru_cache(maxsize=65536)
def stem(word: str) -> str:
    """The Snowball stem of one lower-case word («ё» already folded to «е»), in the language its letters are
    written in; a word of neither alphabet (digits, say) as it is."""
    if _CYRILLIC.search(word):
        return _RUSSIAN.stemWord(word)
    if _LATIN.search(word):
        return _ENGLISH.stemWord(word)
    return word
