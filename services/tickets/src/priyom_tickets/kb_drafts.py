"""A resolved ticket's answer as the first draft of a knowledge-base article (pure: no HTTP, no SQL).

The agent who solved a question once turns it into an article for the next customer: the ticket's subject is the
title, its decision and the words the team wrote when resolving it are the body. The draft is internal until an
editor rewrites it for customers and publishes it in the portal, since a ticket's words are written for one
customer and may name them.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from priyom_contracts import TicketStatus

from .decisions import DECISIONS

#: The statuses whose ticket holds a resolution to write up.
SETTLED = frozenset({TicketStatus.RESOLVED, TicketStatus.CLOSED})
#: The portal's limit on a title.
MAX_TITLE_CHARS = 200


class NothingToWriteUp(ValueError):
    """The ticket is not resolved, or its resolution has no words of the team's."""


@dataclass(frozen=True)
class ArticleDraft:
    title: str
    body: str


def draft_from_ticket(ticket: Mapping[str, Any]) -> ArticleDraft:
    """The article's title and Markdown body from a resolved or closed ticket; :class:`NothingToWriteUp` when the
    ticket is not settled or its team wrote no resolution (a decision code alone explains nothing)."""
    if TicketStatus(ticket["status"]) not in SETTLED:
        raise NothingToWriteUp(f"ticket {ticket['number']} is not resolved or closed")
    words = [text.strip() for text in (ticket.get("decision_text"), ticket.get("result")) if text and text.strip()]
    if not words:
        raise NothingToWriteUp(f"ticket {ticket['number']} has no resolution text to write up")
    title = (ticket.get("subject") or "").strip() or f"Обращение {ticket['number']}"
    decision = DECISIONS.get(ticket.get("decision") or "")
    body = "\n\n".join([f"**{decision}**"] * bool(decision) + words)
    return ArticleDraft(title=title[:MAX_TITLE_CHARS], body=body)
