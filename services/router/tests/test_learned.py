"""The learned classifier, trained on the reviewed corpus labels, as the router's second opinion."""

from __future__ import annotations

import csv
import os
from pathlib import Path

import pytest
from sklearn.pipeline import Pipeline

from priyom_contracts import ContactType
from priyom_router.assignment import Roster
from priyom_router.contact_type import SecondOpinion
from priyom_router.learned import ModelFile, as_second_opinion, fit, load_model, save_model
from priyom_router.routing import decide
from priyom_router.training import corpus_examples, distinct, evaluate, main

from .books import book
from .conftest import client, contact

LABELS = Path(__file__).resolve().parents[1] / "training" / "corpus_labels.csv"


def test_label_file_names_real_corpus_mail_once_with_valid_types(corpus_dir: Path) -> None:
    with LABELS.open(encoding="utf-8", newline="") as handle:
        rows = list(csv.DictReader(handle))
    paths = [r["path"] for r in rows]
    assert len(paths) == len(set(paths)) and len(rows) >= 80
    assert all((corpus_dir / "email" / p).is_file() for p in paths)
    assert {ContactType(r["label"]) for r in rows} == set(ContactType)
    assert all(r["why"].strip() for r in rows)  # every label was reviewed and says why


@pytest.fixture
def pipeline(corpus_dir: Path) -> Pipeline:
    examples = distinct(corpus_examples(corpus_dir, LABELS))
    return fit([e.text for e in examples], [e.label for e in examples])


@pytest.fixture
def trained(pipeline: Pipeline) -> SecondOpinion:
    return as_second_opinion(pipeline)


def test_held_out_accuracy_beats_always_guessing_the_commonest_type(corpus_dir: Path) -> None:
    result = evaluate(distinct(corpus_examples(corpus_dir, LABELS)), folds=0)
    assert result.held_out >= 20
    assert result.accuracy > result.baseline


def test_the_model_is_consulted_only_when_no_rule_fires(trained: SecondOpinion) -> None:
    rules = book("""
- name: complaint
  when: {keywords: [жалоба]}
  then: {type: complaint, category: quality}
""")
    text = "Delivery Status Notification (Failure): delivery to the following recipient failed permanently"
    guess, confidence = trained(text)
    assert guess is ContactType.INFORMATION_REQUEST
    decided = decide(contact(text), "email", client(), rules, Roster(), second_opinion=trained)
    expected_rule = "classifier" if confidence >= rules.classifier_threshold else "default"
    assert decided.routing.rule == expected_rule and "classifier" in decided.trail[1]
    ruled = decide(contact("Пишу жалобу"), "email", client(), rules, Roster(), second_opinion=trained)
    assert ruled.routing.rule == "complaint"


def test_saved_model_loads_and_answers_the_same(pipeline: Pipeline, trained: SecondOpinion,
                                                tmp_path: Path) -> None:
    save_model(pipeline, tmp_path / "model.joblib")
    loaded = load_model(tmp_path / "model.joblib")
    text = "Urgent request for quotation: please send your price and terms"
    assert loaded(text) == as_second_opinion(pipeline)(text) == trained(text)


def test_training_command_refuses_without_two_types(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["--out", str(tmp_path / "m.joblib")]) == 2
    assert "at least two types" in capsys.readouterr().err


def test_a_retrained_model_file_answers_from_the_next_contact(pipeline: Pipeline, tmp_path: Path) -> None:
    path = tmp_path / "model.joblib"
    save_model(pipeline, path)
    model = ModelFile(path)
    text = "Please send a quote for fifty licences"
    assert model(text) == as_second_opinion(pipeline)(text)

    # Retrained on other examples (three tiny ones here), so its answer differs.
    retrained = fit(["complaint one", "another complaint text"] + ["order a quote"],
                    [ContactType.COMPLAINT, ContactType.COMPLAINT, ContactType.PURCHASE_INTEREST])
    save_model(retrained, path)
    stat = path.stat()
    os.utime(path, ns=(stat.st_atime_ns, stat.st_mtime_ns + 1_000_000_000))  # a later write, without waiting
    assert model(text) == as_second_opinion(retrained)(text) != as_second_opinion(pipeline)(text)

    # A broken file (half written) keeps the last good model answering.
    path.write_bytes(b"not a model")
    os.utime(path, ns=(stat.st_atime_ns, stat.st_mtime_ns + 2_000_000_000))
    assert model(text) == as_second_opinion(retrained)(text)
