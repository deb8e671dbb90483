"""Configuration of alert channels and limits (``Settings.alerts``, env ``EDOSSIER_ALERTS__…``).

Kept here rather than in :mod:`archive.settings` so the alerting package owns its own options;
the installation's ``Settings`` holds one :class:`AlertSettings` under ``alerts``.
"""

from __future__ import annotations

import urllib.parse
import zoneinfo
from datetime import timedelta

from pydantic import BaseModel, ConfigDict, Field, SecretStr, field_validator, model_validator

from integrity.alerts.model import evidence_link


class AlertSettings(BaseModel):
    """Where alerts go and how they are limited.

    The log channel is on unless ``log`` is false; one webhook channel per URL in ``webhooks``;
    an SMTP channel when ``smtp_host`` is set (then ``smtp_recipients`` must not be empty).
    ``evidence_url_template`` (with ``{subject}``) turns evidence links into URLs of the web UI;
    without it they are CLI commands (``edossier report <id>``).
    """

    model_config = ConfigDict(frozen=True, extra="forbid")

    log: bool = True
    webhooks: tuple[str, ...] = ()
    webhook_timeout_s: float = Field(default=5.0, gt=0)
    smtp_host: str | None = None
    smtp_port: int = Field(default=25, gt=0, lt=65536)
    smtp_user: str | None = None
    smtp_password: SecretStr | None = None
    smtp_starttls: bool = False
    smtp_sender: str = "edossier@localhost"
    smtp_recipients: tuple[str, ...] = ()
    smtp_timeout_s: float = Field(default=10.0, gt=0)
    dedupe_window_hours: float = Field(default=24, gt=0)
    daily_threshold: int = Field(default=20, ge=0)
    summary_top_n: int = Field(default=5, ge=1)
    timezone: str = "Asia/Shanghai"
    evidence_url_template: str | None = None

    @field_validator("webhooks")
    @classmethod
    def _http_urls(cls, value: tuple[str, ...]) -> tuple[str, ...]:
        for url in value:
            scheme = urllib.parse.urlsplit(url).scheme
            if scheme not in ("http", "https"):
                raise ValueError(
                    f"alert webhook {url!r}: expected an http or https URL, found scheme {scheme!r}"
                )
        return value

    @field_validator("timezone")
    @classmethod
    def _known_zone(cls, value: str) -> str:
        try:
            zoneinfo.ZoneInfo(value)
        except (zoneinfo.ZoneInfoNotFoundError, ValueError):
            raise ValueError(f"alert timezone: unknown IANA zone {value!r}") from None
        return value

    @field_validator("evidence_url_template")
    @classmethod
    def _has_subject(cls, value: str | None) -> str | None:
        if value is not None and "{subject}" not in value:
            raise ValueError(f"evidence_url_template: expected a {{subject}} field, found {value!r}")
        return value

    @model_validator(mode="after")
    def _smtp_complete(self) -> AlertSettings:
        if self.smtp_host and not self.smtp_recipients:
            raise ValueError("alerts: smtp_host is set but smtp_recipients is empty")
        return self

    @property
    def dedupe_window(self) -> timedelta:
        """``dedupe_window_hours`` as a duration."""
        return timedelta(hours=self.dedupe_window_hours)

    @property
    def tz(self) -> zoneinfo.ZoneInfo:
        """The time zone whose calendar days the daily summary covers."""
        return zoneinfo.ZoneInfo(self.timezone)

    def evidence_link(self, subject: str) -> str:
        """The evidence link for ``subject`` under this installation's template.

        Raises:
            ValueError: ``subject`` is empty.
        """
        return evidence_link(subject, self.evidence_url_template)
