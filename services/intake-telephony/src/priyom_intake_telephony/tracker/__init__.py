"""Call assembly: AMI events in, call progress out. Pure: no socket, no bus, no clock of its own.

A call is everything Asterisk (12 to 22) reports under one ``Linkedid``: the caller's channel, the
``Local/`` legs of queues and ring groups, every phone that rings, the transfer targets. Asterisk hands the
``Linkedid`` on through bridges, so a blind transfer stays one call by itself; an attended transfer joins
the consultation call to the original one (``AttendedTransfer``), and the tracker merges them.

What comes out (:class:`~.call.Started`, :class:`~.call.Ringing`, :class:`~.call.Answered`, :class:`~.call.Finished`):

* ``Started`` when an inbound call reaches the PBX, so the caller's card is fetched while the dialplan runs;
* ``Ringing`` once per extension that starts ringing (a queue rings several, a retry rings one again:
  ``attempt`` counts), from ``AgentCalled`` or from a ``DialBegin`` to a device of an extension;
* ``Answered`` when an extension answers (``AgentConnect``, ``DialEnd`` with ``ANSWER``, or a bridge an
  extension's phone entered with the caller), again for each transfer target that answers;
* ``Finished`` when the call's last channel hung up, with the times, the agents, the queue, the outcome
  and the recording (``MIXMONITOR_FILENAME``; a ``Cdr`` arriving later still amends the finished call).

The parts: ``call`` (the call as far as it got, and the progress reported about it), ``assembly`` (the
:class:`~.assembly.CallTracker`: which call an event belongs to, and the dispatch to a handler per event),
the handlers per event family (``channel_events``: channels appearing and hanging up, caller id, recording,
CDR; ``dialling``: Dial begin and end; ``queues``: queue members rung, connected, not answering, callers
joining, leaving and abandoning; ``transfers``: bridges and attended transfers; ``pickups``: a phone
taking a call that rings elsewhere) and ``event_fields`` (reading AMI
headers).
"""
