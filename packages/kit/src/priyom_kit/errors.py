"""The failure kinds a consumer can raise. The bus's failure policy decides what each one means."""


class PriyomError(Exception):
    """Base of Priyom's own errors."""


class PermanentError(PriyomError):
    """Retrying cannot help (the message is wrong for this consumer): dead-letter it at once, with the reason."""


class TransientError(PriyomError):
    """Worth retrying later (a peer is down); after the attempts are spent it is dead-lettered too."""
