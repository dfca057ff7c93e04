"""The lookup cache without I/O: hits, invalidation per card, stale writes refused, TTL and size bounds."""

from __future__ import annotations

import uuid

from hypothesis import strategies as st
from hypothesis.stateful import RuleBasedStateMachine, invariant, rule

from priyom_identity.lookup.cache import LookupCache, LookupHit


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


class CacheModel(RuleBasedStateMachine):
    """Any sequence of puts, gets, invalidations and clock moves: the cache never answers with a card
    that changed after the answer was read, nor with another key's card, and stays within its size."""

    def __init__(self) -> None:
        super().__init__()
        self.clock = Clock()
        self.cache = LookupCache(3, 10, self.clock)
        self.cards = [hit() for _ in range(3)]
        #: key -> (card, generation read, time stored): what a correct cache may still answer.
        self.stored: dict[tuple[str, str], tuple[LookupHit, float]] = {}
        self.changed_at: dict[uuid.UUID, int] = {}
        self.reads: list[tuple[tuple[str, str], LookupHit, int]] = []

    keys = st.sampled_from([("phone", str(n)) for n in range(5)])

    @rule(key=keys, card=st.integers(0, 2))
    def read_database(self, key: tuple[str, str], card: int) -> None:
        self.reads.append((key, self.cards[card], self.cache.generation))

    @rule(data=st.data())
    def store_a_read(self, data: st.DataObject) -> None:
        if not self.reads:
            return
        key, card, generation = self.reads.pop(data.draw(st.integers(0, len(self.reads) - 1)))
        self.cache.put(key, card, generation)
        if generation == self.cache.generation:
            self.stored[key] = (card, self.clock.now)

    @rule(card=st.integers(0, 2))
    def change_card(self, card: int) -> None:
        client_id = self.cards[card].client_id
        self.cache.invalidate(client_id)
        self.stored = {k: v for k, v in self.stored.items() if v[0].client_id != client_id}

    @rule(seconds=st.floats(0, 6))
    def time_passes(self, seconds: float) -> None:
        self.clock.now += seconds

    @rule(key=keys)
    def lookup(self, key: tuple[str, str]) -> None:
        answer = self.cache.get(key)
        if answer is not None:
            assert key in self.stored, "answered a key never stored, or stored before its card changed"
            card, stored_at = self.stored[key]
            assert answer == card and self.clock.now < stored_at + 10

    @invariant()
    def bounded_and_indexed(self) -> None:
        assert len(self.cache) <= 3
        indexed = {k for keys in self.cache._keys_by_client.values() for k in keys}
        assert indexed == set(self.cache._entries)


TestCacheModel = CacheModel.TestCase
