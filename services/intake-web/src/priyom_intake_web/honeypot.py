"""The honeypot: a form field people never see and simple bots fill.

What a bot that fills it gets: the same ``202`` and the same-looking answer as a person (a fresh contact id
and status URL), but nothing is stored or published. Chatwoot's and Zammad's users expect a spam submission
not to become a conversation or a ticket, and a form that answered "refused" would teach the script which
field to leave empty; a quiet drop teaches it nothing. The cost: a person whose browser autofilled the hidden
field (it has ``autocomplete="off"``, no label on screen, ``tabindex=-1``) sees "registered" and a number
that never comes; the page then says the number will be sent later. Each drop is counted
(``priyom_web_refused_total{reason="honeypot"}``) so a jump is noticed.
"""

from __future__ import annotations

from typing import Any

#: The trap's name: what form-filling scripts look for first.
FIELD = "website"


def caught(fields: Any) -> bool:
    """Whether the submission filled the trap."""
    return isinstance(fields, dict) and bool(str(fields.get(FIELD) or "").strip())
