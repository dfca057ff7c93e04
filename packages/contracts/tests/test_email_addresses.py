"""The contracts' e-mail address type: pydantic's, with its answers remembered (each service checked the same
address again on every event)."""

from __future__ import annotations

import pydantic
import pytest
from pydantic import TypeAdapter, ValidationError

from priyom_contracts.base import EmailStr, _checked_email

OURS = TypeAdapter(EmailStr)
PYDANTICS = TypeAdapter(pydantic.EmailStr)


@pytest.mark.parametrize("value", ["anna@example.ru", "Anna.Petrova@Example.RU", "иван@пример.рф",
                                   "x@localhost", "no-at-sign", "two@@example.ru", "a@b", ""])
def test_the_same_answers_as_pydantics_own(value: str) -> None:
    try:
        expected = PYDANTICS.validate_python(value)
    except ValidationError as refused:
        with pytest.raises(ValidationError) as ours:
            OURS.validate_python(value)
        assert [e["type"] for e in ours.value.errors()] == [e["type"] for e in refused.errors()]
    else:
        assert OURS.validate_python(value) == expected
        assert OURS.validate_python(value) == expected  # the remembered answer is the same


def test_an_address_checked_again_is_not_parsed_again() -> None:
    _checked_email.cache_clear()
    for _ in range(5):
        OURS.validate_python("repeat@example.ru")
    assert (_checked_email.cache_info().hits, _checked_email.cache_info().misses) == (4, 1)


def test_the_schema_still_says_email() -> None:
    assert OURS.json_schema() == PYDANTICS.json_schema() == {"format": "email", "type": "string"}
