"""Bring a rendered project's docker-compose.test.yml up and down, for docker-marked tests.

    env = compose_up(project_dir, name)       # up -d, wait healthy, URLs from compose_env.py
    try:
        run(["pytest", "tests/integration"], cwd=project_dir, env=env)
    finally:
        compose_down(project_dir, name)
    assert compose_leftovers(name) == []

Images default to the locally built drop-ins (scripts/build-images.sh); IT_POSTGRES_IMAGE and
IT_REDIS_IMAGE in the environment override them (CI with a registry uses the official ones).
Compose is `docker-compose` (Debian's 1.29.2 here) or else the `docker compose` v2 plugin.
"""

from __future__ import annotations

import functools
import importlib.util
import os
import shlex
import shutil
import subprocess
import sys
import tempfile
import uuid
from pathlib import Path
from types import ModuleType

from tests.helpers import render, run

COMPOSE_FILE = "docker-compose.test.yml"
LOCAL_IMAGES = {
    "IT_POSTGRES_IMAGE": "it-template/postgres:15",
    "IT_REDIS_IMAGE": "it-template/redis:7",
    "IT_MYSQL_IMAGE": "it-template/mariadb:10.11",
    "IT_RABBITMQ_IMAGE": "it-template/rabbitmq:3.10",
    "IT_MEMCACHED_IMAGE": "it-template/memcached:1.6",
    "IT_PYTHON_IMAGE": "it-template/python:3.11",
}
PROJECT_LABEL = "com.docker.compose.project"
# Every profile of the file, so that `down` also removes the test-api service and its image.
PROFILES = ["--profile", "tests"]


def images() -> dict[str, str]:
    """The service images to use: the environment's, else the locally built ones."""
    return {name: os.environ.get(name) or default for name, default in LOCAL_IMAGES.items()}


@functools.cache
def compose_env() -> ModuleType:
    """compose_env.py of the template rendered with its defaults, as a module."""
    project = render(Path(tempfile.mkdtemp(prefix="it-compose-env-")) / "project")
    path = project / "tests" / "integration" / "harness" / "compose_env.py"
    spec = importlib.util.spec_from_file_location("it_template_compose_env", path)
    assert spec is not None
    assert spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def compose_command() -> list[str] | None:
    """The compose command the rendered compose_env.py would use, or None without one."""
    module = compose_env()
    try:
        command: list[str] = module.compose_command()
    except module.ComposeError:
        return None
    return command


def docker_unavailable() -> str | None:
    """Why the docker-marked tests cannot run here, or None when they can."""
    if not shutil.which("docker"):
        return "no docker client on PATH"
    try:
        info = subprocess.run(
            ["docker", "info"], capture_output=True, text=True, check=False, timeout=30
        )
    except subprocess.TimeoutExpired:
        return "`docker info` did not answer within 30 s"
    if info.returncode != 0:
        return (
            "no Docker engine answers `docker info` (start one: bash scripts/docker-engine.sh "
            f"start): {info.stderr.strip()[:200]}"
        )
    if compose_command() is None:
        return "neither docker-compose nor `docker compose` is installed"
    missing = [
        image
        for image in images().values()
        if subprocess.run(
            ["docker", "image", "inspect", image], capture_output=True, check=False
        ).returncode
        != 0
    ]
    if missing:
        return (
            f"images {missing} are not present: build them with bash scripts/build-images.sh "
            "or set IT_POSTGRES_IMAGE / IT_REDIS_IMAGE to images you can pull"
        )
    return None


def unique_project_name(prefix: str = "itt") -> str:
    """A compose project name no other test (or xdist worker) uses."""
    return f"{prefix}{uuid.uuid4().hex[:12]}"


def compose(project_dir: Path, name: str) -> list[str]:
    command = compose_command()
    if command is None:
        raise RuntimeError("neither docker-compose nor `docker compose` is installed")
    return [*command, "-p", name, "-f", str(project_dir / COMPOSE_FILE)]


def compose_up(project_dir: Path, name: str, timeout: float = 120) -> dict[str, str]:
    """Start the services, wait until both are healthy, return the suite's environment.

    The result holds IT_BACKEND=url, TEST_POSTGRES_URL and TEST_REDIS_URL (as printed by the
    rendered tests/integration/harness/compose_env.py) and COMPOSE_PROJECT_NAME / COMPOSE_FILE, so
    that a plain `docker-compose down -v` run with it finds the same project.
    """
    env = {**images(), "COMPOSE_PROJECT_NAME": name}
    up = run([*compose(project_dir, name), "up", "-d"], cwd=project_dir, env=env, timeout=timeout)
    if up.returncode != 0:
        raise RuntimeError(f"compose up failed ({up.returncode}):\n{up.stdout}\n{up.stderr}")
    printed = run(
        [
            sys.executable,
            "tests/integration/harness/compose_env.py",
            "-p",
            name,
            "--wait",
            str(timeout),
        ],
        cwd=project_dir,
        env=env,
        timeout=timeout + 30,
    )
    if printed.returncode != 0:
        logs = run([*compose(project_dir, name), "logs", "--no-color"], cwd=project_dir, env=env)
        raise RuntimeError(
            f"compose_env.py failed ({printed.returncode}): {printed.stderr}\n{logs.stdout}"
        )
    result = {
        "IT_BACKEND": "url",
        "COMPOSE_PROJECT_NAME": name,
        "COMPOSE_FILE": str(project_dir / COMPOSE_FILE),
    }
    result.update(parse_exports(printed.stdout))
    return result


def parse_exports(text: str) -> dict[str, str]:
    """The variables of `export NAME=value` lines (values shell-quoted)."""
    found: dict[str, str] = {}
    for line in text.splitlines():
        words = shlex.split(line)
        if len(words) == 2 and words[0] == "export" and "=" in words[1]:
            key, _, value = words[1].partition("=")
            found[key] = value
    return found


def compose_down(project_dir: Path, name: str) -> None:
    """Remove the project's containers, networks and volumes; never raises."""
    command = compose_command()
    if command is None:
        return
    run(
        [
            *compose(project_dir, name),
            *PROFILES,
            "down",
            "-v",
            "--rmi",
            "local",
            "--remove-orphans",
            "-t",
            "5",
        ],
        cwd=project_dir,
        env={**images(), "COMPOSE_PROJECT_NAME": name},
        timeout=120,
    )


def compose_leftovers(name: str) -> list[str]:
    """Containers, networks and volumes of the compose project `name` still present."""
    left: list[str] = []
    label = f"label={PROJECT_LABEL}={name}"
    for kind, command in {
        "container": ["docker", "ps", "-a", "-q", "--filter", label],
        "network": ["docker", "network", "ls", "-q", "--filter", label],
        "volume": ["docker", "volume", "ls", "-q", "--filter", label],
        "volume-by-name": ["docker", "volume", "ls", "-q", "--filter", f"name={name}_"],
        "network-by-name": ["docker", "network", "ls", "-q", "--filter", f"name={name}_"],
        "image": ["docker", "image", "ls", "-q", "--filter", f"reference={name}_*"],
    }.items():
        out = run(command, cwd=Path.cwd()).stdout.split()
        left += [f"{kind} {item}" for item in out]
    return left
