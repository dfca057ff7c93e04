"""Small rule books written in the tests, so each condition is tested on its own."""

from __future__ import annotations

import textwrap

from priyom_router.rules import RuleBook, parse_rule_book

_SLA = "{first_response_minutes: 60, resolution_minutes: 600}"

_TEMPLATE = """\
timezone: Europe/Moscow
rules:
{rules}
urgency:
{urgency}
teams:
{teams}
assignment:
{assignment}
sla:
  standard: {{low: {sla}, normal: {sla}, high: {sla}, critical: {sla}}}
  premium: {{low: {sla}, normal: {sla}, high: {sla}, critical: {sla}}}
"""

TEAMS = """\
- {name: support, skills: [general]}
- {name: sales, skills: [sales]}
- {name: on-duty}
"""


def book(rules: str, *, urgency: str = "[]", teams: str = TEAMS, assignment: str = "{}") -> RuleBook:
    """A rule book whose rules (a YAML list) are the test's own; the rest is a plain minimum."""
    indent = lambda s: textwrap.indent(textwrap.dedent(s).strip("\n"), "  ")  # noqa: E731
    return parse_rule_book(_TEMPLATE.format(rules=indent(rules), urgency=indent(urgency), teams=indent(teams),
                                            assignment=indent(assignment), sla=_SLA))
