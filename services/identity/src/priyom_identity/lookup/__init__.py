"""The telephony lookup: a caller's card found by phone, email or messenger id within milliseconds.

A request travels ``responder`` (its own AMQP consumer, outside faststream) → ``client_lookup`` (request read,
identifiers normalised, answer built; never raises) → ``cache`` (in-process, dropped per card on every change)
→ ``reader`` (on a miss: one prepared statement on a pool of its own). Wired together in ``app.py``.
"""
