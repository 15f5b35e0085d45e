"""The health endpoint, against real dependencies that are up or really down."""

from __future__ import annotations

import socket
import time
from collections.abc import Callable, Iterator

import pytest
from django.conf import settings as django_settings
from django.test import Client
from pytest_django.fixtures import Settings

from config.celery import app as celery_app

pytestmark = pytest.mark.django_db

CHECK_NAMES = {"database", "cache", "channel_layer", "broker"}
# Nothing listens on port 1: connections are refused at once.
REFUSED = "redis://127.0.0.1:1"


@pytest.fixture
def use_broker() -> Iterator[Callable[[str], None]]:
    """Point the Celery app at another broker for one test.

    Celery copies its configuration from Django settings once, so overriding
    CELERY_BROKER_URL in settings would not reach the app: set it on the app.
    """
    original = celery_app.conf.broker_url

    def use(url: str) -> None:
        celery_app.conf.broker_url = url

    yield use
    celery_app.conf.broker_url = original


@pytest.fixture
def silent_server() -> Iterator[int]:
    """A TCP port that accepts connections and never answers."""
    with socket.socket() as listener:
        listener.bind(("127.0.0.1", 0))
        listener.listen(16)
        yield listener.getsockname()[1]


def _get(client: Client) -> tuple[int, dict]:
    response = client.get("/healthz")
    assert response["Content-Type"] == "application/json"
    assert response["Cache-Control"] == "no-store"
    return response.status_code, response.json()


def test_all_checks_pass_on_the_configured_services(client: Client) -> None:
    status, body = _get(client)

    assert status == 200
    assert body["status"] == "ok"
    assert set(body["checks"]) == CHECK_NAMES
    for name, result in body["checks"].items():
        assert result["ok"] is True, name
        assert isinstance(result["ms"], float)
        assert "error" not in result


def test_head_is_answered_for_load_balancers(client: Client) -> None:
    assert client.head("/healthz").status_code == 200
    assert client.post("/healthz").status_code == 405


def test_unreachable_broker_fails_alone_with_503(
    client: Client, use_broker: Callable[[str], None]
) -> None:
    use_broker(f"{REFUSED}/0")

    status, body = _get(client)

    assert status == 503
    assert body["status"] == "fail"
    assert body["checks"]["broker"]["ok"] is False
    assert body["checks"]["broker"]["error"] == "OperationalError"
    for name in CHECK_NAMES - {"broker"}:
        assert body["checks"][name]["ok"] is True, name


def test_unreachable_cache_fails_alone_with_503(
    client: Client, settings: Settings
) -> None:
    settings.CACHES = {
        "default": {
            "BACKEND": "config.cache.RedisCache",
            "LOCATION": f"{REFUSED}/1",
        }
    }

    status, body = _get(client)

    assert status == 503
    assert body["checks"]["cache"] == {
        "ok": False,
        "ms": body["checks"]["cache"]["ms"],
        "error": "ConnectionError",
    }
    for name in CHECK_NAMES - {"cache"}:
        assert body["checks"][name]["ok"] is True, name


def test_unreachable_channel_layer_fails_alone_with_503(
    client: Client,
    settings: Settings,
) -> None:
    settings.CHANNEL_LAYERS = {
        "default": {
            "BACKEND": "channels_redis.core.RedisChannelLayer",
            "CONFIG": {"hosts": [f"{REFUSED}/2"]},
        }
    }

    status, body = _get(client)

    assert status == 503
    assert body["checks"]["channel_layer"]["ok"] is False
    assert body["checks"]["channel_layer"]["error"] == "ConnectionError"
    for name in CHECK_NAMES - {"channel_layer"}:
        assert body["checks"][name]["ok"] is True, name


def test_silent_servers_time_out_instead_of_hanging_the_probe(
    client: Client,
    settings: Settings,
    silent_server: int,
    use_broker: Callable[[str], None],
) -> None:
    silent = f"redis://127.0.0.1:{silent_server}"
    settings.CHANNEL_LAYERS = {
        "default": {
            "BACKEND": "channels_redis.core.RedisChannelLayer",
            "CONFIG": {"hosts": [f"{silent}/2"]},
        }
    }
    use_broker(f"{silent}/0")

    started = time.monotonic()
    status, body = _get(client)
    elapsed = time.monotonic() - started

    assert status == 503
    assert body["checks"]["channel_layer"]["error"] == "TimeoutError"
    assert body["checks"]["broker"]["ok"] is False
    assert body["checks"]["database"]["ok"] is True
    assert body["checks"]["cache"]["ok"] is True
    # Two checks of about 2 s each, not a hung request.
    assert elapsed < 10


def test_failures_never_reveal_hosts_or_passwords(
    client: Client, use_broker: Callable[[str], None]
) -> None:
    use_broker("redis://:hunter2-secret@127.0.0.1:1/0")

    response = client.get("/healthz")

    assert response.status_code == 503
    text = response.content.decode()
    assert "hunter2" not in text
    assert "127.0.0.1" not in text
    assert "redis" not in text.lower()


@pytest.mark.redis
def test_all_checks_pass_against_real_redis(client: Client) -> None:
    # The integration pass sets REDIS_URL: every Redis-backed service is real.
    assert "RedisCache" in django_settings.CACHES["default"]["BACKEND"]
    assert django_settings.CHANNEL_LAYERS["default"]["BACKEND"] == (
        "channels_redis.core.RedisChannelLayer"
    )
    assert celery_app.conf.broker_url.startswith("redis://")

    status, body = _get(client)

    assert status == 200, body
    assert all(result["ok"] for result in body["checks"].values()), body
    assert set(body["checks"]) == CHECK_NAMES
