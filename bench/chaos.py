"""The chaos run: every channel at once while services are killed and the broker restarts.

    python bench/chaos.py --amqp-url URL --broker-restart "COMMAND" [--seconds 300] [--rate 4]

The seven services run as processes on PostgreSQL (fresh ``chaos_*`` databases, dropped afterwards) and a
private bus prefix. Customers of four channels arrive together: web form submissions (retried with their
Idempotency-Key), mail over SMTP (retried after a 4xx, as an MTA does), Telegram messages through the fake
Bot API (an update stays until confirmed) and calls from a fake PBX replaying recorded Asterisk calls. Every
6-12 s a random service, the intake services included, is killed with SIGKILL and started again; the broker
is restarted ``--broker-restarts`` times with ``--broker-restart`` (``make chaos`` runs a private node and
restarts that one: ``scripts/chaos-broker.sh``). Afterwards every accepted contact (202, 250, confirmed
update, ended call) must be in exactly one ticket and the dead-letter queue empty. Prints one JSON line,
``{"accepted", "with_ticket", "lost", "duplicates", "dead_letters", "kills", "broker_restarts", "seconds"}``,
the monkey's log and anything lost on stderr, and exits 1 unless lost, duplicates and dead letters are 0.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import sys
from pathlib import Path

from priyom_testing.chaos.run import ChaosPlan, chaos

#: How the total rate is shared between the channels (web form, SMTP, Telegram, calls).
SHARES = {"web": 0.3, "smtp": 0.25, "telegram": 0.25, "phone": 0.2}


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--amqp-url", default=os.environ.get("AMQP_URL", "amqp://guest:guest@127.0.0.1:5672/"))
    parser.add_argument("--broker-restart", default=None, help="shell command restarting the broker")
    parser.add_argument("--broker-restarts", type=int, default=2)
    parser.add_argument("--seconds", type=float, default=300.0, help="how long customers keep coming")
    parser.add_argument("--rate", type=float, default=4.0, help="contacts per second, all channels together")
    parser.add_argument("--corpus", type=Path,
                        default=Path(os.environ.get("PRIYOM_CORPUS_DIR", Path(__file__).parents[2] / "shared/corpus")))
    args = parser.parse_args()
    plan = ChaosPlan(amqp_url=args.amqp_url, corpus=args.corpus, seconds=args.seconds,
                     rates={channel: args.rate * share for channel, share in SHARES.items()},
                     broker_restart=args.broker_restart, broker_restarts=args.broker_restarts)
    return 0 if asyncio.run(chaos(plan)).report() else 1


if __name__ == "__main__":
    sys.exit(main())
