"""Priyom intake-messenger: the messenger channel.

Telegram (aiogram: long poll under a lease, or a webhook with its secret checked), the website chat over
WebSockets and a JSON webhook for other messengers each turn what a customer writes into one
``contact.received.v1.<channel>``; ``outbound.reply.v1.<channel>`` and sign-in codes go back the same way.
"""

from .aiogram_types import import_lazily

import_lazily()  # before any module of this package imports aiogram (aiogram_types.py says why)
