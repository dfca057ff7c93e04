"""The learned classifier: the built-in model's held-out figures, its reproducibility, and its place."""

from __future__ import annotations

import csv
import os
from pathlib import Path

import pytest

from priyom_contracts import ContactType
from priyom_router.assignment import Roster
from priyom_router.learned import BUILT_IN, ContactModel, built_in_model, load_model, save_model
from priyom_router.model_file import ModelFile
from priyom_router.model_fit import Example, evaluate, file_digest, fit
from priyom_router.own_text import reading
from priyom_router.routing import decide
from priyom_router.rules import default_rule_text, parse_rule_book
from priyom_router.training import corpus_examples, distinct, labelled_examples, main, rule_book_decision

from .books import book
from .conftest import client, contact

HERE = Path(__file__).resolve().parents[1]
LABELS = HERE / "training" / "corpus_labels.csv"
CONTACTS = HERE / "training" / "contacts"
SHIPPED = HERE / "src" / "priyom_router" / BUILT_IN


def test_label_file_names_real_corpus_mail_once_with_valid_types(corpus_dir: Path) -> None:
    with LABELS.open(encoding="utf-8", newline="") as handle:
        rows = list(csv.DictReader(handle))
    paths = [r["path"] for r in rows]
    assert len(paths) == len(set(paths)) and len(rows) >= 80
    assert all((corpus_dir / "email" / p).is_file() for p in paths)
    assert {ContactType(r["label"]) for r in rows} == set(ContactType)
    assert all(r["why"].strip() for r in rows)  # every label was reviewed and says why


def test_the_router_is_right_on_at_least_nine_in_ten_held_out_contacts() -> None:
    """The built-in rule book and model on contacts they were never trained on: 0.950 measured (171 of 180),
    every recall 0.933 or more: issue 19's 0.95 and 0.9, reached by one contact. The accuracy floor leaves five
    contacts of margin, the recall floor (issue 19's 0.9) one: 42 of 45 information requests and purchase
    interests measured, 41 needed."""
    book_ = parse_rule_book(default_rule_text())
    report = evaluate(rule_book_decision(book_, built_in_model()), labelled_examples(CONTACTS / "heldout.jsonl"),
                      book_.classifier_threshold)
    assert report.examples == 180
    assert report.accuracy >= 0.92, "\n".join(report.lines())  # never below 0.9
    assert min(report.recall.values()) >= 0.9, "\n".join(report.lines())


def test_the_shipped_model_is_the_one_its_training_data_gives() -> None:
    """Deterministic training: retraining on train.jsonl writes the committed file byte for byte, and the
    file records the hash of the data it came from (a changed data file without a retrained model fails)."""
    train = CONTACTS / "train.jsonl"
    shipped = built_in_model()
    assert shipped.trained_on["files"] == {"train.jsonl": file_digest(train)}
    retrained = fit(distinct(labelled_examples(train)), {"files": {"train.jsonl": file_digest(train)}})
    assert retrained.to_json() == SHIPPED.read_text(encoding="utf-8")


def test_the_model_is_consulted_only_when_no_rule_fires() -> None:
    rules = book("""
- name: complaint
  when: {keywords: [жалоба]}
  then: {type: complaint, category: quality}
""")
    model = built_in_model()
    text = "Добрый день! Сколько будет стоить подключение ещё двух пользователей к облаку?"
    guess = model(reading(None, text))
    assert guess.type is ContactType.PURCHASE_INTEREST and guess.confidence >= rules.classifier_threshold
    decided = decide(contact(text), "email", client(), rules, Roster(), second_opinion=model)
    assert decided.routing.rule == "classifier" and decided.routing.type is ContactType.PURCHASE_INTEREST
    assert decided.trail[0] == "no rule fired" and "weighed most: «" in decided.trail[1]
    ruled = decide(contact("Пишу жалобу"), "email", client(), rules, Roster(), second_opinion=model)
    assert ruled.routing.rule == "complaint" and ruled.classification.guess is None


def test_saved_model_loads_and_answers_the_same(tmp_path: Path) -> None:
    save_model(built_in_model(), tmp_path / "model.json")
    loaded = load_model(tmp_path / "model.json")
    text = reading("Urgent request for quotation", "Please send your price and terms for 20 licences")
    assert loaded(text) == built_in_model()(text)


def test_training_command_refuses_without_two_types(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["--out", str(tmp_path / "m.json")]) == 2
    assert "at least two types" in capsys.readouterr().err


def tiny(*pairs: tuple[str, ContactType]) -> ContactModel:
    return fit([Example(None, text, label, "test") for text, label in pairs])


def test_a_retrained_model_file_answers_from_the_next_contact(tmp_path: Path) -> None:
    path = tmp_path / "model.json"
    save_model(built_in_model(), path)
    model = ModelFile(path)
    text = reading(None, "Please send a quote for fifty licences")
    assert model(text) == built_in_model()(text)

    # Retrained on other examples (three tiny ones here), so its answer differs.
    retrained = tiny(("complaint one", ContactType.COMPLAINT), ("another complaint text", ContactType.COMPLAINT),
                     ("order a quote", ContactType.PURCHASE_INTEREST))
    save_model(retrained, path)
    stat = path.stat()
    os.utime(path, ns=(stat.st_atime_ns, stat.st_mtime_ns + 1_000_000_000))  # a later write, without waiting
    assert model(text) == retrained(text) != built_in_model()(text)

    # A broken file (half written) keeps the last good model answering.
    path.write_bytes(b"not a model")
    os.utime(path, ns=(stat.st_atime_ns, stat.st_mtime_ns + 2_000_000_000))
    assert model(text) == retrained(text)


def test_corpus_mail_trains_a_model_too(corpus_dir: Path) -> None:
    examples = distinct(corpus_examples(corpus_dir, LABELS))
    model = fit(examples)
    assert set(model.classes) == set(ContactType)
    notice = reading("Delivery Status Notification (Failure)",
                     "Delivery to the following recipient failed permanently")
    assert model(notice).type is ContactType.INFORMATION_REQUEST
