"""The shape that keeps tickets readable: every change of a ticket is made in :mod:`priyom_tickets.changes`.

Read from the source (no database): a row write of the store called from anywhere but ``changes``, or a table
written directly outside the modules that own those writes, fails here with the place it happens.
"""

from __future__ import annotations

import ast
from pathlib import Path

import priyom_tickets
from priyom_tickets import new_tickets, store, tables

PACKAGE = Path(priyom_tickets.__file__).parent
#: The store's functions that write a ticket, its messages, history, activities, rating or outbox.
WRITES = {"insert_inbound_message", "insert_outbound_message", "insert_attachments",
          "add_history", "update_ticket", "clear_delivery_failure", "update_message", "insert_activity",
          "update_activity", "insert_rating", "stage_events"}
#: The store's part that writes a new ticket's first rows at once (new_tickets.py), held to the same rule.
NEW_TICKET_WRITES = {"insert_ticket", "next_number"}
#: The modules of the store.
STORE = {"store.py", "new_tickets.py"}
TABLES = {name for name, value in vars(tables).items() if hasattr(value, "c") and hasattr(value, "insert")}
#: Modules allowed to write a table directly: the store itself, the staff accounts, the dead letters kept for
#: admins and the one-time socket tickets (their own tables, not a ticket's), and the erasure's redaction (which
#: is no change of a ticket's course: no history line, no event; see its docstring), the copy of identity's
#: card addresses, and the following of a card merge (which card a ticket names, no change of its course
#: either; see card_merges.py), and the agents' internal notes with their mentions (their own tables, nothing
#: sent, no change of the ticket's course; see notes.py), and the macros (their own table; applying one changes
#: a ticket through changes.py), and the call log (its own table, written by changes.py in the transaction that
#: files a call's contact; see call_log.py). The outbox is the kit's.
DIRECT_WRITERS = {*STORE, "staff.py", "dead_letters.py", "ws_tickets.py", "erasure_redaction.py",
                  "card_reach.py", "card_merges.py", "notes.py", "macros.py", "call_log.py"}


def modules() -> list[Path]:
    return [p for p in PACKAGE.rglob("*.py") if "migrations" not in p.parts]


def calls(path: Path) -> list[tuple[int, str, str]]:
    """(line, receiver, method) of every ``receiver.method(...)`` call in the module."""
    found = []
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute):
            receiver = node.func.value
            name = receiver.id if isinstance(receiver, ast.Name) else (
                receiver.attr if isinstance(receiver, ast.Attribute) else "")
            found.append((node.lineno, name, node.func.attr))
    return found


def test_the_store_writes_are_there_to_be_found() -> None:
    assert WRITES <= set(vars(store)), WRITES - set(vars(store))
    assert NEW_TICKET_WRITES <= set(vars(new_tickets)), NEW_TICKET_WRITES - set(vars(new_tickets))
    assert {"tickets", "ticket_messages", "ticket_history", "ticket_outbox", "staff"} <= TABLES


def test_only_changes_calls_the_stores_writes() -> None:
    stray = [f"{p.relative_to(PACKAGE)}:{line} {receiver}.{method}" for p in modules()
             if p.name != "changes.py" and p.name not in STORE for line, receiver, method in calls(p)
             if (receiver == "store" and method in WRITES) or (receiver == "new_tickets" and method in NEW_TICKET_WRITES)]
    assert stray == []


def test_no_module_writes_a_table_behind_the_stores_back() -> None:
    stray = [f"{p.relative_to(PACKAGE)}:{line} {receiver}.{method}" for p in modules()
             if p.name not in DIRECT_WRITERS for line, receiver, method in calls(p)
             if receiver in TABLES and method in ("insert", "update", "delete")]
    assert stray == []
