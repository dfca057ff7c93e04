"""Capability keys for the customer's public links: "which ticket did my contact become" and "rate it".

A contact id alone cannot be the capability: Telegram and phone contacts get uuid5 ids of predictable channel
keys (``tg:<bot>:<update_id>``, ``pbx:<Linkedid>``), so anyone could read other people's ticket statuses and
rate their tickets first. The key is an HMAC of the contact id under ``PRIYOM_PUBLIC_LINK_SECRET``, which the
service that hands out the link (intake-web) and the one that answers it (tickets) share: nothing is stored,
and a key cannot be made without the secret. It travels in the query string, which no Priyom log carries.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import uuid

from pydantic import SecretStr

#: The query parameter that carries the key.
KEY_PARAM = "key"
#: 144 bits of the HMAC: unguessable, and short enough for a link in a message.
_KEY_BYTES = 18


def link_key(secret: SecretStr, contact_id: uuid.UUID) -> str:
    """The key that opens ``contact_id``'s public links (24 URL-safe characters)."""
    mac = hmac.new(secret.get_secret_value().encode(), b"contact-link:" + contact_id.bytes, hashlib.sha256)
    return base64.urlsafe_b64encode(mac.digest()[:_KEY_BYTES]).decode()


def key_opens(secret: SecretStr | None, contact_id: uuid.UUID, key: str | None) -> bool:
    """Whether ``key`` opens ``contact_id``'s links; never without a secret (public links are then off)."""
    if secret is None or not key:
        return False
    return hmac.compare_digest(key.encode(), link_key(secret, contact_id).encode())
