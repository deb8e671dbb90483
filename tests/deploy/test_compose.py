"""docker-compose.yml, Dockerfile and .env.example checked by reading them (no Docker engine here).

The checks themselves live in tests/deploy/compose_checks.py; vectors/invalid/ holds broken compose files,
each named after the mistake it makes, to show that every check catches what it is meant to.
"""

from __future__ import annotations

import json
import os
import re
import tomllib
import urllib.parse
from pathlib import Path
from typing import Any

import pytest
import yaml
from typer.testing import CliRunner

from api.cli import app
from api.http.routes import health
from archive.settings import Settings
from integrity.antivirus.clamd import parse_address
from tests.deploy import compose_checks as cc

ROOT = Path(__file__).resolve().parents[2]
COMPOSE_FILE = ROOT / "docker-compose.yml"
DOCKERFILE = ROOT / "Dockerfile"
ENV_EXAMPLE = ROOT / ".env.example"
INVALID = Path(__file__).parent / "vectors" / "invalid"

EXPECTED_SERVICES = {"minio", "minio-init", "postgres", "clamd", "migrate", "api", "worker-1", "worker-2"}
ONE_SHOT = {"minio-init", "migrate"}
APP_SERVICES = ("migrate", "api", "worker-1", "worker-2")
DATA_DIR = "/var/lib/edossier"


def _load(path: Path) -> dict[str, Any]:
    loaded = yaml.safe_load(path.read_text(encoding="utf-8"))
    assert isinstance(loaded, dict), f"{path.name}: expected a mapping at the top"
    return loaded


COMPOSE = _load(COMPOSE_FILE)
SERVICES: dict[str, dict[str, Any]] = COMPOSE["services"]
DOTENV = cc.read_env_file(ENV_EXAMPLE)


def _dockerfile_instruction(name: str) -> list[str]:
    """Arguments of every ``NAME`` instruction (continuation lines joined)."""
    text = re.sub(r"\\\n\s*", " ", DOCKERFILE.read_text(encoding="utf-8"))
    return [m.group(1).strip() for m in re.finditer(rf"^{name}\s+(.+)$", text, flags=re.M)]


def _entrypoint() -> list[str]:
    entries = _dockerfile_instruction("ENTRYPOINT")
    assert len(entries) == 1, f"Dockerfile: expected one ENTRYPOINT, found {len(entries)}"
    value = json.loads(entries[0])
    assert isinstance(value, list), "Dockerfile: ENTRYPOINT must be the exec (JSON list) form"
    return [str(part) for part in value]


def test_compose_defines_the_expected_services() -> None:
    missing = sorted(EXPECTED_SERVICES - set(SERVICES))
    assert not missing, f"docker-compose.yml: services missing: {', '.join(missing)}"


def test_every_image_is_pinned_or_built_from_an_existing_dockerfile() -> None:
    assert cc.check_images(COMPOSE, ROOT) == []


def test_every_long_running_service_has_a_healthcheck() -> None:
    assert cc.check_healthchecks(COMPOSE, ONE_SHOT) == []


def test_depends_on_targets_exist_and_wait_on_a_condition() -> None:
    assert cc.check_depends_on(COMPOSE, ONE_SHOT) == []


def test_named_volumes_are_declared_and_every_declared_volume_is_used() -> None:
    assert cc.check_volumes(COMPOSE) == []


def test_env_files_exist_or_have_an_example_with_every_substituted_variable() -> None:
    for name, service in SERVICES.items():
        env_files = service.get("env_file") or []
        for env_file in [env_files] if isinstance(env_files, str) else env_files:
            path = ROOT / env_file
            example = path.with_name(path.name + ".example")
            assert path.is_file() or example.is_file(), (
                f"service {name!r}: env_file {env_file} and its .example missing"
            )
    referenced = cc.referenced_variables(COMPOSE)
    missing = sorted(referenced - set(DOTENV))
    assert not missing, f".env.example: variables docker-compose.yml substitutes are missing: {missing}"
    # a key nobody reads is a mistake unless it is a setting the app services get through env_file
    unused = sorted(k for k in set(DOTENV) - referenced if not k.startswith("EDOSSIER_"))
    assert not unused, (
        f".env.example: variables neither substituted in docker-compose.yml nor settings: {unused}"
    )


def test_placeholder_secrets_in_env_example_are_marked_for_change() -> None:
    for key, value in DOTENV.items():
        if re.search(r"PASSWORD|SECRET", key):
            assert value.startswith("CHANGE-ME"), f".env.example: {key} must be a CHANGE-ME placeholder"


def test_every_edossier_variable_set_is_a_real_setting() -> None:
    valid = cc.settings_env_names(Settings)
    for name, service in SERVICES.items():
        names = cc.service_environment(service, DOTENV)
        unknown = sorted(k for k in names if k.startswith("EDOSSIER_") and k not in valid)
        assert not unknown, f"service {name!r}: EDOSSIER_* variables that are no setting: {unknown}"
    in_example = cc.read_env_file(ENV_EXAMPLE, commented=True)
    unknown = sorted(k for k in in_example if k.startswith("EDOSSIER_") and k not in valid)
    assert not unknown, f".env.example: EDOSSIER_* variables that are no setting: {unknown}"


@pytest.mark.parametrize("service", APP_SERVICES)
def test_app_service_environment_loads_as_production_settings(
    service: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    environment = cc.service_environment(SERVICES[service], DOTENV)
    for key in [k for k in os.environ if k.startswith("EDOSSIER_")]:
        monkeypatch.delenv(key)
    for key, value in environment.items():
        monkeypatch.setenv(key, value)
    settings = Settings()
    assert settings.store == "s3", f"service {service!r}: expected EDOSSIER_STORE=s3"
    url = urllib.parse.urlsplit(settings.effective_database_url)
    assert url.scheme == "postgresql+psycopg", f"service {service!r}: database URL scheme {url.scheme!r}"
    assert url.hostname == "postgres", f"service {service!r}: database host {url.hostname!r}"
    assert url.path == f"/{DOTENV['POSTGRES_DB']}", f"service {service!r}: database {url.path!r}"
    assert settings.s3.object_lock, f"service {service!r}: Object Lock must be on"
    assert settings.s3.endpoint.split(":")[0] in SERVICES, (
        f"service {service!r}: S3 endpoint {settings.s3.endpoint}"
    )
    assert settings.clamd_address is not None, f"service {service!r}: no clamd address"
    assert str(parse_address(settings.clamd_address)) == "tcp:clamd:3310", (
        f"service {service!r}: clamd address"
    )
    assert str(settings.data_dir) == DATA_DIR, f"service {service!r}: data dir {settings.data_dir}"
    mounts = [m for m in SERVICES[service].get("volumes", []) if m.endswith(f":{DATA_DIR}")]
    assert mounts, f"service {service!r}: {DATA_DIR} (keys, staging) is not on a named volume"


def _cli_invocations() -> list[tuple[str, list[str]]]:
    """(where, argv) of every edossier command the stack runs: service commands and healthchecks."""
    found: list[tuple[str, list[str]]] = []
    for name, service in SERVICES.items():
        if "build" in service:
            command = service.get("command") or []
            found.append((f"service {name!r} command", list(command)))
        test = (service.get("healthcheck") or {}).get("test") or []
        if isinstance(test, list) and test[1:2] == ["edossier"]:
            found.append((f"service {name!r} healthcheck", test[2:]))
    return found


@pytest.mark.parametrize(
    ("where", "argv"), _cli_invocations(), ids=[where for where, _ in _cli_invocations()]
)
def test_commands_the_stack_runs_are_real_cli_commands_with_real_options(where: str, argv: list[str]) -> None:
    assert argv, f"{where}: empty command (the image's ENTRYPOINT would print its help)"
    # unknown commands and options fail while parsing, before the eager --help prints
    result = CliRunner().invoke(app, [*argv, "--help"])
    assert result.exit_code == 0, (
        f"{where}: `edossier {' '.join(argv)}` is not a valid command:\n{result.output}"
    )


def test_healthcheck_urls_are_routes_of_the_api() -> None:
    routes = {getattr(route, "path", None) for route in health.router.routes}
    texts = [
        *cc.strings([s.get("healthcheck") for s in SERVICES.values()]),
        *_dockerfile_instruction("HEALTHCHECK"),
    ]
    paths = {urllib.parse.urlsplit(url).path for t in texts for url in re.findall(r"https?://[^'\" ]+", t)}
    assert paths, "no HTTP healthcheck found"
    assert paths <= routes, f"healthcheck paths that are no route: {sorted(paths - routes)}"


def test_dockerfile_entrypoint_is_the_console_script() -> None:
    scripts = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))["project"]["scripts"]
    assert _entrypoint()[:1] == ["edossier"], f"Dockerfile: ENTRYPOINT {_entrypoint()}, expected ['edossier']"
    assert "edossier" in scripts, "pyproject.toml: no `edossier` console script"


def test_dockerfile_uses_the_pinned_slim_base_and_a_non_root_user() -> None:
    assert _dockerfile_instruction("FROM") == ["python:3.11-slim-bookworm"]
    users = _dockerfile_instruction("USER")
    assert users, "Dockerfile: no USER (the image would run as root)"
    assert users[-1].split(":")[0] not in ("root", "0"), f"Dockerfile: USER {users[-1]}"


@pytest.mark.parametrize("vector", sorted(INVALID.glob("*.yml")), ids=lambda p: p.stem)
def test_checks_catch_the_mistake_each_invalid_vector_makes(vector: Path) -> None:
    expected = re.search(r"^# expect: (.+)$", vector.read_text(encoding="utf-8"), flags=re.M)
    assert expected, f"{vector.name}: no '# expect:' line"
    compose = _load(vector)
    problems = [
        *cc.check_images(compose, ROOT),
        *cc.check_healthchecks(compose, ONE_SHOT),
        *cc.check_depends_on(compose, ONE_SHOT),
        *cc.check_volumes(compose),
    ]
    assert any(expected.group(1) in p for p in problems), (
        f"{vector.name}: expected {expected.group(1)!r}, got {problems}"
    )


@pytest.mark.parametrize(
    ("text", "env", "result"),
    [
        ("${A}", {"A": "1"}, "1"),
        ("$${A}", {"A": "1"}, "${A}"),
        ("x-${A:-d}-$B", {"B": "2"}, "x-d-2"),
        ("${A-d}", {"A": ""}, ""),
        ("${A:+set}", {"A": "1"}, "set"),
    ],
)
def test_interpolate_follows_compose_substitution(text: str, env: dict[str, str], result: str) -> None:
    assert cc.interpolate(text, env) == result


def test_interpolate_refuses_a_missing_required_variable() -> None:
    with pytest.raises(KeyError, match=r"set A in \.env"):
        cc.interpolate("${A:?set A in .env}", {})
