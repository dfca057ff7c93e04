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
import re
from array import array
from collections import Counter
from collections.abc import Callable, Iterable, Iterator, Mapping
from dataclasses import dataclass, field
from functools import cache
from importlib import resources
from operator import itemgetter, mul
from pathlib import Path
from typing import Any, cast

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


#: A term's IDF and its weight for each class.
Weights = Mapping[str, tuple[float, tuple[float, ...]]]


class WeightTable(Mapping[str, tuple[float, tuple[float, ...]]]):
    """:data:`Weights` packed: one array of doubles per column (the IDFs, then each class's weights), the terms
    in a dict to their row. A dict of tuples of floats took 17 MB for the built-in model's 25,000 terms and
    pieces (a float is an object of 24 bytes, a tuple another 56-88), the router's idle memory over its budget;
    packed, 5 MB. :meth:`gather` reads the rows of a text's terms column by column in C, as fast as the tuples."""

    __slots__ = ("_rows", "_columns")

    def __init__(self, weights: Iterable[tuple[str, tuple[float, Iterable[float]]]]) -> None:
        self._rows: dict[str, int] = {}
        self._columns: list[array[float]] = []
        for term, (idf, row) in weights:
            numbers = [idf, *row]
            if not self._columns:
                self._columns = [array("d") for _ in numbers]
            if len(numbers) != len(self._columns):
                raise ValueError(f"{term!r}: {len(numbers) - 1} weights, the terms before it have {self.classes}")
            # A copy of the term, not the parser's string: the parsed file's objects are freed after, and the
            # memory they took goes back only where none of them is kept.
            at = self._rows.setdefault(term.encode().decode(), len(self._rows))
            for column, number in zip(self._columns, numbers, strict=True):
                if at < len(column):
                    column[at] = number  # a term given twice: the last one counts, as in a dict
                else:
                    column.append(number)

    @property
    def classes(self) -> int:
        """How many classes each term has a weight for (0 for an empty table)."""
        return max(0, len(self._columns) - 1)

    def gather(self, terms: list[str]) -> tuple[tuple[float, ...], list[tuple[float, ...]]]:
        """The IDFs of ``terms`` (all in the table) and, per class, their weights: each in the terms' order."""
        rows = list(map(self._rows.__getitem__, terms))
        if len(rows) == 1:  # itemgetter of one index answers the item, not a tuple of it
            return (self._columns[0][rows[0]],), [(column[rows[0]],) for column in self._columns[1:]]
        pick = itemgetter(*rows)
        return pick(self._columns[0]), [pick(column) for column in self._columns[1:]]

    def __getitem__(self, term: str) -> tuple[float, tuple[float, ...]]:
        row = self._rows[term]
        return self._columns[0][row], tuple(column[row] for column in self._columns[1:])

    def __contains__(self, term: object) -> bool:
        return term in self._rows

    def __iter__(self) -> Iterator[str]:
        return iter(self._rows)

    def __len__(self) -> int:
        return len(self._rows)

    def __eq__(self, other: object) -> bool:
        return isinstance(other, Mapping) and dict(self.items()) == dict(other.items())

    __hash__ = None  # type: ignore[assignment]  # compared by content, like the dict it replaces


def _block(counts: Counter[str], weights: WeightTable, classes: int) -> tuple[list[str], list[float], list[float]]:
    """One block's sublinear TF-IDF, L2-normalised (exactly what the trainer's TfidfVectorizer computed):
    the terms found, their values, and each class's score from them. One pass in Python; the products and
    sums per class run in C (``zip``, ``map``), which keeps a guess over a few hundred character pieces fast."""
    found = [t for t in counts if t in weights]  # in the text's order: the same sums, bit for bit, every run
    if not found:
        return [], [], [0.0] * classes
    idfs, columns = weights.gather(found)
    values = [idf if n == 1 else (1.0 + math.log(n)) * idf
              for idf, n in zip(idfs, map(counts.__getitem__, found), strict=True)]
    norm = math.sqrt(sum(map(mul, values, values))) or 1.0
    return found, values, [sum(map(mul, values, column)) / norm for column in columns]


@dataclass
class ContactModel:
    """Weights per type of two blocks, each normalised on its own: ``terms[t] = (idf, weight for each of
    classes)`` for the terms, and the same for the character pieces (empty in a model trained without)."""

    classes: tuple[ContactType, ...]
    intercepts: tuple[float, ...]
    terms: Weights
    trained_on: dict[str, Any] = field(default_factory=dict)
    pieces: Weights = field(default_factory=dict)

    def __post_init__(self) -> None:
        """Whatever mapping the weights came in (the trainer's dicts), the model keeps them packed."""
        for name in ("terms", "pieces"):
            weights = getattr(self, name)
            if not isinstance(weights, WeightTable):
                weights = WeightTable(weights.items())
                setattr(self, name, weights)
            if len(weights) and weights.classes != len(self.classes):
                raise ValueError(f"{name}: weights for {weights.classes} classes, the model has {len(self.classes)}")

    def __call__(self, text: Text) -> Guess:
        terms, pieces = cast(WeightTable, self.terms), cast(WeightTable, self.pieces)  # by __post_init__
        found, values, by_terms = _block(Counter(model_terms(text)), terms, len(self.classes))
        by_pieces = (_block(piece_counts(text), pieces, len(self.classes))[2] if pieces
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
        """The model of a JSON text, its weights read a term at a time (:class:`_JsonReader`): the whole file
        parsed at once made ten MB of objects that the router's memory kept after they were freed."""
        reader = _JsonReader(text)
        data: dict[str, Any] = {}
        tables: dict[str, WeightTable] = {}
        for key in reader.members():
            if key in ("terms", "pieces"):
                tables[key] = WeightTable((term, reader.value()) for term in reader.members())
            else:
                data[key] = reader.value()
        reader.end()
        if data.get("format") != FORMAT:
            raise ValueError(f"model format {data.get('format')!r}, this router reads {FORMAT}")
        if "terms" not in tables:
            raise ValueError("the model has no terms")
        return cls(tuple(ContactType(c) for c in data["classes"]), tuple(data["intercepts"]), tables["terms"],
                   data.get("trained_on", {}), tables.get("pieces", WeightTable(())))


class _JsonReader:
    """A JSON object read a member at a time with the standard decoder (``raw_decode`` from a position), so an
    object's members can be consumed as they are read instead of built all at once."""

    _SPACE = re.compile(r"\s*")

    def __init__(self, text: str) -> None:
        self._text = text
        self._at = 0
        self._decode = json.JSONDecoder().raw_decode

    def _skip(self, char: str | None = None) -> None:
        self._at = self._SPACE.match(self._text, self._at).end()  # type: ignore[union-attr]  # \s* always matches
        if char is not None:
            if not self._text.startswith(char, self._at):
                raise json.JSONDecodeError(f"expected {char!r}", self._text, self._at)
            self._at = self._SPACE.match(self._text, self._at + 1).end()  # type: ignore[union-attr]

    def value(self) -> Any:
        """The JSON value at the position, whole."""
        value, self._at = self._decode(self._text, self._at)
        return value

    def members(self) -> Iterator[str]:
        """The keys of the object at the position, one at a time; read each one's value (:meth:`value`, or
        :meth:`members` for an object) before asking for the next key."""
        self._skip("{")
        if self._text.startswith("}", self._at):
            self._skip("}")
            return
        while True:
            key = self.value()
            if not isinstance(key, str):
                raise json.JSONDecodeError("expected a key", self._text, self._at)
            self._skip(":")
            yield key
            self._skip()
            if self._text.startswith(",", self._at):
                self._skip(",")
                continue
            self._skip("}")
            return

    def end(self) -> None:
        """Nothing but spaces may follow the object."""
        self._skip()
        if self._at != len(self._text):
            raise json.JSONDecodeError("extra data", self._text, self._at)


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
