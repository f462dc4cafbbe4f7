"""A webhook receiver on a free local port that verifies Standard Webhooks signatures itself."""

from __future__ import annotations

import base64
import hashlib
import hmac
import threading
import time
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

from tests.support.processes import free_port

TOLERANCE_S = 300


def signature_valid(secret: str, headers: dict[str, str], body: bytes) -> bool:
    """Written from the Standard Webhooks specification, independently of the project's signer."""
    key = base64.b64decode(secret.split("_", 1)[1])
    content = f"{headers['webhook-id']}.{headers['webhook-timestamp']}.".encode() + body
    expected = base64.b64encode(hmac.new(key, content, hashlib.sha256).digest()).decode()
    fresh = abs(time.time() - int(headers["webhook-timestamp"])) < TOLERANCE_S
    given = [part.split(",", 1)[1] for part in headers["webhook-signature"].split() if part.startswith("v1,")]
    return fresh and any(hmac.compare_digest(expected, value) for value in given)


@dataclass
class Received:
    headers: dict[str, str]
    body: bytes
    valid: bool
    answered: int


class Receiver:
    """Answers 500 to the first `failures` requests, then 204; records every request."""

    def __init__(self, secret: str, *, failures: int = 0) -> None:
        self.secret = secret
        self.failures = failures
        self.received: list[Received] = []
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                body = self.rfile.read(int(self.headers["Content-Length"]))
                headers = {k.lower(): v for k, v in self.headers.items()}
                status = 500 if len(receiver.received) < receiver.failures else 204
                receiver.received.append(
                    Received(headers, body, signature_valid(receiver.secret, headers, body), status)
                )
                self.send_response(status)
                self.end_headers()

            def log_message(self, *args: object) -> None:
                pass

        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}/hooks"
        self.server = ThreadingHTTPServer(("127.0.0.1", self.port), Handler)
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def stop(self) -> None:
        self.server.shutdown()
        self.server.server_close()
