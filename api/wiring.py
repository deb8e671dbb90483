"""Build the parts of an installation from its settings: database, object store, signing key.

This is the one place that turns :class:`archive.settings.Settings` into live objects for the CLI
(and later the HTTP app). It does I/O (opens the database, creates folders, reads keys).
"""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import Engine
from sqlalchemy.orm import Session, sessionmaker

from archive.catalog import db
from archive.ingest.service import IngestService
from archive.settings import Settings
from archive.stores import ObjectStore, open_store
from integrity.keys import ensure_key, key_paths, load_signer
from integrity.signed_note import Ed25519Signer


@dataclass
class Installation:
    settings: Settings
    engine: Engine
    sessions: sessionmaker[Session]
    write_sessions: sessionmaker[Session]
    store: ObjectStore
    signer: Ed25519Signer

    def ingest_service(self, actor: str = "cli") -> IngestService:
        return IngestService(
            settings=self.settings,
            sessions=self.sessions,
            write_sessions=self.write_sessions,
            store=self.store,
            signer=self.signer,
            actor=actor,
        )

    def close(self) -> None:
        self.engine.dispose()


def initialise(settings: Settings) -> list[str]:
    """Create the data directory, migrate the database, create the signing key and check the store.

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
    ensure_key(settings.keys_dir, settings.signing_key_name)
    done.append(
        f"signing key {settings.signing_key_name} {'present' if existed else 'created'} in {settings.keys_dir}"
    )
    store = open_store(settings, prepare=True)
    store.check_ready()
    done.append(f"object store {store.name} ready")
    return done


def open_installation(settings: Settings) -> Installation:
    """Open an initialised installation (run :func:`initialise` first).

    Raises:
        DatabaseUnavailable / StoreUnavailable: the database or object store cannot be reached.
        KeyFileMissingError (integrity.keys): no signing key in the data directory.
    """
    engine = db.make_engine(settings.effective_database_url)
    db.check_ready(engine)
    sessions = db.session_factory(engine)
    store = open_store(settings)
    signer = load_signer(settings.keys_dir, settings.signing_key_name)
    return Installation(
        settings=settings,
        engine=engine,
        sessions=sessions,
        write_sessions=db.session_factory(engine, write=True),
        store=store,
        signer=signer,
    )
