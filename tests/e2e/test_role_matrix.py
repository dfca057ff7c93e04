"""Every authenticated route of every running service, called with no token and with each role's token; and
no token or secret in any service's log.

The routes and the roles each requires come from the services' own OpenAPI documents (``x-priyom-roles``, which
the kit writes from each route's ``require_roles`` dependency), so a route added tomorrow is in the matrix
without a line here. Expected: no token 401; a role the route does not take 403; a role it takes (or the
admin) anything but 401/403 (the dummy ids then give 404, the dummy body 422). Staff tokens are real accounts
made in tickets and checked by every other service at tickets (``PRIYOM_STAFF_URL``); the service token is the
router's own credential from ``PRIYOM_SERVICE_TOKENS``, never the admin's. Public routes must be on the list
below, so a route that lost its role check fails here.
"""

from __future__ import annotations

import json
import uuid
from typing import Any

import httpx
import pytest
from pydantic import SecretStr

from priyom_kit.public_links import link_key
from priyom_testing.stack import SERVICES, Stack

pytestmark = pytest.mark.e2e

#: Routes anyone may call, by service: each guarded otherwise (a key in the link, a webhook secret or
#: signature, a one-time ticket) or harmless.
#: The probes every service answers (readiness and liveness), added to each list below.
PROBES = {"GET /health", "GET /livez"}
PUBLIC = {
    "tickets": {"GET /health", "GET /api/v1/contacts/{contact_id}/ticket",
                "POST /api/v1/contacts/{contact_id}/satisfaction", "GET /", "GET /console",
                "GET /console/dead-letters", "GET /console/dashboard", "GET /console/kb"},
    "identity": {"GET /health"},
    "router": {"GET /health"},
    "intake-web": {"GET /health", "POST /api/v1/contacts", "GET /api/v1/challenge"},
    "intake-email": {"GET /health"},
    "intake-messenger": {"GET /health"},  # its webhooks check their secret or signature and are not documented
    "intake-telephony": {"GET /health", "GET /api/v1/ami", "POST /api/v1/cti", "POST /api/v1/cti/{secret_in_path}"},
    # The knowledge base's public side: what anyone reads is the public articles (a staff token adds more).
    "portal": {"GET /health", "GET /api/v1/kb/search", "GET /api/v1/kb/suggest", "GET /api/v1/kb/articles/{article_id}",
               "POST /api/v1/kb/articles/{article_id}/feedback"},
}
#: Routes the generic call cannot judge, with the test that does.
ELSEWHERE = {
    # Rotates the caller's own token (the matrix would lose its agent): services/tickets/tests/test_staff_tokens.py
    "POST /api/v1/me/token",
}
ROLES = ("agent", "supervisor", "service", "admin")


def path_value(parameter: dict[str, Any]) -> str:
    schema = parameter.get("schema", {})
    if schema.get("format") == "uuid":
        return str(uuid.uuid4())
    if schema.get("type") == "integer":
        return "999999999"
    if "[0-9]{4}-" in schema.get("pattern", ""):
        return "1999-999999"  # a ticket number no ticket has
    return "no-such-thing"


def calls(spec: dict[str, Any]) -> list[tuple[str, str, str, object]]:
    """(method, templated path, concrete path, roles) of every operation."""
    found = []
    for template, operations in spec["paths"].items():
        for method, operation in operations.items():
            path = template
            for parameter in operation.get("parameters", []):
                if parameter["in"] == "path":
                    path = path.replace("{" + parameter["name"] + "}", path_value(parameter))
            found.append((method.upper(), template, path, operation.get("x-priyom-roles")))
    return found


async def staff_tokens(client: httpx.AsyncClient, stack: Stack) -> dict[str, str]:
    tokens = {"admin": stack.env["PRIYOM_ADMIN_TOKEN"],
              "service": json.loads(stack.env["PRIYOM_SERVICE_TOKENS"])["router"]}
    for role in ("agent", "supervisor"):
        made = await client.post(f"{stack.url('tickets')}/api/v1/staff", headers=stack.admin_headers,
                                 json={"name": f"matrix-{role}-{uuid.uuid4().hex[:6]}", "role": role,
                                       "teams": ["service"]})
        assert made.status_code == 201, made.text
        tokens[role] = made.json()["token"]
    return tokens


async def test_every_route_answers_each_role_as_it_declares(stack: Stack) -> None:
    wrong: list[str] = []
    checked = 0
    async with httpx.AsyncClient(timeout=30) as client:
        tokens = await staff_tokens(client, stack)
        for service in SERVICES:
            spec = (await client.get(f"{stack.url(service)}/openapi.json")).json()
            public = {f"{m} {t}" for m, t, _, roles in calls(spec) if roles == "public"}
            expected = PUBLIC[service] | PROBES
            assert public == expected, (service, "public routes changed", public ^ expected)
            for method, template, path, roles in calls(spec):
                if roles == "public" or f"{method} {template}" in ELSEWHERE:
                    continue
                assert isinstance(roles, list) and roles, (service, method, template, roles)
                url = f"{stack.url(service)}{path}"
                # A JSON array: no route's body is one to act on, so an allowed call stops at validation.
                anonymous = await client.request(method, url, json=[])
                checks = [("none", anonymous.status_code, anonymous.status_code == 401)]
                for role in ROLES:
                    answer = await client.request(method, url, json=[],
                                                  headers={"Authorization": f"Bearer {tokens[role]}"})
                    allowed = role == "admin" or role in roles
                    ok = answer.status_code not in (401, 403) if allowed else answer.status_code == 403
                    checks.append((role, answer.status_code, ok))
                checked += len(checks)
                wrong += [f"{service} {method} {template} as {role}: {code}" for role, code, ok in checks if not ok]
    assert not wrong, "\n".join(wrong)
    assert checked > 300  # every service's routes were reached, not an empty document


async def test_no_service_logs_a_token_or_secret_it_was_given(stack: Stack) -> None:
    """Every token and secret of the deployment, sent to every service (in headers, and the link key in a query
    string), appears in no service's log: not in access lines, not in refusals, not in errors."""
    async with httpx.AsyncClient(timeout=30) as client:
        tokens = await staff_tokens(client, stack)
        contact = uuid.uuid4()
        key = link_key(SecretStr(stack.env["PRIYOM_PUBLIC_LINK_SECRET"]), contact)
        await client.get(f"{stack.url('tickets')}/api/v1/contacts/{contact}/ticket?key={key}")
        for service in SERVICES:
            for token in tokens.values():
                for path in ("/api/v1/me", "/api/v1/no-such-route", "/health"):
                    await client.get(f"{stack.url(service)}{path}", headers={"Authorization": f"Bearer {token}"})
    secrets = {**tokens, "link key": key, "link secret": stack.env["PRIYOM_PUBLIC_LINK_SECRET"],
               **{f"service token {n}": t for n, t in json.loads(stack.env["PRIYOM_SERVICE_TOKENS"]).items()}}
    leaks = [f"{service}: {what}" for service in SERVICES for what, value in secrets.items()
             if value in stack.log(service)]
    assert not leaks, leaks
    assert all(stack.log(service) for service in SERVICES)  # the logs were there to read
