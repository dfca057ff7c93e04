"""Priyom intake-telephony: the telephony channel.

Foundation shell only. The service starts, connects to the bus (declaring the topology), and reports
``/health`` and ``/metrics``; it does not connect to a PBX yet. The Asterisk AMI connection (panoramisk),
call assembly into ``CallEvent`` / ``ContactReceived``, and phone handling (phonenumbers) come in the
telephony channel's own issue.
"""
