"""Identity's HTTP API, one module per resource: ``clients`` (cards: lookup, search, read, create, edit,
delete, history), ``persons`` (a card's contact persons and their identifiers), ``duplicate_suggestions``
(cards and persons entered twice), ``merges`` (merge and its undo), ``erasure_requests`` (a person's personal
data erased on request) and ``csv_import`` (a client base from CSV); ``roles`` says who may call what.

Thin: normalising is :mod:`priyom_identity.canonical_identifiers`, writing is :mod:`priyom_identity.identify`
and :mod:`priyom_identity.store`. Nothing here logs identifiers. Every change calls ``changes.committed``
after the commit, which drops the cards it touched from the telephony lookup caches (this process's, and
through ``client.changed.v1`` everyone else's); merges and erasures are audited
(:func:`~priyom_identity.store.record_audit`) under the caller's principal name.
"""
