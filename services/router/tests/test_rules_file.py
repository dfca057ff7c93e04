"""The YAML rule book: the built-in one is valid; a broken one is refused with its line and reason."""

from __future__ import annotations

import pytest

from priyom_router.rules import RuleFileError, default_rule_text, parse_rule_book


def test_built_in_book_is_valid_and_ordered() -> None:
    book = parse_rule_book(default_rule_text())
    assert [r.name for r in book.rules][:2] == ["undeliverable-notice", "complaint"]
    assert book.assignment.order[0].value == "account_manager"
    assert book.team_for_category("service").name == "service"


def _broken(find: str, replace: str) -> str:
    text = default_rule_text()
    assert find in text
    return text.replace(find, replace, 1)


def _line_of(text: str, needle: str) -> int:
    return next(i for i, line in enumerate(text.splitlines(), 1) if needle in line)


def test_yaml_syntax_error_names_its_line() -> None:
    text = _broken("  - name: complaint\n", "  - name: complaint\n    when: [unclosed\n")
    with pytest.raises(RuleFileError) as caught:
        parse_rule_book(text)
    assert caught.value.line is not None and caught.value.line >= _line_of(text, "when: [unclosed")
    assert "not valid YAML" in caught.value.reason


def test_unknown_condition_is_refused_at_its_line() -> None:
    text = _broken("      has_contract: true\n", "      has_contrakt: true\n")
    with pytest.raises(RuleFileError) as caught:
        parse_rule_book(text)
    assert caught.value.line == _line_of(text, "has_contrakt")
    assert "has_contrakt" in caught.value.reason and "not permitted" in caught.value.reason


def test_bad_regular_expression_is_refused_with_the_reason() -> None:
    text = _broken("  - name: complaint\n    when:\n", "  - name: complaint\n    when:\n      regex: ['(unclosed']\n")
    with pytest.raises(RuleFileError) as caught:
        parse_rule_book(text)
    assert caught.value.line == _line_of(text, "regex: ['(unclosed']")
    assert "bad regular expression" in caught.value.reason


def test_backtracking_only_syntax_is_refused_with_the_reason() -> None:
    """Back-references and look-arounds need a backtracking engine; the book says so instead of freezing later."""
    for pattern in (r"(a)\1", "foo(?=bar)"):
        text = _broken("  - name: complaint\n    when:\n", f"  - name: complaint\n    when:\n      regex: ['{pattern}']\n")
        with pytest.raises(RuleFileError) as caught:
            parse_rule_book(text)
        assert "bad regular expression" in caught.value.reason and "RE2" in caught.value.reason


def test_unknown_type_code_is_refused() -> None:
    text = _broken("then: {type: complaint, category: quality}", "then: {type: grievance, category: quality}")
    with pytest.raises(RuleFileError) as caught:
        parse_rule_book(text)
    assert caught.value.line == _line_of(text, "type: grievance")
    assert "complaint" in caught.value.reason  # the message lists the valid codes


def test_assignment_must_name_existing_teams() -> None:
    text = _broken("  sales_team: sales\n", "  sales_team: salez\n")
    with pytest.raises(RuleFileError) as caught:
        parse_rule_book(text)
    assert "salez" in caught.value.reason


def test_repeated_rule_names_and_missing_sla_are_refused() -> None:
    with pytest.raises(RuleFileError, match="repeated: complaint"):
        parse_rule_book(_broken("  - name: fault\n", "  - name: complaint\n"))
    with pytest.raises(RuleFileError, match="no target for: critical"):
        parse_rule_book(_broken("    critical: {first_response_minutes: 5, resolution_minutes: 120}\n", ""))


def test_unknown_time_zone_and_non_mapping_are_refused() -> None:
    with pytest.raises(RuleFileError, match="unknown time zone"):
        parse_rule_book(_broken("timezone: Europe/Moscow", "timezone: Mars/Olympus"))
    with pytest.raises(RuleFileError, match="must be a mapping"):
        parse_rule_book("- just\n- a list\n")
