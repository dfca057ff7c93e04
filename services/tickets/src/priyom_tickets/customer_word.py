"""Does the customer's message confirm the solution? Pure, and deliberately cautious.

A ticket resolved (or a complaint's action plan put to the customer) waits for the customer's word. A short
"спасибо, всё работает" or "confirmed, thanks" is that word: the ticket closes as the lifecycle asks. Anything
else (a question, a negation, "спасибо, но ошибка осталась", a long message) is taken as "not solved", and the
ticket goes back to work: reopening by mistake costs an agent a look, closing by mistake loses a customer.
"""

from __future__ import annotations

import re

#: Longer messages carry more than a confirmation: an agent reads them.
MAX_WORDS = 12
_WORD = re.compile(r"[\w']+", re.UNICODE)
_CONFIRMS = re.compile(
    r"\b(подтверждаю|подтверждено|все работает|заработало|работает|решено|вопрос решен|"
    r"можно закрывать|закрывайте|спасибо|благодарю|большое спасибо|отлично|"
    r"confirmed?|it works|works now|working now|resolved|solved|you can close|please close|thanks|thank you)\b")
_DOUBTS = re.compile(
    r"\b(не|нет|ни|но|однако|снова|опять|все еще|still|not|no|but|again|doesn't|does not|don't|isn't|"
    r"won't|can't|cannot|problem|проблема|ошибка|error)\b")


def confirms(text: str) -> bool:
    """True for a short message that confirms and neither asks nor doubts."""
    words = text.strip().lower().replace("ё", "е") if text else ""  # "всё" and "все" alike
    if not words or "?" in words or len(_WORD.findall(words)) > MAX_WORDS:
        return False
    normalised = " ".join(_WORD.findall(words))
    return bool(_CONFIRMS.search(normalised)) and not _DOUBTS.search(normalised)
