"""Identity's environment: ``IDENTITY_*`` plus the shared names of :class:`~priyom_kit.ServiceSettings`."""

from __future__ import annotations

from pydantic import Field, SecretStr
from pydantic_settings import SettingsConfigDict

from priyom_kit.settings import DatabaseSettings, database_url_field

from .canonical_identifiers import DEFAULT_EMAIL_RULES, EmailRules
from .policy import FREE_MAIL_DOMAINS, MatchPolicy


class IdentitySettings(DatabaseSettings):
    """Identity owns the client cards, so it has a database; the region decides how local phones parse."""

    model_config = SettingsConfigDict(env_prefix="IDENTITY_", extra="ignore")

    port: int = 8001
    database_url: SecretStr = database_url_field(
        "IDENTITY_", "sqlite+aiosqlite:///var/identity.db",
        "SQLAlchemy async URL (sqlite+aiosqlite or postgresql+asyncpg)",
    )
    default_region: str = Field(
        default="RU", min_length=2, max_length=2,
        description="ISO 3166 region for numbers written without a country code (8 916 … is Russian)",
    )
    email_ignore_dots_domains: list[str] = Field(
        default=sorted(DEFAULT_EMAIL_RULES.ignore_dots),
        description="Mail domains whose local part ignores dots (i.van@gmail.com is ivan@gmail.com)",
    )
    email_subaddress_domains: list[str] = Field(
        default=sorted(DEFAULT_EMAIL_RULES.subaddress),
        description="Mail domains that deliver name+tag@ to name@, so the tag is dropped when matching",
    )
    corporate_domain_matching: bool = Field(
        default=True,
        description="Attach a new sender to the organisation whose known contacts write from the same domain",
    )
    free_mail_domains: list[str] = Field(
        default=sorted(FREE_MAIL_DOMAINS),
        description="Domains that never identify an organisation (public mail providers)",
    )
    lookup_cache_size: int = Field(default=100_000, ge=0,
                                   description="Identifiers kept in the lookup cache (0 turns it off)")
    lookup_cache_ttl_s: float = Field(
        default=30.0, gt=0,
        description="Longest a cached lookup lives: bounds staleness from changes made by other instances",
    )
    import_max_bytes: int = Field(default=20 * 1024 * 1024, gt=0,
                                  description="Largest CSV client import accepted, in bytes")

    inbox_retention_days: float = Field(
        default=30.0, gt=0,
        description="Days an identification (the whole contact: text and addresses) is kept in identity_inbox to "
                    "answer a redelivery with the same outcome (pruned hourly in batches); a redelivery later than "
                    "this is identified again")
    audit_retention_days: float = Field(
        default=1095.0, gt=0,
        description="Days the card audit (merges, erasures: ids and counts, no personal data) and the erasure "
                    "requests and reports are kept")
    tickets_url: str | None = Field(
        default=None,
        description="Tickets' address: a subject access export gathers the person's tickets there (empty: the "
                    "export says tickets' part is missing)")
    tickets_token: SecretStr | None = Field(
        default=None, description="Bearer token identity reads tickets' subject export with; empty: identity's "
                                  "own entry in PRIYOM_SERVICE_TOKENS")
    router_url: str | None = Field(
        default=None,
        description="The router's address: a subject access export gathers the agents' type corrections of the "
                    "person's tickets there (empty: the export says the router's part is missing)")
    router_token: SecretStr | None = Field(
        default=None, description="Bearer token identity reads the router's subject export with; empty: "
                                  "identity's own entry in PRIYOM_SERVICE_TOKENS")
    erasure_resend_s: float = Field(
        default=30.0, gt=0,
        description="How often erasure requests the broker has not confirmed yet are published again (seconds)")

    def policy(self) -> MatchPolicy:
        """The matching rules these settings describe."""
        return MatchPolicy(
            region=self.default_region,
            email=EmailRules(ignore_dots=frozenset(d.lower() for d in self.email_ignore_dots_domains),
                             subaddress=frozenset(d.lower() for d in self.email_subaddress_domains),
                             aliases=DEFAULT_EMAIL_RULES.aliases),
            free_mail_domains=frozenset(d.lower() for d in self.free_mail_domains),
            corporate_domains=self.corporate_domain_matching,
        )
