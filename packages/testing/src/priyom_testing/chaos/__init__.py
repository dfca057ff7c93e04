"""The chaos run (``make chaos``, ``bench/chaos.py``, and a short one in ``tests/e2e/test_chaos.py``).

Every channel at once, through the real services as processes on PostgreSQL, while services are killed
(``kill -9``) and started again and the broker restarts; then every contact a channel accepted is looked for
in the tickets database.

``customers``  the web form, an MTA over SMTP and Telegram users, each behaving like the real thing
``pbx``        a PBX replaying recorded calls (``shared/corpus/ami``) with fresh ids, and which of them the
               gateway could know of
``monkey``     the kills and the broker restarts
``mail_sink``  the customers' mail server, which the notices intake-email relays reach
``audit``      accepted contacts against tickets, duplicates, dead letters
``run``        all of it, and the one JSON line
"""
