"""The matching decision with claims, without a database: what a channel proves, and what a claim may do."""

from __future__ import annotations

import uuid
from dataclasses import replace

import pytest

from priyom_contracts import MatchKind
from priyom_identity.claims import as_sent_by, proven_by
from priyom_identity.matching import EMAIL, PHONE, Identifier, Owner, decide, messenger_kind

TG = Identifier(messenger_kind("telegram"), "42", "42")
HOOK = Identifier(messenger_kind("webhook"), "u-42", "u-42")
PH = Identifier(PHONE, "+79161234567", "8 916 123-45-67")
EM = Identifier(EMAIL, "anna@example.ru", "anna@example.ru")


def claim(identifier: Identifier) -> Identifier:
    return replace(identifier, verified=False)


def card(*, verified: bool = True, provisional: bool = False) -> Owner:
    return Owner(uuid.uuid4(), uuid.uuid4(), provisional=provisional, verified=verified)


@pytest.mark.parametrize(("channel", "identifier", "proven"), [
    ("phone", PH, True), ("telegram", PH, True), ("telegram", TG, True),
    ("web", PH, False), ("web", EM, False), ("email", EM, False),
    ("webhook", PH, False), ("webhook", HOOK, False), ("phone", EM, False),
])
def test_which_channel_proves_what(channel: str, identifier: Identifier, proven: bool) -> None:
    assert proven_by(channel, identifier) is proven
    assert as_sent_by(channel, [identifier]) == [replace(identifier, verified=proven)]


def test_a_web_form_with_a_known_email_matches_its_card_and_only_claims_the_new_phone() -> None:
    victim = card()
    decision = decide(as_sent_by("web", [PH, EM]), {EM.key: victim})
    assert decision.owner == victim and decision.match is MatchKind.EXACT_EMAIL
    assert decision.new_identifiers == [claim(PH)], "the phone joins as a claim, never verified"


def test_a_call_from_a_claimed_phone_does_not_match_the_card_that_claims_it() -> None:
    victim = card(verified=False)
    decision = decide(as_sent_by("phone", [PH]), {PH.key: victim})
    assert decision.owner is None and decision.match is MatchKind.NEW and decision.first_contact
    assert decision.proven_claims == [PH], "the caller's proof takes the number from the claim"
    assert decision.possible_duplicates == [victim.client_id]
    assert decision.new_identifiers == []


def test_a_call_from_a_verified_phone_matches_as_before() -> None:
    client = card()
    decision = decide(as_sent_by("phone", [PH]), {PH.key: client})
    assert decision.owner == client and decision.proven_claims == [] and decision.possible_duplicates == []


def test_a_proven_claim_on_the_matched_card_is_confirmed_in_place() -> None:
    client = card()
    claimed_here = Owner(client.client_id, client.person_id, verified=False)
    decision = decide(as_sent_by("telegram", [TG, PH]), {TG.key: client, PH.key: claimed_here})
    assert decision.owner == client and decision.match is MatchKind.MESSENGER_ID
    assert decision.proven_claims == [PH] and decision.possible_duplicates == []


def test_a_claim_threads_a_later_claim_of_the_same_identifier() -> None:
    """A web-form customer writing again from the address of their first (provisional) card."""
    first = card(verified=False, provisional=True)
    decision = decide(as_sent_by("web", [EM]), {EM.key: first})
    assert decision.owner == first and decision.match is MatchKind.EXACT_EMAIL and decision.proven_claims == []


def test_a_verified_identifier_wins_over_a_stronger_claim() -> None:
    """The attacker's phone, claimed on a card of their own, does not outweigh the verified e-mail."""
    by_email, by_claimed_phone = card(), card(verified=False)
    decision = decide(as_sent_by("web", [PH, EM]), {PH.key: by_claimed_phone, EM.key: by_email})
    assert decision.owner == by_email and decision.match is MatchKind.EXACT_EMAIL
    assert decision.possible_duplicates == [by_claimed_phone.client_id]


def test_what_joins_a_card_matched_on_a_claim_is_a_claim_even_when_proven() -> None:
    """A webhook user who claimed a client's phone: their webhook id joins that card unverified."""
    client = card()
    decision = decide([claim(HOOK), claim(PH)], {PH.key: client})
    assert decision.owner == client and decision.new_identifiers == [claim(HOOK)]
    matched_on_a_claim = decide([TG, claim(EM)], {EM.key: card(verified=False)})
    assert matched_on_a_claim.new_identifiers == [claim(TG)]


def test_a_first_contact_keeps_what_its_channel_proved() -> None:
    decision = decide(as_sent_by("telegram", [TG, PH]), {})
    assert decision.first_contact and [i.verified for i in decision.new_identifiers] == [True, True]
    web = decide(as_sent_by("web", [PH, EM]), {})
    assert [i.verified for i in web.new_identifiers] == [False, False]


def test_a_shared_phone_claimed_on_another_card_is_taken_not_absorbed() -> None:
    """Telegram contact sharing merges cards only on a verified phone; a claimed one moves to the sharer."""
    by_messenger, claimed_by = card(provisional=True), card(verified=False)
    decision = decide(as_sent_by("telegram", [TG, PH]), {TG.key: by_messenger, PH.key: claimed_by})
    assert decision.absorb is None and decision.owner == by_messenger
    assert decision.proven_claims == [PH] and decision.possible_duplicates == [claimed_by.client_id]


def test_a_shared_verified_phone_still_absorbs_the_provisional_messenger_card() -> None:
    by_messenger, by_phone = card(provisional=True), card()
    decision = decide(as_sent_by("telegram", [TG, PH]), {TG.key: by_messenger, PH.key: by_phone})
    assert decision.absorb == by_messenger.client_id and decision.owner == by_phone
