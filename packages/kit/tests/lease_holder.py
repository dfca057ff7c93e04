"""``python lease_holder.py DATABASE_URL NAME``: another process contending for a lease (test_leases.py).

Prints ``leader`` once it runs the job, then holds the lease until it is killed: the tests kill it with
SIGKILL, as an orchestrator or the OOM killer would, so nothing is released politely.
"""

from __future__ import annotations

import asyncio
import sys

from priyom_kit.leases import LeaderJob, open_leases


async def main(url: str, name: str) -> None:
    async def job() -> None:
        print("leader", flush=True)
        await asyncio.Event().wait()

    LeaderJob(name, open_leases(url), job, retry_s=0.2, heartbeat_s=0.5).start()
    await asyncio.Event().wait()


if __name__ == "__main__":
    asyncio.run(main(sys.argv[1], sys.argv[2]))
