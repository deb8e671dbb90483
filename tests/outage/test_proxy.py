"""The outage tests' :class:`TcpProxy` does what they rely on: refuse, reset, stall, return on the same port."""

from __future__ import annotations

import contextlib
import socket
import threading
from collections.abc import Iterator

import pytest

from tests.outage.proxy import TcpProxy


@pytest.fixture
def echo() -> Iterator[tuple[str, int]]:
    """A line echo server on a free loopback port."""
    server = socket.create_server(("127.0.0.1", 0))
    server.settimeout(0.1)
    stop = threading.Event()

    def handle(conn: socket.socket) -> None:
        with conn, conn.makefile("rb") as lines, contextlib.suppress(OSError):  # the proxy resets it
            for line in lines:
                conn.sendall(line)

    def serve() -> None:
        while not stop.is_set():
            try:
                conn, _ = server.accept()
            except TimeoutError:
                continue
            threading.Thread(target=handle, args=(conn,), daemon=True).start()

    thread = threading.Thread(target=serve, daemon=True)
    thread.start()
    yield server.getsockname()
    stop.set()
    thread.join()
    server.close()


@pytest.fixture
def proxy(echo: tuple[str, int]) -> Iterator[TcpProxy]:
    p = TcpProxy(echo)
    yield p
    p.close()


def _connect(proxy: TcpProxy) -> socket.socket:
    return socket.create_connection(("127.0.0.1", proxy.port), timeout=2)


def _ask(conn: socket.socket, line: bytes) -> bytes:
    conn.sendall(line)
    return conn.recv(100)


def _broken(conn: socket.socket, line: bytes) -> bool:
    """Whether ``conn`` is reset (or closed) instead of echoing ``line``."""
    try:
        return _ask(conn, line) == b""
    except (ConnectionResetError, BrokenPipeError):
        return True


def test_cut_refuses_and_resets_then_restore_answers_on_the_same_port(proxy: TcpProxy) -> None:
    live = _connect(proxy)
    assert _ask(live, b"one\n") == b"one\n"
    port = proxy.port

    proxy.cut()

    with pytest.raises(ConnectionRefusedError):
        _connect(proxy)
    assert _broken(live, b"two\n")
    proxy.restore()
    assert proxy.port == port
    with _connect(proxy) as again:
        assert _ask(again, b"three\n") == b"three\n"


def test_armed_cut_forwards_exactly_the_first_matches(proxy: TcpProxy) -> None:
    proxy.cut_on(rb"REQ \d+\n", after=2)
    conn = _connect(proxy)
    assert _ask(conn, b"REQ 1\n") == b"REQ 1\n"
    assert _ask(conn, b"noise\n") == b"noise\n"
    assert _ask(conn, b"REQ 2\n") == b"REQ 2\n"
    assert not proxy.tripped.is_set()

    assert _broken(conn, b"REQ 3\n")

    assert proxy.tripped.wait(2) and proxy.matches == 3
    with pytest.raises(ConnectionRefusedError):
        _connect(proxy)


def test_drop_resets_only_the_matching_connection(proxy: TcpProxy) -> None:
    proxy.cut_on(rb"BOOM", after=0, drop=True)
    other, victim = _connect(proxy), _connect(proxy)
    assert _ask(other, b"hi\n") == b"hi\n"

    assert _broken(victim, b"BOOM\n")

    assert _ask(other, b"still\n") == b"still\n"
    with _connect(proxy) as fresh:
        assert _ask(fresh, b"new\n") == b"new\n"


def test_stall_accepts_but_answers_nothing_until_restored(proxy: TcpProxy) -> None:
    proxy.stall()
    with _connect(proxy) as conn:
        conn.settimeout(0.5)
        conn.sendall(b"hello\n")
        with pytest.raises(TimeoutError):
            conn.recv(100)
    proxy.restore()
    with _connect(proxy) as conn:
        assert _ask(conn, b"back\n") == b"back\n"
