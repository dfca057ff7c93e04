"""Duplicate suggestions by name, without a database."""

from __future__ import annotations

from priyom_identity.duplicates import (
    comparable_name,
    name_similarity,
    search_token,
    similar_pairs,
    similar_to,
)


def test_legal_forms_quotes_and_case_do_not_tell_companies_apart() -> None:
    assert comparable_name('ООО «Ромашка»') == comparable_name("ромашка, ооо") == "ромашка"
    assert name_similarity('ООО "Северный ветер"', "Северный Ветер АО") == 100
    assert name_similarity("Пётр Сидоров", "Петр Сидоров") == 100


def test_different_companies_are_not_similar() -> None:
    assert name_similarity("ООО Ромашка", "ООО Лютик") < 50
    assert name_similarity("ООО", "АО") == 0, "nothing left to compare is not a match"


def test_candidates_are_filtered_and_ranked() -> None:
    candidates = [(1, "Ромашка ООО"), (2, "Лютик"), (3, "ООО Ромашкa-Север")]
    found = similar_to("ООО «Ромашка»", candidates)
    assert [s.item for s in found][0] == 1 and 2 not in [s.item for s in found]
    assert search_token("ООО «Северный ветер»") == "северный"
    assert search_token("ООО ИП") is None


def test_persons_entered_twice_in_one_company_are_paired() -> None:
    persons = [("a", "Сидоров Пётр"), ("b", "Иванова Анна"), ("c", "Петр Сидоров")]
    assert [(a, b) for a, b, _ in similar_pairs(persons)] == [("a", "c")]
