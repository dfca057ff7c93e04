"""``python -m priyom_kit.healthcheck PORT``: exit 0 when the service in this container answers ``/health``.

The container health check of every image and of deploy/docker-compose.yml. The images carry no curl, and an
exec-form check written as ``python -c "<code with spaces>"`` is split into words by podman's Docker API
(docker-compose on podman runs ``python -c import``), so the check is a module taking one word.
"""

from __future__ import annotations

import sys
import urllib.error
import urllib.request


def healthy(port: int, timeout: float = 4.0) -> bool:
    """Whether ``http://127.0.0.1:<port>/health`` answers 200 within ``timeout`` seconds."""
    try:
        with urllib.request.urlopen(f"http://127.0.0.1:{port}/health", timeout=timeout) as response:
            return response.status == 200
    except (urllib.error.URLError, OSError):
        return False


def main(argv: list[str]) -> int:
    if len(argv) != 1 or not argv[0].isdigit():
        print("usage: python -m priyom_kit.healthcheck PORT", file=sys.stderr)
        return 2
    return 0 if healthy(int(argv[0])) else 1


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
