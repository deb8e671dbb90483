"""Secrets in the settings never appear in their text forms (repr, str, JSON dumps used in logs)."""

from __future__ import annotations

from archive.settings import S3Settings, Settings


def test_s3_secret_key_is_hidden_from_repr_and_dumps() -> None:
    settings = Settings(s3=S3Settings(secret_key="s3cr3t-value", access_key="ak"))
    assert settings.s3.secret_key.get_secret_value() == "s3cr3t-value"
    for text in (repr(settings), str(settings), settings.model_dump_json(), repr(settings.s3)):
        assert "s3cr3t-value" not in text


def test_secret_key_comes_from_the_environment(monkeypatch) -> None:  # type: ignore[no-untyped-def]
    monkeypatch.setenv("EDOSSIER_S3__SECRET_KEY", "from-env")
    assert Settings().s3.secret_key.get_secret_value() == "from-env"
