"""Priyom intake-web: the web-form channel.

A public HTML form (``GET /``) and the API behind it (``POST /api/v1/contacts``, JSON or multipart with
attachments). Each valid submission becomes one ``ContactReceived`` on the bus, published confirmed before
the client is answered 202. The service keeps no data of its own: attachment bytes go to the blob store and
everything else travels on the bus.
"""
