"""Training needs the ``training`` extra (scikit-learn); without it the message says how to install it."""

from __future__ import annotations

import sys

import pytest

from priyom_contracts import ContactType
from priyom_router.model_fit import Example, fit


def test_fit_without_scikit_learn_names_the_extra(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setitem(sys.modules, "sklearn.feature_extraction.text", None)  # as if it were not installed
    example = Example(subject=None, body="не работает", label=next(iter(ContactType)), source="test")
    with pytest.raises(ImportError, match=r"pip install 'priyom-router\[training\]'"):
        fit([example])
