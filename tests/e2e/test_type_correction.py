"""An agent's type correction in the real tickets process becomes a training example in the real router."""

from __future__ import annotations

import asyncio

import httpx
import pytest

from priyom_router.training import Example, correction_examples
from priyom_testing.stack import Stack

from .test_pipeline import submit, unique_email, wait_ticket

pytestmark = pytest.mark.e2e


async def router_example(stack: Stack, number: str, timeout: float = 30) -> Example:
    """The correction of ticket ``number`` as ``make train-router`` reads it from the router's database."""
    url = stack.env["ROUTER_DATABASE_URL"]
    deadline = asyncio.get_running_loop().time() + timeout
    while True:
        found = [e for e in await asyncio.to_thread(correction_examples, url) if e.source == f"ticket {number}"]
        if found:
            return found[0]
        if asyncio.get_running_loop().time() > deadline:
            raise AssertionError(f"the router kept no correction of {number} after {timeout}s")
        await asyncio.sleep(0.2)


async def test_corrected_type_reaches_the_routers_training_examples(stack: Stack) -> None:
    message = "Добрый день! Хотим докупить ещё две кассы для нового магазина, пришлите условия."
    async with httpx.AsyncClient(timeout=10) as client:
        response = await submit(client, stack, name="Ирина Котова", email=unique_email(),
                                subject="Ещё две кассы", message=message)
        assert response.status_code == 202, response.text
        ticket = await wait_ticket(client, stack, response.json()["contact_id"])
        new_type = "information_request" if ticket["type"] == "purchase_interest" else "purchase_interest"
        corrected = await client.post(f"{stack.url('tickets')}/api/v1/tickets/{ticket['number']}/type",
                                      headers=stack.admin_headers, json={"type": new_type})
        assert corrected.status_code == 200, corrected.text
        assert corrected.json()["type"] == new_type

    example = await router_example(stack, ticket["number"])
    assert example.label.value == new_type
    assert example.text == f"Ещё две кассы\n{message}"
