"""Decoding text whose declared charset may be missing, misspelt or a lie.

Real mail declares ``ks_c_5601-1987``, ``x-unknown``, ``utf-8-purple`` or ``437``, puts the charset only in an
HTML ``<meta>``, or sends windows-1251 labelled KOI8-R. The order here: the declared charset when Python
knows it (through an alias table for the names mail clients invent) and it decodes cleanly; then UTF-8; then
charset-normalizer's guess; and, as the last resort, the declared or guessed charset with replacement
characters, so decoding never fails and never loses the readable part.
"""

from __future__ import annotations

import codecs
import re

from charset_normalizer import from_bytes

#: Names seen in real mail that Python's codec registry does not know, mapped to what they mean.
ALIASES = {
    "ks_c_5601-1987": "cp949",
    "ks_c_5601": "cp949",
    "x-mac-cyrillic": "mac_cyrillic",
    "x-user-defined": "windows-1252",
    "unicode-1-1-utf-7": "utf-7",
    "x-koi8-r": "koi8_r",
    "koi8": "koi8_r",
    "win-1251": "cp1251",
    "cp-1251": "cp1251",
    "windows1251": "cp1251",
    "gb2312": "gb18030",  # GB18030 is a superset, and mail labelled gb2312 often uses its extra characters
    "gbk": "gb18030",
    "iso-8859-8-i": "iso-8859-8",
    "us-ascii": "utf-8",  # 8-bit bytes in "ASCII" mail are nearly always UTF-8 or Latin-1; let them try
    "ascii": "utf-8",
}

_META_CHARSET = re.compile(rb"""<meta[^>]+charset\s*=\s*["']?\s*([A-Za-z0-9_.:\-]+)""", re.IGNORECASE)
#: Guessing costs time on big parts; a prefix is enough to recognise a charset.
GUESS_PREFIX = 64 * 1024


def codec_for(name: str | None) -> str | None:
    """The Python codec for a declared charset name, or None when it is unknown or missing."""
    if not name:
        return None
    cleaned = name.strip().strip("\"'").lower()
    cleaned = ALIASES.get(cleaned, cleaned)
    try:
        return codecs.lookup(cleaned).name
    except (LookupError, ValueError):
        return None


def html_meta_charset(data: bytes) -> str | None:
    """The charset an HTML document declares in a ``<meta>`` tag (only the head is searched)."""
    match = _META_CHARSET.search(data[:4096])
    return match.group(1).decode("ascii", "replace") if match else None


def decode_text(data: bytes, declared: str | None, *, html: bool = False) -> str:
    """Decode a text part to ``str``; never raises."""
    if not data:
        return ""
    if data.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
        return data.decode("utf-16", "replace")
    if data.startswith(codecs.BOM_UTF8):
        return data[3:].decode("utf-8", "replace")
    candidates = [codec_for(declared)]
    if html:
        candidates.append(codec_for(html_meta_charset(data)))
    candidates.append("utf-8")
    for codec in candidates:
        if codec is None:
            continue
        try:
            return data.decode(codec)
        except (UnicodeDecodeError, LookupError):
            continue
    guess = from_bytes(data[:GUESS_PREFIX]).best()
    if guess is not None:
        return data.decode(guess.encoding, "replace")
    return data.decode(candidates[0] or "utf-8", "replace")


def decode_header_bytes(value: str) -> str:
    """Repair a header the parser read as surrogate-escaped 8-bit bytes (raw UTF-8 or KOI8-R in headers)."""
    try:
        raw = value.encode("utf-8", "surrogateescape")
    except UnicodeEncodeError:
        return value
    if raw == value.encode("utf-8", "replace"):
        return value
    return decode_text(raw, None)
