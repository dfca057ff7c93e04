"""Which staff members a note's text @mentions (pure: the names come from the staff accounts).

Names are matched as written on the account, so a name of two words ("@Анна Иванова") is one mention; the
longest name wins where one begins another ("@Анна Иванова" is not also "@Анна"). Case does not matter, and a
name must end where a word ends ("@Иван" is not in "@Иванова").
"""

from __future__ import annotations

import re
from collections.abc import Iterable


def mentioned(body: str, names: Iterable[str]) -> list[str]:
    """The names ``body`` @mentions, each once, in the order they first appear."""
    found: list[tuple[int, str]] = []
    taken: list[tuple[int, int]] = []
    for name in sorted(set(names), key=len, reverse=True):
        for match in re.finditer("@" + re.escape(name) + r"(?!\w)", body, re.IGNORECASE):
            if not any(start <= match.start() < end for start, end in taken):
                taken.append(match.span())
                found.append((match.start(), name))
                break
    return [name for _, name in sorted(found)]
