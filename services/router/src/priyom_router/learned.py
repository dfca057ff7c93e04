"""The learned second opinion: TF-IDF on character n-grams and a linear model, trained on confirmed types.

Character n-grams (within word boundaries) need no tokeniser or stemmer and survive Russian inflection,
typos and mixed languages; a logistic regression gives calibrated-enough probabilities for the rule book's
``classifier_threshold``. The model is asked only when no rule fires (see :mod:`priyom_router.contact_type`).
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

import joblib
from sklearn.feature_extraction.text import TfidfVectorizer
from sklearn.linear_model import LogisticRegression
from sklearn.pipeline import Pipeline

from priyom_contracts import ContactType
from priyom_kit import get_logger

from .contact_type import SecondOpinion

log = get_logger("priyom.router.learned")

#: Longest text the model reads: the start of a message says what it is about; quoted history does not.
MAX_CHARS = 4000


def new_pipeline() -> Pipeline:
    return Pipeline([
        ("tfidf", TfidfVectorizer(analyzer="char_wb", ngram_range=(1, 4), lowercase=True, sublinear_tf=True,
                                  max_features=50_000)),
        ("model", LogisticRegression(max_iter=2000, class_weight="balanced", C=10.0)),
    ])


def fit(texts: Sequence[str], labels: Sequence[ContactType]) -> Pipeline:
    pipeline = new_pipeline()
    pipeline.fit([t[:MAX_CHARS] for t in texts], [label.value for label in labels])
    return pipeline


def as_second_opinion(pipeline: Pipeline) -> SecondOpinion:
    """The pipeline as the classifier :func:`~priyom_router.contact_type.classify` consults."""
    classes = [ContactType(c) for c in pipeline.classes_]

    def predict(text: str) -> tuple[ContactType, float]:
        probabilities = pipeline.predict_proba([text[:MAX_CHARS]])[0]
        best = int(probabilities.argmax())
        return classes[best], float(probabilities[best])

    return predict


def save_model(pipeline: Pipeline, path: Path) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    joblib.dump(pipeline, path)


def load_model(path: Path) -> SecondOpinion:
    """Load a model written by ``make train-router``. It is a pickle: load only files you produced."""
    return as_second_opinion(joblib.load(path))


class ModelFile:
    """The model in ``path``, loaded again when the file changes: a ``make train-router`` that learned from
    the latest corrections takes effect at the next contact, without a restart. A file that cannot be
    loaded (half written, say) leaves the previous model answering and is tried again when it changes."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self._stamp: tuple[int, int] | None = None
        self._model: SecondOpinion | None = None
        self._refresh()
        if self._model is None:
            raise FileNotFoundError(f"no usable model at {path}")

    def _refresh(self) -> None:
        try:
            stat = self.path.stat()
        except OSError:
            return
        stamp = (stat.st_mtime_ns, stat.st_size)
        if stamp == self._stamp:
            return
        self._stamp = stamp
        try:
            self._model = load_model(self.path)
            log.info("classifier model loaded", path=str(self.path))
        except Exception as exc:  # noqa: BLE001 - any unreadable file: keep answering with the previous model
            log.error("classifier model not loaded, keeping the previous one", error=f"{type(exc).__name__}: {exc}"[:300])

    def __call__(self, text: str) -> tuple[ContactType, float]:
        self._refresh()
        assert self._model is not None
        return self._model(text)
