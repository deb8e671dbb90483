"""Build the alert channels and the dispatcher an installation configured (:class:`AlertSettings`)."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from sqlalchemy.orm import Session, sessionmaker

from integrity.alerts.catalog import CatalogRecorder, RecordingDispatcher
from integrity.alerts.channels import Channel, LogChannel, SmtpChannel, WebhookChannel
from integrity.alerts.dispatcher import AlertDispatcher, Clock
from integrity.alerts.settings import AlertSettings
from integrity.alerts.state import JsonStateStore


def state_path(data_dir: Path) -> Path:
    """Where the dispatcher's state lives: ``<data dir>/alerts/state.json``."""
    return Path(data_dir) / "alerts" / "state.json"


def channels_from_settings(settings: AlertSettings) -> list[Channel]:
    """The log channel (unless disabled), one webhook channel per URL, and SMTP when a host is set."""
    channels: list[Channel] = []
    if settings.log:
        channels.append(LogChannel())
    channels.extend(WebhookChannel(url, timeout_s=settings.webhook_timeout_s) for url in settings.webhooks)
    if settings.smtp_host:
        channels.append(
            SmtpChannel(
                settings.smtp_host,
                settings.smtp_port,
                sender=settings.smtp_sender,
                recipients=settings.smtp_recipients,
                user=settings.smtp_user,
                password=settings.smtp_password.get_secret_value() if settings.smtp_password else None,
                starttls=settings.smtp_starttls,
                timeout_s=settings.smtp_timeout_s,
            )
        )
    return channels


def _utc_now() -> datetime:
    return datetime.now(UTC)


def dispatcher_from_settings(
    alert_settings: AlertSettings,
    data_dir: Path,
    *,
    clock: Clock | None = None,
    sessions: sessionmaker[Session] | None = None,
) -> AlertDispatcher:
    """A dispatcher over the configured channels, its state in ``<data_dir>/alerts/state.json``.

    Given ``sessions`` (a write session factory of the catalog), every alert it raises is also
    recorded in the catalog's ``alerts`` table (:class:`~integrity.alerts.catalog.RecordingDispatcher`,
    best effort) for the dashboard and its acknowledgements.

    Raises:
        ValueError: no channel is configured (``log`` off, no webhook, no SMTP host).
    """
    args = (channels_from_settings(alert_settings), JsonStateStore(state_path(data_dir)), clock or _utc_now)
    limits: dict[str, Any] = {
        "window": alert_settings.dedupe_window,
        "daily_threshold": alert_settings.daily_threshold,
        "tz": alert_settings.tz,
        "top_n": alert_settings.summary_top_n,
    }
    if sessions is not None:
        return RecordingDispatcher(*args, recorder=CatalogRecorder(sessions), **limits)
    return AlertDispatcher(*args, **limits)
