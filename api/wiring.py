"""Build the parts of an installation from its settings: database, object store, keys, publication.

This is the one place that turns :class:`archive.settings.Settings` into live objects for the CLI
(and later the HTTP app). It does I/O (opens the database, creates folders, reads keys).
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from sqlalchemy import Engine
from sqlalchemy.orm import Session, sessionmaker

from archive.catalog import db
from archive.settings import Settings
from archive.staging_sweep import sweep_staging
from archive.stores import ObjectStore, open_store
from integrity.keys import ensure_key, key_paths, load_signer
from integrity.ledger.publication import CheckpointPublisher
from integrity.ledger.rotation import finish_rotation
from integrity.signed_note import Ed25519Signer, NoteSigner
from integrity.sm2 import ensure_sm2_key
from integrity.timestamp import TsaClient, load_roots
from integrity.witness import sinks_from_settings

if TYPE_CHECKING:
    from archive.ingest.service import IngestService


def utcnow() -> dt.datetime:
    return dt.datetime.now(dt.UTC)


def checkpoint_signers(settings: Settings, signer: Ed25519Signer) -> list[NoteSigner]:
    """``[signer]``, plus the SM2 key named by ``settings.sm2_signing_key_name`` (created if absent).

    Raises:
        ValueError: the SM2 key name is invalid or equals the Ed25519 key name (their files would clash).
        InsecureKeyFile, KeyFileMismatch, MalformedKey, KeyIdMismatch, StorageError: the SM2 key file.
    """
    name = settings.sm2_signing_key_name
    if name is None:
        return [signer]
    if name == settings.signing_key_name:
        raise ValueError(f"sm2_signing_key_name must differ from signing_key_name ({name!r})")
    return [signer, ensure_sm2_key(settings.keys_dir, name)]


@dataclass
class Installation:
    settings: Settings
    engine: Engine
    sessions: sessionmaker[Session]
    write_sessions: sessionmaker[Session]
    store: ObjectStore
    signer: Ed25519Signer
    publisher: CheckpointPublisher
    signers: list[NoteSigner] = field(default_factory=list)  # every checkpoint signer, Ed25519 first

    def ingest_service(self, actor: str = "cli") -> IngestService:
        from archive.ingest.service import IngestService  # imported by the commands that ingest

        return IngestService(
            settings=self.settings,
            sessions=self.sessions,
            write_sessions=self.write_sessions,
            store=self.store,
            signers=self.signers or [self.signer],
            publisher=self.publisher,
            actor=actor,
        )

    def close(self) -> None:
        self.engine.dispose()


def initialise(settings: Settings) -> list[str]:
    """Create the data directory, migrate the database, create the signing keys and check the store.

    Idempotent: running it again changes nothing that exists. Returns what was done, for people.
    """
    done: list[str] = []
    settings.data_dir.mkdir(parents=True, exist_ok=True)
    engine = db.make_engine(settings.effective_database_url)
    try:
        before = db.current_revision(engine)
        db.upgrade(engine)
        after = db.current_revision(engine)
        done.append(
            f"database {'migrated to ' + str(after) if before != after else 'up to date at ' + str(after)}"
        )
    finally:
        engine.dispose()
    existed = key_paths(settings.keys_dir, settings.signing_key_name)[0].exists()
    signer = ensure_key(settings.keys_dir, settings.signing_key_name)
    state = "present" if existed else "created"
    done.append(f"signing key {settings.signing_key_name} {state} in {settings.keys_dir}")
    if settings.sm2_signing_key_name:
        checkpoint_signers(settings, signer)
        done.append(f"SM2 co-signing key {settings.sm2_signing_key_name} ready in {settings.keys_dir}")
    store = open_store(settings, prepare=True)
    store.check_ready()
    done.append(f"object store {store.name} ready")
    swept = sweep_staging(settings.staging_dir)
    if swept:
        done.append(f"staging: removed {len(swept)} folder(s) left by interrupted runs")
    return done


def make_publisher(settings: Settings, write_sessions: sessionmaker[Session]) -> CheckpointPublisher:
    """The post-commit timestamping and witness publication the settings ask for.

    Raises:
        MalformedTimestamp, OSError: ``tsa_roots`` cannot be read.
        ValueError: a TSA URL without roots, or a malformed URL.
    """
    tsa = None
    roots = []
    if settings.tsa_url:
        if settings.tsa_roots is None:
            raise ValueError(
                "EDOSSIER_TSA_URL is set but EDOSSIER_TSA_ROOTS (PEM file of trusted TSA roots) is not"
            )
        roots = load_roots(settings.tsa_roots)
        tsa = TsaClient(settings.tsa_url, settings.tsa_timeout_s, roots)
    return CheckpointPublisher(
        write_sessions=write_sessions,
        tsa=tsa,
        tsa_roots=roots,
        sinks=sinks_from_settings(settings),
        clock=utcnow,
    )


def open_installation(settings: Settings) -> Installation:
    """Open an initialised installation (run :func:`initialise` first).

    Finishes a key rotation that a crash interrupted before anything signs.

    Raises:
        DatabaseUnavailable / StoreUnavailable: the database or object store cannot be reached.
        DatabaseNotMigrated: the database is not at the schema this code needs (run ``edossier init``).
        KeyFileMissingError (integrity.keys): no signing key in the data directory.
    """
    engine = db.make_engine(settings.effective_database_url)
    db.check_ready(engine)
    db.verify_schema_current(engine)  # an older schema is migrated by `edossier init`, never silently
    sessions = db.session_factory(engine)
    write_sessions = db.session_factory(engine, write=True)
    with sessions() as session:
        finish_rotation(session, settings.keys_dir, settings.signing_key_name)
    signer = load_signer(settings.keys_dir, settings.signing_key_name)
    return Installation(
        settings=settings,
        engine=engine,
        sessions=sessions,
        write_sessions=write_sessions,
        store=open_store(settings),
        signer=signer,
        publisher=make_publisher(settings, write_sessions),
        signers=checkpoint_signers(settings, signer),
    )
