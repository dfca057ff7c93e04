"""Priyom intake-messenger: the messenger channel.

Foundation shell only. The service starts, connects to the bus (declaring the topology), and reports
``/health`` and ``/metrics``; it does not talk to any messenger yet. The Telegram bot (aiogram): receiving
updates, normalising them into ``ContactReceived`` and delivering ``OutboundReply`` comes in the messenger
channel's own issue.
"""
