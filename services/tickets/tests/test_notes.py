"""Internal notes through the API on SQLite and PostgreSQL: who may write and read them, that no customer
surface (the public status link, notices, the outbox) ever carries one, and that an @mention reaches the
mentioned colleague's list."""

from __future__ import annotations

from sqlalchemy import func, select

from priyom_tickets import tables
from priyom_tickets.mentions import mentioned

from .conftest import public_link

AGENT = {"Authorization": "Bearer agent-token"}  # Иванова, teams service and sales
SUPERVISOR = {"Authorization": "Bearer supervisor-token"}  # Смирнов
ADMIN = {"Authorization": "Bearer admin-token"}
SECRET = "Клиент грубил, второй раз не звонить после 18:00"


def test_mentions_are_the_account_names_written_after_an_at() -> None:
    names = ["Анна", "Анна Иванова", "Иван", "Петров"]
    assert mentioned("@анна иванова и @Петров, глянь", names) == ["Анна Иванова", "Петров"]
    assert mentioned("@Иванова не Иван; @Анна", names) == ["Анна"]
    assert mentioned("почта ivan@Петров.ru — @Петров @Петров", names) == ["Петров"]
    assert mentioned("без упоминаний", names) == []


async def count(tickets, table) -> int:  # noqa: ANN001 - a Table
    async with tickets.database.sessions() as session:
        return (await session.execute(select(func.count()).select_from(table))).scalar_one()


async def test_a_note_is_for_staff_only_and_never_reaches_the_customer(tickets, make_routed) -> None:
    event = make_routed(channel="email")
    number = (await tickets.register(event)).number
    messages, staged = await count(tickets, tables.ticket_messages), await count(tickets, tables.ticket_outbox)

    added = await tickets.client.post(f"/api/v1/tickets/{number}/notes", headers=AGENT, json={"body": SECRET})
    assert added.status_code == 201, added.text
    assert (added.json()["author"], added.json()["body"], added.json()["mentions"]) == ("Иванова", SECRET, [])
    assert (await count(tickets, tables.ticket_messages), await count(tickets, tables.ticket_outbox)) == (
        messages, staged), "a note is no message of the thread and sends nothing"

    listed = await tickets.client.get(f"/api/v1/tickets/{number}/notes", headers=SUPERVISOR)
    assert [n["body"] for n in listed.json()] == [SECRET]
    detail = await tickets.client.get(f"/api/v1/tickets/{number}", headers=AGENT)
    assert SECRET not in detail.text, "the thread the console and integrators read has no notes in it"

    public = await tickets.client.get(public_link(event.contact.contact_id))
    assert public.status_code == 200 and SECRET not in public.text
    for action in ("accept", "start"):  # each move sends the customer a notice: none quotes the note
        moved = await tickets.client.post(f"/api/v1/tickets/{number}/transitions", headers=AGENT,
                                          json={"action": action})
        assert moved.status_code == 200, moved.text
    async with tickets.database.sessions() as session:
        payloads = [str(r) for (r,) in await session.execute(select(tables.ticket_outbox.c.payload))]
        bodies = [b for (b,) in await session.execute(select(tables.ticket_messages.c.body))]
    assert payloads and not any(SECRET in p for p in payloads)
    assert not any(SECRET in b for b in bodies)


async def test_who_may_write_and_read_notes(tickets, make_routed) -> None:
    ours = (await tickets.register(make_routed())).number
    theirs = (await tickets.register(make_routed(team="quality"))).number
    path = f"/api/v1/tickets/{ours}/notes"
    assert (await tickets.client.post(path, json={"body": "x"})).status_code == 401
    service = {"Authorization": "Bearer service-token"}
    assert (await tickets.client.post(path, headers=service, json={"body": "x"})).status_code == 403
    assert (await tickets.client.get(path, headers=service)).status_code == 403
    assert (await tickets.client.post(path, headers=AGENT, json={"body": ""})).status_code == 422
    # An agent of another team does not learn the ticket exists; a supervisor writes on any team's.
    other = f"/api/v1/tickets/{theirs}/notes"
    assert (await tickets.client.post(other, headers=AGENT, json={"body": "x"})).status_code == 404
    assert (await tickets.client.get(other, headers=AGENT)).status_code == 404
    assert (await tickets.client.post(other, headers=SUPERVISOR, json={"body": "x"})).status_code == 201
    schema = (await tickets.client.get("/openapi.json")).json()
    for method, route in (("post", "/api/v1/tickets/{number}/notes"), ("get", "/api/v1/tickets/{number}/notes"),
                          ("get", "/api/v1/me/mentions"), ("post", "/api/v1/me/mentions/{mention_id}/seen")):
        assert schema["paths"][route][method]["x-priyom-roles"] == ["agent", "supervisor"], (method, route)


async def test_a_mention_is_listed_for_the_colleague_until_seen(tickets, make_routed) -> None:
    for name, role in (("Иванова", "agent"), ("Петров", "agent"), ("Смирнов", "supervisor")):
        made = await tickets.client.post("/api/v1/staff", headers=ADMIN,
                                         json={"name": name, "role": role, "teams": ["service"]})
        assert made.status_code == 201, made.text
    number = (await tickets.register(make_routed())).number
    added = await tickets.client.post(f"/api/v1/tickets/{number}/notes", headers=SUPERVISOR,
                                      json={"body": "@Иванова посмотри, и @Смирнов себе, @Никто"})
    assert added.json()["mentions"] == ["Иванова"], "an account's name, not the author's own"

    mine = (await tickets.client.get("/api/v1/me/mentions", headers=AGENT)).json()
    assert [(m["number"], m["author"]) for m in mine] == [(number, "Смирнов")]
    assert (await tickets.client.get("/api/v1/me/mentions", headers=SUPERVISOR)).json() == []
    seen = f"/api/v1/me/mentions/{mine[0]['id']}/seen"
    assert (await tickets.client.post(seen, headers=SUPERVISOR)).status_code == 404, "not his to mark"
    assert (await tickets.client.post(seen, headers=AGENT)).status_code == 204
    assert (await tickets.client.get("/api/v1/me/mentions", headers=AGENT)).json() == []
