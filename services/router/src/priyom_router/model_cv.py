"""K-fold cross-validation on the training file: how model and feature choices are made.

The held-out file is for reporting, once a choice is made; choosing on it would turn it into training data
one decision at a time. Every choice of regularisation, class weights or terms is judged here instead: the
training examples are split into ``k`` folds of the same mix of types, each fold is typed by a model fitted
on the other ``k - 1``, and the out-of-fold decisions of all folds are pooled into one :class:`Report`.

The folds are fixed by each text's hash, not by a random draw, so the same file gives the same figure on any
machine, and a figure moves only when the data or the method does.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable, Sequence
from dataclasses import dataclass

from priyom_contracts import ContactType

from .learned import ContactModel
from .model_fit import Decide, Example, Report, evaluate, fit

#: How many folds ``make train-router`` reports (``--cv``).
FOLDS = 5

Fit = Callable[[Sequence[Example]], ContactModel]
#: The decision judged on a fold, from the model fitted on the other folds.
DecideWith = Callable[[ContactModel], Decide]


def _order(example: Example) -> str:
    return hashlib.sha256(" ".join(example.text.split()).lower().encode()).hexdigest()


def folds(examples: Sequence[Example], k: int) -> list[list[int]]:
    """Indices of ``k`` folds, each type dealt round-robin in hash order (stratified, deterministic)."""
    if k < 2:
        raise ValueError("cross-validation needs at least two folds")
    out: list[list[int]] = [[] for _ in range(k)]
    by_type: dict[ContactType, list[int]] = {}
    for i, example in enumerate(examples):
        by_type.setdefault(example.label, []).append(i)
    dealt = 0
    for kind in sorted(by_type, key=lambda t: t.value):
        for i in sorted(by_type[kind], key=lambda i: _order(examples[i])):
            out[dealt % k].append(i)
            dealt += 1
    return out


@dataclass(frozen=True)
class CrossValidation:
    """Pooled out-of-fold reports, one per decision judged (the model alone, the whole router…)."""

    folds: int
    reports: dict[str, Report]

    def lines(self) -> list[str]:
        out = []
        for name, report in self.reports.items():
            out.append(f"{self.folds}-fold cross-validation on the training file, {name}:")
            out += ["  " + line.replace("held-out ", "cross-validated ") for line in report.lines()]
        return out


def cross_validate(examples: Sequence[Example], decisions: dict[str, DecideWith], threshold: float,
                   k: int = FOLDS, fit_model: Fit = fit) -> CrossValidation:
    """Each decision in ``decisions`` judged on every fold by a model that never saw that fold."""
    decided: dict[str, dict[int, tuple[ContactType, bool]]] = {name: {} for name in decisions}
    for fold in folds(examples, k):
        held = set(fold)
        model = fit_model([e for i, e in enumerate(examples) if i not in held])
        for name, decide_with in decisions.items():
            decide = decide_with(model)
            for i in fold:
                decided[name][i] = decide(examples[i])
    index = {id(e): i for i, e in enumerate(examples)}
    reports = {name: evaluate(lambda e, found=found: found[index[id(e)]], examples, threshold)
               for name, found in decided.items()}
    return CrossValidation(k, reports)
