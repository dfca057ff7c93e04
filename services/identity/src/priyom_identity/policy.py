"""The deployment's matching rules in one value, built from settings in ``app.py`` and passed down. Pure.

Kept apart from the settings class so the domain code (and its tests) never read the environment.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from .canonical_identifiers import DEFAULT_EMAIL_RULES, EmailRules

#: Mailbox providers anyone can sign up with: a domain here says nothing about the sender's employer.
FREE_MAIL_DOMAINS = frozenset({
    "gmail.com", "googlemail.com", "yandex.ru", "ya.ru", "yandex.com", "mail.ru", "bk.ru", "inbox.ru",
    "list.ru", "internet.ru", "rambler.ru", "outlook.com", "hotmail.com", "live.com", "icloud.com", "me.com",
    "yahoo.com", "proton.me", "protonmail.com", "gmx.de", "gmx.com", "aol.com", "qip.ru",
})


@dataclass(frozen=True)
class MatchPolicy:
    """How identifiers are read and how far identity may go from an email's domain to a company."""

    region: str = "RU"
    email: EmailRules = DEFAULT_EMAIL_RULES
    free_mail_domains: frozenset[str] = field(default=FREE_MAIL_DOMAINS)
    corporate_domains: bool = True

    def is_corporate(self, domain: str) -> bool:
        """A domain that may identify an employer: matching is on and it is no free-mail provider."""
        return self.corporate_domains and domain not in self.free_mail_domains
