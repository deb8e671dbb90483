"""Settings of an edossier installation (pydantic-settings, ``EDOSSIER_`` prefix).

One frozen object holds the data directory, the database URL, the object store, the digest
algorithms and every input limit. Nested values use ``__`` in environment variables, e.g.
``EDOSSIER_LIMITS__FILE_BYTES=1048576`` or ``EDOSSIER_S3__ENDPOINT=127.0.0.1:9000``.
"""

from __future__ import annotations

from pathlib import Path
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, SecretStr, field_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

from integrity.alerts.settings import AlertSettings
from integrity.audit.policy import AuditPolicy
from standards.limits import Limits

DEFAULT_DATA_DIR = Path("./edossier-data")


class S3Settings(BaseModel):
    """Connection to an S3-compatible object store (MinIO, Ceph RGW, AWS S3)."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    endpoint: str = "127.0.0.1:9000"
    access_key: str = "minioadmin"
    # SecretStr: never shown by repr, logs or error messages; MinIO's documented development default
    secret_key: SecretStr = SecretStr("minioadmin")
    bucket: str = "edossier"
    secure: bool = False
    region: str = "us-east-1"
    object_lock: bool = True


class Retention(BaseModel):
    """Court retention scheme (《关于人民法院诉讼档案保管期限的规定》): code → years (None = forever)."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    periods: dict[str, int | None] = Field(default_factory=lambda: {"永久": None, "长期": 60, "短期": 30})
    # Object-lock retention used for 永久 (S3 needs a date); renewed by later audits.
    permanent_lock_years: int = 100


class JobSettings(BaseModel):
    """How workers run periodic tasks and find the jobs of a worker that died (``EDOSSIER_JOBS__*``)."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    # cron (5 fields, or 6 with seconds) of the audit scheduler's tick: it starts what the policy says is due
    audit_tick_cron: str = "*/15 * * * *"
    # cron of the daily check for overdue archiving and overdue audits (alerts)
    overdue_cron: str = "30 1 * * *"
    # cron of the search for jobs whose worker stopped sending heartbeats (they are retried)
    stalled_cron: str = "* * * * * */15"
    heartbeat_s: float = Field(default=10.0, gt=0)
    # a worker silent this long is dead: its running jobs are retried by another worker
    stalled_after_s: float = Field(default=30.0, gt=0)
    # objects one audit batch (one job) reads
    objects_per_batch: int = Field(default=500, ge=1)
    # audit results committed per transaction inside a batch (a killed worker loses at most these)
    results_per_commit: int = Field(default=200, ge=1)


class ApiSettings(BaseModel):
    """The HTTP service (``EDOSSIER_API__*``)."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    # publishing the latest signed checkpoint needs no token (auditors and witnesses fetch it)
    public_checkpoint: bool = True
    # an uploaded ZIP larger than this is refused while it streams in (413); default: limits.package_bytes
    max_upload_bytes: int | None = Field(default=None, ge=1)
    # archive a sample dossier when `edossier serve` starts on an empty archive, so a new user sees something real
    sample_on_first_start: bool = True


class TransferSettings(BaseModel):
    """Transfer to the state archive (移交, DA/T 93-2022) and accession (``EDOSSIER_TRANSFER__*``)."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    # 移交单位 / 接收单位 as written in the 说明文件 and the 登记表
    transferring_unit: str = "人民法院"
    receiving_unit: str = "档案馆"
    # 全宗号 of the fonds folder when a dossier's 档号 does not give one
    fonds_code: str = "F001"
    # name of the archive's EEP signing key (ECDSA P-256 + self-signed certificate in keys_dir)
    eep_key_name: str = "edossier-eep"


class BackupSettings(BaseModel):
    """The second store backups go to (``EDOSSIER_BACKUP__*``); BC-3-9 restores a sample from it."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    # "fs": a folder (``path``, e.g. another disk or a mounted share); "s3": another bucket/endpoint
    store: Literal["fs", "s3"] | None = None
    path: Path | None = None
    s3: S3Settings | None = None
    # BC-3-9: how many objects a restorability check restores into a scratch area and re-hashes
    sample_objects: int = Field(default=20, ge=1)


class Settings(BaseSettings):
    """All configuration of one installation."""

    model_config = SettingsConfigDict(
        env_prefix="EDOSSIER_", env_nested_delimiter="__", frozen=True, extra="ignore"
    )

    data_dir: Path = DEFAULT_DATA_DIR
    database_url: str | None = Field(
        default=None, description="SQLAlchemy URL; default SQLite file in data_dir"
    )
    store: Literal["fs", "s3", "memory"] = "fs"
    s3: S3Settings = Field(default_factory=S3Settings)
    digest_algorithms: tuple[str, ...] = ("sha256", "sm3")
    limits: Limits = Field(default_factory=Limits)
    retention: Retention = Field(default_factory=Retention)
    ledger_origin: str = "edossier.example/court-archive"
    signing_key_name: str = "edossier"
    # Second checkpoint signer for deployments bound to national cryptography (GB/T 32918 SM2).
    sm2_signing_key_name: str | None = None
    # RFC 3161 trusted time: TSA endpoint and the PEM file of CA certificates its tokens must chain to.
    tsa_url: str | None = None
    tsa_roots: Path | None = None
    tsa_timeout_s: float = Field(default=10.0, gt=0)
    # Witness publication: every signed checkpoint is also written to these sinks outside the catalog.
    witness_dirs: tuple[Path, ...] = ()
    witness_webhooks: tuple[str, ...] = ()
    witness_s3: S3Settings | None = None
    # DA/T 70 detection policy
    clamd_address: str | None = None  # "unix:/run/clamav/clamd.ctl" or "tcp:127.0.0.1:3310"; None: virus scan not_run
    clamd_timeout_s: float = Field(default=30.0, gt=0)
    antivirus_max_signature_age_days: int = Field(default=7, ge=0)
    # GB/T 18894-2016 §8.3 / DA/T 92 Annex B: formats accepted at archiving and kept for the long term
    allowed_formats: tuple[str, ...] = ("PDF", "OFD", "JPEG", "TIFF", "PNG", "WAV", "MP3", "MP4", "XML")
    long_term_formats: tuple[str, ...] = ("PDF", "OFD", "JPEG", "TIFF", "PNG", "WAV", "MP3", "MP4", "XML")
    # YJ-1-9: the receiving archive's codes (empty: the check is not_run)
    archive_fonds_codes: tuple[str, ...] = ()
    archive_class_codes: tuple[str, ...] = ()
    # BC-1-16: certificates (PEM bundle or DER) that DA/T 48 EEP signer certificates must chain to
    eep_trusted_roots: Path | None = None
    # GD/YJ/BC-1-1: certificates (PEM bundle or DER) that embedded PDF signer certificates must chain to
    pdf_trusted_roots: Path | None = None
    # Alerts: channels (log, webhooks, SMTP), deduplication window, daily summary threshold
    alerts: AlertSettings = Field(default_factory=AlertSettings)
    # Periodic audits (DA/T 70 §4.3.1, DA/T 92): fixity yearly, full check every 2 years, 5 % quarterly sample
    audit: AuditPolicy = Field(default_factory=AuditPolicy)
    # Case ledger: days after 结案日期 by which a closed case's dossier must be archived (逾期未归档预警)
    archiving_deadline_days: int = Field(default=90, ge=1, le=36500)
    ingest_workers: int = Field(default=2, ge=1, le=64)
    # Job engine (Procrastinate on PostgreSQL): scheduler tick, daily overdue check, stalled workers
    jobs: JobSettings = Field(default_factory=JobSettings)
    api: ApiSettings = Field(default_factory=ApiSettings)
    transfer: TransferSettings = Field(default_factory=TransferSettings)
    backup: BackupSettings = Field(default_factory=BackupSettings)

    @field_validator("digest_algorithms")
    @classmethod
    def _known_algorithms(cls, value: tuple[str, ...]) -> tuple[str, ...]:
        unknown = sorted(set(value) - {"sha256", "sm3"})
        if unknown:
            raise ValueError(f"unknown digest algorithm(s) {unknown}; supported: sha256, sm3")
        if "sha256" not in value:
            raise ValueError("sha256 is required (content addressing and S3 checksums use it)")
        return value

    @property
    def effective_database_url(self) -> str:
        if self.database_url:
            return self.database_url
        return f"sqlite:///{(self.data_dir / 'catalog.sqlite3').resolve()}"

    @property
    def store_dir(self) -> Path:
        return self.data_dir / "objects"

    @property
    def staging_dir(self) -> Path:
        return self.data_dir / "staging"

    @property
    def keys_dir(self) -> Path:
        return self.data_dir / "keys"


def load_settings(data_dir: Path | None = None) -> Settings:
    """Read settings from the environment; ``data_dir`` (from ``--data-dir``) wins over it."""
    if data_dir is not None:
        return Settings(data_dir=data_dir)
    return Settings()
