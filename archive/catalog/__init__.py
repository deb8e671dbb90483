"""The catalog: SQLAlchemy models, engine/session setup and Alembic migrations."""
