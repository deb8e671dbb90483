"""Alert channels: the log, an HTTP webhook (JSON) and e-mail over SMTP.

Each channel sends one alert or one daily summary and either returns or raises
:class:`DeliveryFailed` — :class:`ChannelUnreachable` when the receiver cannot be reached (an
outage; retrying later may help) or :class:`ChannelRejected` when it answered and refused.
Choosing what to send, and carrying on when one channel fails, is the dispatcher's job.
"""

from __future__ import annotations

import json
import logging
import smtplib
import ssl
import urllib.error
import urllib.parse
import urllib.request
from collections.abc import Sequence
from email.message import EmailMessage
from email.policy import SMTP as SMTP_POLICY
from email.utils import format_datetime, getaddresses, make_msgid
from typing import Any, Protocol

from integrity.alerts.dedupe import Summary
from integrity.alerts.model import Alert, Severity
from integrity.alerts.render import (
    alert_payload,
    alert_subject_line,
    alert_text,
    summary_payload,
    summary_subject_line,
    summary_text,
)
from standards.errors import StorageError, StorageUnavailable

WEBHOOK_TIMEOUT_S = 5.0
SMTP_TIMEOUT_S = 10.0
JSON_CONTENT_TYPE = "application/json; charset=utf-8"


# ---------------------------------------------------------------- errors
class DeliveryFailed(StorageError):
    """An alert or summary could not be delivered through a channel."""

    code = "alert_delivery_failed"


class ChannelUnreachable(DeliveryFailed, StorageUnavailable):
    """The channel's receiver could not be reached (connection refused, DNS, timeout)."""

    code = "alert_channel_unreachable"


class ChannelRejected(DeliveryFailed):
    """The receiver answered but refused (HTTP non-2xx, SMTP sender/recipient/auth refused)."""

    code = "alert_channel_rejected"


# ---------------------------------------------------------------- protocol
class Channel(Protocol):
    """Somewhere alerts go."""

    @property
    def name(self) -> str:
        """A short, stable name (``log``, ``webhook:<url>``, ``smtp:<host>:<port>``); keys the state file."""
        ...

    def send_alert(self, alert: Alert) -> None:
        """Deliver one alert.

        Raises:
            DeliveryFailed: it was not delivered (a :class:`ChannelUnreachable` or :class:`ChannelRejected`).
        """
        ...

    def send_summary(self, summary: Summary) -> None:
        """Deliver one daily summary.

        Raises:
            DeliveryFailed: it was not delivered.
        """
        ...


# ---------------------------------------------------------------- log
_LEVELS = {Severity.CRITICAL: logging.ERROR, Severity.WARNING: logging.WARNING, Severity.INFO: logging.INFO}


class LogChannel:
    """Writes alerts to a :mod:`logging` logger, at ERROR / WARNING / INFO by severity. Never fails."""

    def __init__(self, logger: logging.Logger | None = None) -> None:
        self.logger = logger or logging.getLogger("edossier.alerts")

    @property
    def name(self) -> str:
        return "log"

    def send_alert(self, alert: Alert) -> None:
        """Log one alert with its evidence link."""
        self.logger.log(
            _LEVELS[alert.severity],
            "%s — %s (证据：%s)",
            alert_subject_line(alert),
            alert.message,
            alert.evidence_link,
            extra={"alert": alert.to_json()},
        )

    def send_summary(self, summary: Summary) -> None:
        """Log a daily summary (its level follows the worst alert of the day)."""
        level = _LEVELS[summary.worst] if summary.worst else logging.INFO
        self.logger.log(level, "%s\n%s", summary_subject_line(summary), summary_text(summary))


# ---------------------------------------------------------------- webhook
class WebhookChannel:
    """POSTs JSON (UTF-8, not ASCII-escaped) to an ``http(s)`` URL with a timeout.

    The body is :func:`~integrity.alerts.render.alert_payload` or
    :func:`~integrity.alerts.render.summary_payload`; header ``X-Edossier-Event`` is ``alert`` or
    ``daily_summary``.
    """

    def __init__(self, url: str, *, timeout_s: float = WEBHOOK_TIMEOUT_S) -> None:
        """Check the URL and timeout.

        Raises:
            ValueError: the URL is not http(s) or the timeout is not positive.
        """
        scheme = urllib.parse.urlsplit(url).scheme
        if scheme not in ("http", "https"):
            raise ValueError(f"alert webhook URL: expected an http or https URL, found scheme {scheme!r}")
        if timeout_s <= 0:
            raise ValueError(f"alert webhook timeout: expected a positive number, found {timeout_s}")
        self.url = url
        self.timeout_s = timeout_s

    @property
    def name(self) -> str:
        return f"webhook:{self.url}"

    def send_alert(self, alert: Alert) -> None:
        """POST one alert.

        Raises:
            ChannelUnreachable: connection refused, DNS failure or timeout.
            ChannelRejected: the receiver answered with a non-2xx status.
        """
        self._post("alert", alert_payload(alert))

    def send_summary(self, summary: Summary) -> None:
        """POST one daily summary.

        Raises:
            ChannelUnreachable: connection refused, DNS failure or timeout.
            ChannelRejected: the receiver answered with a non-2xx status.
        """
        self._post("daily_summary", summary_payload(summary))

    def _post(self, event: str, payload: dict[str, Any]) -> None:
        data = json.dumps(payload, ensure_ascii=False, sort_keys=True).encode("utf-8")
        request = urllib.request.Request(  # noqa: S310 - scheme checked in __init__
            self.url,
            data=data,
            method="POST",
            headers={"Content-Type": JSON_CONTENT_TYPE, "X-Edossier-Event": event},
        )
        try:
            with urllib.request.urlopen(request, timeout=self.timeout_s) as response:  # noqa: S310
                status = int(response.status)
        except urllib.error.HTTPError as exc:
            status = exc.code
        except (urllib.error.URLError, OSError) as exc:
            reason = getattr(exc, "reason", exc)
            raise ChannelUnreachable(f"alert webhook {self.url}: unreachable ({reason})") from None
        if not 200 <= status < 300:
            raise ChannelRejected(f"alert webhook {self.url}: expected a 2xx answer, found {status}")


# ---------------------------------------------------------------- e-mail
def build_email(subject: str, body: str, *, sender: str, recipients: Sequence[str]) -> EmailMessage:
    """A UTF-8 e-mail: the subject RFC 2047-encoded, the body ``text/plain; charset=utf-8``.

    Raises:
        ValueError: no recipients.
    """
    if not recipients:
        raise ValueError("alert e-mail: expected at least one recipient")
    msg = EmailMessage(policy=SMTP_POLICY)
    msg["Subject"] = subject
    msg["From"] = sender
    msg["To"] = ", ".join(recipients)
    msg["Message-ID"] = make_msgid(domain="edossier.local")
    msg.set_content(body, charset="utf-8", cte="base64")  # 7-bit safe for any relay
    return msg


class SmtpChannel:
    """Sends each alert or summary as one e-mail through an SMTP server (smtplib).

    ``starttls`` upgrades the connection before login (certificate checked with the system CAs
    unless ``ssl_context`` is given); ``user``/``password`` log in when set.
    """

    def __init__(
        self,
        host: str,
        port: int,
        *,
        sender: str,
        recipients: Sequence[str],
        user: str | None = None,
        password: str | None = None,
        starttls: bool = False,
        timeout_s: float = SMTP_TIMEOUT_S,
        ssl_context: ssl.SSLContext | None = None,
    ) -> None:
        """Check the connection settings.

        Raises:
            ValueError: no host, no recipients (or one that is not an address), a port outside
                1–65535 or a non-positive timeout.
        """
        if not host:
            raise ValueError("alert SMTP host: must not be empty")
        if not recipients:
            raise ValueError("alert SMTP recipients: expected at least one address")
        if not 0 < port < 65536:
            raise ValueError(f"alert SMTP port: expected 1–65535, found {port}")
        if timeout_s <= 0:
            raise ValueError(f"alert SMTP timeout: expected a positive number, found {timeout_s}")
        self.host = host
        self.port = port
        self.sender = sender
        self.recipients = tuple(recipients)
        # The SMTP envelope takes bare addresses; display names (档案室 <a@b>) only go in the headers.
        self.envelope_sender = getaddresses([sender])[0][1] or sender
        self.envelope_recipients = [addr for _, addr in getaddresses(list(recipients)) if addr]
        if len(self.envelope_recipients) != len(self.recipients):
            raise ValueError(f"alert SMTP recipients: expected e-mail addresses, found {list(recipients)}")
        self.user = user
        self.password = password
        self.starttls = starttls
        self.timeout_s = timeout_s
        self.ssl_context = ssl_context

    @property
    def name(self) -> str:
        return f"smtp:{self.host}:{self.port}"

    def send_alert(self, alert: Alert) -> None:
        """Mail one alert.

        Raises:
            ChannelUnreachable: the server cannot be reached or dropped the connection.
            ChannelRejected: the server refused STARTTLS, the login, the sender or the recipients.
        """
        msg = build_email(
            alert_subject_line(alert), alert_text(alert), sender=self.sender, recipients=self.recipients
        )
        msg["Date"] = format_datetime(alert.created_at)
        self._send(msg)

    def send_summary(self, summary: Summary) -> None:
        """Mail one daily summary.

        Raises:
            ChannelUnreachable: the server cannot be reached or dropped the connection.
            ChannelRejected: the server refused STARTTLS, the login, the sender or the recipients.
        """
        self._send(
            build_email(
                summary_subject_line(summary),
                summary_text(summary),
                sender=self.sender,
                recipients=self.recipients,
            )
        )

    def _send(self, msg: EmailMessage) -> None:
        where = f"alert SMTP {self.host}:{self.port}"
        try:
            with smtplib.SMTP(self.host, self.port, timeout=self.timeout_s) as smtp:
                if self.starttls:
                    smtp.starttls(context=self.ssl_context or ssl.create_default_context())
                if self.user:
                    smtp.login(self.user, self.password or "")
                refused = smtp.send_message(
                    msg, from_addr=self.envelope_sender, to_addrs=self.envelope_recipients
                )
        except (smtplib.SMTPConnectError, smtplib.SMTPServerDisconnected) as exc:
            raise ChannelUnreachable(f"{where}: unreachable ({exc})") from None
        except smtplib.SMTPRecipientsRefused as exc:
            raise ChannelRejected(f"{where}: all recipients refused: {sorted(exc.recipients)}") from None
        except smtplib.SMTPNotSupportedError as exc:
            raise ChannelRejected(f"{where}: {exc}") from None
        except smtplib.SMTPException as exc:
            raise ChannelRejected(f"{where}: refused ({type(exc).__name__}: {exc})") from None
        except (ssl.SSLError, ssl.CertificateError) as exc:
            raise ChannelRejected(f"{where}: TLS failed ({exc})") from None
        except OSError as exc:  # refused, DNS, timeout
            raise ChannelUnreachable(f"{where}: unreachable ({exc})") from None
        if refused:
            raise ChannelRejected(f"{where}: recipients refused: {sorted(refused)}")
