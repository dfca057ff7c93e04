"""Activities: what someone must do about a ticket by a time (call back, meet, prepare a document, carry out a
task of a complaint's action plan). Each shows on its ticket and in its owner's list; scheduling, moving,
handing over and finishing one leaves a line in the ticket's history (:mod:`.changes`). Pure.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum
from typing import Any


class ActivityKind(StrEnum):
    CALL_BACK = "call_back"
    MEETING = "meeting"
    DOCUMENT = "document"
    TASK = "task"


@dataclass(frozen=True)
class ActivityEdit:
    """What an edit changes on an activity (the columns) and the history line that says so."""

    values: dict[str, Any]
    action: str
    details: dict[str, Any]


def edit(activity: Mapping[str, Any], *, due_at: datetime | None, owner: str | None, done: bool | None,
         now: datetime) -> ActivityEdit | None:
    """Reschedule, hand over, finish or reopen: only what is given and differs changes; None for nothing."""
    values: dict[str, Any] = {}
    if due_at is not None and due_at != activity["due_at"]:
        values["due_at"] = due_at
    if owner is not None and owner != activity["owner"]:
        values["owner"] = owner
    if done is not None and done != (activity["done_at"] is not None):
        values["done_at"] = now if done else None
    if not values:
        return None
    action = ("activity_done" if values.get("done_at") else "activity_reopened") if "done_at" in values \
        else "activity_rescheduled"
    details = {"activity": str(activity["id"]), "title": activity["title"]}
    details |= {k: (v.isoformat() if isinstance(v, datetime) else v) for k, v in values.items() if v is not None}
    return ActivityEdit(values, action, details)
