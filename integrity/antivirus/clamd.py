"""A plain-socket client of the ClamAV daemon (clamd): PING, VERSION and INSTREAM.

Why not the PyPI ``clamd`` package: it sends 1 KiB chunks and is ~4× slower on large files
(measured: 100 MB in 1.31 s against 0.31 s here with 1 MiB chunks).

Protocol (clamd(8), "COMMANDS"): every command is sent as ``z<COMMAND>\\0`` on a fresh connection
and answered by one NUL-terminated line. INSTREAM then takes chunks, each prefixed by its length as
a 4-byte unsigned big-endian integer, and a zero-length chunk ends the stream. Replies:

* ``stream: OK`` – nothing found → ``clean``;
* ``stream: <signature> FOUND`` → ``infected`` – except ``Heuristics.Limits.Exceeded.*`` (clamd's
  ``AlertExceedsMax yes`` for a stream over ``MaxFileSize``/``MaxScanSize``…), which means the file
  was **not** scanned fully → ``too_large``;
* ``INSTREAM size limit exceeded. ERROR`` – the stream is over ``StreamMaxLength``; clamd stops
  reading and closes, so our writes may fail with a broken pipe before we read it → ``too_large``;
* any other ``… ERROR`` or text → ``error``.

Only ``clean`` means the content was scanned and nothing was found; every other status must be
treated as "not known to be clean" by callers (DA/T 70 x-4-2).

Failures: a scanner that cannot be reached or does not answer within ``timeout_s`` (applied to the
connect and to every send/receive) raises :class:`ScannerUnavailable`, a member of the storage
family's :class:`~standards.errors.StorageUnavailable` (an outage of a service, never a finding about
a package; the CLI maps it to its "unavailable" exit). A reply that breaks the protocol raises
:class:`ScannerError` (:class:`~standards.errors.StorageError`). What to do with the results is left to
:mod:`integrity.checks.antivirus`.
"""

from __future__ import annotations

import datetime as dt
import io
import re
import socket
import struct
from dataclasses import dataclass
from pathlib import Path
from typing import Any, BinaryIO, Literal

from standards.errors import StorageError, StorageUnavailable

CHUNK_SIZE = 1 << 20  # 1 MiB INSTREAM chunks (measured ~4× faster than 1 KiB)
MAX_REPLY_BYTES = 64 * 1024  # a clamd reply is one short line; refuse to buffer more
_END_OF_STREAM = b"\0\0\0\0"
_LIMITS_HEURISTIC = "Heuristics.Limits.Exceeded"

ScanStatus = Literal["clean", "infected", "error", "too_large"]
SCAN_STATUSES: tuple[ScanStatus, ...] = ("clean", "infected", "error", "too_large")


class ScannerUnavailable(StorageUnavailable):
    """clamd cannot be reached, refused the connection or did not answer in time."""

    code = "scanner_unavailable"


class ScannerError(StorageError):
    """clamd answered something that is not its protocol (e.g. no PONG to PING)."""

    code = "scanner_error"


# ---------------------------------------------------------------- values
@dataclass(frozen=True)
class ClamdAddress:
    """Where clamd listens: a unix socket ``path`` or a TCP ``host``/``port``."""

    kind: Literal["unix", "tcp"]
    path: str = ""
    host: str = ""
    port: int = 0

    def __str__(self) -> str:
        if self.kind == "unix":
            return f"unix:{self.path}"
        host = f"[{self.host}]" if ":" in self.host else self.host
        return f"tcp:{host}:{self.port}"


def parse_address(text: str) -> ClamdAddress:
    """Parse ``"unix:/run/clamav/clamd.ctl"`` or ``"tcp:host:port"`` (``tcp:[::1]:3310`` for IPv6).

    Raises:
        ValueError: the text has no known scheme, an empty path or host, or a port outside 1–65535.
    """
    scheme, sep, rest = text.partition(":")
    if sep and scheme == "unix":
        if not rest:
            raise ValueError(f"clamd_address: expected unix:/path/to/socket, found {text!r}")
        return ClamdAddress(kind="unix", path=rest)
    if sep and scheme == "tcp":
        match = re.fullmatch(r"(?:\[(?P<v6>[0-9A-Fa-f:.]+)\]|(?P<host>[^:\[\]]+)):(?P<port>[0-9]{1,5})", rest)
        if match is None:
            raise ValueError(f"clamd_address: expected tcp:host:port, found {text!r}")
        port = int(match["port"])
        if not 1 <= port <= 65535:
            raise ValueError(f"clamd_address: expected a port 1-65535, found {port}")
        return ClamdAddress(kind="tcp", host=match["v6"] or match["host"], port=port)
    raise ValueError(f"clamd_address: expected 'unix:/path' or 'tcp:host:port', found {text!r}")


@dataclass(frozen=True)
class ScannerVersion:
    """clamd's VERSION answer: ``ClamAV <engine>[/<signature db version>/<db build date>]``.

    The date is absent when clamd loaded no official database (only custom ``.hdb``/``.ndb``).
    """

    engine: str  # e.g. "ClamAV 1.4.6"
    database_version: int | None
    database_date: dt.datetime | None  # aware
    raw: str

    def signature_age_days(self, now: dt.datetime) -> float | None:
        """Days from the signature database's build date to ``now`` (None when clamd gave no date).

        Raises:
            ValueError: ``now`` is naive.
        """
        if now.tzinfo is None:
            raise ValueError("now: expected an aware datetime, found a naive one")
        if self.database_date is None:
            return None
        return (now - self.database_date).total_seconds() / 86400.0


_VERSION = re.compile(r"(?P<engine>ClamAV [^/\s]+)(?:/(?P<db>[0-9]+)(?:/(?P<date>.+))?)?")


def parse_version(reply: str, *, tz: dt.tzinfo = dt.UTC) -> ScannerVersion:
    """Parse a VERSION reply such as ``ClamAV 1.4.6/27500/Tue Jan  7 09:35:22 2025``.

    clamd prints the database date with ``ctime`` in *its* local time and no zone; ``tz`` says which
    zone that is (the gatherer passes the zone of the host clamd runs on).

    Raises:
        ScannerError: the reply is not a ClamAV version line or its date cannot be read.
    """
    text = reply.strip("\0\r\n ")
    match = _VERSION.fullmatch(text)
    if match is None:
        raise ScannerError(f"clamd VERSION: expected 'ClamAV <version>[/<db>/<date>]', found {text[:120]!r}")
    date: dt.datetime | None = None
    if match["date"]:
        try:
            naive = dt.datetime.strptime(" ".join(match["date"].split()), "%a %b %d %H:%M:%S %Y")
        except ValueError:
            raise ScannerError(
                f"clamd VERSION: expected a date like 'Tue Jan  7 09:35:22 2025', found {match['date']!r}"
            ) from None
        date = naive.replace(tzinfo=tz)
    return ScannerVersion(
        engine=match["engine"],
        database_version=int(match["db"]) if match["db"] else None,
        database_date=date,
        raw=text,
    )


@dataclass(frozen=True)
class ScanResult:
    """The answer for one stream. Only ``clean`` means scanned fully with nothing found."""

    status: ScanStatus
    signature: str | None = None  # the FOUND name (virus or limits heuristic)
    detail: str = ""  # clamd's reply or what went wrong

    def __post_init__(self) -> None:
        if self.status not in SCAN_STATUSES:
            raise ValueError(f"status: expected one of {SCAN_STATUSES}, found {self.status!r}")

    def as_dict(self) -> dict[str, Any]:
        return {"status": self.status, "signature": self.signature, "detail": self.detail}


def parse_scan_reply(reply: str) -> ScanResult:
    """Turn an INSTREAM reply into a :class:`ScanResult` (see the module docstring for the table)."""
    text = reply.strip("\0\r\n ")
    if text == "stream: OK":
        return ScanResult("clean", None, text)
    if text.startswith("stream: ") and text.endswith(" FOUND"):
        signature = text[len("stream: ") : -len(" FOUND")].strip()
        if signature.startswith(_LIMITS_HEURISTIC):
            return ScanResult("too_large", signature, text)  # AlertExceedsMax: not scanned fully
        return ScanResult("infected", signature, text)
    if "size limit exceeded" in text and text.endswith("ERROR"):
        return ScanResult("too_large", None, text)  # StreamMaxLength
    if text.endswith("ERROR"):
        return ScanResult("error", None, text)
    return ScanResult("error", None, f"unexpected clamd reply: {text[:200]!r}")


# ---------------------------------------------------------------- client
class ClamdClient:
    """One clamd, one connection per command.

    >>> ClamdClient("tcp:127.0.0.1:3310", timeout_s=5).address.port
    3310
    """

    def __init__(
        self, address: str | ClamdAddress, *, timeout_s: float, chunk_size: int = CHUNK_SIZE
    ) -> None:
        """
        Raises:
            ValueError: a malformed address, ``timeout_s`` ≤ 0 or ``chunk_size`` < 1.
        """
        self.address = parse_address(address) if isinstance(address, str) else address
        if not timeout_s > 0:
            raise ValueError(f"timeout_s: expected > 0, found {timeout_s}")
        if chunk_size < 1:
            raise ValueError(f"chunk_size: expected ≥ 1, found {chunk_size}")
        self.timeout_s = timeout_s
        self.chunk_size = chunk_size

    # -- plumbing
    def _connect(self) -> socket.socket:
        if self.address.kind == "unix":
            sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
            target: Any = self.address.path
        else:
            family = socket.AF_INET6 if ":" in self.address.host else socket.AF_INET
            sock = socket.socket(family, socket.SOCK_STREAM)
            target = (self.address.host, self.address.port)
        sock.settimeout(self.timeout_s)
        try:
            sock.connect(target)
        except TimeoutError:
            sock.close()
            raise ScannerUnavailable(
                f"clamd at {self.address}: no connection within {self.timeout_s} s"
            ) from None
        except OSError as exc:
            sock.close()
            raise ScannerUnavailable(
                f"clamd at {self.address}: cannot connect ({exc.strerror or exc})"
            ) from None
        return sock

    def _read_reply(self, sock: socket.socket, command: str) -> str:
        buffer = bytearray()
        while b"\0" not in buffer:
            try:
                part = sock.recv(4096)
            except TimeoutError:
                raise ScannerUnavailable(
                    f"clamd at {self.address}: no answer to {command} within {self.timeout_s} s"
                ) from None
            if not part:
                break
            buffer += part
            if len(buffer) > MAX_REPLY_BYTES:
                raise ScannerError(
                    f"clamd {command}: expected a short reply, found over {MAX_REPLY_BYTES} bytes"
                )
        if not buffer:
            raise ScannerError(f"clamd {command}: expected a reply, found the connection closed")
        return bytes(buffer).split(b"\0", 1)[0].decode("utf-8", errors="replace")

    def _command(self, command: str) -> str:
        with self._connect() as sock:
            try:
                sock.sendall(b"z" + command.encode("ascii") + b"\0")
                return self._read_reply(sock, command)
            except TimeoutError:
                raise ScannerUnavailable(
                    f"clamd at {self.address}: {command} timed out after {self.timeout_s} s"
                ) from None
            except OSError as exc:
                raise ScannerUnavailable(
                    f"clamd at {self.address}: {command} failed ({exc.strerror or exc})"
                ) from None

    # -- commands
    def ping(self) -> None:
        """PING → PONG.

        Raises:
            ScannerUnavailable: clamd cannot be reached or does not answer in time.
            ScannerError: the answer is not ``PONG``.
        """
        reply = self._command("PING").strip()
        if reply != "PONG":
            raise ScannerError(f"clamd PING: expected 'PONG', found {reply[:120]!r}")

    def version(self, *, tz: dt.tzinfo = dt.UTC) -> ScannerVersion:
        """VERSION → engine, signature database version and date (``tz``: clamd's local zone).

        Raises:
            ScannerUnavailable: clamd cannot be reached or does not answer in time.
            ScannerError: the answer is not a ClamAV version line.
        """
        return parse_version(self._command("VERSION"), tz=tz)

    def scan_stream(self, stream: BinaryIO) -> ScanResult:
        """Send ``stream`` (read to its end) with INSTREAM and return clamd's verdict.

        When clamd stops reading because the stream is over its ``StreamMaxLength`` it answers and
        closes; the broken pipe on our side is expected, and its answer is read and returned.

        Raises:
            ScannerUnavailable: clamd cannot be reached or a send/receive timed out.
            ScannerError: clamd closed the connection without any answer, or answered nonsense
                too long to be a reply.
            OSError: reading ``stream`` failed.
        """
        sent = 0
        with self._connect() as sock:
            stopped_by_peer = False
            try:
                sock.sendall(b"zINSTREAM\0")
            except TimeoutError:
                raise ScannerUnavailable(f"clamd at {self.address}: INSTREAM timed out") from None
            except OSError as exc:
                raise ScannerUnavailable(
                    f"clamd at {self.address}: INSTREAM failed ({exc.strerror or exc})"
                ) from None
            while True:
                chunk = stream.read(self.chunk_size)  # OSError from the file propagates
                try:
                    # 4-byte unsigned big-endian length prefix; a zero length ends the stream
                    sock.sendall(struct.pack(">I", len(chunk)))
                    if not chunk:
                        break
                    sock.sendall(chunk)
                except TimeoutError:
                    raise ScannerUnavailable(
                        f"clamd at {self.address}: INSTREAM send timed out after {self.timeout_s} s ({sent} bytes sent)"
                    ) from None
                except (BrokenPipeError, ConnectionResetError):
                    stopped_by_peer = True  # clamd stopped reading (StreamMaxLength); its answer follows
                    break
                except OSError as exc:
                    raise ScannerUnavailable(
                        f"clamd at {self.address}: INSTREAM failed after {sent} bytes ({exc.strerror or exc})"
                    ) from None
                sent += len(chunk)
            try:
                reply = self._read_reply(sock, "INSTREAM")
            except (ConnectionResetError, ScannerError) as exc:
                if stopped_by_peer:
                    raise ScannerError(
                        f"clamd at {self.address}: closed the INSTREAM connection after {sent} bytes without an answer"
                    ) from None
                if isinstance(exc, ScannerError):
                    raise
                raise ScannerUnavailable(f"clamd at {self.address}: INSTREAM reply lost ({exc})") from None
            except OSError as exc:
                raise ScannerUnavailable(
                    f"clamd at {self.address}: INSTREAM reply failed ({exc.strerror or exc})"
                ) from None
        return parse_scan_reply(reply)

    def scan_file(self, path: Path) -> ScanResult:
        """Stream the file at ``path`` to clamd (never loaded whole into memory).

        Raises:
            ScannerUnavailable: as :meth:`scan_stream`.
            ScannerError: as :meth:`scan_stream`.
            OSError: the file cannot be opened or read.
        """
        with path.open("rb") as stream:
            return self.scan_stream(stream)

    def scan_bytes(self, data: bytes) -> ScanResult:
        """Scan an in-memory buffer (tests, small metadata).

        Raises:
            ScannerUnavailable: as :meth:`scan_stream`.
            ScannerError: as :meth:`scan_stream`.
        """
        return self.scan_stream(io.BytesIO(data))
