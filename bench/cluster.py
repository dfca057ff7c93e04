"""The scale-out run: every service at two replicas on a three-node RabbitMQ cluster, while one node stops,
each singleton's leader is killed and one replica of each consumer is killed.

    python bench/cluster.py [--seconds 240] [--rate 4.8]

``scripts/cluster-broker.sh start`` forms the cluster on this machine (nodes priyom-c1..3@localhost on
ports 5691-5693); the services run on PostgreSQL (fresh ``cluster_*`` databases, dropped afterwards) with
``AMQP_URL`` listing the three nodes. Customers of four channels (web form and SMTP to either replica, mail
put into an IMAP mailbox on Dovecot, Telegram through the fake Bot API, calls from the fake PBX) keep coming
while the run stops node 2 (and starts it again), kills with SIGKILL the leader of the mailbox's reader, of
the AMI session and of the Telegram long poll, and one replica each of identity, the router, tickets,
intake-web and intake-email. Then every accepted contact must
be in exactly one ticket and no message dead-lettered, and a click-to-call posted to each intake-telephony
replica (the standby's included) accepted. Prints one JSON line (``lost``, ``duplicates``, ``dead_letters``,
``node_stop_to_ticket_s``, ``leader_failover_s``, …), the run's log on stderr, and exits 1 unless nothing
was lost, duplicated or dead-lettered, every click-to-call accepted and every failover under 15 s.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import subprocess
import sys
from pathlib import Path

from priyom_testing.chaos.cluster import ClusterPlan, cluster_run

ROOT = Path(__file__).resolve().parents[1]
#: How the total rate is shared between the channels (web form, SMTP, IMAP, Telegram, calls).
SHARES = {"web": 0.27, "smtp": 0.18, "imap": 0.14, "telegram": 0.27, "phone": 0.14}
FAILOVER_LIMIT_S = 15.0


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--seconds", type=float, default=240.0, help="how long customers keep coming")
    parser.add_argument("--rate", type=float, default=4.8, help="contacts per second, all channels together")
    parser.add_argument("--corpus", type=Path,
                        default=Path(os.environ.get("PRIYOM_CORPUS_DIR", ROOT.parent / "shared/corpus")))
    args = parser.parse_args()
    broker = ROOT / "scripts" / "cluster-broker.sh"
    subprocess.run([str(broker), "start"], check=True)
    plan = ClusterPlan(broker=broker, corpus=args.corpus, seconds=args.seconds,
                       rates={channel: args.rate * share for channel, share in SHARES.items()})
    result = asyncio.run(cluster_run(plan))
    clean = result.report() and result.line["click_to_call_accepted"] == result.line["replicas"]
    times = [result.line["node_stop_to_ticket_s"], *result.line["leader_failover_s"].values()]
    return 0 if clean and max(times) < FAILOVER_LIMIT_S else 1


if __name__ == "__main__":
    sys.exit(main())
