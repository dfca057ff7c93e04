"""Priyom intake-email: the email channel.

Foundation shell only. The service starts, connects to the bus (declaring the topology), and reports
``/health`` and ``/metrics``; it does not receive, parse or send any email yet. SMTP reception (aiosmtpd),
IMAP polling (aioimaplib), MIME normalisation and reply delivery come in the email channel's own issue.

Licence: this folder is GPL-3.0-only (see ``LICENSE``) because it depends on aioimaplib, which is
GPL-3.0-only. No other Priyom package may import it; services talk to it over the bus only.
"""
