"""Each service installed alone, as its Dockerfile installs it, then all of them run together from those
virtualenvs against the local RabbitMQ and PostgreSQL: /health answered and a web contact becomes a ticket.

The development virtualenv holds every package at once, so an import that only works because a neighbour
brought the library in passes every test there and fails in the image. Here each service gets a fresh
virtualenv with exactly the ``pip install`` arguments its Dockerfile's RUN line names (read from the file, so
the two cannot drift), and is started with its own interpreter: ``python -m priyom_<service> migrate``, then
``serve``. Run by ``make check-deploy`` (scripts/check-deploy.sh); prints what it measured.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import re
import secrets
import shutil
import subprocess
import sys
import time
import uuid
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

from web_contact import web_contact_becomes_ticket

from priyom_kit.pytest_plugin import create_pg_database, delete_prefixed, drop_pg_database
from priyom_testing.stack import SERVICES, Stack, database_urls, stack_env

ROOT = Path(__file__).resolve().parents[1]
_PIP_LINE = re.compile(r"RUN pip install (?P<args>[^\\\n]+)")


def dockerfile_targets(service: str) -> list[str]:
    """The ``pip install`` arguments of the service's Dockerfile, its build arguments left out (no extras)."""
    text = (ROOT / "services" / service / "Dockerfile").read_text(encoding="utf-8")
    match = _PIP_LINE.search(text)
    if match is None:
        raise SystemExit(f"services/{service}/Dockerfile: no `RUN pip install` line")
    return [re.sub(r"\$\{[^}]*\}", "", arg).strip('"') for arg in match["args"].split()]


def install_alone(service: str, venvs: Path) -> tuple[str, str, float, int]:
    """A fresh virtualenv with only what the Dockerfile installs; returns its python, seconds, packages."""
    started = time.monotonic()
    venv = venvs / service
    subprocess.run([sys.executable, "-m", "venv", "--clear", str(venv)], check=True, timeout=120)
    python = str(venv / "bin" / "python")
    # The sources copied first, as the Dockerfile's COPY lines do: two setuptools builds of one source folder at
    # once collide in its build/ directory.
    sources = venvs / f"{service}.src"
    shutil.rmtree(sources, ignore_errors=True)
    targets = dockerfile_targets(service)
    for target in targets:
        shutil.copytree(ROOT / target, sources / target, ignore=shutil.ignore_patterns(
            "build", "*.egg-info", "__pycache__", "tests"))
    result = subprocess.run([python, "-m", "pip", "install", "--quiet", "--disable-pip-version-check", *targets],
                            cwd=sources, capture_output=True, text=True, timeout=900)
    if result.returncode != 0:
        raise RuntimeError(f"{service}: pip install failed:\n{result.stderr[-3000:]}")
    subprocess.run([python, "-m", "pip", "check"], check=True, capture_output=True, timeout=120)
    listed = subprocess.run([python, "-m", "pip", "list", "--format=freeze"], check=True, capture_output=True,
                            text=True, timeout=120).stdout.split()
    return service, python, time.monotonic() - started, len(listed)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--workdir", type=Path, default=ROOT / "var" / "check-deploy")
    args = parser.parse_args()
    workdir: Path = args.workdir.resolve()
    shutil.rmtree(workdir / "stack", ignore_errors=True)
    (workdir / "stack").mkdir(parents=True)
    with ThreadPoolExecutor(max_workers=2) as pool:  # two cores: pip's builds take one each
        installed = list(pool.map(lambda s: install_alone(s, workdir / "venvs"), SERVICES))
    for service, _, seconds, count in installed:
        print(f"venv  {service:<17} {count:>3} packages, pip check clean, installed in {seconds:5.1f}s")

    prefix = f"checkdeploy{uuid.uuid4().hex[:8]}."
    urls = database_urls("postgresql", workdir / "stack", lambda: asyncio.run(create_pg_database("priyom_cd_")))
    env = stack_env({k: v for k, v in os.environ.items() if k not in ("PYTHONPATH", "VIRTUAL_ENV")},
                    workdir=workdir / "stack", prefix=prefix, admin_token=secrets.token_urlsafe(24),
                    database_urls=urls)
    stack = Stack(env=env, workdir=workdir / "stack", python={s: py for s, py, _, _ in installed})
    try:
        started = time.monotonic()
        stack.migrate()
        print(f"migrate  every database migrated by its own venv in {time.monotonic() - started:.1f}s")
        started = time.monotonic()
        stack.start()
        print(f"serve    all {len(SERVICES)} services answered /health in {time.monotonic() - started:.1f}s")
        number, seconds = web_contact_becomes_ticket(stack.url("intake-web"), stack.url("tickets"))
        print(f"contact  web form -> identity -> router -> ticket {number} in {seconds:.2f}s")
    finally:
        stack.stop()
        asyncio.run(delete_prefixed(env.get("AMQP_URL", "amqp://guest:guest@127.0.0.1:5672/"), prefix))
        for url in urls.values():
            asyncio.run(drop_pg_database(url))
    return 0


if __name__ == "__main__":
    sys.exit(main())
