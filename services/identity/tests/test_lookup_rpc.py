"""The telephony lookup over the real RabbitMQ: request/reply on identity.lookup, as a PBX bridge calls it.

The caller side is a plain faststream broker (what intake-telephony uses), speaking the wire protocol:
a request on the default exchange with reply_to, the reply correlated back.
"""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import AsyncIterator

import httpx
import pytest
from fastapi import FastAPI
from faststream.rabbit import RabbitBroker

from priyom_contracts import ClientLookupReply, ClientLookupRequest, MessengerId, Topology
from priyom_identity.app import build
from priyom_identity.lookup.cache import LookupCache
from priyom_identity.settings import IdentitySettings
from priyom_kit import ServiceParts
from priyom_testing.broker_cut import CANNOT_CUT, cut_connections

from .conftest import ADMIN, unique_email


class Telephony:
    """The requesting side: one broker connection, one request at a time."""

    def __init__(self, broker: RabbitBroker, queue: str) -> None:
        self.broker = broker
        self.queue = queue

    async def ask(self, body: object) -> ClientLookupReply:
        payload = body.model_dump(mode="json") if isinstance(body, ClientLookupRequest) else body
        reply = await self.broker.request(payload, queue=self.queue, timeout=10)
        return ClientLookupReply.model_validate_json(reply.body)


@pytest.fixture
def cache() -> LookupCache:
    return LookupCache(1000, 60)


@pytest.fixture
def parts(settings: IdentitySettings, cache: LookupCache) -> ServiceParts:
    """Identity with a lookup cache the test can watch."""
    return build(settings, cache=cache)


@pytest.fixture
async def telephony(app: FastAPI, amqp_url: str, settings: IdentitySettings) -> AsyncIterator[Telephony]:
    broker = RabbitBroker(amqp_url, logger=None)
    await broker.connect()
    try:
        yield Telephony(broker, Topology(settings.bus_prefix).identity_lookup_queue)
    finally:
        await broker.stop()


async def create(client: httpx.AsyncClient, **card: object) -> dict:
    response = await client.post("/api/v1/clients", json=card, headers=ADMIN)
    assert response.status_code == 201, response.text
    return response.json()


async def test_caller_is_found_by_any_spelling_of_their_number(client: httpx.AsyncClient,
                                                               telephony: Telephony) -> None:
    card = await create(client, name="ООО Ромашка", account_manager="Иванова", sla_tier="premium",
                        persons=[{"full_name": "Пётр Сидоров", "phones": ["+7 916 730-00-01"]}])
    for spelling in ("8 (916) 730-00-01", "+7 916 730 00 01", "89167300001", "7-916-730-0001"):
        request = ClientLookupRequest(phone=spelling)
        reply = await telephony.ask(request)
        assert reply.request_id == request.request_id and reply.found, spelling
        assert (str(reply.client_id), str(reply.person_id)) == (card["id"], card["persons"][0]["id"])
        assert (reply.display_name, reply.account_manager, reply.sla_tier, reply.organisation) == (
            "ООО Ромашка", "Иванова", "premium", "ООО Ромашка")
    unknown = await telephony.ask(ClientLookupRequest(phone="+7 916 730-99-99"))
    assert unknown.found is False and unknown.error is None and unknown.client_id is None


async def test_lookup_by_email_and_messenger_id(client: httpx.AsyncClient, telephony: Telephony,
                                                parts: ServiceParts) -> None:
    from .conftest import contact_event
    from .test_bus import open_tap

    email = unique_email()
    card = await create(client, name="Анна Смирнова", kind="person", emails=[email], phones=["+7 916 730-00-02"])
    assert (await telephony.ask(ClientLookupRequest(email=email.upper()))).client_id == uuid.UUID(card["id"])
    async for tap in open_tap(parts.settings.amqp_url.get_secret_value(), parts.settings.bus_prefix,
                              "contact.identified.v1.*"):
        # The user shares their own number in Telegram: proven, so their Telegram id joins the card verified.
        await parts.bus.publish(contact_event(phone="+7 916 730-00-02", telegram="730000002", channel="telegram"))
        await tap.identified()
    by_telegram = await telephony.ask(ClientLookupRequest(
        messenger=MessengerId(channel="telegram", user_id="730000002")))
    assert by_telegram.found and by_telegram.client_id == uuid.UUID(card["id"])


async def test_a_phone_a_web_form_claimed_on_a_card_fills_no_popup(client: httpx.AsyncClient, telephony: Telephony,
                                                                   parts: ServiceParts) -> None:
    """Issue 15, finding 2, over the bus: the victim's e-mail and the attacker's phone on the form."""
    from .conftest import contact_event
    from .test_bus import open_tap

    email = unique_email()
    await create(client, name="Вера Жертвова", kind="person", emails=[email])
    async for tap in open_tap(parts.settings.amqp_url.get_secret_value(), parts.settings.bus_prefix,
                              "contact.identified.v1.*"):
        await parts.bus.publish(contact_event(email=email, phone="+7 916 730-00-03", channel="web"))
        await tap.identified()
    popup = await telephony.ask(ClientLookupRequest(phone="8 916 730-00-03"))
    assert popup.found is False and popup.client_id is None and popup.display_name is None


async def test_bad_requests_get_a_reply_with_the_reason(telephony: Telephony) -> None:
    extension = await telephony.ask(ClientLookupRequest(phone="101"))
    assert extension.found is False and "extension" in (extension.error or "")
    request_id = uuid.uuid4()
    malformed = await telephony.ask({"request_id": str(request_id), "email": "not-an-email"})
    assert malformed.request_id == request_id and malformed.found is False
    assert "email" in (malformed.error or "") and "not-an-email" not in (malformed.error or "")
    empty = await telephony.ask({})
    assert empty.found is False and "give a phone" in (empty.error or "")
    garbage = await telephony.ask("это не JSON-объект")
    assert garbage.found is False and garbage.request_id == uuid.UUID(int=0)


async def test_cached_answer_follows_edits_and_merges(client: httpx.AsyncClient, telephony: Telephony,
                                                      cache: LookupCache) -> None:
    card = await create(client, name="ООО Вектор", account_manager="Иванова", phones=["+7 495 730-00-03"])
    first = await telephony.ask(ClientLookupRequest(phone="+7 495 730-00-03"))
    assert first.account_manager == "Иванова"
    hits = cache.hits
    assert (await telephony.ask(ClientLookupRequest(phone="84957300003"))).found
    assert cache.hits == hits + 1, "the second lookup came from the cache"

    edited = await client.patch(f"/api/v1/clients/{card['id']}", headers=ADMIN,
                                json={"account_manager": "Петров", "name": "АО Вектор"})
    assert edited.status_code == 200
    after = await telephony.ask(ClientLookupRequest(phone="+7 495 730-00-03"))
    assert (after.account_manager, after.display_name) == ("Петров", "АО Вектор")

    other = await create(client, name="Вектор-Сервис", phones=["+7 495 730-00-04"])
    assert (await telephony.ask(ClientLookupRequest(phone="+7 495 730-00-04"))).client_id == uuid.UUID(other["id"])
    merged = await client.post(f"/api/v1/clients/{card['id']}/merge", headers=ADMIN,
                               json={"source_id": other["id"]})
    assert merged.status_code == 200
    moved = await telephony.ask(ClientLookupRequest(phone="+7 495 730-00-04"))
    assert moved.client_id == uuid.UUID(card["id"]) and moved.display_name == "АО Вектор"



async def test_many_lookups_in_flight_through_the_kit_rpc_client(client: httpx.AsyncClient, amqp_url: str,
                                                                 settings: IdentitySettings) -> None:
    from priyom_kit.rpc import RpcClient

    cards = [await create(client, name=f"ООО Клиент {n}", phones=[f"+7 916 731-00-{n:02d}"]) for n in range(10)]
    queue = Topology(settings.bus_prefix).identity_lookup_queue
    async with RpcClient(amqp_url) as rpc:
        requests = [ClientLookupRequest(phone=f"8 916 731 00 {n % 10:02d}") for n in range(40)]
        bodies = await asyncio.gather(*(rpc.request(queue, r.model_dump_json().encode(), timeout=10)
                                        for r in requests))
    replies = [ClientLookupReply.model_validate_json(b) for b in bodies]
    assert [r.request_id for r in replies] == [r.request_id for r in requests]
    assert [str(r.client_id) for r in replies] == [cards[n % 10]["id"] for n in range(40)]


async def test_lookups_are_timed_in_the_metrics(client: httpx.AsyncClient, telephony: Telephony) -> None:
    await create(client, name="ООО Метрика", phones=["+7 916 732-00-01"])
    for _ in range(3):
        assert (await telephony.ask(ClientLookupRequest(phone="8 916 732 00 01"))).found
    assert not (await telephony.ask(ClientLookupRequest(phone="101"))).found
    metrics = (await client.get("/metrics")).text
    counts = [line for line in metrics.splitlines() if line.startswith("priyom_identity_lookup_seconds_count")]
    assert counts and float(counts[0].split()[-1]) == 4.0, counts
    assert "priyom_identity_lookup_failures_total 0.0" in metrics


@pytest.mark.skipif(CANNOT_CUT is not None, reason=CANNOT_CUT or "")
async def test_the_responder_comes_back_after_its_connection_is_cut(client: httpx.AsyncClient, amqp_url: str,
                                                                     settings: IdentitySettings) -> None:
    from priyom_kit.rpc import RpcClient, RpcTimeout

    await create(client, name="ООО Обрыв", phones=["+7 916 733-00-01"])
    queue = Topology(settings.bus_prefix).identity_lookup_queue
    body = ClientLookupRequest(phone="8 916 733 00 01").model_dump_json().encode()
    async with RpcClient(amqp_url) as rpc:
        assert ClientLookupReply.model_validate_json(await rpc.request(queue, body, timeout=10)).found
        cut = await asyncio.to_thread(cut_connections, f"priyom-identity-lookup {queue}")
        assert cut, "the responder's connection is listed"
        deadline = asyncio.get_running_loop().time() + 60
        while True:
            try:
                reply = await rpc.request(queue, body, timeout=2)
                break
            except RpcTimeout:
                assert asyncio.get_running_loop().time() < deadline, "the responder did not come back"
    assert ClientLookupReply.model_validate_json(reply).found


async def test_an_earlier_versions_classic_lookup_queue_is_replaced_by_the_quorum_one(
        amqp_url: str, cleanup_bus: str) -> None:
    """Up to 0.x the request queue was a classic queue, unavailable while its node of a cluster is down.
    The responder replaces it under the same name (a requester of either version reaches it) and answers."""
    import aio_pika
    from aio_pika.exceptions import ChannelPreconditionFailed
    from prometheus_client import CollectorRegistry

    from priyom_identity.lookup.responder import (
        LOOKUP_QUEUE_ARGUMENTS,
        LOOKUP_REQUEST_TTL_MS,
        LookupResponder,
    )
    from priyom_kit.rpc import RpcClient

    queue = Topology(cleanup_bus).identity_lookup_queue
    connection = await aio_pika.connect(amqp_url)
    async with connection:
        channel = await connection.channel()
        await channel.declare_queue(queue, durable=True, arguments={"x-message-ttl": LOOKUP_REQUEST_TTL_MS})
        await channel.default_exchange.publish(aio_pika.Message(b"{}"), routing_key=queue)

        async def answer(body: bytes) -> bytes:
            return b"answer to " + body

        responder = LookupResponder(amqp_url, queue, answer, CollectorRegistry())
        await responder.start()
        try:
            async with RpcClient(amqp_url) as rpc:
                assert await rpc.request(queue, b"question", timeout=10) == b"answer to question"
        finally:
            await responder.stop()
        # The queue under the name is now the quorum one: declaring it as a classic queue is refused.
        await (await connection.channel()).declare_queue(queue, durable=True, arguments=LOOKUP_QUEUE_ARGUMENTS)
        with pytest.raises(ChannelPreconditionFailed):
            await (await connection.channel()).declare_queue(
                queue, durable=True, arguments={"x-message-ttl": LOOKUP_REQUEST_TTL_MS})
