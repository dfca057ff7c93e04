"""Stripping quoted history and signatures from a reply, in English and Russian.

The new message is what the customer wrote above the first marker of quoted history: an attribution line
("On … wrote:", "… пишет:", "… написал(а):"), an Outlook header block ("From:/Sent:", "От:/Отправлено:"), an
"Original Message" separator, or a run of ``>`` lines. Below it a signature ("-- ", "Sent from my iPhone",
"Отправлено с iPhone") is cut too. When cutting leaves nothing (the customer answered below the quote), the
text is kept without its ``>`` lines; the full original always travels beside it.
"""

from __future__ import annotations

import re

_ATTRIBUTION = re.compile(
    r"^\s*>?\s*("
    r"(on|am|le|el)\b.{0,200}\b(wrote|schrieb|a écrit|escribió)\s*:?"
    r"|.{0,200}\b(пишет|написал|написала|написал\(а\))\s*:"
    r"|\d{1,2}[./]\d{1,2}[./]\d{2,4}.{0,80}(wrote|пишет|написал\S*)\s*:?"
    r")\s*$",
    re.IGNORECASE,
)
_SEPARATOR = re.compile(
    r"^\s*(-{2,}\s*(original message|исходное сообщение|пересылаемое сообщение|forwarded message)\s*-{2,}"
    r"|_{20,}|-{20,})\s*$",
    re.IGNORECASE,
)
_HEADER_FROM = re.compile(r"^\s*\*?(from|от|de|von)\s*:\*?\s*\S", re.IGNORECASE)
_HEADER_NEXT = re.compile(r"^\s*\*?(sent|date|to|subject|отправлено|дата|кому|тема|envoyé|gesendet)\s*:",
                          re.IGNORECASE)
_SIGNATURE = re.compile(
    r"^\s*(--|—|-- ?"
    r"|sent from my \S.{0,40}|sent from (mail|outlook|yahoo mail) for .{0,40}|get outlook for \S.{0,30}"
    r"|отправлено (с|из) .{0,40}|sent with .{0,40}"
    r")\s*$",
    re.IGNORECASE,
)


def _is_attribution(lines: list[str], i: int) -> bool:
    line = lines[i]
    if _ATTRIBUTION.match(line):
        return True
    # Clients wrap a long "On <date>, <name> <address>" line before "wrote:".
    if i + 1 < len(lines) and re.match(r"^\s*(on|am|le)\b", line, re.IGNORECASE):
        return bool(_ATTRIBUTION.match(f"{line} {lines[i + 1]}"))
    return False


def _is_header_block(lines: list[str], i: int) -> bool:
    if not _HEADER_FROM.match(lines[i]):
        return False
    following = [line for line in lines[i + 1:i + 5] if line.strip()]
    return sum(bool(_HEADER_NEXT.match(line)) for line in following) >= 2


def _first_quote_line(lines: list[str]) -> int | None:
    for i, line in enumerate(lines):
        if _SEPARATOR.match(line) or _is_attribution(lines, i) or _is_header_block(lines, i):
            return i
        if line.lstrip().startswith(">") and any(text.strip() for text in lines[:i]):
            # A quote block that runs to the end (or nearly): history, not an interleaved answer.
            rest = [text for text in lines[i:] if text.strip()]
            if sum(text.lstrip().startswith(">") for text in rest) >= 0.8 * len(rest):
                return i
    return None


def _cut_signature(lines: list[str]) -> list[str]:
    for i in range(len(lines) - 1, -1, -1):
        if _SIGNATURE.match(lines[i]) and i > 0 and len(lines) - i <= 12:
            lines = lines[:i]  # keep looking upwards: "--" above "Sent from my iPhone"
    return lines


def strip_reply(text: str) -> str:
    """The new part of a reply: the text above the quoted history, without the signature."""
    lines = text.splitlines()
    cut = _first_quote_line(lines)
    new = lines[:cut] if cut is not None else lines
    new = _cut_signature(new)
    result = "\n".join(new).strip()
    if result:
        return result
    unquoted = "\n".join(line for i, line in enumerate(lines)
                         if not line.lstrip().startswith(">") and not _is_attribution(lines, i)).strip()
    return unquoted or text.strip()
