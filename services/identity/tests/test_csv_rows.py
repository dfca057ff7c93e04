"""Reading client-base CSV exports: delimiters, Russian headers, several phones per cell, and bad rows."""

from __future__ import annotations

import pytest

from priyom_identity.csv_rows import MAX_FIELD_CHARS, ImportRefused, read_rows
from priyom_identity.policy import MatchPolicy

POLICY = MatchPolicy()


def test_good_rows_are_normalised_and_bad_rows_reported_by_line() -> None:
    text = (
        "\ufeffname,company,phones,emails,manager\n"
        'Пётр Сидоров,ООО Ромашка,"8 (916) 123-45-67; +7 495 123-45-67 доб. 12",Petr@Romashka.ru,Иванова\n'
        "Анна Смирнова,,89161112233,,\n"
        ",,,,\n"  # empty line: skipped silently
        "Без Телефона,ООО Ромашка,не скажу,,\n"
        ",,+79160001122,,\n"
        "Двойник,ООО Лютик,+7 916 123 45 67,,\n"
        "Плохая Почта,ООО Лютик,,not-an-email,\n"
    )
    rows, errors = read_rows(text, POLICY)
    assert [(r.line, r.name, r.company, r.manager) for r in rows] == [
        (2, "Пётр Сидоров", "ООО Ромашка", "Иванова"), (3, "Анна Смирнова", None, None)]
    assert [(i.kind, i.value, i.extension) for i in rows[0].identifiers] == [
        ("phone", "+79161234567", None), ("phone", "+74951234567", "12"), ("email", "petr@romashka.ru", None)]
    reasons = {e.line: e.reason for e in errors}
    assert set(reasons) == {5, 6, 7, 8}
    assert "no digits" in reasons[5] and "neither name nor company" in reasons[6]
    assert "line 2" in reasons[7] and "email" in reasons[8]
    assert all("916" not in r and "not-an-email" not in r for r in reasons.values()), "no values echoed"


def test_semicolon_export_with_russian_headers() -> None:
    text = "ФИО;Организация;Телефон;Почта;Менеджер\nОльга Ким;АО Вектор;+7 916 555-00-11, 8 916 555 00 12;;Петров\n"
    rows, errors = read_rows(text, POLICY)
    assert errors == [] and len(rows[0].identifiers) == 2 and rows[0].manager == "Петров"


def test_files_we_cannot_read_are_refused_whole() -> None:
    with pytest.raises(ImportRefused, match="empty"):
        read_rows("", POLICY)
    with pytest.raises(ImportRefused, match="header"):
        read_rows("foo,bar\n1,2\n", POLICY)


def test_overlong_fields_are_a_bad_row() -> None:
    rows, errors = read_rows(f"name,company\n{'x' * (MAX_FIELD_CHARS + 1)},ООО\n", POLICY)
    assert rows == [] and "longer" in errors[0].reason
