"""The matching decision without a database: strongest identifier wins, others become duplicates."""

from __future__ import annotations

import uuid

import pytest

from priyom_contracts import MatchKind, MessengerId, Sender
from priyom_identity.matching import (
    EMAIL,
    PHONE,
    Identifier,
    NoUsableIdentifier,
    Owner,
    decide,
    sender_identifiers,
)

TG = Identifier("messenger:telegram", "42", "42")
PH = Identifier(PHONE, "+79161234567", "8 916 123-45-67")
EM = Identifier(EMAIL, "anna@example.ru", "Anna@Example.ru")


def owner(person: bool = True) -> Owner:
    return Owner(uuid.uuid4(), uuid.uuid4() if person else None)


def test_sender_identifiers_are_normalised_strongest_first() -> None:
    sender = Sender(email="Anna@Example.ru", phone="8 (916) 123-45-67",
                    messenger=MessengerId(channel="telegram", user_id="42"))
    found = sender_identifiers(sender, "RU")
    assert [(i.kind, i.value) for i in found] == [("messenger:telegram", "42"), (PHONE, "+79161234567"),
                                                  (EMAIL, "anna@example.ru")]
    assert found[1].raw == "8 (916) 123-45-67"


def test_a_bad_phone_does_not_sink_a_contact_with_an_email() -> None:
    found = sender_identifiers(Sender(email="a@example.ru", phone="101"), "RU")
    assert [i.kind for i in found] == [EMAIL]


@pytest.mark.parametrize(
    ("sender", "reason"),
    [(Sender(name="Аноним"), "no messenger id, phone or email"),
     (Sender(phone="101"), "internal PBX extension"),
     (Sender(phone="+7 000 000 00 00"), "not a valid number")],
)
def test_no_usable_identifier_says_why(sender: Sender, reason: str) -> None:
    with pytest.raises(NoUsableIdentifier, match=reason):
        sender_identifiers(sender, "RU")


def test_unknown_sender_is_new_with_all_identifiers() -> None:
    decision = decide([PH, EM], {})
    assert decision.first_contact and decision.match is MatchKind.NEW and decision.owner is None
    assert decision.new_identifiers == [PH, EM]


@pytest.mark.parametrize(("known", "kind"), [(TG, MatchKind.MESSENGER_ID), (PH, MatchKind.EXACT_PHONE),
                                             (EM, MatchKind.EXACT_EMAIL)])
def test_match_kind_names_the_identifier_that_matched(known: Identifier, kind: MatchKind) -> None:
    card = owner()
    decision = decide([TG, PH, EM], {known.key: card})
    assert decision.match is kind and decision.owner == card and not decision.first_contact
    assert decision.new_identifiers == [i for i in (TG, PH, EM) if i != known]


def test_two_cards_link_to_the_strongest_and_report_the_other() -> None:
    by_phone, by_email = owner(), owner()
    decision = decide([PH, EM], {PH.key: by_phone, EM.key: by_email})
    assert decision.owner == by_phone and decision.match is MatchKind.EXACT_PHONE
    assert decision.possible_duplicates == [by_email.client_id]
    assert decision.new_identifiers == [], "an identifier of another card is never moved"


def test_same_card_twice_is_not_a_duplicate() -> None:
    card = owner()
    assert decide([PH, EM], {PH.key: card, EM.key: card}).possible_duplicates == []


def test_card_level_match_prefers_a_person_found_by_a_weaker_identifier() -> None:
    office = owner(person=False)
    person = Owner(office.client_id, uuid.uuid4())
    decision = decide([PH, EM], {PH.key: office, EM.key: person})
    assert decision.owner == person and decision.match is MatchKind.EXACT_PHONE


# -- Telegram contact sharing -----------------------------------------------------------------------------


def test_shared_phone_absorbs_the_provisional_messenger_card() -> None:
    by_messenger = Owner(uuid.uuid4(), uuid.uuid4(), provisional=True)
    by_phone = owner()
    decision = decide([TG, PH, EM], {TG.key: by_messenger, PH.key: by_phone})
    assert decision.owner == by_phone and decision.absorb == by_messenger.client_id
    assert decision.match is MatchKind.EXACT_PHONE and decision.possible_duplicates == []
    assert decision.new_identifiers == [EM] and decision.first_contact is False


def test_a_confirmed_messenger_card_is_never_absorbed_on_a_phone() -> None:
    by_messenger = Owner(uuid.uuid4(), uuid.uuid4(), provisional=False)
    by_phone = owner()
    decision = decide([TG, PH], {TG.key: by_messenger, PH.key: by_phone})
    assert decision.owner == by_messenger and decision.absorb is None
    assert decision.match is MatchKind.MESSENGER_ID
    assert decision.possible_duplicates == [by_phone.client_id]


def test_shared_phone_of_the_same_card_changes_nothing() -> None:
    card = Owner(uuid.uuid4(), uuid.uuid4(), provisional=True)
    decision = decide([TG, PH], {TG.key: card, PH.key: card})
    assert decision.owner == card and decision.absorb is None and decision.match is MatchKind.MESSENGER_ID


def test_unknown_messenger_user_sharing_a_known_phone_joins_that_card() -> None:
    by_phone = owner()
    decision = decide([TG, PH], {PH.key: by_phone})
    assert decision.owner == by_phone and decision.new_identifiers == [TG]
    assert decision.match is MatchKind.EXACT_PHONE and decision.absorb is None


def test_a_third_card_behind_the_email_is_still_a_possible_duplicate() -> None:
    by_messenger = Owner(uuid.uuid4(), uuid.uuid4(), provisional=True)
    by_phone, by_email = owner(), owner()
    decision = decide([TG, PH, EM], {TG.key: by_messenger, PH.key: by_phone, EM.key: by_email})
    assert decision.absorb == by_messenger.client_id and decision.possible_duplicates == [by_email.client_id]
