"""The staff directory read from tickets: names to extensions, the last list kept while tickets is away."""

from __future__ import annotations

import httpx
import pytest
from pydantic import SecretStr

from priyom_intake_telephony.staff_directory import StaffDirectory
from priyom_kit.http_client import HttpClient
from priyom_testing.staff_directory_peer import StaffDirectoryPeer


async def test_names_become_extensions_and_a_failed_read_keeps_the_last_list() -> None:
    async with StaffDirectoryPeer("credential-of-telephony", {"Christopher Miller": "101"}) as tickets:
        client = HttpClient(base_url=tickets.url, token=SecretStr("credential-of-telephony"))
        await client.open()
        try:
            directory = StaffDirectory(client)
            await directory.refresh()
            assert directory.extension_of("christopher  MILLER") == "101"
            assert directory.extension_of("Emma Taylor") is None
            tickets.token = "rotated"  # tickets now refuses this service's credential
            with pytest.raises(httpx.HTTPStatusError):
                await directory.refresh()
            assert directory.extension_of("Christopher Miller") == "101"
        finally:
            await client.close()


async def test_without_tickets_names_stay_names() -> None:
    directory = StaffDirectory(None)
    await directory.refresh()
    assert directory.extension_of("Christopher Miller") is None
