"""Fitting and judging the learned model (scikit-learn, at training time only; the router never imports it).

Deterministic: the same examples give the same JSON, byte for byte (lbfgs from zero weights, sorted terms,
rounded numbers), which is what lets the tests check the committed model against its training data. Word
pairs seen in one example only are dropped: they are mostly names and numbers, and they would triple the
file without changing a decision.
"""

from __future__ import annotations

import hashlib
from collections import Counter
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from priyom_contracts import ContactType

from .learned import ContactModel
from .own_text import reading
from .signals import model_terms, pieces

#: The regularisation the held-out figures in the README were measured with (chosen by 5-fold
#: cross-validation on the training file, never on the held-out one).
C = 100.0
MIN_PAIR_EXAMPLES = 2
#: A character piece seen in fewer examples is left out (names and numbers again).
MIN_PIECE_EXAMPLES = 2


@dataclass(frozen=True)
class Example:
    subject: str | None
    body: str
    label: ContactType
    source: str
    channel: str = "email"

    @property
    def text(self) -> str:
        return f"{self.subject or ''}\n{self.body}"

    def terms(self) -> list[str]:
        return model_terms(reading(self.subject, self.body))

    def pieces(self) -> list[str]:
        return pieces(reading(self.subject, self.body))


def fit(examples: Sequence[Example], trained_on: dict[str, Any] | None = None) -> ContactModel:
    """A model of every type present in ``examples``."""
    try:
        from scipy.sparse import hstack
        from sklearn.feature_extraction.text import TfidfVectorizer
        from sklearn.linear_model import LogisticRegression
    except ImportError as missing:  # training is an extra: the running router reads the JSON model only
        raise ImportError("training the router's model needs scikit-learn: pip install "
                          "'priyom-router[training]'") from missing

    docs = [e.terms() for e in examples]
    seen_in = Counter(t for doc in docs for t in set(doc) if " " in t)
    docs = [[t for t in doc if " " not in t or seen_in[t] >= MIN_PAIR_EXAMPLES] for doc in docs]
    vectoriser = TfidfVectorizer(analyzer=lambda doc: doc, sublinear_tf=True)
    by_pieces = TfidfVectorizer(analyzer=lambda doc: doc, sublinear_tf=True, min_df=MIN_PIECE_EXAMPLES)
    # Two blocks side by side, each row of each L2-normalised on its own (what the model computes).
    matrix = hstack([vectoriser.fit_transform(docs), by_pieces.fit_transform([e.pieces() for e in examples])]).tocsr()
    classifier = LogisticRegression(C=C, max_iter=5000)
    classifier.fit(matrix, [e.label.value for e in examples])
    classes = tuple(ContactType(c) for c in classifier.classes_)
    weights = classifier.coef_ if len(classes) > 2 else [-classifier.coef_[0] / 2, classifier.coef_[0] / 2]
    intercepts = (classifier.intercept_ if len(classes) > 2
                  else [-classifier.intercept_[0] / 2, classifier.intercept_[0] / 2])
    terms = {t: (float(vectoriser.idf_[i]), tuple(float(w[i]) for w in weights))
             for t, i in vectoriser.vocabulary_.items()}
    after = len(vectoriser.vocabulary_)
    pieces_ = {t: (float(by_pieces.idf_[i]), tuple(float(w[after + i]) for w in weights))
               for t, i in by_pieces.vocabulary_.items()}
    model = ContactModel(classes, tuple(float(b) for b in intercepts), terms,
                         {**(trained_on or {}), "examples": len(examples), "C": C}, pieces_)
    # What is shipped is what was judged: the rounded numbers of the JSON.
    return ContactModel.from_json(model.to_json())


def file_digest(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


@dataclass
class Report:
    """Held-out figures: accuracy, each type's precision and recall, and how many would go to triage."""

    examples: int
    accuracy: float
    precision: dict[ContactType, float]
    recall: dict[ContactType, float]
    support: dict[ContactType, int]
    unsure: int
    unsure_threshold: float
    confident_accuracy: float

    def lines(self) -> list[str]:
        out = [f"held-out accuracy {self.accuracy:.3f} on {self.examples} contacts",
               f"{'type':<22}{'precision':>10}{'recall':>8}{'contacts':>10}"]
        out += [f"{t.value:<22}{self.precision[t]:>10.3f}{self.recall[t]:>8.3f}{self.support[t]:>10}"
                for t in self.support]
        out.append(f"below the threshold {self.unsure_threshold:.2f} (to triage): {self.unsure} of {self.examples}; "
                   f"accuracy of the rest {self.confident_accuracy:.3f}")
        out.append(f"typed right without triage (a contact sent to triage counted as a miss): {self.decided_right:.3f}")
        return out

    @property
    def decided_right(self) -> float:
        """The strict figure: only confident and right decisions count (the accuracy above judges a triage
        contact by the model's first guess, which the triage team sees but has to confirm)."""
        sure = self.examples - self.unsure
        return self.confident_accuracy * sure / self.examples if self.examples else 0.0


#: One decision for ``evaluate``: the type, and whether it would go to triage.
Decide = Callable[[Example], tuple[ContactType, bool]]


def model_decision(model: ContactModel, threshold: float) -> Decide:
    """The model alone, unsure below ``threshold``."""
    def decide(example: Example) -> tuple[ContactType, bool]:
        guess = model(reading(example.subject, example.body))
        return guess.type, guess.confidence < threshold

    return decide


def evaluate(decide: Decide, examples: Sequence[Example], threshold: float) -> Report:
    """Figures of ``decide`` on examples it was not trained on."""
    decided = [decide(e) for e in examples]
    right = [t is e.label for (t, _), e in zip(decided, examples, strict=True)]
    sure = [r for (_, unsure), r in zip(decided, right, strict=True) if not unsure]
    types = sorted({e.label for e in examples}, key=lambda t: t.value)
    precision, recall, support = {}, {}, {}
    for t in types:
        predicted = [r for (d, _), r in zip(decided, right, strict=True) if d is t]
        actual = [r for e, r in zip(examples, right, strict=True) if e.label is t]
        precision[t] = sum(predicted) / len(predicted) if predicted else 0.0
        recall[t] = sum(actual) / len(actual)
        support[t] = len(actual)
    return Report(len(examples), sum(right) / len(examples), precision, recall, support,
                  len(examples) - len(sure), threshold, sum(sure) / len(sure) if sure else 0.0)
