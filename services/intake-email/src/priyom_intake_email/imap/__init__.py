"""IMAP mailboxes: everything that speaks IMAP (aioimaplib, GPL-3.0-only: it stays inside this service).

``readers`` (one reader per configured mailbox: UID checkpoints, UIDVALIDITY re-matching, IDLE with polling
fallback, reconnect with backoff), ``login`` (a logged-in connection: implicit TLS or STARTTLS, LOGIN or
XOAUTH2), ``plan`` (pure: IMAP answers read, fetches planned by count and bytes) and ``ingested_sweep`` (the
keys of old ingested mail forgotten after the retention). Wired in ``app.py``.
"""
