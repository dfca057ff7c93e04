"""Pure email protocol code: charsets, MIME normalising, reply stripping, auto-reply and bounce recognition.

Nothing in this package imports faststream, aio-pika, SQLAlchemy or the network: it turns bytes into a
:class:`~priyom_intake_email.mail.parsing.NormalisedMail` and is unit-tested on the corpus alone.
"""
