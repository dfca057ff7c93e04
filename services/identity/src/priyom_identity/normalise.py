"""The old name of :mod:`priyom_identity.canonical_identifiers`: import from there.

Kept for one importer only: tickets' ``tests/test_client_card.py`` reads ``DEFAULT_EMAIL_RULES`` from here,
and services/tickets is being changed elsewhere at the same time. Delete this module in the commit that
points that import at ``canonical_identifiers``.
"""

from .canonical_identifiers import (
    DEFAULT_EMAIL_RULES,
    MAX_EMAIL_CHARS,
    MAX_EXTENSION_DIGITS,
    EmailRules,
    InvalidIdentifier,
    NormalisedPhone,
    email_domain,
    normalise_email,
    normalise_messenger_id,
    normalise_phone,
)

__all__ = [
    "DEFAULT_EMAIL_RULES", "MAX_EMAIL_CHARS", "MAX_EXTENSION_DIGITS", "EmailRules", "InvalidIdentifier",
    "NormalisedPhone", "email_domain", "normalise_email", "normalise_messenger_id", "normalise_phone",
]
