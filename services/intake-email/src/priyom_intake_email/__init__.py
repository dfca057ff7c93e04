"""Priyom intake-email: the email channel.

Mail comes in through the service's own SMTP endpoint (aiosmtpd, port 2525) and from IMAP mailboxes
(aioimaplib, IDLE with polling fallback, UID checkpoints); :mod:`.mail` turns each into a
``contact.received.v1.email`` (pure code, no bus); replies and notices from tickets go out through an SMTP
relay (aiosmtplib) and are reported back as ``reply.reported.v1.email``.

Licence: this folder is GPL-3.0-only (see ``LICENSE``) because it depends on aioimaplib, which is
GPL-3.0-only. No other Priyom package may import it; services talk to it over the bus only.
"""
