"""docker-compose.yml, checked offline: no Docker engine runs here.

The file must match the Compose spec, reference only services and modules
that exist, give web, worker, beat and migrate one environment made only of
names config/settings.py reads, and that environment must load settings on
PostgreSQL and Redis and pass `check --deploy`.
"""

from __future__ import annotations

import ast
import http.client
import json
import re
import secrets
import socket
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import click
import pytest
import yaml
from celery import Celery
from celery.app.utils import find_app
from celery.bin.base import CLIContext
from celery.bin.celery import celery as celery_cli
from django.core.management import get_commands, load_command_class
from uvicorn.main import main as uvicorn_cli

ROOT = Path(__file__).resolve().parent.parent
COMPOSE_FILE = ROOT / "docker-compose.yml"
SETTINGS_FILE = ROOT / "config" / "settings.py"
APP_SERVICES = ("web", "worker", "beat", "migrate")
# What an operator must supply; everything else has a default in the file.
OPERATOR_VALUES = {"SECRET_KEY": secrets.token_urlsafe(50)}

_INTERPOLATION = re.compile(r"\$\{(?P<name>\w+)(?:(?P<op>:?[-?])(?P<arg>[^}]*))?\}")


def interpolate(value: str, given: dict[str, str]) -> str:
    """Resolve ${NAME}, ${NAME:-default} and ${NAME:?error} as Compose does."""

    def replace(match: re.Match[str]) -> str:
        name, op, arg = match["name"], match["op"], match["arg"]
        if given.get(name):
            return given[name]
        if op in (":-", "-"):
            return arg
        raise LookupError(f"{name}: {arg or 'required'}")

    return _INTERPOLATION.sub(replace, value)


@pytest.fixture(scope="module")
def compose() -> dict[str, Any]:
    return yaml.safe_load(COMPOSE_FILE.read_text())


@pytest.fixture(scope="module")
def services(compose: dict[str, Any]) -> dict[str, dict[str, Any]]:
    return compose["services"]


@pytest.fixture(scope="module")
def app_env(services: dict[str, dict[str, Any]]) -> dict[str, str]:
    """The shared environment as Compose would pass it, with a real key."""
    raw = services["web"]["environment"]
    return {
        name: interpolate(str(value), OPERATOR_VALUES) for name, value in raw.items()
    }


def settings_env_reads() -> dict[str, bool]:
    """Every env(...) name in settings.py, and whether the call has a default."""
    reads: dict[str, bool] = {}
    for node in ast.walk(ast.parse(SETTINGS_FILE.read_text())):
        if not isinstance(node, ast.Call) or not node.args:
            continue
        func = node.func
        is_env = (isinstance(func, ast.Name) and func.id == "env") or (
            isinstance(func, ast.Attribute)
            and isinstance(func.value, ast.Name)
            and func.value.id == "env"
        )
        first = node.args[0]
        if is_env and isinstance(first, ast.Constant) and isinstance(first.value, str):
            has_default = any(keyword.arg == "default" for keyword in node.keywords)
            reads[first.value] = reads.get(first.value, True) and has_default
    return reads


def command_of(service: dict[str, Any]) -> list[str]:
    command = service["command"]
    return command.split() if isinstance(command, str) else [str(a) for a in command]


def run_python(
    args: list[str], env: dict[str, str], tmp_path: Path
) -> subprocess.CompletedProcess[str]:
    """Run Python in a fresh process that sees only the given environment."""
    base = {"PATH": "/usr/bin:/bin", "HEARTH_VAR_DIR": str(tmp_path / "var")}
    return subprocess.run(
        [sys.executable, *args],
        cwd=ROOT,
        env={**base, **env},
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )


# --- The file itself ---------------------------------------------------------


def test_compose_file_matches_the_compose_spec() -> None:
    check_jsonschema = Path(sys.executable).parent / "check-jsonschema"
    result = subprocess.run(
        [
            str(check_jsonschema),
            "--builtin-schema",
            "vendor.compose-spec",
            str(COMPOSE_FILE),
        ],
        capture_output=True,
        text=True,
        check=False,
    )
    assert result.returncode == 0, result.stdout + result.stderr


def test_every_dependency_and_volume_exists(compose: dict[str, Any]) -> None:
    services = compose["services"]
    declared_volumes = set(compose.get("volumes") or {})
    for name, service in services.items():
        depends_on = service.get("depends_on") or {}
        for target in depends_on:
            assert target in services, f"{name} depends on missing {target}"
            condition = (
                depends_on[target].get("condition")
                if isinstance(depends_on, dict)
                else None
            )
            # Compose refuses to wait for health that is never reported.
            if condition == "service_healthy":
                assert "healthcheck" in services[target], f"{name} -> {target}"
        for volume in service.get("volumes") or []:
            source = volume.split(":", 1)[0]
            if not source.startswith((".", "/")):
                assert source in declared_volumes, f"{name} mounts {source}"


def test_web_waits_for_migrations_and_redis(services: dict[str, Any]) -> None:
    web = services["web"]["depends_on"]
    assert web["migrate"]["condition"] == "service_completed_successfully"
    assert web["redis"]["condition"] == "service_healthy"
    assert services["migrate"]["depends_on"]["postgres"]["condition"] == (
        "service_healthy"
    )
    assert services["migrate"]["restart"] == "no"


def test_app_services_share_one_environment(services: dict[str, Any]) -> None:
    environments = [services[name]["environment"] for name in APP_SERVICES]
    assert all(env == environments[0] for env in environments)


def test_environment_uses_only_names_settings_reads(app_env: dict[str, str]) -> None:
    reads = settings_env_reads()
    # The parser found the reads it should: otherwise this test proves nothing.
    assert {"DEBUG", "SECRET_KEY", "DATABASE_URL", "REDIS_URL"} <= set(reads)
    unknown = set(app_env) - set(reads)
    assert not unknown, f"settings.py never reads {sorted(unknown)}"


def test_environment_sets_everything_production_requires(
    services: dict[str, Any], app_env: dict[str, str]
) -> None:
    reads = settings_env_reads()
    without_default = {name for name, has_default in reads.items() if not has_default}
    # SECRET_KEY's default is empty once DEBUG is off.
    required = without_default | {"SECRET_KEY"}
    assert required <= set(app_env)
    assert app_env["DEBUG"] == "false"
    # Compose itself refuses to start without a key: no weak default ships.
    with pytest.raises(LookupError, match="SECRET_KEY"):
        interpolate(services["web"]["environment"]["SECRET_KEY"], {})


def test_web_command_serves_the_asgi_app_on_the_probed_port(
    services: dict[str, Any],
) -> None:
    web = services["web"]
    argv = command_of(web)
    assert argv[0] == "uvicorn"
    params = uvicorn_cli.make_context("uvicorn", argv[1:]).params

    module_name, attr = params["app"].split(":")
    module = __import__(module_name, fromlist=[attr])
    assert callable(getattr(module, attr))
    assert params["proxy_headers"] is True
    assert params["ws"] == "websockets"
    assert params["workers"] >= 2
    assert params["host"] == "0.0.0.0"

    probe = web["healthcheck"]["test"][-1]
    assert f"http://127.0.0.1:{params['port']}/healthz" in probe
    compile(probe, "web healthcheck", "exec")
    published = [str(port).rsplit(":", 1)[-1] for port in web.get("ports", [])]
    assert published == [str(params["port"])]


@pytest.mark.parametrize("name", ["worker", "beat"])
def test_celery_commands_load_the_app_and_parse(
    services: dict[str, Any], name: str
) -> None:
    argv = command_of(services[name])
    assert argv[:2] == ["celery", "-A"]
    app = find_app(argv[2])
    assert isinstance(app, Celery)
    assert app.main == "hearth"

    parent = click.Context(
        celery_cli,
        info_name="celery",
        obj=CLIContext(app=app, no_color=True, workdir=None, quiet=True),
    )
    subcommand = celery_cli.get_command(parent, argv[3])
    assert argv[3] == name
    assert subcommand is not None
    subcommand.make_context(argv[3], argv[4:], parent=parent)


def test_migrate_command_is_a_django_command(services: dict[str, Any]) -> None:
    argv = command_of(services["migrate"])
    assert argv[:3] == ["python", "manage.py", "migrate"]
    assert (ROOT / "manage.py").exists()
    command = load_command_class(get_commands()["migrate"], "migrate")
    options = command.create_parser("manage.py", "migrate").parse_args(argv[3:])
    assert options.interactive is False


def test_exactly_one_beat(services: dict[str, Any]) -> None:
    beats = [
        name
        for name, service in services.items()
        if "command" in service
        and command_of(service)[:1] == ["celery"]
        and (
            "beat" in command_of(service) or {"-B", "--beat"} & set(command_of(service))
        )
    ]
    assert beats == ["beat"]
    assert services["beat"].get("deploy", {}).get("replicas", 1) == 1
    assert "scale" not in services["beat"]


def test_postgres_and_redis_are_healthchecked_and_durable(
    services: dict[str, Any],
) -> None:
    postgres, redis = services["postgres"], services["redis"]
    assert postgres["image"] == "postgres:16"
    assert "pg_isready" in " ".join(postgres["healthcheck"]["test"])
    assert any(v.endswith(":/var/lib/postgresql/data") for v in postgres["volumes"])

    assert redis["image"] == "redis:7"
    assert redis["healthcheck"]["test"][-2:] == ["redis-cli", "ping"]
    argv = command_of(redis)
    options = dict(zip(argv[1::2], argv[2::2], strict=True))
    assert options["--appendonly"] == "yes"
    assert options["--maxmemory-policy"] == "noeviction"
    assert any(v.endswith(":/data") for v in redis["volumes"])


# --- Settings as the containers would load them ------------------------------

PROBE_SETTINGS = """
import json
import django
django.setup()
from django.conf import settings
from config.celery import app
print(json.dumps({
    "debug": settings.DEBUG,
    "database": settings.DATABASES["default"]["ENGINE"],
    "database_host": settings.DATABASES["default"]["HOST"],
    "cache": settings.CACHES["default"]["BACKEND"],
    "channel_layer": settings.CHANNEL_LAYERS["default"]["BACKEND"],
    "broker": app.conf.broker_url,
    "mailer": settings.MAILERS["default"]["BACKEND"],
    "csrf_trusted": settings.CSRF_TRUSTED_ORIGINS,
}))
"""


def _django_env(env: dict[str, str]) -> dict[str, str]:
    return {**env, "DJANGO_SETTINGS_MODULE": "config.settings"}


def test_compose_environment_loads_postgres_and_redis(
    app_env: dict[str, str], tmp_path: Path
) -> None:
    result = run_python(["-c", PROBE_SETTINGS], _django_env(app_env), tmp_path)
    assert result.returncode == 0, result.stderr
    loaded = json.loads(result.stdout.strip().splitlines()[-1])

    assert loaded["debug"] is False
    assert loaded["database"] == "django.db.backends.postgresql"
    assert loaded["database_host"] == "postgres"
    assert loaded["cache"] == "config.cache.RedisCache"
    assert loaded["channel_layer"] == "channels_redis.core.RedisChannelLayer"
    assert loaded["broker"].startswith("redis://redis:6379/")
    assert loaded["mailer"].endswith("smtp.EmailBackend")
    assert all(origin.startswith("https://") for origin in loaded["csrf_trusted"])


def test_settings_refuse_to_start_without_the_secret_key(
    app_env: dict[str, str], tmp_path: Path
) -> None:
    env = {k: v for k, v in app_env.items() if k != "SECRET_KEY"}
    result = run_python(["-c", PROBE_SETTINGS], _django_env(env), tmp_path)
    assert result.returncode != 0
    assert "SECRET_KEY must be set" in result.stderr


def _deploy_check(env: dict[str, str], tmp_path: Path) -> tuple[int, set[str], str]:
    result = run_python(
        ["manage.py", "check", "--deploy", "--fail-level", "WARNING"],
        _django_env(env),
        tmp_path,
    )
    output = result.stdout + result.stderr
    return result.returncode, set(re.findall(r"\(([\w.]+\.[EW]\d+)\)", output)), output


def test_deploy_checks_pass_when_django_redirects_to_https(
    app_env: dict[str, str], tmp_path: Path
) -> None:
    assert app_env["SITE_URL"].startswith("https://")
    env = {**app_env, "SECURE_SSL_REDIRECT": "true"}
    returncode, issues, output = _deploy_check(env, tmp_path)
    assert returncode == 0, output
    assert not issues


def test_deploy_checks_with_the_compose_defaults_flag_only_the_proxy_redirect(
    app_env: dict[str, str], tmp_path: Path
) -> None:
    # Compose leaves the http->https redirect to the TLS proxy; Django's
    # security.W008 cannot know that. Anything else is a real finding.
    assert app_env["SECURE_SSL_REDIRECT"] == "false"
    returncode, issues, output = _deploy_check(app_env, tmp_path)
    assert issues <= {"security.W008"}, output
    assert returncode == 0 or issues == {"security.W008"}, output


# --- The web healthcheck against a real uvicorn ------------------------------


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def test_web_healthcheck_passes_against_the_web_command(
    services: dict[str, Any], tmp_path: Path
) -> None:
    """Run web's command (on a free port) with production settings on the
    embedded services, then its healthcheck: it must exit 0."""
    port = str(_free_port())
    argv = command_of(services["web"])
    argv[argv.index("--port") + 1] = port
    argv[argv.index("--workers") + 1] = "1"
    env = {
        "DEBUG": "false",
        "SECRET_KEY": OPERATOR_VALUES["SECRET_KEY"],
        "ALLOWED_HOSTS": "hearth.example.org",
        "SITE_URL": "https://hearth.example.org",
        "SECURE_SSL_REDIRECT": "true",
        "DJANGO_SETTINGS_MODULE": "config.settings",
        "HEARTH_VAR_DIR": str(tmp_path / "var"),
        "PATH": "/usr/bin:/bin",
    }
    uvicorn = Path(sys.executable).parent / "uvicorn"
    server = subprocess.Popen(
        [str(uvicorn), *argv[1:]],
        cwd=ROOT,
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            with socket.socket() as probe:
                if probe.connect_ex(("127.0.0.1", int(port))) == 0:
                    break
            assert server.poll() is None, server.stderr.read() if server.stderr else ""
            time.sleep(0.2)
        probe_code = services["web"]["healthcheck"]["test"][-1].replace(
            "127.0.0.1:8000", f"127.0.0.1:{port}"
        )
        result = subprocess.run(
            [sys.executable, "-c", probe_code],
            env=env,
            capture_output=True,
            text=True,
            timeout=30,
            check=False,
        )
        assert result.returncode == 0, result.stderr

        # Without the forwarded scheme the same request is redirected to
        # https: the header in the probe is what lets it through.
        plain = http.client.HTTPConnection("127.0.0.1", int(port), timeout=10)
        plain.request("GET", "/healthz", headers={"Host": "hearth.example.org"})
        assert plain.getresponse().status == 301
        plain.close()
    finally:
        server.terminate()
        server.wait(timeout=10)
