"""Real alert receivers on loopback for tests: an HTTP webhook (http.server) and an SMTP server (aiosmtpd).

``webhook_receiver()`` yields a :class:`Webhook` whose ``url`` accepts POSTs and whose ``payloads``
are the JSON bodies received; ``smtp_receiver()`` yields a :class:`Mailbox` with a ``port`` and the
parsed ``messages()``. Both stop their server when the ``with`` block ends.
"""

from __future__ import annotations

import contextlib
import email
import email.policy
import http.server
import json
import threading
from collections.abc import Iterator
from dataclasses import dataclass, field
from email.message import EmailMessage
from typing import Any

from aiosmtpd.controller import Controller

from tests.support.s3 import free_port


@dataclass
class Webhook:
    """A running webhook receiver: where to POST, and what arrived (JSON bodies, ``X-Edossier-Event``)."""

    url: str
    payloads: list[dict[str, Any]] = field(default_factory=list)
    events: list[str] = field(default_factory=list)

    def alerts(self) -> list[dict[str, Any]]:
        """The ``alert`` objects of the alert payloads received, in order."""
        return [p["alert"] for p in self.payloads if p.get("type") == "alert"]


@contextlib.contextmanager
def webhook_receiver() -> Iterator[Webhook]:
    """A ThreadingHTTPServer on 127.0.0.1 answering 204 to every POST."""
    hook = Webhook(url="")

    class Handler(http.server.BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            body = self.rfile.read(int(self.headers["Content-Length"]))
            hook.payloads.append(json.loads(body.decode("utf-8")))
            hook.events.append(self.headers.get("X-Edossier-Event", ""))
            self.send_response(204)
            self.send_header("Content-Length", "0")
            self.end_headers()

        def log_message(self, format: str, *args: object) -> None:
            return

    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    hook.url = f"http://127.0.0.1:{server.server_address[1]}/hooks/edossier"
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield hook
    finally:
        server.shutdown()
        server.server_close()


class Mailbox:
    """aiosmtpd handler keeping every message it accepts."""

    def __init__(self, port: int) -> None:
        self.port = port
        self.raw: list[bytes] = []

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
        self.raw.append(bytes(envelope.content))
        return "250 Message accepted for delivery"

    def messages(self) -> list[EmailMessage]:
        return [
            email.message_from_bytes(raw, policy=email.policy.default)  # type: ignore[misc]
            for raw in self.raw
        ]


@contextlib.contextmanager
def smtp_receiver() -> Iterator[Mailbox]:
    """An aiosmtpd SMTP server on 127.0.0.1 at a free port."""
    box = Mailbox(free_port())
    controller = Controller(box, hostname="127.0.0.1", port=box.port)
    controller.start()
    try:
        yield box
    finally:
        controller.stop()
