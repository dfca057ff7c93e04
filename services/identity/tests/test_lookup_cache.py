"""The lookup cache without I/O: hits, invalidation per card, stale writes refused, TTL and size bounds."""

from __future__ import annotations

import uuid

from priyom_identity.lookup_cache import LookupCache, LookupHit


class Clock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


def hit(client_id: uuid.UUID | None = None) -> LookupHit:
    return LookupHit(client_id or uuid.uuid4(), None, "ООО Ромашка", "Иванова", "premium", "ООО Ромашка")


PHONE = ("phone", "+79161234567")
EMAIL = ("email", "anna@example.ru")


def test_a_stored_hit_is_returned_until_its_card_changes() -> None:
    cache = LookupCache(10, 60)
    card = hit()
    cache.put(PHONE, card, cache.generation)
    cache.put(EMAIL, card, cache.generation)
    other = hit()
    cache.put(("phone", "+79160000000"), other, cache.generation)
    assert cache.get(PHONE) == card and cache.hits == 1
    cache.invalidate(card.client_id)
    assert cache.get(PHONE) is None and cache.get(EMAIL) is None
    assert cache.get(("phone", "+79160000000")) == other, "other cards stay cached"
    assert len(cache) == 1


def test_a_lookup_that_read_before_an_invalidation_cannot_store_its_stale_answer() -> None:
    cache = LookupCache(10, 60)
    card = hit()
    generation = cache.generation  # the lookup starts reading the database ...
    cache.invalidate(card.client_id)  # ... an edit commits meanwhile ...
    cache.put(PHONE, card, generation)  # ... and the old answer arrives
    assert cache.get(PHONE) is None


def test_entries_expire_after_the_ttl() -> None:
    clock = Clock()
    cache = LookupCache(10, 30, clock)
    cache.put(PHONE, hit(), cache.generation)
    clock.now += 29.9
    assert cache.get(PHONE) is not None
    clock.now += 0.2
    assert cache.get(PHONE) is None and len(cache) == 0


def test_the_least_recently_used_entry_goes_first_and_size_zero_caches_nothing() -> None:
    cache = LookupCache(2, 60)
    first, second, third = hit(), hit(), hit()
    cache.put(("phone", "1"), first, 0)
    cache.put(("phone", "2"), second, 0)
    assert cache.get(("phone", "1")) == first  # now the most recent
    cache.put(("phone", "3"), third, 0)
    assert cache.get(("phone", "2")) is None and cache.get(("phone", "1")) == first and len(cache) == 2
    cache.invalidate(second.client_id)  # its keys were already evicted: nothing breaks
    off = LookupCache(0, 60)
    off.put(PHONE, first, off.generation)
    assert off.get(PHONE) is None
