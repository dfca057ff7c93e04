"""The chaos run, short (about a minute): every channel at once, a random service killed every few seconds,
and every accepted contact in exactly one ticket, with no duplicate and no dead letter (``make chaos`` is the
long run: ``bench/chaos.py``).

The broker is the tests' one (``AMQP_URL``). It is restarted only when ``PRIYOM_CHAOS_BROKER_RESTART`` names
a command that restarts it: a broker other people's tests share must not be restarted under them.
"""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from priyom_testing.chaos.run import ChaosPlan, chaos

# Alone after the parallel run (`make test`): its kills and restarts are timed, and other workers' load made
# the restarts slow enough that fewer kills than planned fitted in its minute.
pytestmark = [pytest.mark.e2e, pytest.mark.exclusive, pytest.mark.timeout(900)]


async def test_a_minute_of_chaos_loses_and_repeats_nothing(amqp_url: str, corpus_dir: Path, tmp_path: Path) -> None:
    restart = os.environ.get("PRIYOM_CHAOS_BROKER_RESTART") or None
    plan = ChaosPlan(amqp_url=amqp_url, corpus=corpus_dir, seconds=50,
                     rates={"web": 0.8, "smtp": 0.6, "telegram": 0.6, "phone": 0.4},
                     broker_restart=restart, broker_restarts=1 if restart else 0, kill_every_s=(4.0, 8.0),
                     settle_s=180, workdir=tmp_path)
    result = await chaos(plan)
    line = result.line
    detail = f"{line}\n" + "\n".join(result.log + [f"lost: {lost}" for lost in result.lost[:20]])
    assert line["accepted"] >= 80, detail
    assert (line["lost"], line["duplicates"], line["dead_letters"]) == (0, 0, 0), detail
    assert line["with_ticket"] == line["accepted"] and line["kills"] >= 4, detail
