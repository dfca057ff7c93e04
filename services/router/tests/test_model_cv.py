"""Cross-validation on the training file: stratified, deterministic folds, and judged out of fold only."""

from __future__ import annotations

import json
from collections import Counter
from pathlib import Path

import pytest

from priyom_contracts import ContactType
from priyom_router.learned import ContactModel
from priyom_router.model_cv import cross_validate, folds
from priyom_router.model_fit import Example, fit, model_decision
from priyom_router.training import main

WORDS = {
    ContactType.COMPLAINT: "жалоба безобразие требую компенсацию ваш менеджер нахамил",
    ContactType.SERVICE_REQUEST: "не работает касса ошибка при печати почините срочно",
    ContactType.PURCHASE_INTEREST: "сколько стоит лицензия пришлите коммерческое предложение цена",
    ContactType.INFORMATION_REQUEST: "подскажите где найти отчёт как посмотреть режим работы",
}


def examples(per_type: int) -> list[Example]:
    out = []
    for kind, words in WORDS.items():
        vocabulary = words.split()
        for n in range(per_type):
            body = " ".join(vocabulary[(n + i) % len(vocabulary)] for i in range(4)) + f" номер {n}"
            out.append(Example(None, body, kind, f"{kind.value}:{n}"))
    return out


def test_folds_cover_every_example_once_with_the_same_mix_of_types() -> None:
    given = examples(10)
    split = folds(given, 5)
    assert sorted(i for fold in split for i in fold) == list(range(len(given)))
    for fold in split:
        assert Counter(given[i].label for i in fold) == {kind: 2 for kind in WORDS}
    # Dealt by each text's hash, not by position: the same folds whatever order the file has.
    backwards = list(reversed(given))
    assert [{backwards[i].source for i in fold} for fold in folds(backwards, 5)] == \
        [{given[i].source for i in fold} for fold in split]
    with pytest.raises(ValueError):
        folds(given, 1)


def test_each_fold_is_typed_by_a_model_that_never_saw_it() -> None:
    given = examples(10)
    seen: list[set[str]] = []

    def fit_recording(training: list[Example]) -> ContactModel:
        seen.append({e.source for e in training})
        return fit(training)

    judged = cross_validate(given, {"model": lambda m: model_decision(m, 0.5)}, 0.5, k=5, fit_model=fit_recording)
    assert len(seen) == 5 and all(len(s) == 32 for s in seen)
    for fold, trained in zip(folds(given, 5), seen, strict=True):
        assert not {given[i].source for i in fold} & trained
    report = judged.reports["model"]
    assert report.examples == 40 and report.accuracy >= 0.9, "\n".join(judged.lines())
    assert judged.lines()[0] == "5-fold cross-validation on the training file, model:"


def test_training_command_prints_the_cross_validated_figure(tmp_path: Path,
                                                            capsys: pytest.CaptureFixture[str]) -> None:
    contacts = tmp_path / "train.jsonl"
    contacts.write_text("".join(json.dumps({"subject": None, "body": e.body, "type": e.label.value}) + "\n"
                                for e in examples(6)), encoding="utf-8")
    assert main(["--contacts", str(contacts), "--cv", "3", "--out", str(tmp_path / "m.json")]) == 0
    printed = capsys.readouterr().out
    assert "3-fold cross-validation on the training file, the model alone:" in printed
    assert "cross-validated accuracy" in printed and (tmp_path / "m.json").is_file()


def test_character_pieces_are_what_the_trainer_weighed() -> None:
    """The router cuts words into pieces itself (no scikit-learn at run time); the cut must be scikit-learn's
    ``char_wb`` 2–4, or the shipped weights would meet other pieces than they were trained on."""
    from sklearn.feature_extraction.text import TfidfVectorizer

    from priyom_router.own_text import reading
    from priyom_router.signals import piece_counts, pieces

    text = reading("Re: не работает", "Не работает 1С-ка, ошибка!  a bc? Ёлка, please fix it")
    cut = TfidfVectorizer(analyzer="char_wb", ngram_range=(2, 4)).build_analyzer()
    assert Counter(pieces(text)) == Counter(cut(text.raw.replace("ё", "е").replace("Ё", "Е"))) == piece_counts(text)


def test_the_built_in_model_weighs_pieces_and_explain_names_their_sum() -> None:
    from priyom_router.learned import PIECES_TERM, built_in_model
    from priyom_router.own_text import reading

    model = built_in_model()
    assert len(model.pieces) > 10_000 and ContactModel.from_json(model.to_json()) == model
    guess = model(reading(None, "Подскажите, пожалуйста, где в 1С посмотреть остатки на прошлую дату?"))
    assert guess.type is ContactType.INFORMATION_REQUEST
    assert PIECES_TERM in dict(guess.terms)
