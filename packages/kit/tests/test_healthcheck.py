"""The containers' health check: exit 0 only when /health answers 200 on the given port."""

from __future__ import annotations

import http.server
import threading

from priyom_kit.healthcheck import main


def _serving(status: int) -> http.server.ThreadingHTTPServer:
    class Health(http.server.BaseHTTPRequestHandler):
        def do_GET(self) -> None:  # noqa: N802 - http.server's name
            self.send_response(status if self.path == "/health" else 404)
            self.end_headers()

        def log_message(self, *args: object) -> None:
            pass

    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Health)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    return server


def test_healthy_unhealthy_and_nobody_listening() -> None:
    ok, failing = _serving(200), _serving(503)
    try:
        assert main([str(ok.server_port)]) == 0
        assert main([str(failing.server_port)]) == 1
    finally:
        ok.shutdown()
        failing.shutdown()
    assert main([str(ok.server_port)]) == 1  # closed now
    assert main(["not-a-port"]) == 2
