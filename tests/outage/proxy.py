"""A TCP proxy a test controls: the honest way to take a service away and give it back.

:class:`TcpProxy` listens on ``127.0.0.1:PORT`` and forwards every connection to a target (moto_server,
PostgreSQL). A test can

* :meth:`~TcpProxy.cut` it – the listening socket is closed (new connections are refused) and every
  live connection is reset: what a client sees when the service process dies;
* :meth:`~TcpProxy.stall` it – connections are still accepted but nothing is forwarded either way:
  what a client sees when the service hangs (or SIGSTOP); only the client's timeouts end a request;
* :meth:`~TcpProxy.restore` it – listen again on the *same* port and forward; the service behind
  kept its state, so "the service returns" is exactly that;
* arm a cut with :meth:`~TcpProxy.cut_on`: the proxy counts the matches of a regular expression in
  what clients send (HTTP request lines, SQL text in PostgreSQL ``Parse`` messages) or in what the
  target answers, and cuts itself when it sees match ``after + 1`` – before forwarding it, or just
  after forwarding the match (``forward_match``: e.g. a response's headers, then the body breaks
  off). The cut lands at a precise point of the operation, without sleeps.

Threads: one accepts, two pump each connection (one per direction). Every
socket has a 0.1 s timeout so state changes are seen promptly; nothing is forwarded once the proxy
is cut or stalled. Test support only: no TLS, no limits.
"""

from __future__ import annotations

import contextlib
import re
import socket
import struct
import threading
import time
from dataclasses import dataclass, field
from typing import Literal

State = Literal["up", "stalled", "cut"]
TICK_S = 0.1
TAIL = 4096  # bytes of a connection's previous chunk kept so a match split across chunks is found


def _reset(sock: socket.socket) -> None:
    """Close ``sock`` with an RST (SO_LINGER 0), as a dying server's kernel would."""
    with contextlib.suppress(OSError):
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
    with contextlib.suppress(OSError):
        sock.close()


@dataclass(eq=False)
class _Link:
    """One client connection and its upstream connection (``None`` while stalled)."""

    client: socket.socket
    upstream: socket.socket | None = None
    tails: dict[bool, bytes] = field(default_factory=lambda: {True: b"", False: b""})
    lock: threading.Lock = field(default_factory=threading.Lock)
    dead: bool = False
    doomed: bool = False  # an armed drop fired on it: nothing more is forwarded, it is being reset

    def kill(self, *, rst: bool) -> None:
        with self.lock:
            if self.dead:
                return
            self.dead = True
        for sock in (self.client, self.upstream):
            if sock is None:
                continue
            if rst:
                _reset(sock)
            else:
                with contextlib.suppress(OSError):
                    sock.close()


class TcpProxy:
    """Forward ``127.0.0.1:port`` to ``target``; cut, stall and restore on demand (see the module)."""

    def __init__(self, target: tuple[str, int]) -> None:
        self.target = target
        self._lock = threading.Lock()
        self._state: State = "up"
        self._links: set[_Link] = set()
        self._pattern: re.Pattern[bytes] | None = None
        self._after = 0
        self._requests = True  # the armed pattern is looked for in what clients send (else: answers)
        self._forward_match = False
        self._stall_on_trip = False
        self._drop_on_trip = False
        self.matches = 0  # matches of the armed pattern seen so far (including the one that cut)
        self.tripped = threading.Event()  # set when an armed cut fired
        self._closed = False
        self._listener: socket.socket | None = self._listen(0)
        self.port: int = self._listener.getsockname()[1]
        self._acceptor = threading.Thread(target=self._accept_loop, name=f"proxy-{self.port}", daemon=True)
        self._acceptor.start()

    @property
    def endpoint(self) -> str:
        """``"127.0.0.1:PORT"``."""
        return f"127.0.0.1:{self.port}"

    @property
    def state(self) -> State:
        return self._state

    # ---------------------------------------------------------------- control
    def cut(self) -> None:
        """Refuse new connections and reset every live one."""
        with self._lock:
            self._state = "cut"
            listener, self._listener = self._listener, None
            links = list(self._links)
        if listener is not None:
            # shutdown first: it stops the listening at once, even while the acceptor polls the socket
            # (a bare close() from another thread leaves it listening until that poll returns)
            with contextlib.suppress(OSError):
                listener.shutdown(socket.SHUT_RDWR)
            listener.close()
        for link in links:
            link.kill(rst=True)

    def stall(self) -> None:
        """Accept connections but forward nothing (live connections stop too) until restored or cut."""
        with self._lock:
            if self._listener is None:
                self._listener = self._listen(self.port)
            self._state = "stalled"

    def restore(self) -> None:
        """Listen on the same port again and forward; every connection from before is reset.

        Connections that lived through a stall are stale (their clients gave up), so none is resumed:
        the service comes back as a restarted one would, with its state and no old connections.
        """
        with self._lock:
            stale = list(self._links)
            self._links.clear()
            self._pattern = None
            if self._listener is None:
                self._listener = self._listen(self.port)
            self._state = "up"
        for link in stale:
            link.kill(rst=True)

    def cut_on(
        self,
        pattern: bytes,
        *,
        after: int,
        in_responses: bool = False,
        forward_match: bool = False,
        stall: bool = False,
        drop: bool = False,
    ) -> None:
        """Arm a cut: let the first ``after`` matches of ``pattern`` through, cut on the next.

        ``pattern`` is looked for in what clients send, or with ``in_responses`` in what the target
        answers. The chunk holding match ``after + 1`` is not forwarded – or, with ``forward_match``,
        only up to the end of that match. With ``stall`` the proxy stalls there instead of cutting;
        with ``drop`` only the connection that carried the match is reset (the service stays up: a
        dropped connection, a killed backend). :attr:`tripped` is set when it fires.
        """
        if after < 0:
            raise ValueError(f"after: expected >= 0, found {after}")
        if stall and drop:
            raise ValueError("stall and drop: choose one")
        with self._lock:
            self._pattern = re.compile(pattern)
            self._after = after
            self._requests = not in_responses
            self._forward_match = forward_match
            self._stall_on_trip = stall
            self._drop_on_trip = drop
            self.matches = 0
            self.tripped.clear()

    def close(self) -> None:
        """Stop accepting and close every connection (end of the test)."""
        self._closed = True
        self.cut()
        self._acceptor.join(timeout=5)

    # ---------------------------------------------------------------- internals
    @staticmethod
    def _listen(port: int) -> socket.socket:
        sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        sock.bind(("127.0.0.1", port))
        sock.listen(64)
        sock.settimeout(TICK_S)
        return sock

    def _accept_loop(self) -> None:
        while not self._closed:
            listener = self._listener
            if listener is None:
                time.sleep(TICK_S / 2)
                continue
            try:
                client, _ = listener.accept()
            except (TimeoutError, OSError):
                continue
            self._serve(client)

    def _serve(self, client: socket.socket) -> None:
        client.settimeout(TICK_S)
        link = _Link(client)
        with self._lock:
            state = self._state
            if state != "cut":
                self._links.add(link)
        if state == "cut":  # accepted in the instant before the listener closed
            _reset(client)
            return
        if state == "stalled":
            return  # held, never answered: the client's timeout ends it
        try:
            upstream = socket.create_connection(self.target, timeout=5)
        except OSError:
            self._drop(link, rst=True)
            return
        upstream.settimeout(TICK_S)
        link.upstream = upstream
        for src, dst, requests in ((client, upstream, True), (upstream, client, False)):
            threading.Thread(target=self._pump, args=(link, src, dst, requests), daemon=True).start()

    def _drop(self, link: _Link, *, rst: bool) -> None:
        link.kill(rst=rst)
        with self._lock:
            self._links.discard(link)

    def _trips(self, link: _Link, data: bytes, requests: bool) -> int | None:
        """Count the armed pattern's matches that end in ``data``.

        Returns ``None`` while the cut must not fire, else how many bytes of ``data`` to forward first.
        """
        window = link.tails[requests] + data
        link.tails[requests] = window[-TAIL:]
        start = len(window) - len(data)
        with self._lock:
            if self._pattern is None or self._requests != requests:
                return None
            for match in self._pattern.finditer(window):
                if match.end() <= start:
                    continue  # counted with the previous chunk
                self.matches += 1
                if self.matches > self._after:
                    self._pattern = None  # fires once
                    if self._drop_on_trip:
                        link.doomed = True  # this connection forwards nothing more
                    else:  # under the lock: from here on no pump forwards anything (cut() closes the rest)
                        self._state = "stalled" if self._stall_on_trip else "cut"
                    return match.end() - start if self._forward_match else 0
            return None

    def _pump(self, link: _Link, src: socket.socket, dst: socket.socket, requests: bool) -> None:
        pending = b""
        while not link.dead:
            state = self._state
            if state == "cut":
                break
            if state == "stalled":
                time.sleep(TICK_S / 2)
                continue
            if pending:
                data, pending = pending, b""
            else:
                try:
                    data = src.recv(65536)
                except TimeoutError:
                    continue
                except OSError:
                    break
                if not data:
                    self._drop(link, rst=False)
                    return
                forward = self._trips(link, data, requests)
                if forward is not None:
                    if self._state == "stalled":
                        self.tripped.set()
                        continue  # the chunk is dropped: nothing passes a stalled proxy
                    if forward:
                        self._send(link, dst, data[:forward], force=True)
                    if link.doomed:  # drop: reset this connection only
                        self._drop(link, rst=True)
                    else:
                        self.cut()
                    self.tripped.set()
                    return
            if self._state != "up":
                pending = data  # stalled (or cut) between recv and send: hold it, decide next turn
                continue
            if not self._send(link, dst, data):
                break
        self._drop(link, rst=True)

    def _send(self, link: _Link, dst: socket.socket, data: bytes, *, force: bool = False) -> bool:
        """Send all of ``data`` unless the link dies or the proxy is cut (``force``: while up or not).

        Returns whether it was sent.
        """
        view = memoryview(data)
        while view:
            if (link.dead or link.doomed or self._state == "cut") and not force:
                return False
            try:
                view = view[dst.send(view) :]
            except TimeoutError:
                continue  # the peer is slow to read; keep trying while the proxy is up
            except OSError:
                return False
        return True
