"""A resolved ticket's answer as a draft article (pure): what becomes the title and the body, and when there is
nothing to write up."""

from __future__ import annotations

import pytest

from priyom_tickets.kb_drafts import NothingToWriteUp, draft_from_ticket


def ticket(**values: object) -> dict[str, object]:
    return {"number": "2026-000042", "status": "resolved", "subject": "Принтер не печатает", "decision": "fixed",
            "decision_text": "Заменили картридж.", "result": None} | values


def test_the_subject_is_the_title_and_the_decision_and_the_team_s_words_the_body() -> None:
    draft = draft_from_ticket(ticket(result="  Печать восстановлена. "))
    assert draft.title == "Принтер не печатает"
    assert draft.body == "**Неисправность устранена**\n\nЗаменили картридж.\n\nПечать восстановлена."
    closed = draft_from_ticket(ticket(status="closed", subject=None, decision=None))
    assert (closed.title, closed.body) == ("Обращение 2026-000042", "Заменили картридж.")
    assert len(draft_from_ticket(ticket(subject="П" * 500)).title) == 200


@pytest.mark.parametrize("values", [{"status": "open"}, {"status": "cancelled"},
                                    {"decision_text": " ", "result": None}, {"decision_text": None}])
def test_an_unresolved_ticket_or_one_without_words_is_nothing_to_write_up(values: dict[str, object]) -> None:
    with pytest.raises(NothingToWriteUp):
        draft_from_ticket(ticket(**values))
