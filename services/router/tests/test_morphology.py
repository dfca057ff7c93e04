"""The morphology dictionary mapped from its files answers as the one read into memory, the model's packed
weights answer as the plain numbers they came from, and the C stemmer stems as the Python one: the router's idle
memory was cut without changing a word."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pymorphy3
import snowballstemmer
import Stemmer
from dawg_python import wrapper
from snowballstemmer.english_stemmer import EnglishStemmer
from snowballstemmer.russian_stemmer import RussianStemmer

from priyom_router import morphology
from priyom_router.learned import BUILT_IN, ContactModel, WeightTable, built_in_model
from priyom_router.mapped_dawgs import mapped

TRAINING = Path(__file__).resolve().parents[1] / "training" / "contacts"


def training_words(pattern: str = r"[а-яё]+") -> list[str]:
    """Every distinct lower-case word (Cyrillic by default) of the labelled contacts, sorted."""
    words: set[str] = set()
    for name in ("train.jsonl", "heldout.jsonl"):
        for line in (TRAINING / name).read_text(encoding="utf-8").splitlines():
            contact = json.loads(line)
            words.update(re.findall(pattern, f"{contact.get('subject') or ''} {contact['body']}".lower()))
    return sorted(words)


def test_the_mapped_dictionary_parses_every_word_as_the_read_one() -> None:
    words = training_words()
    assert len(words) > 3_000
    read = pymorphy3.MorphAnalyzer(lang="ru")
    with mapped():
        mapped_analyzer = pymorphy3.MorphAnalyzer(lang="ru")
    assert isinstance(mapped_analyzer.dictionary.words.dct._units, memoryview)  # noqa: SLF001 - mapped indeed
    assert isinstance(read.dictionary.words.dct._units, wrapper.array.array)  # noqa: SLF001 - and only there
    for word in words:
        assert [(p.normal_form, str(p.tag), p.score) for p in mapped_analyzer.parse(word)] == \
            [(p.normal_form, str(p.tag), p.score) for p in read.parse(word)], word
    # A word the dictionary does not know is predicted from its suffixes (the other DAWGs): the same too.
    for word in ("перезагрузились", "выгрузятся", "отрубило", "зависаловка"):
        assert [(p.normal_form, str(p.tag)) for p in mapped_analyzer.parse(word)] == \
            [(p.normal_form, str(p.tag)) for p in read.parse(word)]


def test_the_router_lemmatises_with_the_mapped_dictionary() -> None:
    assert isinstance(morphology.analyzer().dictionary.words.dct._units, memoryview)  # noqa: SLF001
    assert morphology.lemma("пришёл") == "прийти" and morphology.lemma("договору") == "договор"


def test_a_dawg_shorter_than_it_says_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "short.dawg"
    path.write_bytes((1000).to_bytes(4, "little") + b"\0" * 40)
    with mapped():
        try:
            wrapper.Dictionary.load(str(path))
        except ValueError as exc:
            assert "shorter" in str(exc)
        else:
            raise AssertionError("a truncated DAWG was mapped")


def test_the_packed_weights_are_the_numbers_of_the_file() -> None:
    data = json.loads((Path(morphology.__file__).parent / BUILT_IN).read_text(encoding="utf-8"))
    model = built_in_model()
    assert isinstance(model.terms, WeightTable) and isinstance(model.pieces, WeightTable)
    for block in ("terms", "pieces"):
        plain = {t: (idf, tuple(ws)) for t, (idf, ws) in data[block].items()}
        packed = getattr(model, block)
        assert len(packed) == len(plain) and dict(packed.items()) == plain
        assert packed == plain and "no such term" not in packed
    assert ContactModel.from_json(model.to_json()) == model
    try:
        WeightTable([("a", (1.0, [0.5, 0.5, 0.5, 0.5])), ("b", (1.0, [0.5]))])
    except ValueError as exc:
        assert "1 weights, the terms before it have 4" in str(exc)
    else:
        raise AssertionError("a row with too few weights was packed")


def test_the_c_stemmer_is_used_and_stems_every_training_word_as_the_python_one() -> None:
    """PyStemmer (snowballstemmer's C implementation, a dependency of the kit) replaces the Python stemmers: the
    same stems for every word of the labelled contacts, so the keywords and the model read text as before."""
    assert snowballstemmer.stemmer is Stemmer.Stemmer
    words = training_words(r"[a-zа-яё]+")
    assert len(words) > 5_000
    for language, python in (("russian", RussianStemmer()), ("english", EnglishStemmer())):
        c = snowballstemmer.stemmer(language)
        assert [c.stemWord(w) for w in words] == [python.stemWord(w) for w in words], language
