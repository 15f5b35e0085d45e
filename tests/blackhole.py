"""An SMTP server that never answers: it accepts TCP connections on
loopback and then says nothing, like a mail relay that has hung. Email
code pointed at it must give up at its timeout and never hold anyone else
up."""

from __future__ import annotations

import contextlib
import socket
import threading
from collections.abc import Iterator
from typing import Any

import pytest

# Short, so tests that wait for a failed attempt stay quick.
SMTP_TIMEOUT = 0.5


class BlackHole:
    def __init__(self) -> None:
        self.listener = socket.create_server(("127.0.0.1", 0))
        self.port = int(self.listener.getsockname()[1])
        self.accepted = threading.Event()
        self.connections: list[socket.socket] = []
        self._thread = threading.Thread(target=self._serve, daemon=True)
        self._thread.start()

    def _serve(self) -> None:
        while True:
            try:
                conn, _ = self.listener.accept()
            except OSError:  # closed at teardown
                return
            self.connections.append(conn)  # kept open, never written to
            self.accepted.set()

    def mailer(self) -> dict[str, Any]:
        return {
            "BACKEND": "django.core.mail.backends.smtp.EmailBackend",
            "OPTIONS": {
                "host": "127.0.0.1",
                "port": self.port,
                "timeout": SMTP_TIMEOUT,
            },
        }

    def close(self) -> None:
        with contextlib.suppress(OSError):
            self.listener.shutdown(socket.SHUT_RDWR)  # wakes accept()
        self.listener.close()
        for conn in self.connections:
            conn.close()
        self._thread.join(timeout=2)


@pytest.fixture
def smtp_blackhole(settings: Any) -> Iterator[BlackHole]:
    """Every email from now on goes to a black-hole SMTP server."""
    hole = BlackHole()
    settings.MAILERS = {"default": hole.mailer()}
    yield hole
    hole.close()
