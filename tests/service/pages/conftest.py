"""A real service on 127.0.0.1 and a real Chromium (the Debian package, driven by Playwright).

The browser runs under the pages' own ``Content-Security-Policy`` (and under
``default-src 'self'`` for any response that came without one), records every request the
page makes, refuses any that leaves the service's origin, and each test fails
when one did, when a policy violation or a script error was reported, or when
one of the page's own files did not load.
"""

from __future__ import annotations

import os
import socket
import threading
import time
from pathlib import Path

import pytest

from mednet.places import data_dir

CHROMIUM = Path(os.environ.get("MEDNET_CHROMIUM", "/usr/bin/chromium"))
CHROMIUM_ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--no-first-run", "--disable-background-networking",
                 "--disable-component-update", "--disable-sync"]
CSP = "default-src 'self'"
ARTIFACTS = Path(__file__).resolve().parents[3] / "artifacts"
DESKTOP = {"width": 1280, "height": 800}
PHONE = {"width": 390, "height": 844}


@pytest.fixture(scope="session")
def live_service(live_app):
    """The service's origin (``http://127.0.0.1:PORT``)."""
    return live_app[0]


@pytest.fixture(scope="session")
def live_app(tmp_path_factory):
    """The service, started in a thread on a free port with a ledger of its own; yields its origin and app."""
    import uvicorn

    from service.app import create_app
    from service.config import Settings

    sock = socket.socket()
    sock.bind(("127.0.0.1", 0))
    port = sock.getsockname()[1]
    app = create_app(Settings(regions_dir=data_dir() / "regions", data_dir=tmp_path_factory.mktemp("live-ledger")))
    server = uvicorn.Server(uvicorn.Config(app, log_level="warning", lifespan="on"))
    thread = threading.Thread(target=server.run, kwargs={"sockets": [sock]}, daemon=True)
    thread.start()
    deadline = time.monotonic() + 120
    while not server.started:
        if not thread.is_alive() or time.monotonic() > deadline:
            raise RuntimeError("the service did not start")
        time.sleep(0.05)
    app.state.loader.thread.join(timeout=120)  # the regions load in the background: wait until they are ready
    yield f"http://127.0.0.1:{port}", app
    server.should_exit = True
    thread.join(timeout=10)
    sock.close()


@pytest.fixture(scope="module")
def chromium():
    """Chromium from the system, launched once per test module: Playwright's synchronous API runs an event loop
    in the main thread while it is open, which later tests calling ``asyncio.run`` must not find running."""
    if not CHROMIUM.exists():
        pytest.skip(f"needs-system: Chromium at {CHROMIUM} (Debian: apt-get install chromium chromium-driver)")
    sync_api = pytest.importorskip("playwright.sync_api", reason="Playwright for Python (the `test` extra)")
    with sync_api.sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
        yield browser
        browser.close()


class Watched:
    """A page with what it did: every request, requests refused for leaving the origin, problems reported."""

    def __init__(self, page, origin: str):
        self.page, self.origin = page, origin
        self.requests: list[str] = []
        self.outside: list[str] = []
        self.problems: list[str] = []

    def go(self, path: str):
        return self.page.goto(self.origin + path)

    def screenshot(self, name: str) -> Path:
        ARTIFACTS.mkdir(exist_ok=True)
        path = ARTIFACTS / f"{name}.png"
        self.page.screenshot(path=str(path), full_page=True)
        return path


def _watch(context, origin: str) -> Watched:
    page = context.new_page()
    watched = Watched(page, origin)

    def intercept(route):
        url = route.request.url
        if not url.startswith(origin + "/"):
            watched.outside.append(url)
            route.abort()
            return
        if url.endswith("/worklist/events"):  # a live stream never ends: let it through as it is
            route.continue_()
            return
        response = route.fetch()
        headers = {"content-security-policy": CSP, **response.headers}  # the page's own policy, if it sends one
        route.fulfill(response=response, headers=headers)

    def on_console(message):
        if message.type == "error" and "Failed to load resource" not in message.text:
            watched.problems.append(f"console: {message.text}")

    def on_response(response):
        if "/desk/static/" in response.url and response.status != 200:
            watched.problems.append(f"{response.status} {response.url}")

    page.route("**/*", intercept)
    page.on("request", lambda request: watched.requests.append(request.url))
    page.on("console", on_console)
    page.on("pageerror", lambda err: watched.problems.append(f"script error: {err}"))
    page.on("response", on_response)
    return watched


def _open(chromium, live_service, viewport):
    context = chromium.new_context(viewport=viewport, locale="zh-CN", timezone_id="Asia/Shanghai",
                                   accept_downloads=True)
    watched = _watch(context, live_service)
    yield watched
    watched.page.unroute_all(behavior="ignoreErrors")
    context.close()
    assert watched.requests, "the page made no request"
    assert not watched.outside, f"requests left the service's origin: {watched.outside}"
    assert all(u.startswith(live_service + "/") for u in watched.requests), watched.requests
    assert not watched.problems, watched.problems


@pytest.fixture
def desk(chromium, live_service):
    """A page at 1280×800 (a desk computer)."""
    yield from _open(chromium, live_service, DESKTOP)


@pytest.fixture
def other_desk(chromium, live_service):
    """A second page at 1280×800 in a browser context of its own (another desk, its own sign-in)."""
    yield from _open(chromium, live_service, DESKTOP)


@pytest.fixture
def phone(chromium, live_service):
    """A page at 390×844 (a phone)."""
    yield from _open(chromium, live_service, PHONE)


def axe_violations(page) -> list[str]:
    """axe-core's violations on the page as it is now (rule id, impact, the first element), injected by the test
    through the browser's debugging protocol: the service never serves it."""
    sync_axe = pytest.importorskip("axe_playwright_python.sync_playwright", reason="axe-core (the `test` extra)")
    results = sync_axe.Axe().run(page)
    return [f"{v['id']} ({v['impact']}): {v['nodes'][0]['target']} {v['help']}"
            for v in results.response["violations"]]
