"""One web contact posted as the form's page posts it (bot check solved), and the ticket number it became.

Used by ``make check-deploy`` twice: against the services run from their own virtualenvs, and through Caddy
in front of the compose stack (``python scripts/web_contact.py https://form.localhost https://console.localhost
--ca root.crt``), where TLS is verified against Caddy's local CA rather than switched off.
"""

from __future__ import annotations

import argparse
import sys
import time
import uuid

import httpx

from priyom_intake_web.challenge import solve


def web_contact_becomes_ticket(form_url: str, tickets_url: str, *, verify: bool | str = True,
                               timeout: float = 60) -> tuple[str, float]:
    """Post a contact to intake-web and poll tickets' public lookup, as the page does; (number, seconds)."""
    fields = {"consent": True, "name": "Check Deploy", "email": f"check.deploy.{uuid.uuid4().hex[:8]}@example.ru",
              "message": "make check-deploy: one contact through every service"}
    with httpx.Client(timeout=10, verify=verify) as client:
        challenge = client.get(f"{form_url}/api/v1/challenge").raise_for_status().json()
        if challenge["kind"] == "pow":
            fields["challenge"] = solve(challenge["token"], challenge["difficulty"])
        started = time.monotonic()
        answer = client.post(f"{form_url}/api/v1/contacts", json=fields).raise_for_status().json()
        contact_id = answer["contact_id"]
        # The status link the page polls carries its key (PRIYOM_PUBLIC_LINK_SECRET); its host is the public
        # one, so only its path and query are asked of tickets_url.
        status = httpx.URL(answer.get("status_url") or f"/api/v1/contacts/{contact_id}/ticket")
        lookup = f"{tickets_url}{status.raw_path.decode()}"
        while time.monotonic() - started < timeout:
            found = client.get(lookup)
            if found.status_code == 200:
                return str(found.json()["number"]), time.monotonic() - started
            time.sleep(0.2)
    raise TimeoutError(f"no ticket for web contact {contact_id} after {timeout}s")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("form_url")
    parser.add_argument("tickets_url")
    parser.add_argument("--ca", help="CA bundle the TLS certificates are checked against")
    args = parser.parse_args()
    number, seconds = web_contact_becomes_ticket(args.form_url, args.tickets_url, verify=args.ca or True)
    print(f"contact  web form -> identity -> router -> ticket {number} in {seconds:.2f}s")
    return 0


if __name__ == "__main__":
    sys.exit(main())
