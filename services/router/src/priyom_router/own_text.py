"""The customer's own new words: quoted history, forwarded headers, signatures and disclaimers cut off.

A reply quotes the whole thread below it, and a signature carries slogans and department names («отдел
рекламаций», «Купите наши окна со скидкой»): read with the new text, the old thread's «СРОЧНО! Не работает»
turns a thank-you into an urgent service request. Both the rule book and the learned model read only what
this module keeps (:func:`reading`). The cut is made at the first line that starts quoted history or a signature; when that
would leave nothing (a message that is all quote), the whole text is kept.
"""

from __future__ import annotations

import re

from .morphology import cyrillic_reading
from .text_match import Text

#: A subject that only repeats the old thread's ("Re: Счёт за май", "Fwd: …") says nothing new.
_REPLY_SUBJECT = re.compile(r"^\s*(?:(?:re|fw|fwd|aw|wg|ответ|отв|пересл)\s*(?:\[\d+\])?\s*:\s*)+", re.IGNORECASE)

_HISTORY = re.compile(
    r"^\s*(?:>"
    r"|-{2,}\s*(?:original message|forwarded message|исходное сообщение|пересылаемое сообщение)"
    r"|(?:от|from)\s*:\s*\S"
    r"|on\b.{3,120}\bwrote:\s*$"
    r"|.{3,120}\b(?:писал|написал)[аи]?(?:\s*\(а\))?\s*:\s*$)",
    re.IGNORECASE)

_SIGNATURE = re.compile(
    r"^\s*(?:--\s*$"
    r"|(?:с уважением|с наилучшими пожеланиями|(?:with )?(?:best|kind|warm) regards|sincerely)\b"
    r"|(?:regards|cheers|thanks|thank you|спасибо|заранее спасибо|благодарю)[\s,.!]*$"
    # "Thanks, Nora", "Regards, Anna Berg, HR", «Спасибо, Мария»: a sign-off and a name on one line, every word
    # capitalised (so «Спасибо, всё заработало!» stays the customer's text).
    r"|(?:regards|best|cheers|thanks|thank you|many thanks|спасибо|заранее спасибо|благодарю),\s*"
    r"(?-i:[A-ZА-ЯЁ][\w.'-]*(?:[\s,]+[A-ZА-ЯЁ&][\w.'&-]*){0,4})[\s.!]*$"
    r"|(?:sent from my|отправлено (?:с|из))\b"
    r"|.*(?:получили (?:это|данное) (?:письмо|сообщение) по ошибке|конфиденциальн"
    r"|(?:e-?mail|message) (?:and any attachments )?(?:is|are|may be) confidential"
    r"|received this (?:e-?mail|message) in error))",
    re.IGNORECASE)

_LETTER = re.compile(r"[^\W\d_]")


def own_body(body: str) -> str:
    """The body down to the first line of quoted history or signature."""
    kept: list[str] = []
    for line in body.splitlines():
        if _HISTORY.match(line) or _SIGNATURE.match(line):
            break
        kept.append(line)
    text = "\n".join(kept).strip()
    return text if _LETTER.search(text) else body


def own_subject(subject: str | None) -> str | None:
    """The subject, unless it is only the old thread's ``Re:``/``Fwd:`` subject."""
    if not subject or _REPLY_SUBJECT.match(subject):
        return None
    return subject


def own_text(subject: str | None, body: str | None) -> tuple[str | None, str]:
    """Subject and body as the classification reads them."""
    return own_subject(subject), own_body(body or "")


def reading(subject: str | None, body: str | None) -> Text:
    """The contact as the rule book and the model read it: its own words, transliterated Russian in Cyrillic."""
    own_s, own_b = own_text(subject, body)
    return Text(cyrillic_reading(own_s or ""), cyrillic_reading(own_b))
