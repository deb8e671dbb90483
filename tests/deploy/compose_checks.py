"""Reading checks of a Docker Compose file (there is no Docker engine in the test environment).

Each ``check_*`` takes the parsed compose file (and what else it needs) and returns a list of problems, each
naming the service or volume it is about; an empty list means the check found nothing. The compose file's own
variable substitution (``${VAR}``, ``${VAR:?message}``, ``${VAR:-default}``, ``$$``) is reimplemented in
:func:`interpolate` so values can be checked as the containers would see them.
"""

from __future__ import annotations

import re
from collections.abc import Iterator, Mapping
from pathlib import Path
from typing import Any

from pydantic import BaseModel

# ``$$`` is a literal dollar (left to the container's shell); ``${NAME<modifier>}`` and ``$NAME`` are substituted
_VARIABLE = re.compile(r"\$(?:(\$)|\{([A-Za-z_][A-Za-z0-9_]*)((?::?[-?+])[^}]*)?\}|([A-Za-z_][A-Za-z0-9_]*))")
_ENV_LINE = re.compile(r"^\s*(#\s*)?([A-Za-z_][A-Za-z0-9_]*)=(.*)$")
GOOD_CONDITIONS = ("service_healthy", "service_completed_successfully")


def strings(value: Any) -> Iterator[str]:
    """Every string in a parsed YAML value (keys included), depth first."""
    if isinstance(value, str):
        yield value
    elif isinstance(value, Mapping):
        for key, item in value.items():
            yield from strings(key)
            yield from strings(item)
    elif isinstance(value, list):
        for item in value:
            yield from strings(item)


def referenced_variables(compose: Mapping[str, Any]) -> set[str]:
    """Names of the variables the compose file substitutes (``$$NAME`` is the shell's, not compose's)."""
    names: set[str] = set()
    for text in strings(compose):
        for match in _VARIABLE.finditer(text):
            name = match.group(2) or match.group(4)
            if name:
                names.add(name)
    return names


def interpolate(text: str, env: Mapping[str, str]) -> str:
    """``text`` after compose substitution with ``env``; a required (``?``) variable missing raises KeyError."""

    def substitute(match: re.Match[str]) -> str:
        if match.group(1):
            return "$"
        name = match.group(2) or match.group(4)
        modifier = match.group(3) or ""
        value = env.get(name)
        empty_counts = modifier.startswith(":")
        missing = value is None or (empty_counts and value == "")
        operator, argument = modifier.lstrip(":")[:1], modifier.lstrip(":")[1:]
        if operator == "?" and missing:
            raise KeyError(f"{name}: {argument or 'required variable is not set'}")
        if operator == "-" and missing:
            return argument
        if operator == "+":
            return "" if missing else argument
        return value or ""

    return _VARIABLE.sub(substitute, text)


def read_env_file(path: Path, *, commented: bool = False) -> dict[str, str]:
    """``KEY=value`` lines of an env file; with ``commented``, also ``# KEY=value`` examples."""
    found: dict[str, str] = {}
    for line in path.read_text(encoding="utf-8").splitlines():
        match = _ENV_LINE.match(line)
        if match and (commented or not match.group(1)):
            found[match.group(2)] = match.group(3)
    return found


def settings_env_names(model: type[BaseModel], prefix: str = "EDOSSIER_") -> set[str]:
    """Every environment name a pydantic(-settings) model reads: fields, and nested models' fields with ``__``."""
    names: set[str] = set()
    for field_name, info in model.model_fields.items():
        name = f"{prefix}{field_name}".upper()
        names.add(name)
        for candidate in (info.annotation, *getattr(info.annotation, "__args__", ())):
            if isinstance(candidate, type) and issubclass(candidate, BaseModel):
                names |= settings_env_names(candidate, f"{name}__")
    return names


def _environment(service: Mapping[str, Any]) -> dict[str, str]:
    env = service.get("environment") or {}
    if isinstance(env, list):  # ["KEY=value", ...]
        return dict(item.split("=", 1) if "=" in item else (item, "") for item in env)
    return {str(key): "" if value is None else str(value) for key, value in env.items()}


def service_environment(service: Mapping[str, Any], dotenv: Mapping[str, str]) -> dict[str, str]:
    """The environment a container gets: env_file values, then ``environment`` (which wins), substituted."""
    merged = dict(dotenv) if service.get("env_file") else {}
    merged |= {key: interpolate(value, dotenv) for key, value in _environment(service).items()}
    return merged


def check_images(compose: Mapping[str, Any], root: Path) -> list[str]:
    """Every service runs a pinned image (a tag other than ``latest``, or a digest) or builds a Dockerfile."""
    problems: list[str] = []
    for name, service in compose["services"].items():
        build = service.get("build")
        if build is not None:
            context = root / (build if isinstance(build, str) else build.get("context", "."))
            dockerfile = context / (
                "Dockerfile" if isinstance(build, str) else build.get("dockerfile", "Dockerfile")
            )
            if not dockerfile.is_file():
                problems.append(f"service {name!r}: builds {dockerfile}, which does not exist")
            continue
        image = str(service.get("image", ""))
        tag = image.rsplit("/", 1)[-1].partition(":")[2]
        if not image:
            problems.append(f"service {name!r}: neither an image nor a build")
        elif "@sha256:" not in image and (not tag or tag.split("@")[0] == "latest"):
            problems.append(
                f"service {name!r}: image {image!r} is not pinned (expected a version tag or digest)"
            )
    return problems


def check_healthchecks(compose: Mapping[str, Any], one_shot: set[str]) -> list[str]:
    """Every long-running service has an enabled healthcheck with a test."""
    problems: list[str] = []
    for name, service in compose["services"].items():
        if name in one_shot:
            continue
        health = service.get("healthcheck") or {}
        if health.get("disable") or not health.get("test"):
            problems.append(f"service {name!r}: no healthcheck (only one-shot services may go without)")
    return problems


def check_depends_on(compose: Mapping[str, Any], one_shot: set[str]) -> list[str]:
    """Dependencies exist and wait for health (long-running) or for success (one-shot)."""
    services = compose["services"]
    problems: list[str] = []
    for name, service in services.items():
        depends = service.get("depends_on") or {}
        if isinstance(depends, list):
            problems.append(f"service {name!r}: depends_on without conditions ({', '.join(depends)})")
            continue
        for target, spec in depends.items():
            condition = (spec or {}).get("condition")
            expected = "service_completed_successfully" if target in one_shot else "service_healthy"
            if target not in services:
                problems.append(f"service {name!r}: depends on {target!r}, which is not a service")
            elif condition != expected:
                problems.append(
                    f"service {name!r}: depends on {target!r} with condition {condition!r}, expected {expected!r}"
                )
    return problems


def check_volumes(compose: Mapping[str, Any]) -> list[str]:
    """Named volumes used by services are declared, and every declared one is used."""
    declared = set((compose.get("volumes") or {}).keys())
    used: dict[str, str] = {}
    for name, service in compose["services"].items():
        for mount in service.get("volumes") or ():
            source = mount.split(":", 1)[0] if isinstance(mount, str) else mount.get("source", "")
            kind = "volume" if isinstance(mount, str) else mount.get("type", "volume")
            if kind == "volume" and source and not source.startswith((".", "/", "~", "$")):
                used.setdefault(source, name)
    problems = [
        f"service {svc!r}: volume {vol!r} is not declared" for vol, svc in used.items() if vol not in declared
    ]
    problems += [f"volume {vol!r} is declared but no service uses it" for vol in sorted(declared - set(used))]
    return problems
