"""The real platform for browser tests: web (daphne) and a Celery worker.

Everything runs in subprocesses against a fresh var dir, the way `make run`
and production run it: its own SQLite file, file outbox, cache and
filesystem broker. The test process never touches a database; it talks to
the platform over HTTP and reads the outbox files.
"""

from __future__ import annotations

import email
import email.policy
import os
import re
import signal
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from email.message import EmailMessage
from pathlib import Path

import pytest
from playwright.sync_api import Browser, BrowserContext, Page, sync_playwright

ROOT = Path(__file__).resolve().parents[2]
BIN = Path(sys.executable).parent
ARTIFACTS = ROOT / "test-artifacts" / "e2e"
CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--disable-quic",
    "--no-first-run",
]
# Settings that would move the platform off its var dir onto other services.
SERVICE_URLS = (
    "DATABASE_URL",
    "REDIS_URL",
    "CACHE_URL",
    "CHANNELS_URL",
    "CELERY_BROKER_URL",
    "EMAIL_URL",
    "CELERY_TASK_ALWAYS_EAGER",
)
STARTUP_TIMEOUT = 60.0


def poll(
    check: Callable[[], object], *, timeout: float, interval: float = 0.2
) -> object:
    """Call `check` until it returns something truthy, or fail at the deadline."""
    deadline = time.monotonic() + timeout
    while True:
        result = check()
        if result:
            return result
        if time.monotonic() >= deadline:
            return None
        time.sleep(interval)


def _free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def _tail(path: Path, lines: int = 40) -> str:
    if not path.exists():
        return f"({path.name} is empty)"
    return "\n".join(path.read_text(errors="replace").splitlines()[-lines:])


@dataclass
class Outbox:
    """The platform's file outbox: one .eml file per message."""

    directory: Path

    def messages(self) -> list[EmailMessage]:
        """Every message, newest first (file names start with a timestamp)."""
        if not self.directory.exists():
            return []
        found = []
        for path in sorted(self.directory.glob("*.eml"), reverse=True):
            with path.open("rb") as handle:
                message = email.message_from_binary_file(
                    handle, policy=email.policy.default
                )
            found.append(message)  # type: ignore[arg-type]
        return found

    def find(self, *, to: str, subject: str = "") -> EmailMessage | None:
        """The newest message to `to` whose subject contains `subject`."""
        for message in self.messages():
            if to in str(message["To"]) and subject in str(message["Subject"]):
                return message
        return None

    def wait_for(
        self, *, to: str, subject: str = "", timeout: float = 20.0
    ) -> EmailMessage:
        found = poll(lambda: self.find(to=to, subject=subject), timeout=timeout)
        if found is None:
            seen = [(str(m["To"]), str(m["Subject"])) for m in self.messages()]
            pytest.fail(
                f"No email to {to!r} with {subject!r} in its subject within "
                f"{timeout:.0f} s. The outbox has: {seen}"
            )
        return found  # type: ignore[return-value]


def body_text(message: EmailMessage) -> str:
    part = message.get_body(preferencelist=("plain",))
    assert part is not None, "the email has no text/plain part"
    return str(part.get_content())  # type: ignore[attr-defined]


@dataclass
class HearthServer:
    base_url: str
    var_dir: Path
    logs: dict[str, Path] = field(default_factory=dict)

    @property
    def outbox(self) -> Outbox:
        return Outbox(self.var_dir / "outbox")

    def url(self, path: str) -> str:
        return f"{self.base_url}{path}"

    def log_tails(self) -> str:
        return "\n".join(
            f"--- {name} ({path}) ---\n{_tail(path)}"
            for name, path in self.logs.items()
        )


def _server_env(var_dir: Path, base_url: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if k not in SERVICE_URLS}
    env.update(
        HEARTH_VAR_DIR=str(var_dir),
        SITE_URL=base_url,
        TRUSTED_ORIGINS=base_url,
        ALLOWED_HOSTS="127.0.0.1,localhost",
        DJANGO_SETTINGS_MODULE="config.settings",
        PYTHONPATH=str(ROOT),
        PYTHONUNBUFFERED="1",
        LOG_LEVEL="INFO",
    )
    return env


def _run_step(args: list[str], env: dict[str, str], log: Path) -> None:
    with log.open("ab") as out:
        done = subprocess.run(
            args, cwd=ROOT, env=env, stdout=out, stderr=subprocess.STDOUT, timeout=180
        )
    if done.returncode != 0:
        pytest.fail(f"{' '.join(args)} failed ({done.returncode}):\n{_tail(log)}")


def _healthy(url: str) -> bool:
    try:
        with urllib.request.urlopen(url, timeout=5) as response:
            return bool(response.status == 200)
    except (urllib.error.URLError, OSError):
        return False


def _stop(processes: list[subprocess.Popen[bytes]]) -> None:
    """Stop the processes this fixture started, by their ids: TERM, then KILL."""
    for process in processes:
        if process.poll() is None:
            os.killpg(process.pid, signal.SIGTERM)
    for process in processes:
        try:
            process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            os.killpg(process.pid, signal.SIGKILL)
            process.wait(timeout=10)


@pytest.fixture(scope="session")
def hearth_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[HearthServer]:
    """Migrate and load demo data into a fresh var dir, then run web + worker."""
    var_dir = tmp_path_factory.mktemp("hearth-var")
    port = _free_port()
    base_url = f"http://127.0.0.1:{port}"
    env = _server_env(var_dir, base_url)
    logs_dir = var_dir / "logs"
    logs_dir.mkdir()
    server = HearthServer(
        base_url=base_url,
        var_dir=var_dir,
        logs={name: logs_dir / f"{name}.log" for name in ("setup", "web", "worker")},
    )
    python = str(BIN / "python")
    _run_step(
        [python, "manage.py", "migrate", "--noinput", "-v0"], env, server.logs["setup"]
    )
    _run_step([python, "manage.py", "demo_data"], env, server.logs["setup"])

    commands = {
        "web": [
            str(BIN / "daphne"),
            "-b",
            "127.0.0.1",
            "-p",
            str(port),
            "config.asgi:application",
        ],
        "worker": [
            str(BIN / "celery"),
            "-A",
            "config",
            "worker",
            "--pool=solo",
            "--loglevel=INFO",
            "--hostname=e2e@%h",
            "--without-heartbeat",
            "--without-mingle",
            "--without-gossip",
        ],
    }
    processes: list[subprocess.Popen[bytes]] = []
    handles = []
    try:
        for name, args in commands.items():
            handle = server.logs[name].open("ab")
            handles.append(handle)
            processes.append(
                subprocess.Popen(
                    args,
                    cwd=ROOT,
                    env=env,
                    stdout=handle,
                    stderr=subprocess.STDOUT,
                    # Its own process group: stopped as one at teardown, and
                    # a Ctrl-C in pytest does not reach it half-way.
                    start_new_session=True,
                )
            )

        def ready() -> bool:
            for process in processes:
                if process.poll() is not None:
                    pytest.fail(
                        f"{process.args[0]} exited ({process.returncode}):\n"
                        f"{server.log_tails()}"
                    )
            worker_up = "ready." in server.logs["worker"].read_text(errors="replace")
            return worker_up and _healthy(server.url("/healthz"))

        if not poll(ready, timeout=STARTUP_TIMEOUT, interval=0.3):
            pytest.fail(
                f"Hearth was not healthy within {STARTUP_TIMEOUT:.0f} s:\n"
                f"{server.log_tails()}"
            )
        yield server
    finally:
        _stop(processes)
        for handle in handles:
            handle.close()
        # Keep the logs next to the screenshots for whoever reads a failure.
        ARTIFACTS.mkdir(parents=True, exist_ok=True)
        for name, path in server.logs.items():
            if path.exists():
                (ARTIFACTS / f"{name}.log").write_bytes(path.read_bytes())


@pytest.fixture(scope="session")
def browser() -> Iterator[Browser]:
    with sync_playwright() as playwright:
        launched = playwright.chromium.launch(
            executable_path=CHROMIUM, args=CHROMIUM_ARGS
        )
        try:
            yield launched
        finally:
            launched.close()


@dataclass
class Shots:
    """Numbered screenshots of a test's steps under test-artifacts/e2e/<test>/."""

    directory: Path
    count: int = 0

    def __call__(self, page: Page, step: str) -> None:
        self.count += 1
        name = re.sub(r"[^a-z0-9]+", "-", step.lower()).strip("-")
        page.screenshot(
            path=str(self.directory / f"{self.count:02d}-{name}.png"), full_page=True
        )


@pytest.fixture
def shots(request: pytest.FixtureRequest) -> Shots:
    name = re.sub(r"[^A-Za-z0-9_.-]+", "-", request.node.name)
    directory = ARTIFACTS / name
    directory.mkdir(parents=True, exist_ok=True)
    for old in directory.glob("*.png"):
        old.unlink()
    return Shots(directory)


class ServerError(AssertionError):
    """The platform answered a browser request with a 5xx."""


@dataclass
class ServerErrors:
    """Every 5xx answer a browser context received."""

    seen: list[str] = field(default_factory=list)

    def check(self) -> None:
        if self.seen:
            raise ServerError(f"the server failed: {self.seen}")

    def watch(self, context: BrowserContext) -> BrowserContext:
        context.on(
            "response",
            lambda response: (
                self.seen.append(
                    f"{response.status} {response.request.method} {response.url}"
                )
                if response.status >= 500
                else None
            ),
        )
        return context


@pytest.fixture
def server_errors() -> ServerErrors:
    return ServerErrors()


@pytest.fixture
def new_context(
    browser: Browser, hearth_server: HearthServer, server_errors: ServerErrors
) -> Iterator[Callable[..., BrowserContext]]:
    """Open isolated browser contexts (separate cookies) on the platform."""
    opened: list[BrowserContext] = []

    def open_context(**options: object) -> BrowserContext:
        context = browser.new_context(
            base_url=hearth_server.base_url,
            accept_downloads=True,
            locale="en-GB",
            **options,  # type: ignore[arg-type]
        )
        context.set_default_timeout(15_000)
        opened.append(context)
        return server_errors.watch(context)

    yield open_context
    for context in opened:
        context.close()


def log_in(page: Page, email_address: str, password: str) -> None:
    page.goto("/accounts/login/")
    page.get_by_label("Email").fill(email_address)
    page.get_by_label(re.compile(r"^Password:?$")).fill(password)
    page.get_by_role("button", name=re.compile("sign in", re.IGNORECASE)).click()
    page.wait_for_url(lambda url: "/accounts/login" not in url)
