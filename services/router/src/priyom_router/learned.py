"""The learned second opinion: a linear model over :func:`~priyom_router.signals.model_terms`, kept as JSON.

The model is a multinomial logistic regression on TF-IDF weighted terms and character pieces of words, trained by
:mod:`priyom_router.training` with scikit-learn and written out as plain numbers: every term's IDF and its
weight for each type. Reading it back needs no scikit-learn and no pickle (a JSON file cannot run code when
loaded), answers in microseconds, and gives ``explain`` what a supervisor needs to disagree with it: the
terms that weighed most for the type it chose, and how sure it was.

The built-in model (``contact_model.json`` beside this module) is trained on
``services/router/training/contacts/train.jsonl`` and records that file's SHA-256; the router's tests retrain
it and compare, so a change of the data without a retrained model (or the reverse) fails the build.
"""

from __future__ import annotations

import json
import math
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from functools import cache
from importlib import resources
from operator import mul
from pathlib import Path
from typing import Any

from priyom_contracts import ContactType

from .signals import model_terms, piece_counts
from .text_match import Text

BUILT_IN = "contact_model.json"
FORMAT = 1
#: How many of the deciding terms a guess carries for ``explain`` and the trail.
TOP_TERMS = 6
#: How ``explain`` names the summed weight of the character pieces (:func:`~priyom_router.signals.pieces`).
PIECES_TERM = "(character pieces)"


@dataclass(frozen=True)
class Guess:
    """The model's answer: its types from the likeliest down, each with its probability, and the terms that
    weighed most for the first."""

    ranked: tuple[tuple[ContactType, float], ...]
    terms: tuple[tuple[str, float], ...] = ()

    @property
    def type(self) -> ContactType:
        return self.ranked[0][0]

    @property
    def confidence(self) -> float:
        return self.ranked[0][1]

    @property
    def runner_up(self) -> tuple[ContactType, float]:
        return self.ranked[1]


#: What :func:`~priyom_router.contact_type.classify` consults when no rule fires.
SecondOpinion = Callable[[Text], Guess]


Weights = dict[str, tuple[float, tuple[float, ...]]]


def _block(counts: Counter[str], weights: Weights, classes: int) -> tuple[list[str], list[float], list[float]]:
    """One block's sublinear TF-IDF, L2-normalised (exactly what the trainer's TfidfVectorizer computed):
    the terms found, their values, and each class's score from them. One pass in Python; the products and
    sums per class run in C (``zip``, ``map``), which keeps a guess over a few hundred character pieces fast."""
    found = [t for t in counts if t in weights]  # in the text's order: the same sums, bit for bit, every run
    if not found:
        return [], [], [0.0] * classes
    idfs, rows = zip(*map(weights.__getitem__, found), strict=True)
    values = [idf if n == 1 else (1.0 + math.log(n)) * idf
              for idf, n in zip(idfs, map(counts.__getitem__, found), strict=True)]
    norm = math.sqrt(sum(map(mul, values, values))) or 1.0
    return found, values, [sum(map(mul, values, column)) / norm for column in zip(*rows, strict=True)]


@dataclass
class ContactModel:
    """Weights per type of two blocks, each normalised on its own: ``terms[t] = (idf, weight for each of
    classes)`` for the terms, and the same for the character pieces (empty in a model trained without)."""

    classes: tuple[ContactType, ...]
    intercepts: tuple[float, ...]
    terms: Weights
    trained_on: dict[str, Any] = field(default_factory=dict)
    pieces: Weights = field(default_factory=dict)

    def __call__(self, text: Text) -> Guess:
        found, values, by_terms = _block(Counter(model_terms(text)), self.terms, len(self.classes))
        by_pieces = (_block(piece_counts(text), self.pieces, len(self.classes))[2] if self.pieces
                     else [0.0] * len(self.classes))
        scores = [b + s + p for b, s, p in zip(self.intercepts, by_terms, by_pieces, strict=True)]
        top = max(scores)
        exps = [math.exp(s - top) for s in scores]
        total = sum(exps)
        ranked = sorted(((c, e / total) for c, e in zip(self.classes, exps, strict=True)),
                        key=lambda pair: -pair[1])
        best = self.classes.index(ranked[0][0])
        norm = math.sqrt(sum(map(mul, values, values))) or 1.0
        weighed = sorted([(t, v / norm * self.terms[t][1][best]) for t, v in zip(found, values, strict=True)]
                         + ([(PIECES_TERM, by_pieces[best])] if self.pieces else []), key=lambda pair: -pair[1])
        return Guess(tuple(ranked), tuple((t, round(w, 3)) for t, w in weighed[:TOP_TERMS] if w > 0))

    def to_json(self) -> str:
        """One term a line, sorted, weights rounded: a retrained model reads as a diff."""
        head = {"format": FORMAT, "classes": [c.value for c in self.classes],
                "intercepts": [round(b, 6) for b in self.intercepts], "trained_on": self.trained_on}
        body = json.dumps(head, ensure_ascii=False, indent=1)[:-2] + ',\n "terms": {\n' + _lines(self.terms) + "\n }"
        if self.pieces:
            body += ',\n "pieces": {\n' + _lines(self.pieces) + "\n }"
        return body + "\n}\n"

    @classmethod
    def from_json(cls, text: str) -> ContactModel:
        data = json.loads(text)
        if data.get("format") != FORMAT:
            raise ValueError(f"model format {data.get('format')!r}, this router reads {FORMAT}")
        return cls(tuple(ContactType(c) for c in data["classes"]), tuple(data["intercepts"]),
                   {t: (idf, tuple(ws)) for t, (idf, ws) in data["terms"].items()}, data.get("trained_on", {}),
                   {t: (idf, tuple(ws)) for t, (idf, ws) in data.get("pieces", {}).items()})


def _lines(weights: Weights) -> str:
    return ",\n".join(json.dumps(t, ensure_ascii=False) + ": " + json.dumps([round(idf, 6), [round(w, 6) for w in ws]])
                      for t, (idf, ws) in sorted(weights.items()))


def save_model(model: ContactModel, path: Path) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    temporary = path.with_name(path.name + ".tmp")
    temporary.write_text(model.to_json(), encoding="utf-8")
    temporary.replace(path)  # a router reading it meanwhile sees the old file or the new, never half


def load_model(path: Path) -> ContactModel:
    """A model written by ``make train-router`` (or any JSON of the same format)."""
    return ContactModel.from_json(path.read_text(encoding="utf-8"))


@cache
def built_in_model() -> ContactModel:
    """The model shipped with the router, trained on the project's labelled contacts (read once a process)."""
    return ContactModel.from_json(resources.files(__package__).joinpath(BUILT_IN).read_text(encoding="utf-8"))
