"""The router's own small state, in SQLAlchemy Core. ``migrations/versions`` must match it
(``tests/test_store.py`` compares them), so change both together.

* ``rule_versions``: every rule book ever accepted; the highest version is the active one, so a restore is a
  new version with old text and the history is never rewritten.
* ``agents``: availability as last reported (an agent with no row is ``available_by_default``).
* ``assignments``: one row per routed contact: the decision, and whether its ticket is still open. The count
  of open rows per assignee is the agent's load; the row is written in the same transaction as the
  decision, so the next contact already sees it, long before the ticket exists. ``waiting`` rows are the
  team queues: contacts nobody could take yet, handed to the next agent of the team who frees up.
* ``team_cursors``: each team's last assignee, for round robin.
* ``type_corrections``: the type an agent gave a ticket in place of the router's, with the text judged (the
  latest correction of a contact wins): labelled examples for ``make train-router``.
* ``router_outbox``: the decisions to announce (``contact.routed``, ``contact.assigned`` for a queue
  hand-over), written in the transaction that made them and sent after its commit (the kit's outbox).
* ``roster_locks``: one row per balancing group (teams sharing members), written first by every balanced
  pick in the group, which serialises those picks across processes (a row lock on PostgreSQL, the write lock
  on SQLite) while picks in unrelated groups, and everything else a decision does, run in parallel.
"""

from __future__ import annotations

from sqlalchemy import JSON, Boolean, Column, Index, Integer, String, Table, Text, Uuid, false

from priyom_kit.db import UtcDateTimeColumn, make_metadata
from priyom_kit.outbox import outbox_table

metadata = make_metadata()

rule_versions = Table(
    "rule_versions",
    metadata,
    Column("version", Integer, primary_key=True, autoincrement=True),
    Column("text", Text, nullable=False),
    Column("created_by", String(200), nullable=False),
    Column("comment", String(500), nullable=True),
    Column("created_at", UtcDateTimeColumn, nullable=False),
)

agents = Table(
    "agents",
    metadata,
    Column("name", String(500), primary_key=True),
    Column("available", Boolean, nullable=False),
    Column("updated_at", UtcDateTimeColumn, nullable=False),
)

assignments = Table(
    "assignments",
    metadata,
    Column("contact_id", Uuid, primary_key=True),
    Column("team", String(500), nullable=False),
    Column("assignee", String(500), nullable=True),
    Column("waiting", Boolean, nullable=False),
    #: Waiting because the team was closed when the contact came: handed over when its hours start.
    Column("until_opening", Boolean, nullable=False, server_default=false()),
    Column("open", Boolean, nullable=False),
    Column("priority", Integer, nullable=False),
    Column("ticket_number", String(64), nullable=True, unique=True),
    Column("status_at", UtcDateTimeColumn, nullable=True),
    Column("routing", JSON, nullable=False),
    Column("routed_at", UtcDateTimeColumn, nullable=False),
    Column("channel", String(32), nullable=True),
    Index("ix_assignments_assignee_open", "assignee", "open"),
    Index("ix_assignments_waiting_team", "waiting", "team"),
)

team_cursors = Table(
    "team_cursors",
    metadata,
    Column("team", String(500), primary_key=True),
    Column("last_assignee", String(500), nullable=False),
)

roster_locks = Table(
    "roster_locks",
    metadata,
    Column("name", String(100), primary_key=True),
    Column("turns", Integer, nullable=False),
)

type_corrections = Table(
    "type_corrections",
    metadata,
    Column("contact_id", Uuid, primary_key=True),
    Column("ticket_number", String(64), nullable=False),
    Column("type", String(32), nullable=False),
    Column("subject", Text, nullable=True),
    Column("text", Text, nullable=False),
    Column("corrected_at", UtcDateTimeColumn, nullable=False),
)

router_outbox = outbox_table(metadata, "router_outbox")
