"""client.changed.v1 over the real RabbitMQ: a card changed through one identity process is dropped from the
lookup cache of another, and the changes are announced with the cards they touched."""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import AsyncIterator, Callable
from contextlib import AsyncExitStack
from dataclasses import dataclass

import httpx
import pytest
from fastapi import FastAPI

from priyom_contracts import ClientChange, ClientChanged
from priyom_identity.app import build
from priyom_identity.card_changes import CardChanges
from priyom_identity.lookup.cache import LookupCache, LookupHit
from priyom_identity.matching import PHONE
from priyom_identity.settings import IdentitySettings
from priyom_kit import ServiceParts, build_app
from priyom_kit.testing import Tap, bus_tap
from priyom_testing.apps import started

from .conftest import ADMIN


@dataclass
class Instance:
    """One running identity process (here in the test's process): its HTTP client and its lookup cache."""

    client: httpx.AsyncClient
    cache: LookupCache


@pytest.fixture
async def instances(settings: IdentitySettings) -> AsyncIterator[list[Instance]]:
    """Two identity instances on one database and one bus, as a scaled-out deployment runs them."""
    async with AsyncExitStack() as stack:
        running = []
        for _ in range(2):
            cache = LookupCache(1000, 600)  # a long TTL: only the event can explain an entry going
            app = build_app(build(settings, cache=cache))
            await stack.enter_async_context(started(app))
            client = await stack.enter_async_context(httpx.AsyncClient(
                transport=httpx.ASGITransport(app=app), base_url="http://identity.test"))
            running.append(Instance(client, cache))
        yield running


@pytest.fixture
async def changes_tap(settings: IdentitySettings, amqp_url: str) -> AsyncIterator[Tap]:
    async with bus_tap(amqp_url, settings.bus_prefix, "client.changed.v1.*") as tap:
        yield tap


async def next_change(tap: Tap) -> ClientChanged:
    return ClientChanged.model_validate_json((await tap.next()).body)


async def wait_until(predicate: Callable[[], bool], timeout: float = 15.0) -> None:
    deadline = asyncio.get_running_loop().time() + timeout
    while not predicate():
        assert asyncio.get_running_loop().time() < deadline, "condition not met in time"
        await asyncio.sleep(0.02)


def cache_entry(client_id: uuid.UUID, value: str) -> tuple[tuple[str, str], LookupHit]:
    return (PHONE, value), LookupHit(client_id, None, "cached", None, "standard", None)


async def test_an_edit_on_one_instance_empties_the_other_instances_cache(
        instances: list[Instance], changes_tap: Tap) -> None:
    first, second = instances
    created = await first.client.post("/api/v1/clients", headers=ADMIN,
                                      json={"name": "ООО Эхо", "phones": ["+7 916 750-00-01"]})
    assert created.status_code == 201, created.text
    client_id = uuid.UUID(created.json()["id"])
    key, hit = cache_entry(client_id, "+79167500001")
    second.cache.put(key, hit, second.cache.generation)  # the second instance answered a lookup earlier
    assert second.cache.get(key) is not None

    edited = await first.client.patch(f"/api/v1/clients/{client_id}", headers=ADMIN,
                                      json={"account_manager": "Петров"})
    assert edited.status_code == 200
    announced = await next_change(changes_tap)
    assert (announced.change, announced.client_ids, announced.channel) == (ClientChange.EDITED, [client_id], "api")
    await wait_until(lambda: second.cache.get(key) is None)
    assert announced.type_name() == "client.changed.v1"


async def test_merge_erasure_and_import_are_announced(instances: list[Instance], changes_tap: Tap) -> None:
    first, _ = instances
    a = (await first.client.post("/api/v1/clients", headers=ADMIN, json={
        "name": "ООО Альфа", "persons": [{"full_name": "Анна Альфина", "phones": ["+7 916 750-00-02"]}]})).json()
    b = (await first.client.post("/api/v1/clients", headers=ADMIN,
                                 json={"name": "Альфа ООО", "phones": ["+7 916 750-00-03"]})).json()
    merged = await first.client.post(f"/api/v1/clients/{a['id']}/merge", headers=ADMIN, json={"source_id": b["id"]})
    assert merged.status_code == 200
    change = await next_change(changes_tap)
    assert change.change is ClientChange.MERGED and set(map(str, change.client_ids)) == {a["id"], b["id"]}
    assert [(str(m.source_id), str(m.target_id)) for m in change.merges] == [(b["id"], a["id"])]

    erased = await first.client.post(f"/api/v1/persons/{a['persons'][0]['id']}/erase", headers=ADMIN)
    assert erased.status_code == 200
    change = await next_change(changes_tap)
    assert change.change is ClientChange.ERASED and [str(c) for c in change.client_ids] == [a["id"]]
    assert "Анна" not in change.model_dump_json() and "9167500002" not in change.model_dump_json()  # nor the phone

    csv = "name,company,phones,emails,manager\nОлег,ООО Импорт-Эхо,+7 916 750-00-04,,Иванова\n"
    imported = await first.client.post("/api/v1/clients/import", content=csv.encode(), headers={
        **ADMIN, "Content-Type": "text/csv"})
    assert imported.status_code == 200 and imported.json()["cards_created"] == 1
    change = await next_change(changes_tap)
    assert change.change is ClientChange.IMPORTED and len(change.client_ids) == 1


async def test_a_large_change_is_split_into_several_messages(app: FastAPI, parts: ServiceParts,
                                                             changes_tap: Tap) -> None:
    cache = LookupCache(10, 60)
    ids = [uuid.uuid4() for _ in range(2500)]
    key, hit = cache_entry(ids[-1], "+79167500009")
    cache.put(key, hit, cache.generation)
    await CardChanges(cache, parts.bus.publish).committed(ClientChange.IMPORTED, ids + ids[:10])
    assert cache.get(key) is None, "this process's cache is cleared before anything is published"
    heard = [await next_change(changes_tap) for _ in range(3)]
    assert [len(c.client_ids) for c in heard] == [1000, 1000, 500]
    assert [i for c in heard for i in c.client_ids] == ids
    assert len({c.idempotency_key for c in heard}) == 3
