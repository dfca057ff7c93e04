"""The learned second opinion: TF-IDF on character n-grams and a linear model, trained on confirmed types.

Character n-grams (within word boundaries) need no tokeniser or stemmer and survive Russian inflection,
typos and mixed languages; a logistic regression gives calibrated-enough probabilities for the rule book's
``classifier_threshold``. The model is asked only when no rule fires (see :mod:`priyom_router.classify`).
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

import joblib
from sklearn.feature_extraction.text import TfidfVectorizer
from sklearn.linear_model import LogisticRegression
from sklearn.pipeline import Pipeline

from priyom_contracts import ContactType

from .classify import SecondOpinion

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
    """The pipeline as the classifier :func:`~priyom_router.classify.classify` consults."""
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
