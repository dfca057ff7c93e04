"""Who may call which route (admins pass every role check)."""

from __future__ import annotations

from priyom_kit import Role, require_roles

READERS = require_roles(Role.AGENT, Role.SUPERVISOR, Role.SERVICE)
WRITERS = require_roles(Role.SUPERVISOR, Role.SERVICE)
#: Agents complete provisional cards and add the persons they talk to.
EDITORS = require_roles(Role.AGENT, Role.SUPERVISOR, Role.SERVICE)
#: Erasure is irreversible, so only supervisors (and admins) may order it.
ERASERS = require_roles(Role.SUPERVISOR)
#: Whether a phone or address someone typed in is really the client's is a person's judgement, not a service's.
CLAIM_REVIEWERS = require_roles(Role.AGENT, Role.SUPERVISOR)
