"""E-mail throughput: messages per second from an IMAP mailbox and from the SMTP endpoint to a stored ticket.

    python bench/email.py [--n 300] [--connections 8] [--db sqlite|postgresql]

The benchmark itself is ``bench/email_throughput.py``. This file is named like the stdlib's ``email`` package,
and every script in bench/ runs with this folder first on ``sys.path``, so ``import email`` (done by the
stdlib and by aio-pika's dependencies) finds this file first. Imported that way, it hands back the real
package; run as a script, it runs the benchmark without shadowing anything.
"""

from __future__ import annotations

import importlib
import os
import runpy
import sys

_HERE = os.path.dirname(os.path.abspath(__file__))


def _without_this_folder() -> list[str]:
    return [p for p in sys.path if os.path.abspath(p or os.curdir) != _HERE]


if __name__ == "email":
    saved = sys.path[:]
    sys.path[:] = _without_this_folder()
    try:
        del sys.modules["email"]
        sys.modules["email"] = importlib.import_module("email")
    finally:
        sys.path[:] = saved
elif __name__ == "__main__":
    sys.path[:] = _without_this_folder()
    runpy.run_path(os.path.join(_HERE, "email_throughput.py"), run_name="__main__")
