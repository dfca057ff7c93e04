"""The JSON codec of the databases' JSON columns: orjson, with the standard library's answer kept where they differ.

Every event a service stages goes through a JSON column twice (the outbox's payload written, then read back by the
relay), and every arrival's outcome once (the inbox); the standard library's encoder and decoder were a few
percent of each service's CPU a contact. The bus bodies need nothing here: faststream encodes what it publishes with
orjson once it is installed (it is a dependency of the kit for that), and the kit's consumers read each body
with pydantic's own JSON parser (``model_validate_json``).

orjson refuses a few things the standard library takes: integers beyond 64 bits, ``NaN`` in a document read
back (rows written before this codec), and it writes what it can where ``json`` raises (a ``datetime``).
Where orjson refuses, the standard library answers, so a row reads and writes as it did before; where
``json`` would have raised, the value is written (no caller relied on that error: every payload is
``model_dump(mode="json")`` or plain data).
"""

from __future__ import annotations

import json
from typing import Any

import orjson

# Keys that are not strings (an int counter key) are written as strings, as ``json.dumps`` writes them.
_OPTIONS = orjson.OPT_NON_STR_KEYS


def dumps(value: Any) -> str:
    """``json.dumps(value)``, the same document (without the standard library's spaces), several times faster."""
    try:
        return orjson.dumps(value, option=_OPTIONS).decode()
    except TypeError:  # an integer beyond 64 bits, or what neither encodes (json raises then)
        return json.dumps(value)


def loads(text: str | bytes) -> Any:
    """``json.loads(text)``, several times faster."""
    try:
        return orjson.loads(text)
    except orjson.JSONDecodeError:  # NaN/Infinity written by json.dumps before, or really not JSON (json raises)
        return json.loads(text)
