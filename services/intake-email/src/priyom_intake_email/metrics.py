"""Per-mailbox figures on ``/metrics``: what an operator needs to see that a mailbox is read, and how far.

Labelled by the mailbox's configured ``name`` (never an address). ``backlog`` is what the last search found
still to read; ``last_drain`` the time the mailbox was last read to its end, the figure to alert on.
"""

from __future__ import annotations

from prometheus_client import CollectorRegistry, Counter, Gauge

from .memory import ByteBudget


class MailboxMetrics:
    def __init__(self, registry: CollectorRegistry) -> None:
        self.messages = Counter(
            "priyom_email_imap_messages_total", "IMAP messages handled, by outcome (published, dead-lettered, "
            "already-ingested, oversized)", ["mailbox", "outcome"], registry=registry)
        self.fetched_bytes = Counter(
            "priyom_email_imap_fetched_bytes_total", "Bytes of mail fetched from the IMAP server", ["mailbox"],
            registry=registry)
        self.sessions_ended = Counter(
            "priyom_email_imap_sessions_ended_total", "IMAP sessions that failed or were lost (then reconnected)",
            ["mailbox"], registry=registry)
        self.connected = Gauge("priyom_email_imap_connected", "1 while the mailbox is logged in", ["mailbox"],
                               registry=registry)
        self.last_uid = Gauge("priyom_email_imap_checkpoint_uid", "Last UID whose publish the broker confirmed",
                              ["mailbox"], registry=registry)
        self.backlog = Gauge("priyom_email_imap_backlog", "Messages found unread at the last search, not yet done",
                             ["mailbox"], registry=registry)
        self.last_drain = Gauge("priyom_email_imap_last_drain_timestamp_seconds",
                                "When the mailbox was last read to its end (Unix time)", ["mailbox"],
                                registry=registry)

    def watch_parse_memory(self, budget: ByteBudget, registry: CollectorRegistry) -> None:
        Gauge("priyom_email_parse_memory_bytes", "Parse memory reserved by mails being parsed now",
              registry=registry).set_function(lambda: budget.in_use)
        Gauge("priyom_email_parse_memory_waiting", "Mails waiting for parse memory",
              registry=registry).set_function(lambda: budget.waiting)
