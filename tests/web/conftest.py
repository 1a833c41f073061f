"""Browser fixtures: the built web app, vpbx on a free port (services on a temp SQLite file, demo tenant
and demo sign-ins seeded), and Debian's Chromium driven by Playwright through its executable path."""

from __future__ import annotations

import fcntl
import re
import subprocess
import tempfile
import threading
from collections.abc import Iterator
from pathlib import Path

import pytest
from argon2 import PasswordHasher

from chalicelib import users
from chalicelib.bootstrap import Services, bootstrap, set_services
from chalicelib.demo import seed_demo
from chalicelib.demo.users import seed_demo_users
from chalicelib.server import make_server
from chalicelib.settings import Settings
from chalicelib.stores.sqlite import SQLiteEventStore
from tests.conftest import TOKEN, free_port

ROOT = Path(__file__).resolve().parents[2]
ARTIFACTS = ROOT / "test-artifacts"
PASSWORD = "browser-password"
CHROMIUM = "/usr/bin/chromium"
ARGS = ["--headless=new", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
        "--disable-component-update", "--disable-sync", "--no-first-run"]


@pytest.fixture(scope="session")
def built_web() -> Path:
    """web/dist, (re)built by infra/build-web.sh (a no-op when the sources are unchanged); locked for xdist."""
    with open(Path(tempfile.gettempdir()) / "vpbx-web-build.lock", "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        subprocess.run(["bash", str(ROOT / "infra" / "build-web.sh")], check=True, capture_output=True, timeout=300)
    return ROOT / "web" / "dist"


class Server:
    def __init__(self, services: Services, port: int) -> None:
        self.services = services
        self.url = f"http://127.0.0.1:{port}"
        self.httpd = make_server("127.0.0.1", port)
        self.thread = threading.Thread(target=self.httpd.serve_forever, daemon=True)

    def start(self) -> None:
        self.thread.start()

    def stop(self) -> None:
        self.httpd.shutdown()
        self.httpd.server.server_close()


@pytest.fixture(scope="module")
def vpbx(built_web: Path, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Server]:
    tmp = tmp_path_factory.mktemp("vpbx-web")
    port = free_port()
    settings = Settings(public_url=f"http://127.0.0.1:{port}", store="sqlite", sqlite_path=str(tmp / "vpbx.sqlite"),
                        demo_auth_token=TOKEN, blob_dir=str(tmp / "blobs"))
    services = bootstrap(settings, SQLiteEventStore(settings.sqlite_path))
    seed_demo(services.tenants, TOKEN)
    users.set_hasher(PasswordHasher(time_cost=1, memory_cost=1024, parallelism=1))
    seed_demo_users(services, PASSWORD)
    set_services(services)
    server = Server(services, port)
    server.start()
    yield server
    server.stop()
    set_services(None)
    users.set_hasher(PasswordHasher())


@pytest.fixture(autouse=True)
def _serve_these_services(request: pytest.FixtureRequest) -> None:
    """Other tests in this worker may have swapped the process-wide services; put ours back."""
    if "vpbx" in request.fixturenames:
        set_services(request.getfixturevalue("vpbx").services)


@pytest.fixture(scope="session")
def browser() -> Iterator[object]:
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        b = p.chromium.launch(executable_path=CHROMIUM, args=ARGS)
        yield b
        b.close()


@pytest.fixture
def page(browser: object, vpbx: Server) -> Iterator[object]:
    context = browser.new_context(viewport={"width": 1280, "height": 800}, base_url=vpbx.url)  # type: ignore[attr-defined]
    pg = context.new_page()
    # Generous: on the 2-core CI machine Chromium, the server and the other test worker share the CPU, and
    # 8 s was seen to run out twice in a day (a wait that fails still fails, only later). The same for
    # expect()'s assertions, which keep their own timeout (5 s by default).
    pg.set_default_timeout(20_000)
    from playwright.sync_api import expect

    expect.set_options(timeout=20_000)
    yield pg
    context.close()


def sign_in(page: object, vpbx: Server, email: str) -> None:
    page.goto(vpbx.url + "/app/")  # type: ignore[attr-defined]
    page.get_by_label("E-mail").fill(email)  # type: ignore[attr-defined]
    page.get_by_label("Password").fill(PASSWORD)  # type: ignore[attr-defined]
    page.get_by_role("button", name="Sign in").click()  # type: ignore[attr-defined]
    page.get_by_test_id("who").wait_for(state="attached")  # type: ignore[attr-defined]
    # The app then sends "#/" on to the role's home page; a test that navigated before that
    # redirect ran would be sent back to the home page, so wait until it has happened.
    page.wait_for_url(re.compile(r"#/[a-z]"))  # type: ignore[attr-defined]


def shot(page: object, name: str) -> None:
    ARTIFACTS.mkdir(exist_ok=True)
    page.screenshot(path=str(ARTIFACTS / f"{name}.png"), full_page=True)  # type: ignore[attr-defined]


@pytest.fixture(scope="module")
def recording_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """A stand-in for the gateway's recording storage: serves a 2 s 440 Hz WAV over HTTP on a free port."""
    import functools
    import http.server
    import math
    import struct
    import wave

    root = tmp_path_factory.mktemp("recordings")
    with wave.open(str(root / "message.wav"), "wb") as w:
        w.setnchannels(1)
        w.setsampwidth(2)
        w.setframerate(8000)
        w.writeframes(b"".join(struct.pack("<h", int(8000 * math.sin(2 * math.pi * 440 * i / 8000)))
                               for i in range(16000)))
    handler = functools.partial(http.server.SimpleHTTPRequestHandler, directory=str(root))
    httpd = http.server.ThreadingHTTPServer(("127.0.0.1", free_port()), handler)
    threading.Thread(target=httpd.serve_forever, daemon=True).start()
    yield f"http://127.0.0.1:{httpd.server_address[1]}/message.wav"
    httpd.shutdown()
    httpd.server_close()
